#include "creds_fetch.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "creds_json.h"
#include "msg.h"
#include "xalloc.h"

#define CREDS_FETCH_STDERR_MAX 4096
#define CREDS_FETCH_TOKEN_FILE_MAX 16384

enum creds_fetch_step {
	STEP_PROCESS,
	STEP_CONTAINER,
	STEP_IMDS_TOKEN,
	STEP_IMDS_ROLE,
	STEP_IMDS_CREDS,
};

struct creds_fetch {
	uv_loop_t *loop;
	struct pool *pool;
	enum creds_fetch_step step;
	creds_fetch_cb cb; /* NULL once cancelled */
	void *data;
	char *what;        /* the source, for messages */
	char *url;         /* CONTAINER: the URL; IMDS: the endpoint */
	char *auth_token;  /* CONTAINER */
	char *auth_token_file;
	char *imds_token;  /* IMDS session token */
	char *role;        /* IMDS role name */
	/* A process: its handles, and what they brought. */
	uv_process_t proc;
	uv_pipe_t out_pipe, err_pipe;
	uv_timer_t timer;
	int handles_open;
	int64_t exit_status;
	int term_signal;
	bool timed_out;
	struct buf out, errtext;
	char *error;       /* set once it failed */
};

static void creds_fetch_free(struct creds_fetch *f)
{
	free(f->what);
	free(f->url);
	if (f->auth_token)
		memset(f->auth_token, 0, strlen(f->auth_token));
	free(f->auth_token);
	free(f->auth_token_file);
	if (f->imds_token)
		memset(f->imds_token, 0, strlen(f->imds_token));
	free(f->imds_token);
	free(f->role);
	if (f->out.data)
		memset(f->out.data, 0, f->out.len);
	buf_cleanup(&f->out);
	buf_cleanup(&f->errtext);
	free(f->error);
	free(f);
}

/* Ends the fetch: the callback (unless cancelled) with the parsed JSON or
 * the error, then the memory. */
static void creds_fetch_end(struct creds_fetch *f, enum creds_json_kind kind)
{
	struct creds_value v = {0};
	struct nb_err err;
	bool ok = false;
	if (!f->error) {
		if (creds_json_parse(buf_str(&f->out), f->out.len, kind, f->what, &v, &err) == 0) {
			creds_value_hide(&v);
			ok = true;
		} else {
			f->error = xstrdup(err.msg);
		}
	}
	if (f->cb)
		f->cb(ok ? &v : NULL, ok ? NULL : f->error, f->data);
	creds_value_cleanup(&v);
	creds_fetch_free(f);
}

static void creds_fetch_fail(struct creds_fetch *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void creds_fetch_fail(struct creds_fetch *f, const char *fmt, ...)
{
	if (f->error)
		return;
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	f->error = xstrdup(line);
}

/* ---- credential_process ---- */

static void creds_fetch_process_closed_cb(uv_handle_t *h)
{
	struct creds_fetch *f = h->data;
	if (--f->handles_open > 0)
		return;
	if (!f->error && f->timed_out)
		creds_fetch_fail(f, "%s did not finish within %d s and was killed", f->what,
				 CREDS_FETCH_PROCESS_TIMEOUT_S);
	if (!f->error && (f->exit_status != 0 || f->term_signal != 0)) {
		/* The first line of what it said on stderr says why, usually. */
		const char *said = buf_str(&f->errtext);
		size_t n = strcspn(said, "\n");
		char status[64];
		if (f->term_signal)
			snprintf(status, sizeof status, "was killed by signal %d", f->term_signal);
		else
			snprintf(status, sizeof status, "exited with status %lld",
				 (long long)f->exit_status);
		creds_fetch_fail(f, "%s %s%s%.*s", f->what, status, n ? ": " : "", (int)n, said);
	}
	creds_fetch_end(f, CREDS_JSON_PROCESS);
}

static void creds_fetch_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void creds_fetch_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct creds_fetch *f = s->data;
	if (n > 0) {
		if (s == (uv_stream_t *)&f->out_pipe) {
			if (buf_append(&f->out, b->base, (size_t)n) < 0)
				creds_fetch_fail(f, "%s printed more than %d bytes", f->what,
						 CREDS_JSON_MAX);
		} else if (f->errtext.len < CREDS_FETCH_STDERR_MAX) {
			size_t room = CREDS_FETCH_STDERR_MAX - f->errtext.len;
			buf_append(&f->errtext, b->base, (size_t)n < room ? (size_t)n : room);
		}
		memset(b->base, 0, (size_t)n);
	}
	free(b->base);
	if (n < 0) {
		uv_read_stop(s);
		uv_close((uv_handle_t *)s, creds_fetch_process_closed_cb);
	}
}

