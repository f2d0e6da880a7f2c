#include "converse_stream.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A service error message is cut at this many bytes, as in response.c. */
#define CONVERSE_STREAM_MAX_MESSAGE 2048

enum converse_stream_kind {
	CS_UNKNOWN, /* started without a toolUse, no delta yet */
	CS_TEXT,
	CS_TOOL,
	CS_REASONING,
};

static const char *const converse_stream_kind_name[] = { "nothing", "text", "toolUse",
							  "reasoningContent" };

struct converse_stream_block {
	int index;
	enum converse_stream_kind kind;
	bool stopped;
	struct buf text;      /* text, joined tool input, or reasoning text */
	struct buf signature; /* reasoning only */
	struct buf redacted;  /* reasoning only: redactedContent, base64 */
	char *tool_id, *tool_name;
	json_t *input;        /* tool input, parsed at contentBlockStop */
};

struct converse_stream {
	struct converse_stream_block *blocks;
	size_t nblocks, alloc;
	size_t content_bytes; /* text, input and reasoning held, for the cap */
	bool has_content, got_stop, got_metadata, failed;
	char *stop_reason;
	char *additional;
	char *trace; /* metadata.trace as JSON, or NULL */
	struct response usage; /* only its counts and latency: the metadata event's */
	struct converse_stream_error error;
	struct nb_err first_err;
};

struct converse_stream *converse_stream_new(void)
{
	struct converse_stream *cs = xcalloc(1, sizeof *cs);
	response_read_usage(NULL, NULL, &cs->usage);
	return cs;
}

void converse_stream_free(struct converse_stream *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->nblocks; i++) {
		struct converse_stream_block *b = &cs->blocks[i];
		buf_cleanup(&b->text);
		buf_cleanup(&b->signature);
		buf_cleanup(&b->redacted);
		free(b->tool_id);
		free(b->tool_name);
		json_decref(b->input);
	}
	free(cs->blocks);
	free(cs->stop_reason);
	free(cs->additional);
	free(cs->trace);
	free(cs->error.message);
	free(cs);
}

/* Fails the stream with a service error; message is copied. */
static int converse_stream_fail_service(struct converse_stream *cs, const char *stream_type,
					const char *message)
{
	static const struct {
		const char *name;
		long status;
	} statuses[] = {
		/* The statuses of the API reference, for the same errors. */
		{ "ThrottlingException", 429 },
		{ "ModelNotReadyException", 429 },
		{ "InternalServerException", 500 },
		{ "ServiceUnavailableException", 503 },
		{ "ModelTimeoutException", 408 },
		{ "ModelStreamErrorException", 424 },
		{ "ModelErrorException", 424 },
		{ "ValidationException", 400 },
		{ "ServiceQuotaExceededException", 400 },
		{ "AccessDeniedException", 403 },
		{ "ExpiredTokenException", 403 },
		{ "ResourceNotFoundException", 404 },
	};
	free(cs->error.message);
	converse_stream_error_name(cs->error.type, sizeof cs->error.type, stream_type);
	/* Anything else that breaks a 200 stream (an unmodeled InternalFailure)
	 * is the service's trouble. */
	cs->error.http_status = 500;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(cs->error.type, statuses[i].name) == 0)
			cs->error.http_status = statuses[i].status;
	size_t len = message ? strlen(message) : 0;
	if (len)
		/* xstrndup copies exactly len bytes: cut with strlen first. */
		cs->error.message = xstrndup(message, len < CONVERSE_STREAM_MAX_MESSAGE
							      ? len
							      : CONVERSE_STREAM_MAX_MESSAGE);
	else
		cs->error.message = xasprintf("%s with no message", cs->error.type);
	cs->failed = true;
	return err_set(&cs->first_err, "%s inside the stream: %s", cs->error.type,
		       cs->error.message);
}

/* Fails the stream as malformed, with a message for the user. */
__attribute__((format(printf, 2, 3)))
static int converse_stream_malformed(struct converse_stream *cs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cs->first_err.msg, sizeof cs->first_err.msg, fmt, ap);
	va_end(ap);
	snprintf(cs->error.type, sizeof cs->error.type, "%s", CONVERSE_STREAM_MALFORMED);
	cs->error.http_status = 200;
	free(cs->error.message);
	cs->error.message = xstrdup(cs->first_err.msg);
	cs->failed = true;
	return -1;
}

void converse_stream_error_name(char *out, size_t size, const char *exception_type)
{
	snprintf(out, size, "%s", exception_type);
	if (islower((unsigned char)out[0]))
		out[0] = (char)toupper((unsigned char)out[0]);
}

