#include "mock.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "mock_fault.h"
#include "mock_reply.h"
#include "mock_stream.h"
#include "sigv4.h"
#include "xalloc.h"

/* Bodies past this are refused; a 25 MB video sent as base64 still fits. */
#define MOCK_MAX_BODY (32u << 20)
/* One thread each; benchmarks keep a few hundred open at most. */
#define MOCK_MAX_CONNECTIONS 1024u
#define MOCK_MAX_SIGNED_HEADERS 32
#define MOCK_REQUEST_ID_LEN 37

#define MOCK_SIGNATURE_MISMATCH                                                            \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service "       \
	"documentation for details."

/* The header that names the job a request belongs to, percent-encoded
 * (RFC 3986 unreserved characters kept). MHD bounds its length: a request's
 * headers fit in a connection's memory pool. */
#define MOCK_JOB_HEADER "X-Novabatch-Job"
/* How much of a body the callback of an answer cut short gives at a time. */
#define MOCK_CUT_BLOCK 4096

/* An error answer: its status and x-amzn-ErrorType. */
struct mock_fail {
	unsigned status;
	const char *type;
};

static const struct mock_fail mock_missing_token = {
	403, "MissingAuthenticationTokenException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_incomplete_signature = {
	400, "IncompleteSignatureException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_unrecognized_client = {
	403, "UnrecognizedClientException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_expired_token = {
	403, "ExpiredTokenException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_invalid_signature = {
	403, "InvalidSignatureException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_unknown_operation = {
	404, "UnknownOperationException" MOCK_FAULT_NS_CORAL};
static const struct mock_fail mock_validation = {
	400, "ValidationException" MOCK_FAULT_NS_BEDROCK};

struct mock {
	struct MHD_Daemon *daemon;
	unsigned port;
	long latency_ms;
	size_t chunks;                  /* text deltas of a stream answer */
	long chunk_delay_ms;            /* pause between a stream's frames */
	struct mock_creds *creds;
	atomic_uint_least64_t answers;  /* numbers the request ids */
	FILE *log;                      /* borrowed; NULL for no request log */
	pthread_mutex_t log_lock;       /* one line at a time from the threads */
	struct mock_fault *fault;
};

/* One request being answered, and what its log line will say. */
struct mock_call {
	struct mock *m;
	struct MHD_Connection *c;
	char rid[MOCK_REQUEST_ID_LEN];
	char *job_id;       /* X-Novabatch-Job decoded (curl_free); NULL without */
	size_t job_id_len;
	char *model_id;     /* decoded (curl_free); NULL until routed */
	const char *fault;  /* the step that chose the answer; NULL for none */
	bool instant;       /* answer without the configured latency */
	bool stream;        /* routed to converse-stream */
};

/* Writes one line of the request log: what was answered, and for a
 * success the tokens, so tests can compare with what the runner recorded.
 * answer is how a 200 went out: whole, cut short or (a stream) broken. */
static void mock_log(const struct mock_call *call, unsigned status, const char *error_type,
		     const struct mock_reply *reply, enum mock_fault_answer answer)
{
	struct mock *m = call->m;
	const char *stream_fault = mock_fault_stream_name(answer);

	if (!m->log)
		return;
	json_t *line = json_pack("{s:s, s:I}", "request_id", call->rid, "status",
				 (json_int_t)status);
	if (error_type)
		json_object_set_new(line, "error_type", json_stringn(error_type,
								      strcspn(error_type, ":")));
	if (call->model_id)
		json_object_set_new(line, "model_id", json_string(call->model_id));
	if (reply) {
		json_object_set_new(line, "input_tokens", json_integer(reply->input_tokens));
		json_object_set_new(line, "output_tokens", json_integer(reply->output_tokens));
	}
	/* A job id or model id that is not UTF-8 is left out of the line. */
	if (call->job_id)
		json_object_set_new(line, "job_id", json_stringn(call->job_id, call->job_id_len));
	if (call->fault)
		json_object_set_new(line, "fault", json_string(call->fault));
	if (answer == MOCK_FAULT_RESET)
		json_object_set_new(line, "reset", json_true());
	if (call->stream)
		json_object_set_new(line, "stream", json_true());
	if (stream_fault)
		json_object_set_new(line, "stream_fault", json_string(stream_fault));
	pthread_mutex_lock(&m->log_lock);
	json_dumpf(line, m->log, JSON_COMPACT);
	fputc('\n', m->log);
	fflush(m->log);
	pthread_mutex_unlock(&m->log_lock);
	json_decref(line);
}