static void creds_fetch_exit_cb(uv_process_t *p, int64_t status, int signal)
{
	struct creds_fetch *f = p->data;
	f->exit_status = status;
	f->term_signal = signal;
	uv_timer_stop(&f->timer);
	uv_close((uv_handle_t *)&f->timer, creds_fetch_process_closed_cb);
	uv_close((uv_handle_t *)p, creds_fetch_process_closed_cb);
}

static void creds_fetch_timeout_cb(uv_timer_t *t)
{
	struct creds_fetch *f = t->data;
	f->timed_out = true;
	uv_process_kill(&f->proc, SIGKILL);
}

static int creds_fetch_spawn(struct creds_fetch *f, const char *command, struct nb_err *err)
{
	char *args[] = {"/bin/sh", "-c", (char *)command, NULL};
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&f->out_pipe},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&f->err_pipe},
	};
	uv_process_options_t opt = {
		.exit_cb = creds_fetch_exit_cb,
		.file = args[0],
		.args = args,
		.stdio = stdio,
		.stdio_count = 3,
	};
	uv_pipe_init(f->loop, &f->out_pipe, 0);
	uv_pipe_init(f->loop, &f->err_pipe, 0);
	uv_timer_init(f->loop, &f->timer);
	f->out_pipe.data = f->err_pipe.data = f->timer.data = f->proc.data = f;
	int rc = uv_spawn(f->loop, &f->proc, &opt);
	if (rc != 0) {
		/* Nothing was started: the handles close and the fetch is freed
		 * without its callback, as a failed start promises. */
		err_set(err, "%s could not be started: %s", f->what, uv_strerror(rc));
		f->cb = NULL;
		f->handles_open = 4;
		uv_close((uv_handle_t *)&f->proc, creds_fetch_process_closed_cb);
		uv_close((uv_handle_t *)&f->out_pipe, creds_fetch_process_closed_cb);
		uv_close((uv_handle_t *)&f->err_pipe, creds_fetch_process_closed_cb);
		uv_close((uv_handle_t *)&f->timer, creds_fetch_process_closed_cb);
		return -1;
	}
	f->handles_open = 4;
	uv_read_start((uv_stream_t *)&f->out_pipe, creds_fetch_alloc_cb, creds_fetch_read_cb);
	uv_read_start((uv_stream_t *)&f->err_pipe, creds_fetch_alloc_cb, creds_fetch_read_cb);
	uv_timer_start(&f->timer, creds_fetch_timeout_cb, CREDS_FETCH_PROCESS_TIMEOUT_S * 1000, 0);
	return 0;
}

/* ---- container credentials and IMDSv2 ---- */

static int creds_fetch_http(struct creds_fetch *f, struct nb_err *err);

/* Reads the container authorization token file (a few bytes, local). */
static int creds_fetch_token_file(struct creds_fetch *f, struct nb_err *err)
{
	FILE *fp = fopen(f->auth_token_file, "r");
	if (!fp)
		return err_set(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s",
			       f->auth_token_file, strerror(errno));
	char *text = xmalloc(CREDS_FETCH_TOKEN_FILE_MAX + 1);
	size_t n = fread(text, 1, CREDS_FETCH_TOKEN_FILE_MAX + 1, fp);
	fclose(fp);
	if (n > CREDS_FETCH_TOKEN_FILE_MAX) {
		free(text);
		return err_set(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: larger than %d bytes",
			       f->auth_token_file, CREDS_FETCH_TOKEN_FILE_MAX);
	}
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	text[n] = '\0';
	free(f->auth_token);
	f->auth_token = text;
	msg_add_secret(text);
	return 0;
}