/* Finds the block of the payload's contentBlockIndex, creating it. */
static struct converse_stream_block *converse_stream_block(struct converse_stream *cs,
							   const char *event,
							   const json_t *payload)
{
	const json_t *idx = json_object_get(payload, "contentBlockIndex");
	if (!json_is_integer(idx)) {
		converse_stream_malformed(cs, "the stream's %s event has no contentBlockIndex",
					  event);
		return NULL;
	}
	json_int_t index = json_integer_value(idx);
	if (index < 0 || index >= CONVERSE_STREAM_MAX_BLOCKS) {
		converse_stream_malformed(cs, "the stream's %s event has contentBlockIndex %lld; "
					      "novabatch takes 0 to %d",
					  event, (long long)index, CONVERSE_STREAM_MAX_BLOCKS - 1);
		return NULL;
	}
	for (size_t i = 0; i < cs->nblocks; i++)
		if (cs->blocks[i].index == (int)index)
			return &cs->blocks[i];
	if (cs->nblocks == cs->alloc) {
		cs->alloc = cs->alloc ? 2 * cs->alloc : 4;
		cs->blocks = xrealloc(cs->blocks, cs->alloc * sizeof *cs->blocks);
	}
	struct converse_stream_block *b = &cs->blocks[cs->nblocks++];
	memset(b, 0, sizeof *b);
	b->index = (int)index;
	buf_init(&b->text, 0);
	buf_init(&b->signature, 0);
	buf_init(&b->redacted, 0);
	return b;
}

/* Gives the block its kind, or fails when it already has another. */
static int converse_stream_kind(struct converse_stream *cs, struct converse_stream_block *b,
				enum converse_stream_kind kind)
{
	if (b->kind == CS_UNKNOWN)
		b->kind = kind;
	if (b->kind == kind)
		return 0;
	return converse_stream_malformed(cs, "content block %d of the stream mixes %s and %s",
					 b->index, converse_stream_kind_name[b->kind],
					 converse_stream_kind_name[kind]);
}

/* Appends a JSON string's bytes to a block, within the answer's cap. */
static int converse_stream_append(struct converse_stream *cs, struct buf *to, const json_t *s)
{
	size_t len = json_string_length(s);
	if (len > CONVERSE_STREAM_MAX_CONTENT - cs->content_bytes)
		return converse_stream_malformed(cs, "the streamed answer is larger than %u bytes",
						 CONVERSE_STREAM_MAX_CONTENT);
	cs->content_bytes += len;
	buf_append(to, json_string_value(s), len);
	return 0;
}

static int converse_stream_start(struct converse_stream *cs, const json_t *payload)
{
	struct converse_stream_block *b = converse_stream_block(cs, "contentBlockStart", payload);
	if (!b)
		return -1;
	const json_t *tool = json_object_get(json_object_get(payload, "start"), "toolUse");
	if (!tool)
		return 0; /* a text or reasoning block, or a kind not known yet */
	const json_t *id = json_object_get(tool, "toolUseId");
	const json_t *name = json_object_get(tool, "name");
	if (!json_is_string(id) || !json_is_string(name))
		return converse_stream_malformed(cs, "the contentBlockStart of content block %d has "
						     "a toolUse without a toolUseId or name",
						 b->index);
	if (converse_stream_kind(cs, b, CS_TOOL) < 0)
		return -1;
	free(b->tool_id);
	free(b->tool_name);
	b->tool_id = xstrdup(json_string_value(id));
	b->tool_name = xstrdup(json_string_value(name));
	return 0;
}

static int converse_stream_delta(struct converse_stream *cs, const json_t *payload)
{
	struct converse_stream_block *b = converse_stream_block(cs, "contentBlockDelta", payload);
	if (!b)
		return -1;
	const json_t *delta = json_object_get(payload, "delta");
	if (!json_is_object(delta))
		return converse_stream_malformed(cs, "the contentBlockDelta of content block %d has "
						     "no delta object", b->index);
	const json_t *text = json_object_get(delta, "text");
	const json_t *tool = json_object_get(delta, "toolUse");
	const json_t *reasoning = json_object_get(delta, "reasoningContent");
	enum converse_stream_kind kind = json_is_string(text)       ? CS_TEXT
					 : json_is_object(tool)      ? CS_TOOL
					 : json_is_object(reasoning) ? CS_REASONING
								     : CS_UNKNOWN;
	if (kind == CS_UNKNOWN)
		return 0; /* a delta kind novabatch does not keep (citations, say) */
	const json_t *input = json_object_get(tool, "input");
	if (kind == CS_TOOL && !json_is_string(input))
		return converse_stream_malformed(cs, "the toolUse delta of content block %d "
						     "has no input string", b->index);
	if (b->stopped)
		return converse_stream_malformed(cs, "content block %d of the stream has a "
						     "contentBlockDelta after its contentBlockStop",
						 b->index);
	if (converse_stream_kind(cs, b, kind) < 0)
		return -1;
	cs->has_content = true;
	if (kind == CS_TEXT)
		return converse_stream_append(cs, &b->text, text);
	if (kind == CS_TOOL)
		return converse_stream_append(cs, &b->text, input);
	const json_t *part = json_object_get(reasoning, "text");
	if (json_is_string(part) && converse_stream_append(cs, &b->text, part) < 0)
		return -1;
	part = json_object_get(reasoning, "signature");
	if (json_is_string(part) && converse_stream_append(cs, &b->signature, part) < 0)
		return -1;
	part = json_object_get(reasoning, "redactedContent");
	if (json_is_string(part) && converse_stream_append(cs, &b->redacted, part) < 0)
		return -1;
	return 0;
}