/* What one request has sent so far. */
struct mock_request {
	struct buf body;
	bool too_large; /* the body passed MOCK_MAX_BODY; the rest is dropped */
};

/* Writes a UUID-shaped request id, distinct for each answer and the same
 * for the same answer number in every run: the number, spread by
 * splitmix64 over the first half and kept whole in the last 48 bits. */
static void mock_request_id(struct mock *m, char out[MOCK_REQUEST_ID_LEN])
{
	uint64_t n = atomic_fetch_add(&m->answers, 1) + 1;
	uint64_t h = n + 0x9e3779b97f4a7c15u;

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
	h ^= h >> 31;
	snprintf(out, MOCK_REQUEST_ID_LEN, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-%04" PRIx32
		 "-%012" PRIx64, (uint32_t)(h >> 32), (uint32_t)(h >> 16) & 0xffff,
		 (uint32_t)h & 0xfff, 0x8000 | ((uint32_t)(n >> 48) & 0x3fff),
		 n & UINT64_C(0xffffffffffff));
}

/* Waits the configured latency before an answer, unless it is instant.
 * Sleeps in this connection's own thread, so other connections go on. */
static void mock_delay(const struct mock_call *call)
{
	long ms = call->m->latency_ms;
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms <= 0 || call->instant)
		return;
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* Queues res after the configured latency, with the headers every answer
 * carries. error_type is the x-amzn-ErrorType value, NULL for a success. */
static enum MHD_Result mock_queue(const struct mock_call *call, unsigned status,
				  const char *error_type, struct MHD_Response *res)
{
	enum MHD_Result ret;

	if (!res)
		return MHD_NO;
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK && call->stream
					? "application/vnd.amazon.eventstream"
					: "application/json");
	MHD_add_response_header(res, "x-amzn-RequestId", call->rid);
	if (error_type)
		MHD_add_response_header(res, "x-amzn-ErrorType", error_type);
	mock_delay(call);
	ret = MHD_queue_response(call->c, status, res);
	MHD_destroy_response(res);
	return ret;
}

/* Queues an answer. Takes ownership of body (JSON text). */
static enum MHD_Result mock_send(const struct mock_call *call, unsigned status,
				 const char *error_type, char *body)
{
	struct MHD_Response *res;

	res = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!res)
		free(body);
	return mock_queue(call, status, error_type, res);
}

/* A body sent only in part, under a Content-Length that promises it all. */
struct mock_cut {
	char *body;
	size_t sent; /* bytes given before the connection is dropped */
};

static ssize_t mock_cut_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct mock_cut *cut = cls;
	size_t n;

	if (pos >= cut->sent)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = cut->sent - (size_t)pos < max ? cut->sent - (size_t)pos : max;
	memcpy(out, cut->body + pos, n);
	return (ssize_t)n;
}

static void mock_cut_free(void *cls)
{
	struct mock_cut *cut = cls;

	free(cut->body);
	free(cut);
}

/* Queues a 200 whose connection drops after the first half of body (at
 * least a byte), so the client sees an answer cut short. Takes ownership
 * of body. */
static enum MHD_Result mock_send_cut(const struct mock_call *call, char *body)
{
	struct mock_cut *cut = xmalloc(sizeof *cut);
	size_t len = strlen(body);
	struct MHD_Response *res;

