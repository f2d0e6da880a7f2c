#include "attempt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

/* Names for what went wrong below HTTP, as error types in the database. */
static const char *attempt_transport_type(enum pool_transport t)
{
	switch (t) {
	case POOL_ANSWERED:
		return "";
	case POOL_CONNECT_FAILED:
		return "ConnectionError";
	case POOL_TIMED_OUT:
		return "Timeout";
	case POOL_CUT_SHORT:
		return "ConnectionCutShort";
	case POOL_TOO_LARGE:
		return "AnswerTooLarge";
	case POOL_TLS:
		return "TLSError";
	case POOL_ABORTED:
		return "Interrupted";
	case POOL_READER_STOPPED:
		return "MalformedResponse";
	case POOL_OTHER:
		break;
	}
	return "TransportError";
}

/* A stream that failed after its 200: garbled, an exception frame, or the
 * connection broke before the answer was whole. */
static void attempt_stream_failed(const struct pool_result *res, struct stream_read *sr,
				  const struct retry_policy *policy, struct attempt_outcome *out)
{
	out->http_status = 200;
	long status;
	const char *message;
	if (res->transport == POOL_ANSWERED || res->transport == POOL_READER_STOPPED) {
		stream_read_error(sr, out->error_type, &status, &message);
		out->error_message = xstrdup(message);
		out->class = retry_classify(policy, POOL_ANSWERED, status, out->error_type);
		return;
	}
	snprintf(out->error_type, sizeof out->error_type, "%s",
		 attempt_transport_type(res->transport));
	out->transport_error = xstrdup(res->transport_error ? res->transport_error : "");
	out->error_message = xasprintf("the stream broke off after %ld frame%s, before the answer "
				       "was whole: %s",
				       sr->frames, sr->frames == 1 ? "" : "s", out->transport_error);
	out->class = retry_classify(policy, res->transport, 0, out->error_type);
}

void attempt_read(const struct pool_result *res, struct stream_read *sr,
		  const struct retry_policy *policy, struct attempt_outcome *out)
{
	memset(out, 0, sizeof *out);
	out->latency_ms = clock_ms_between(res->start_ns, res->end_ns);
	out->ttft_ms = out->tokens_per_s = out->gap_p50_ms = out->gap_max_ms = -1;
	pool_result_header(res, "x-amzn-RequestId", out->request_id, sizeof out->request_id);
	if (sr) {
		struct stream_read_timing t;
		stream_read_timing(sr, res->start_ns, &t);
		out->ttft_ms = t.ttft_ms;
		out->gap_p50_ms = t.gap_p50_ms;
		out->gap_max_ms = t.gap_max_ms;
	}
	/* Bytes of a 200 stream arrived: whatever ended it, it is the stream's
	 * story. */
	bool streamed = sr && (sr->frames > 0 || sr->failed || eventstream_decoder_pending(&sr->dec));
	if (streamed && (res->transport != POOL_ANSWERED || sr->failed)) {
		attempt_stream_failed(res, sr, policy, out);
		return;
	}
	if (res->transport != POOL_ANSWERED) {
		snprintf(out->error_type, sizeof out->error_type, "%s",
			 attempt_transport_type(res->transport));
		out->transport_error = xstrdup(res->transport_error ? res->transport_error : "");
		out->error_message = xstrdup(out->transport_error);
		out->class = retry_classify(policy, res->transport, 0, out->error_type);
		return;
	}
	out->http_status = res->http_status;
	if (res->http_status == 200 && sr) {
		if (stream_read_finish(sr, &out->answer) == 0) {
			out->class = RETRY_SUCCESS;
			out->tokens_per_s =
				stream_read_tokens_per_s(sr, out->answer.output_tokens, res->end_ns);
			return;
		}
		attempt_stream_failed(res, sr, policy, out);
		return;
	}
	if (res->http_status == 200) {
		struct nb_err perr;
		if (response_parse_converse(res->body, res->body_len, &out->answer, &perr) == 0) {
			out->class = RETRY_SUCCESS;
			return;
		}
		snprintf(out->error_type, sizeof out->error_type, "MalformedResponse");
		out->error_message = xstrdup(perr.msg);
	} else {
		char header[256];
		struct response_error rerr;
		response_parse_error(res->http_status,
				     pool_result_header(res, "x-amzn-ErrorType", header, sizeof header),
				     res->body, res->body_len, &rerr);
		snprintf(out->error_type, sizeof out->error_type, "%s", rerr.type);
		out->error_message = rerr.message;
	}
	out->class = retry_classify(policy, POOL_ANSWERED, res->http_status, out->error_type);
	/* The service also says "expired" under other 403 types: its message
	 * is what tells. */
	if (out->class == RETRY_FINAL && res->http_status == 403 && out->error_message &&
	    strcasestr(out->error_message, "security token included in the request is expired"))
		out->class = RETRY_REFRESH;
}

void attempt_outcome_cleanup(struct attempt_outcome *o)
{
	response_cleanup(&o->answer);
	free(o->error_message);
	free(o->transport_error);
	memset(o, 0, sizeof *o);
}