static void creds_fetch_http_cb(const struct pool_result *res, void *data)
{
	struct creds_fetch *f = data;
	struct nb_err err;
	if (res->transport != POOL_ANSWERED) {
		creds_fetch_fail(f, "%s: %s", f->what,
				 res->transport_error ? res->transport_error : "no answer");
	} else if (res->http_status != 200) {
		size_t n = strcspn(res->body, "\n");
		creds_fetch_fail(f, "%s: HTTP %ld%s%.*s", f->what, res->http_status,
				 n ? ": " : "", n > 200 ? 200 : (int)n, res->body);
	} else if (f->step == STEP_IMDS_TOKEN) {
		free(f->imds_token);
		f->imds_token = xstrndup(res->body, strcspn(res->body, "\r\n"));
		msg_add_secret(f->imds_token);
		f->step = STEP_IMDS_ROLE;
	} else if (f->step == STEP_IMDS_ROLE) {
		size_t n = strcspn(res->body, "\r\n");
		if (n == 0)
			creds_fetch_fail(f, "%s: the instance has no IAM role attached", f->what);
		free(f->role);
		f->role = xstrndup(res->body, n);
		f->step = STEP_IMDS_CREDS;
	} else {
		if (buf_append(&f->out, res->body, res->body_len) < 0)
			creds_fetch_fail(f, "%s: the answer is larger than %d bytes", f->what,
					 CREDS_JSON_MAX);
		creds_fetch_end(f, CREDS_JSON_HTTP);
		return;
	}
	if (f->error || !f->cb) {
		creds_fetch_end(f, CREDS_JSON_HTTP);
		return;
	}
	if (creds_fetch_http(f, &err) < 0) {
		creds_fetch_fail(f, "%s", err.msg);
		creds_fetch_end(f, CREDS_JSON_HTTP);
	}
}

/* Sends the request of the current step. */
static int creds_fetch_http(struct creds_fetch *f, struct nb_err *err)
{
	char *url = NULL, *header = NULL;
	const char *method = "GET";
	switch (f->step) {
	case STEP_CONTAINER:
		if (f->auth_token_file && creds_fetch_token_file(f, err) < 0)
			return -1;
		url = xstrdup(f->url);
		if (f->auth_token)
			header = xasprintf("Authorization: %s", f->auth_token);
		break;
	case STEP_IMDS_TOKEN:
		method = "PUT";
		url = xasprintf("%s/latest/api/token", f->url);
		header = xasprintf("X-aws-ec2-metadata-token-ttl-seconds: %d", CREDS_FETCH_IMDS_TTL_S);
		break;
	case STEP_IMDS_ROLE:
		url = xasprintf("%s/latest/meta-data/iam/security-credentials/", f->url);
		header = xasprintf("X-aws-ec2-metadata-token: %s", f->imds_token);
		break;
	case STEP_IMDS_CREDS:
		url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s", f->url, f->role);
		header = xasprintf("X-aws-ec2-metadata-token: %s", f->imds_token);
		break;
	case STEP_PROCESS:
		break;
	}
	char *headers[] = {header, "Accept: application/json", NULL};
	if (!header) {
		headers[0] = headers[1];
		headers[1] = NULL;
	}
	struct pool_request req = {
		.method = method,
		.url = url,
		.headers = headers,
		.done = creds_fetch_http_cb,
		.data = f,
	};
	int rc = pool_post(f->pool, &req, err);
	if (header)
		memset(header, 0, strlen(header));
	free(header);
	free(url);
	return rc;
}

int creds_fetch_start(uv_loop_t *loop, struct pool *pool, const struct creds_source *src,
		      creds_fetch_cb cb, void *data, struct creds_fetch **out, struct nb_err *err)
{
	struct creds_fetch *f = xcalloc(1, sizeof *f);
	f->loop = loop;
	f->pool = pool;
	f->cb = cb;
	f->data = data;
	f->what = xstrdup(src->describe);
	buf_init(&f->out, CREDS_JSON_MAX);
	buf_init(&f->errtext, 0);
	int rc;
	switch (src->kind) {
	case CREDS_PROCESS:
		f->step = STEP_PROCESS;
		rc = creds_fetch_spawn(f, src->command, err);
		if (rc == 0)
			*out = f;
		return rc; /* on failure the close callbacks free f */
	case CREDS_CONTAINER:
		f->step = STEP_CONTAINER;
		f->url = xstrdup(src->url);
		f->auth_token = src->auth_token ? xstrdup(src->auth_token) : NULL;
		f->auth_token_file = src->auth_token_file ? xstrdup(src->auth_token_file) : NULL;
		break;
	case CREDS_IMDS:
		f->step = STEP_IMDS_TOKEN;
		f->url = xstrdup(src->url);
		break;
	case CREDS_STATIC:
	case CREDS_BEARER:
		creds_fetch_free(f);
		return err_set(err, "%s: nothing to fetch", src->describe);
	}
	if (creds_fetch_http(f, err) < 0) {
		creds_fetch_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void creds_fetch_cancel(struct creds_fetch *f)
{
	f->cb = NULL;
	if (f->step == STEP_PROCESS && uv_is_active((uv_handle_t *)&f->proc))
		uv_process_kill(&f->proc, SIGKILL);
}