	cut->body = body;
	cut->sent = len / 2 ? len / 2 : 1;
	res = MHD_create_response_from_callback(len, MOCK_CUT_BLOCK, mock_cut_read, cut,
						mock_cut_free);
	if (!res)
		mock_cut_free(cut);
	return mock_queue(call, MHD_HTTP_OK, NULL, res);
}

static enum MHD_Result mock_send_error(const struct mock_call *call, const struct mock_fail *fail,
				       const char *message)
{
	mock_log(call, fail->status, fail->type, NULL, MOCK_FAULT_NONE);
	json_t *obj = json_object();
	char *body;

	/* A message that quotes the request and is not UTF-8 is left out:
	 * the body is then "{}". */
	json_object_set_new(obj, "message", json_string(message));
	body = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return mock_send(call, fail->status, fail->type, body);
}

/* Answers with an injected error, fault naming the step that chose it. */
static enum MHD_Result mock_send_fault(struct mock_call *call, enum mock_fault_answer answer,
				       const char *fault)
{
	const struct mock_fault_error *e = mock_fault_error(answer);
	const struct mock_fail fail = {e->status, e->type};

	call->fault = fault;
	return mock_send_error(call, &fail, e->message);
}

/* Answers a converse-stream request with reply's frames, whole or broken
 * as answer says (see mock_stream.h). */
static enum MHD_Result mock_send_stream(struct mock_call *call, const struct mock_reply *reply,
					enum mock_fault_answer answer)
{
	struct mock_stream s;
	struct nb_err err;

	/* The text is UTF-8 (mock_reply built it as JSON): this cannot fail
	 * but for a bug, which the client should then see. */
	if (mock_stream_build(reply, call->m->chunks, call->m->latency_ms, answer, &s, &err) < 0)
		return mock_send_fault(call, MOCK_FAULT_INTERNAL, call->fault);
	mock_log(call, MHD_HTTP_OK, NULL, reply, answer);
	return mock_queue(call, MHD_HTTP_OK, NULL, mock_stream_response(&s, call->m->chunk_delay_ms));
}

/* Answers with reply, whole or (answer MOCK_FAULT_RESET) cut short; to a
 * converse-stream request, as a stream. */
static enum MHD_Result mock_send_reply(struct mock_call *call, struct mock_reply *reply,
				       enum mock_fault_answer answer)
{
	char *body;

	if (call->stream)
		return mock_send_stream(call, reply, answer);
	body = reply->body;
	reply->body = NULL;
	mock_log(call, MHD_HTTP_OK, NULL, reply, answer);
	if (answer == MOCK_FAULT_RESET)
		return mock_send_cut(call, body);
	return mock_send(call, MHD_HTTP_OK, NULL, body);
}

static const char *mock_header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Checks the request's signature as the service does: the request is
 * rebuilt from the headers its Authorization names, the path as sent (no
 * query: the routes take none) and the body as sent, then signed again
 * with the configured secret. Returns 0, or -1 with *fail and err set. */
static int mock_verify(struct mock *m, struct MHD_Connection *c, const char *method,
		       const char *url, const struct buf *body, const struct mock_fail **fail,
		       struct nb_err *err)
{
	struct sigv4_authorization auth;
	struct sigv4_header headers[MOCK_MAX_SIGNED_HEADERS];
	char names[sizeof auth.signed_headers];
	struct sigv4_result res;
	char *save = NULL;
	size_t n = 0;
	time_t when;
	bool same;
	const char *value = mock_header(c, MHD_HTTP_HEADER_AUTHORIZATION);

