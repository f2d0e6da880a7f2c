/* The frames of simple answers, for the mock: the writing side of
 * converse_stream.h. */
#include "converse_stream.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Appends one event frame with a JSON payload; takes ownership of payload. */
static int converse_stream_encode_event(const char *message_type, const char *type_header,
					const char *type, json_t *payload, struct buf *out,
					struct nb_err *err)
{
	if (!payload)
		return err_set(err, "converse stream: the %s payload is not valid UTF-8", type);
	char *json = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(payload);
	struct eventstream_header h[3] = {
		eventstream_header_string(type_header, type),
		eventstream_header_string(":content-type", "application/json"),
		eventstream_header_string(":message-type", message_type),
	};
	int ret = eventstream_encode(h, 3, json, strlen(json), out, err);
	free(json);
	return ret;
}

static int converse_stream_encode_steps(const struct converse_stream_answer *a, struct buf *out,
					struct nb_err *err)
{
#define CS_EVENT(type, payload) \
	converse_stream_encode_event("event", ":event-type", type, payload, out, err)
	if (CS_EVENT("messageStart", json_pack("{s:s}", "role", "assistant")) < 0)
		return -1;
	const char *text = a->text ? a->text : "";
	size_t len = strlen(text);
	size_t chunks = a->chunks ? a->chunks : 1;
	size_t from = 0;
	for (size_t k = 1; k <= chunks; k++) {
		size_t to = k == chunks ? len : len / chunks * k + len % chunks * k / chunks;
		/* Never split a UTF-8 character: move past continuation bytes. */
		while (to < len && ((unsigned char)text[to] & 0xc0) == 0x80)
			to++;
		if (to <= from && !(k == chunks && len == 0))
			continue;
		json_t *delta = json_pack("{s:i,s:{s:s%}}", "contentBlockIndex", 0, "delta", "text",
					  text + from, to - from);
		if (CS_EVENT("contentBlockDelta", delta) < 0)
			return -1;
		from = to;
	}
	if (CS_EVENT("contentBlockStop", json_pack("{s:i}", "contentBlockIndex", 0)) < 0)
		return -1;
	const char *stop = a->stop_reason ? a->stop_reason : "end_turn";
	if (CS_EVENT("messageStop", json_pack("{s:s}", "stopReason", stop)) < 0)
		return -1;
	json_t *meta = json_pack("{s:{s:I,s:I,s:I},s:{s:I}}", "usage", "inputTokens",
				 (json_int_t)a->input_tokens, "outputTokens",
				 (json_int_t)a->output_tokens, "totalTokens",
				 (json_int_t)(a->input_tokens + a->output_tokens), "metrics",
				 "latencyMs", (json_int_t)a->latency_ms);
	return CS_EVENT("metadata", meta);
#undef CS_EVENT
}

int converse_stream_encode_answer(const struct converse_stream_answer *a, struct buf *out,
				  struct nb_err *err)
{
	size_t start = out->len;
	if (converse_stream_encode_steps(a, out, err) == 0)
		return 0;
	/* Leave out as it was. */
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return -1;
}

int converse_stream_encode_exception(const char *exception_type, const char *message,
				     struct buf *out, struct nb_err *err)
{
	return converse_stream_encode_event("exception", ":exception-type", exception_type,
					    json_pack("{s:s}", "message", message), out, err);
}