/* Closes a block: a tool use's joined input must be JSON. */
static int converse_stream_close_block(struct converse_stream *cs, struct converse_stream_block *b)
{
	if (b->stopped)
		return 0;
	b->stopped = true;
	if (b->kind != CS_TOOL)
		return 0;
	if (!b->tool_id)
		return converse_stream_malformed(cs, "content block %d of the stream has tool input "
						     "but no contentBlockStart naming the tool",
						 b->index);
	if (b->text.len == 0) {
		/* A tool that takes no arguments. */
		b->input = json_object();
		return 0;
	}
	json_error_t jerr;
	b->input = json_loadb(b->text.data, b->text.len, JSON_DECODE_ANY, &jerr);
	if (!b->input)
		return converse_stream_malformed(cs, "the input of tool use %s (%s, content block "
						     "%d) is not JSON: %s at byte %d",
						 b->tool_id, b->tool_name, b->index, jerr.text,
						 jerr.position);
	return 0;
}

static int converse_stream_stop(struct converse_stream *cs, const json_t *payload)
{
	struct converse_stream_block *b = converse_stream_block(cs, "contentBlockStop", payload);
	return b ? converse_stream_close_block(cs, b) : -1;
}

static int converse_stream_message_stop(struct converse_stream *cs, const json_t *payload)
{
	const json_t *stop = json_object_get(payload, "stopReason");
	if (json_is_string(stop)) {
		free(cs->stop_reason);
		cs->stop_reason = xstrdup(json_string_value(stop));
	}
	const json_t *fields = json_object_get(payload, "additionalModelResponseFields");
	if (fields) {
		free(cs->additional);
		cs->additional = json_dumps(fields, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	cs->got_stop = true;
	return 0;
}

static int converse_stream_metadata(struct converse_stream *cs, const json_t *payload)
{
	response_read_usage(json_object_get(payload, "usage"), json_object_get(payload, "metrics"),
			    &cs->usage);
	free(cs->trace);
	cs->trace = response_json_text(json_object_get(payload, "trace"));
	cs->got_metadata = true;
	return 0;
}

static int converse_stream_event(struct converse_stream *cs, const struct eventstream_frame *f)
{
	static const struct {
		const char *name;
		int (*handle)(struct converse_stream *cs, const json_t *payload);
	} events[] = {
		{ "contentBlockStart", converse_stream_start },
		{ "contentBlockDelta", converse_stream_delta },
		{ "contentBlockStop", converse_stream_stop },
		{ "messageStop", converse_stream_message_stop },
		{ "metadata", converse_stream_metadata },
	};
	/* messageStart says only the role, and unknown events are skipped. */
	size_t i = 0;
	while (i < sizeof events / sizeof events[0] &&
	       !eventstream_frame_string_is(f, ":event-type", events[i].name))
		i++;
	if (i == sizeof events / sizeof events[0])
		return 0;
	json_error_t jerr;
	json_t *payload = json_loadb((const char *)f->payload, f->payload_len, 0, &jerr);
	int ret;
	if (!json_is_object(payload))
		ret = converse_stream_malformed(cs, "the payload of the stream's %s event is not a "
						    "JSON object: %s",
						events[i].name, payload ? "wrong type" : jerr.text);
	else
		ret = events[i].handle(cs, payload);
	json_decref(payload);
	return ret;
}

/* A modeled exception: its name in a header, {"message": ...} as payload. */
static int converse_stream_exception(struct converse_stream *cs, const struct eventstream_frame *f)
{
	char *type = eventstream_frame_string_dup(f, ":exception-type");
	json_t *payload = json_loadb((const char *)f->payload, f->payload_len, 0, NULL);
	const json_t *msg = json_object_get(payload, "message");
	if (!msg)
		msg = json_object_get(payload, "Message");
	char *raw = NULL;
	if (!payload && f->payload_len)
		/* Not JSON: keep the start of it, as response.c does. */
		raw = xstrndup((const char *)f->payload,
			       f->payload_len < CONVERSE_STREAM_MAX_MESSAGE
				       ? f->payload_len
				       : CONVERSE_STREAM_MAX_MESSAGE);
	int ret = converse_stream_fail_service(cs, type ? type : "UnknownException",
					       json_is_string(msg) ? json_string_value(msg) : raw);
	free(raw);
	free(type);
	json_decref(payload);
	return ret;
}

/* An unmodeled error: code and message in headers, no payload. */
static int converse_stream_service_error(struct converse_stream *cs,
					 const struct eventstream_frame *f)
{
	char *code = eventstream_frame_string_dup(f, ":error-code");
	char *message = eventstream_frame_string_dup(f, ":error-message");
	int ret = converse_stream_fail_service(cs, code ? code : "UnknownError", message);
	free(code);
	free(message);
	return ret;
}

int converse_stream_feed(struct converse_stream *cs, const struct eventstream_frame *frame,
			 struct nb_err *err)
{
	int ret = 0;
	if (cs->failed)
		ret = -1;
	else if (eventstream_frame_string_is(frame, ":message-type", "event"))
		ret = converse_stream_event(cs, frame);
	else if (eventstream_frame_string_is(frame, ":message-type", "exception"))
		ret = converse_stream_exception(cs, frame);
	else if (eventstream_frame_string_is(frame, ":message-type", "error"))
		ret = converse_stream_service_error(cs, frame);
	if (ret < 0 && err)
		*err = cs->first_err;
	return ret;
}

bool converse_stream_has_content(const struct converse_stream *cs)
{
	return cs->has_content;
}

const struct converse_stream_error *converse_stream_error(const struct converse_stream *cs)
{
	return cs->failed ? &cs->error : NULL;
}

const char *converse_stream_additional_fields(const struct converse_stream *cs)
{
	return cs->additional;
}

static int converse_stream_by_index(const void *a, const void *b)
{
	const struct converse_stream_block *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

/* The content array entry of a closed block; NULL for a block with nothing. */
static json_t *converse_stream_block_json(const struct converse_stream_block *b)
{
	switch (b->kind) {
	case CS_UNKNOWN:
		return NULL;
	case CS_TEXT:
		return json_pack("{s:s%}", "text", buf_str(&b->text), b->text.len);
	case CS_TOOL:
		return json_pack("{s:{s:s,s:s,s:O}}", "toolUse", "toolUseId", b->tool_id, "name",
				 b->tool_name, "input", b->input);
	case CS_REASONING:
		break;
	}
	json_t *rc = json_object();
	if (b->text.len || b->signature.len || !b->redacted.len) {
		json_t *rt = json_pack("{s:s%}", "text", buf_str(&b->text), b->text.len);
		if (b->signature.len)
			json_object_set_new(rt, "signature",
					    json_stringn(b->signature.data, b->signature.len));
		json_object_set_new(rc, "reasoningText", rt);
	}
	if (b->redacted.len)
		json_object_set_new(rc, "redactedContent",
				    json_stringn(b->redacted.data, b->redacted.len));
	return json_pack("{s:o}", "reasoningContent", rc);
}

int converse_stream_finish(struct converse_stream *cs, struct response *out,
			   struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	if (cs->failed)
		goto failed;
	if (!cs->got_stop) {
		converse_stream_malformed(cs, "the stream ended before messageStop");
		goto failed;
	}
	if (!cs->got_metadata) {
		converse_stream_malformed(cs, "the stream ended before metadata");
		goto failed;
	}
	/* qsort takes no NULL array, even an empty one. */
	if (cs->nblocks > 1)
		qsort(cs->blocks, cs->nblocks, sizeof *cs->blocks, converse_stream_by_index);
	json_t *content = json_array();
	struct buf text;
	buf_init(&text, 0);
	for (size_t i = 0; i < cs->nblocks; i++) {
		struct converse_stream_block *b = &cs->blocks[i];
		if (converse_stream_close_block(cs, b) < 0) {
			json_decref(content);
			buf_cleanup(&text);
			goto failed;
		}
		json_t *entry = converse_stream_block_json(b);
		if (entry)
			json_array_append_new(content, entry);
		if (b->kind == CS_TEXT)
			buf_append(&text, b->text.data, b->text.len);
	}
	out->output_text = buf_steal(&text);
	out->content = json_dumps(content, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(content);
	out->stop_reason = cs->stop_reason ? xstrdup(cs->stop_reason) : NULL;
	out->input_tokens = cs->usage.input_tokens;
	out->output_tokens = cs->usage.output_tokens;
	out->total_tokens = cs->usage.total_tokens;
	out->cache_read_tokens = cs->usage.cache_read_tokens;
	out->cache_write_tokens = cs->usage.cache_write_tokens;
	out->server_latency_ms = cs->usage.server_latency_ms;
	out->additional_fields = cs->additional ? xstrdup(cs->additional) : NULL;
	out->trace = cs->trace ? xstrdup(cs->trace) : NULL;
	return 0;
failed:
	if (err)
		*err = cs->first_err;
	return -1;
}