	*fail = &mock_missing_token;
	if (!value)
		return err_set(err, "Missing Authentication Token");
	if (strncmp(value, "Bearer ", 7) == 0) {
		*fail = &mock_unrecognized_client;
		if (!mock_creds_bearer_ok(m->creds, value + 7))
			return err_set(err, "The security token included in the request is invalid.");
		mock_creds_passed(m->creds);
		return 0;
	}
	*fail = &mock_incomplete_signature;
	if (sigv4_parse_authorization(value, &auth, err) < 0)
		return -1;
	const char *token = mock_header(c, "X-Amz-Security-Token");
	switch (mock_creds_check(m->creds, auth.access_key_id, token)) {
	case MOCK_CREDS_OK:
		break;
	case MOCK_CREDS_EXPIRED:
		*fail = &mock_expired_token;
		return err_set(err, "The security token included in the request is expired");
	case MOCK_CREDS_UNKNOWN:
		*fail = &mock_unrecognized_client;
		return err_set(err, "The security token included in the request is invalid.");
	}
	*fail = &mock_incomplete_signature;
	value = mock_header(c, "X-Amz-Date");
	if (!value || sigv4_parse_amz_date(value, &when) < 0)
		return err_set(err, "Authorization header requires existence of either a "
				    "'X-Amz-Date' or a 'Date' header.");
	*fail = &mock_invalid_signature;
	if (strcmp(auth.service, "bedrock") != 0)
		return err_set(err, "Credential should be scoped to correct service: 'bedrock'.");
	/* A signed header that did not arrive cannot match: the client
	 * signed something else than what was received. */
	memcpy(names, auth.signed_headers, sizeof names);
	for (char *name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
		value = mock_header(c, name);
		if (!value || n == MOCK_MAX_SIGNED_HEADERS)
			return err_set(err, MOCK_SIGNATURE_MISMATCH);
		headers[n++] = (struct sigv4_header){name, value};
	}

	struct sigv4_request req = {
		.method = method, .path = url, .headers = headers, .nheaders = n,
		.body = buf_str(body), .body_len = body->len,
	};
	struct sigv4_credentials creds = {
		.access_key_id = auth.access_key_id,
		.secret_access_key = mock_creds_secret(m->creds),
		.session_token = token,
	};
	struct sigv4_params params = {
		.region = auth.region, .service = auth.service, .when = when,
		.double_encode = true, .normalize = true,
	};
	if (sigv4_sign(&req, &creds, &params, &res, NULL) < 0)
		return err_set(err, MOCK_SIGNATURE_MISMATCH);
	same = strlen(auth.signature) == sizeof res.signature - 1 &&
	       CRYPTO_memcmp(res.signature, auth.signature, sizeof res.signature - 1) == 0;
	sigv4_result_cleanup(&res);
	if (!same)
		return err_set(err, MOCK_SIGNATURE_MISMATCH);
	mock_creds_passed(m->creds);
	return 0;
}

/* Splits "/model/{modelId}/{operation}". Returns the operation and sets the
 * model id segment (still percent-encoded), or returns NULL for any other
 * path. */
static const char *mock_route(const char *url, const char **id, size_t *id_len)
{
	static const char prefix[] = "/model/";
	const char *slash;

	if (strncmp(url, prefix, sizeof prefix - 1) != 0)
		return NULL;
	*id = url + sizeof prefix - 1;
	slash = strchr(*id, '/');
	if (!slash || slash == *id)
		return NULL;
	*id_len = (size_t)(slash - *id);
	return slash + 1;
}

/* The tokens a request reserves against its model's quota: its input
 * tokens and its maxTokens (as mock_reply checked it), or
 * MOCK_FAULT_DEFAULT_MAX_TOKENS when it sets none. */
static uint64_t mock_reservation(const json_t *request, const struct mock_reply *reply)
{
	json_int_t max = json_integer_value(
		json_object_get(json_object_get(request, "inferenceConfig"), "maxTokens"));

	if (max <= 0)
		max = MOCK_FAULT_DEFAULT_MAX_TOKENS;
	return (uint64_t)reply->input_tokens + (uint64_t)max;
}

/* Answers a routed request from its body: when planned (a 200, whole or
 * not) after mock_reply's checks alone, else through the quota and the
 * random draw. A plain Converse request takes a stream answer as the
 * normal one. */
static enum MHD_Result mock_converse(struct mock_call *call, const struct buf *body,
				     const enum mock_fault_answer *planned)
{
	struct mock *m = call->m;
	struct mock_reply reply = {0};
	struct nb_err err;
	enum MHD_Result ret;
	enum mock_fault_answer answer;
	uint64_t taken = 0, used = 0;
	json_t *request = json_loadb(buf_str(body), body->len, 0, NULL);

	if (!request) {
		ret = mock_send_error(call, &mock_validation,
				      "Malformed input request: the request body is not valid JSON, "
				      "please reformat your input and try again.");
		goto out;
	}
	if (mock_reply_build(call->model_id, request, m->latency_ms, &reply, &err) < 0) {
		ret = mock_send_error(call, &mock_validation, err.msg);
		goto out;
	}
	if (planned) {
		call->fault = "plan";
		answer = call->stream ? *planned : mock_fault_on_converse(*planned);
		ret = mock_send_reply(call, &reply, answer);
		goto out;
	}
	switch (mock_fault_admit(m->fault, call->model_id, mock_reservation(request, &reply),
				 clock_mono_ns(), &taken)) {
	case MOCK_FAULT_OVER_RPM:
		call->instant = true;
		ret = mock_send_fault(call, MOCK_FAULT_THROTTLED, "quota-rpm");
		goto out;
	case MOCK_FAULT_OVER_TPM:
		call->instant = true;
		ret = mock_send_fault(call, MOCK_FAULT_TOO_MANY_TOKENS, "quota-tpm");
		goto out;
	case MOCK_FAULT_ADMITTED:
		break;
	}
	/* An error uses no tokens; an answer, cut or not, uses its input and
	 * output. What the request took beyond that goes back. */
	answer = mock_fault_random(m->fault);
	if (!call->stream)
		answer = mock_fault_on_converse(answer);
	if (mock_fault_error(answer)) {
		ret = mock_send_fault(call, answer, "random");
	} else {
		used = (uint64_t)(reply.input_tokens + reply.output_tokens);
		call->fault = answer != MOCK_FAULT_NONE ? "random" : NULL;
		ret = mock_send_reply(call, &reply, answer);
	}
	mock_fault_release(m->fault, call->model_id, taken, used, clock_mono_ns());
out:
	mock_reply_cleanup(&reply);
	json_decref(request);
	return ret;
}

/* Answers a request, in the order mock.h gives. */
static enum MHD_Result mock_dispatch(struct mock_call *call, const char *method,
				     const char *url, const struct mock_request *r)
{
	struct mock *m = call->m;
	const struct mock_fail *fail;
	enum mock_fault_answer planned;
	struct nb_err err;
	const char *op, *id = NULL;
	size_t id_len = 0;
	int model_len = 0;

	/* The signature covers the body, so a body cut at the cap cannot be
	 * verified: the size is checked first, as the service's front door
	 * does. */
	if (r->too_large) {
		err_set(&err, "The request body is larger than the %u bytes allowed.", MOCK_MAX_BODY);
		return mock_send_error(call, &mock_validation, err.msg);
	}
	if (mock_verify(m, call->c, method, url, &r->body, &fail, &err) < 0)
		return mock_send_error(call, fail, err.msg);
	op = mock_route(url, &id, &id_len);
	/* The service routes on method and path together: a GET on a POST
	 * path names no operation, as an unknown path does not. */
	if (!op || strcmp(method, MHD_HTTP_METHOD_POST) != 0 ||
	    (strcmp(op, "converse") != 0 && strcmp(op, "converse-stream") != 0))
		return mock_send_error(call, &mock_unknown_operation,
				       "The requested operation is not recognized by the service.");
	call->stream = strcmp(op, "converse-stream") == 0;
	call->model_id = curl_easy_unescape(NULL, id, (int)id_len, &model_len);
	if (!call->model_id || (size_t)model_len != strlen(call->model_id)) {
		curl_free(call->model_id);
		call->model_id = NULL;
		return mock_send_error(call, &mock_validation,
				       "The provided model identifier is invalid.");
	}
	if (mock_fault_planned(m->fault, call->job_id, call->job_id_len, &planned)) {
		if (mock_fault_error(planned))
			return mock_send_fault(call, planned, "plan");
		return mock_converse(call, &r->body, &planned);
	}
	if (mock_fault_fail_first(m->fault, call->model_id, buf_str(&r->body), r->body.len))
		return mock_send_fault(call, MOCK_FAULT_THROTTLED, "fail-first");
	return mock_converse(call, &r->body, NULL);
}

/* Answers a request whose body has fully arrived. */
static enum MHD_Result mock_answer(struct mock *m, struct MHD_Connection *c, const char *method,
				   const char *url, const struct mock_request *r)
{
	struct mock_call call = {.m = m, .c = c};
	enum MHD_Result ret;
	const char *job = mock_header(c, MOCK_JOB_HEADER);
	int job_len = 0;

	mock_request_id(m, call.rid);
	if (job) {
		call.job_id = curl_easy_unescape(NULL, job, 0, &job_len);
		call.job_id_len = (size_t)job_len;
	}
	ret = mock_dispatch(&call, method, url, r);
	curl_free(call.job_id);
	curl_free(call.model_id);
	return ret;
}

/* MHD calls this once when the headers are in (with *state NULL), once per
 * piece of body, and once more when the request is complete. */
static enum MHD_Result mock_handle(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **state)
{
	struct mock_request *r = *state;

	(void)version;
	if (!r) {
		r = xmalloc(sizeof *r);
		buf_init(&r->body, MOCK_MAX_BODY);
		r->too_large = false;
		*state = r;
		return MHD_YES;
	}
	if (*upload_size) {
		/* MHD cannot answer in the middle of an upload: past the cap
		 * the rest is read and dropped, and the answer waits. */
		if (!r->too_large && buf_append(&r->body, upload, *upload_size) < 0) {
			r->too_large = true;
			buf_cleanup(&r->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return mock_answer(cls, c, method, url, r);
}

static void mock_completed(void *cls, struct MHD_Connection *c, void **state,
			   enum MHD_RequestTerminationCode why)
{
	struct mock_request *r = *state;

	(void)cls;
	(void)c;
	(void)why;
	if (!r)
		return;
	buf_cleanup(&r->body);
	free(r);
	*state = NULL;
}

/* Leaves escapes alone: the signature covers the path as sent, and the
 * route that reads the model id decodes it. */
static size_t mock_keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

struct mock *mock_new(const struct mock_config *cfg, struct nb_err *err)
{
	struct mock *m = xcalloc(1, sizeof *m);
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)cfg->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	m->latency_ms = cfg->latency_ms;
	m->chunks = cfg->chunks > 0 ? (size_t)cfg->chunks : MOCK_STREAM_DEFAULT_CHUNKS;
	m->chunk_delay_ms = cfg->chunk_delay_ms;
	m->creds = mock_creds_new(&cfg->creds, err);
	if (!m->creds) {
		mock_fault_plan_free(cfg->fault.plan);
		free(m);
		return NULL;
	}
	atomic_init(&m->answers, 0);
	m->log = cfg->log;
	m->fault = mock_fault_new(&cfg->fault);
	pthread_mutex_init(&m->log_lock, NULL);
	/* A thread per connection: a delayed answer sleeps in its own thread
	 * and holds up no other connection. */
	m->daemon = MHD_start_daemon(
		MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
		NULL, NULL, mock_handle, m,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_CONNECTION_LIMIT, MOCK_MAX_CONNECTIONS,
		MHD_OPTION_UNESCAPE_CALLBACK, mock_keep_escapes, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, mock_completed, NULL,
		MHD_OPTION_END);
	if (!m->daemon) {
		err_set(err, "cannot listen on 127.0.0.1:%u (is the port in use?)", cfg->port);
		mock_free(m);
		return NULL;
	}
	m->port = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	return m;
}

unsigned mock_port(const struct mock *m)
{
	return m->port;
}

void mock_free(struct mock *m)
{
	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	mock_creds_free(m->creds);
	mock_fault_free(m->fault);
	pthread_mutex_destroy(&m->log_lock);
	free(m);
}
