/*
 * ConverseStream assembly: the Bedrock-shaped streams in
 * ../shared/testdata/eventstream/bedrock-synthetic (see its README), fed
 * whole, split in two at every byte and byte by byte, and streams built
 * here for what those do not cover (reasoning, bad tool input, cut streams).
 *
 * Each run is summed up as one JSON object (the response, or the error, and
 * the frame after which content first arrived) so that every way of feeding
 * can be compared with the others and with the expectation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "converse_stream.h"
#include "eventstream.h"
#include "retry.h"
#include "xalloc.h"
#include "testdata.h"

#define BEDROCK_DATA NB_TESTDATA "/eventstream/bedrock-synthetic"

struct run {
	struct converse_stream *cs;
	int frames;        /* frames fed */
	int first_content; /* the frame after which content was first seen, or -1 */
};

static int feed_frame(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	struct run *r = ctx;
	bool before = converse_stream_has_content(r->cs);
	int ret = converse_stream_feed(r->cs, f, err);
	r->frames++;
	if (!before && converse_stream_has_content(r->cs))
		r->first_content = r->frames;
	return ret;
}

/* What a run came to, as JSON. */
static json_t *outcome(struct run *r, int rc, const struct nb_err *err, struct response *res)
{
	if (rc < 0) {
		const struct converse_stream_error *e = converse_stream_error(r->cs);
		/* Every failure the assembler reports has its error. */
		assert_non_null(e);
		return json_pack("{s:s,s:s,s:I,s:s,s:i,s:i}", "err", err->msg, "type", e->type,
				 "status", (json_int_t)e->http_status, "message", e->message,
				 "frames", r->frames, "first_content", r->first_content);
	}
	assert_null(converse_stream_error(r->cs));
	json_t *content = json_loads(res->content, 0, NULL);
	assert_non_null(content);
	return json_pack("{s:s,s:o,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:i}", "text", res->output_text,
			 "content", content, "stop", res->stop_reason, "in",
			 (json_int_t)res->input_tokens, "out", (json_int_t)res->output_tokens,
			 "total", (json_int_t)res->total_tokens, "cache_read",
			 (json_int_t)res->cache_read_tokens, "cache_write",
			 (json_int_t)res->cache_write_tokens, "latency",
			 (json_int_t)res->server_latency_ms, "first_content", r->first_content);
}

/* Decodes and assembles a stream fed as first bytes, then pieces of step
 * bytes (the rest at once when step is 0). */
static json_t *assemble_pieces(const unsigned char *data, size_t len, size_t first, size_t step)
{
	struct eventstream_decoder d;
	struct run r = { converse_stream_new(), 0, -1 };
	struct nb_err err;
	struct response res;
	eventstream_decoder_init(&d);
	int rc = eventstream_decoder_feed(&d, data, first, feed_frame, &r, &err);
	for (size_t at = first; rc == 0 && at < len;) {
		size_t n = step && step < len - at ? step : len - at;
		rc = eventstream_decoder_feed(&d, data + at, n, feed_frame, &r, &err);
		at += n;
	}
	if (rc == 0)
		rc = eventstream_decoder_finish(&d, &err);
	if (rc == 0)
		rc = converse_stream_finish(r.cs, &res, &err);
	json_t *o = outcome(&r, rc, &err, &res);
	if (rc == 0)
		response_cleanup(&res);
	eventstream_decoder_cleanup(&d);
	converse_stream_free(r.cs);
	return o;
}

/* Assembles whole, split at every byte and byte by byte; all must agree. */
static json_t *assemble_every_way(const unsigned char *data, size_t len)
{
	json_t *whole = assemble_pieces(data, len, len, 0);
	for (size_t split = 0; split <= len + 1; split++) {
		size_t first = split <= len ? split : 1;
		size_t step = split <= len ? 0 : 1;
		json_t *o = assemble_pieces(data, len, first, step);
		if (!json_equal(o, whole)) {
			char *a = json_dumps(whole, JSON_COMPACT), *b = json_dumps(o, JSON_COMPACT);
			fail_msg("fed as %zu bytes then %s, the stream gives %s instead of %s", first,
				 step ? "single bytes" : "the rest", b, a);
		}
		json_decref(o);
	}
	return whole;
}

static json_t *assemble_file(const char *name)
{
	char path[512];
	size_t len;
	snprintf(path, sizeof path, BEDROCK_DATA "/converse-stream-%s.bin", name);
	unsigned char *data = testdata_need(path, &len);
	json_t *o = assemble_every_way(data, len);
	free(data);
	return o;
}

static void assert_outcome(json_t *got, const char *want_json)
{
	json_error_t jerr;
	json_t *want = json_loads(want_json, 0, &jerr);
	if (!want)
		fail_msg("bad expectation: %s", jerr.text);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("got %s\nwant %s", g, w);
	}
	json_decref(want);
	json_decref(got);
}

static void a_text_stream_gives_the_converse_result(void **state)
{
	(void)state;
	assert_outcome(assemble_file("text"),
		       "{\"text\":\"Hello, world \\u00e9\\u2603!\","
		       "\"content\":[{\"text\":\"Hello, world \\u00e9\\u2603!\"}],"
		       "\"stop\":\"end_turn\",\"in\":12,\"out\":6,\"total\":18,"
		       "\"cache_read\":0,\"cache_write\":0,\"latency\":412,\"first_content\":2}");
}

static void a_tool_use_stream_joins_and_parses_the_input(void **state)
{
	(void)state;
	assert_outcome(assemble_file("tool-use"),
		       "{\"text\":\"Let me check.\","
		       "\"content\":[{\"text\":\"Let me check.\"},{\"toolUse\":{\"toolUseId\":"
		       "\"tooluse_abc123XYZ\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}}],"
		       "\"stop\":\"tool_use\",\"in\":350,\"out\":41,\"total\":391,"
		       "\"cache_read\":-1,\"cache_write\":-1,\"latency\":903,\"first_content\":2}");
}

static void stream_exceptions_are_named_as_outside_a_stream(void **state)
{
	(void)state;
	assert_outcome(assemble_file("throttling-exception"),
		       "{\"err\":\"ThrottlingException inside the stream: Too many tokens, please "
		       "wait before trying again.\",\"type\":\"ThrottlingException\",\"status\":429,"
		       "\"message\":\"Too many tokens, please wait before trying again.\","
		       "\"frames\":3,\"first_content\":2}");
	assert_outcome(assemble_file("model-stream-error"),
		       "{\"err\":\"ModelStreamErrorException inside the stream: Model stream error\","
		       "\"type\":\"ModelStreamErrorException\",\"status\":424,"
		       "\"message\":\"Model stream error\",\"frames\":2,\"first_content\":-1}");
	assert_outcome(assemble_file("unmodeled-error"),
		       "{\"err\":\"InternalFailure inside the stream: An internal error occurred.\","
		       "\"type\":\"InternalFailure\",\"status\":500,"
		       "\"message\":\"An internal error occurred.\",\"frames\":2,\"first_content\":-1}");
}

/* The files' own expectations: botocore's view of each stream. */
static void streams_agree_with_the_sdk_view(void **state)
{
	(void)state;
	static const char *const names[] = { "text", "tool-use", "throttling-exception",
					     "model-stream-error", "unmodeled-error" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, BEDROCK_DATA "/converse-stream-%s.json", names[i]);
		json_t *want = json_load_file(path, 0, NULL);
		assert_non_null(want);
		json_t *got = assemble_file(names[i]);
		const json_t *terminal = json_object_get(want, "sdk_view_terminal_error");
		if (json_is_object(terminal)) {
			char type[128];
			converse_stream_error_name(
				type, sizeof type,
				json_string_value(json_object_get(terminal, "code")));
			assert_string_equal(json_string_value(json_object_get(got, "type")), type);
			assert_string_equal(json_string_value(json_object_get(got, "message")),
					    json_string_value(json_object_get(terminal, "message")));
		} else {
			/* The text deltas joined, the stop reason and the usage. */
			struct buf text;
			buf_init(&text, 0);
			size_t k;
			json_t *ev;
			json_t *stop = NULL, *usage = NULL;
			json_array_foreach(json_object_get(want, "sdk_view_events"), k, ev) {
				const char *t = json_string_value(json_object_get(
					json_object_get(json_object_get(ev, "contentBlockDelta"),
							"delta"),
					"text"));
				if (t)
					buf_append_str(&text, t);
				if (json_object_get(ev, "messageStop"))
					stop = json_object_get(json_object_get(ev, "messageStop"),
							       "stopReason");
				if (json_object_get(ev, "metadata"))
					usage = json_object_get(json_object_get(ev, "metadata"),
								"usage");
			}
			assert_string_equal(json_string_value(json_object_get(got, "text")),
					    buf_str(&text));
			assert_string_equal(json_string_value(json_object_get(got, "stop")),
					    json_string_value(stop));
			assert_int_equal(json_integer_value(json_object_get(got, "out")),
					 json_integer_value(json_object_get(usage, "outputTokens")));
			buf_cleanup(&text);
		}
		json_decref(got);
		json_decref(want);
	}
}

/* The retry policy treats a stream error like its non-stream twin. */
static void stream_errors_classify_like_their_twins(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		enum retry_class want;
	} cases[] = {
		{ "throttling-exception", RETRY_THROTTLED },
		{ "unmodeled-error", RETRY_TRANSIENT },
		/* 424, but the service says to retry a stream broken off. */
		{ "model-stream-error", RETRY_TRANSIENT },
	};
	struct retry_policy p;
	retry_policy_init(&p);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *o = assemble_file(cases[i].file);
		enum retry_class c =
			retry_classify(&p, POOL_ANSWERED,
				       (long)json_integer_value(json_object_get(o, "status")),
				       json_string_value(json_object_get(o, "type")));
		assert_int_equal(c, cases[i].want);
		json_decref(o);
	}
}

/* A stream built here: frames appended one by one. */
struct script {
	struct buf bytes;
};

static void script_raw(struct script *s, const char *message_type, const char *type_header,
		       const char *type, const char *payload)
{
	struct eventstream_header h[3] = {
		eventstream_header_string(type_header, type),
		eventstream_header_string(":content-type", "application/json"),
		eventstream_header_string(":message-type", message_type),
	};
	struct nb_err err;
	assert_int_equal(eventstream_encode(h, 3, payload, strlen(payload), &s->bytes, &err), 0);
}

static void script_event(struct script *s, const char *event, const char *payload)
{
	script_raw(s, "event", ":event-type", event, payload);
}

static void script_end(struct script *s)
{
	script_event(s, "messageStop", "{\"stopReason\":\"end_turn\"}");
	script_event(s, "metadata", "{\"usage\":{\"inputTokens\":1,\"outputTokens\":2,"
				    "\"totalTokens\":3},\"metrics\":{\"latencyMs\":4}}");
}

static json_t *script_run(struct script *s)
{
	json_t *o = assemble_every_way((unsigned char *)s->bytes.data, s->bytes.len);
	buf_cleanup(&s->bytes);
	return o;
}

static void reasoning_is_kept_apart_from_the_text(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "messageStart", "{\"role\":\"assistant\"}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"Think\"}}}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"ing.\"}}}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":"
		     "{\"signature\":\"c2ln\"}}}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":1,\"delta\":{\"reasoningContent\":"
		     "{\"redactedContent\":\"AAEC\"}}}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":2,\"delta\":{\"text\":\"Answer\"}}");
	script_end(&s);
	json_t *o = script_run(&s);
	assert_outcome(json_pack("{s:O,s:O}", "text", json_object_get(o, "text"), "content",
				 json_object_get(o, "content")),
		       "{\"text\":\"Answer\",\"content\":["
		       "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"Thinking.\","
		       "\"signature\":\"c2ln\"}}},"
		       "{\"reasoningContent\":{\"redactedContent\":\"AAEC\"}},"
		       "{\"text\":\"Answer\"}]}");
	assert_int_equal(json_integer_value(json_object_get(o, "first_content")), 2);
	json_decref(o);
}

static void blocks_are_ordered_by_index_and_unknowns_ignored(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "messageStart", "{\"role\":\"assistant\",\"p\":\"xyz\"}");
	script_event(&s, "contentBlockStart",
		     "{\"contentBlockIndex\":1,\"start\":{\"toolUse\":{\"toolUseId\":\"t1\","
		     "\"name\":\"now\"}},\"p\":\"ab\"}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi \"},\"p\":\"a\"}");
	script_event(&s, "futureEvent", "not even JSON");
	script_raw(&s, "futureType", ":event-type", "contentBlockDelta", "{}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"citation\":{\"title\":\"x\"}}}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"there\"}}");
	/* A tool that takes no arguments: no input deltas at all. */
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	script_event(&s, "messageStop",
		     "{\"stopReason\":\"tool_use\",\"additionalModelResponseFields\":{\"a\":[1]}}");
	script_event(&s, "metadata",
		     "{\"usage\":{\"inputTokens\":5,\"outputTokens\":6,\"totalTokens\":31,"
		     "\"cacheReadInputTokens\":20,\"cacheWriteInputTokens\":0},"
		     "\"metrics\":{\"latencyMs\":77},\"trace\":{\"guardrail\":{}},\"p\":\"q\"}");
	assert_outcome(script_run(&s),
		       "{\"text\":\"Hi there\",\"content\":[{\"text\":\"Hi there\"},"
		       "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"now\",\"input\":{}}}],"
		       "\"stop\":\"tool_use\",\"in\":5,\"out\":6,\"total\":31,\"cache_read\":20,"
		       "\"cache_write\":0,\"latency\":77,\"first_content\":3}");
}

/* A model may stop before saying anything: a success with no content. */
static void an_empty_answer_is_a_success(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "messageStart", "{\"role\":\"assistant\"}");
	script_end(&s);
	assert_outcome(script_run(&s),
		       "{\"text\":\"\",\"content\":[],\"stop\":\"end_turn\",\"in\":1,\"out\":2,"
		       "\"total\":3,\"cache_read\":-1,\"cache_write\":-1,\"latency\":4,"
		       "\"first_content\":-1}");
}

static void additional_fields_are_kept(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "messageStop",
		     "{\"stopReason\":\"end_turn\",\"additionalModelResponseFields\":{\"a\":[1]}}");
	struct eventstream_decoder d;
	struct run r = { converse_stream_new(), 0, -1 };
	struct nb_err err;
	eventstream_decoder_init(&d);
	assert_null(converse_stream_additional_fields(r.cs));
	assert_int_equal(eventstream_decoder_feed(&d, s.bytes.data, s.bytes.len, feed_frame, &r,
						  &err),
			 0);
	assert_string_equal(converse_stream_additional_fields(r.cs), "{\"a\":[1]}");
	eventstream_decoder_cleanup(&d);
	converse_stream_free(r.cs);
	buf_cleanup(&s.bytes);
}

/* One malformed stream per case: the message a user sees. */
static void malformed_streams_are_errors(void **state)
{
	(void)state;
	static const struct {
		const char *event, *payload, *err;
	} cases[] = {
		{ "contentBlockDelta", "[1]",
		  "the payload of the stream's contentBlockDelta event is not a JSON object: "
		  "wrong type" },
		{ "contentBlockStop", "{\"contentBlockIndex\":",
		  "the payload of the stream's contentBlockStop event is not a JSON object: "
		  "unexpected token near end of file" },
		{ "contentBlockDelta", "{\"delta\":{\"text\":\"x\"}}",
		  "the stream's contentBlockDelta event has no contentBlockIndex" },
		{ "contentBlockStart", "{\"contentBlockIndex\":1024}",
		  "the stream's contentBlockStart event has contentBlockIndex 1024; novabatch "
		  "takes 0 to 1023" },
		{ "contentBlockDelta", "{\"contentBlockIndex\":-1,\"delta\":{\"text\":\"x\"}}",
		  "the stream's contentBlockDelta event has contentBlockIndex -1; novabatch takes "
		  "0 to 1023" },
		{ "contentBlockDelta", "{\"contentBlockIndex\":0}",
		  "the contentBlockDelta of content block 0 has no delta object" },
		{ "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{}}}",
		  "the toolUse delta of content block 0 has no input string" },
		{ "contentBlockStart", "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":{\"name\":\"f\"}}}",
		  "the contentBlockStart of content block 0 has a toolUse without a toolUseId or "
		  "name" },
		/* After text block 0 got "Hi": */
		{ "contentBlockDelta",
		  "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":\"{}\"}}}",
		  "content block 0 of the stream mixes text and toolUse" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct script s = { { 0 } };
		script_event(&s, "contentBlockDelta",
			     "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}");
		script_event(&s, cases[i].event, cases[i].payload);
		script_end(&s);
		json_t *o = script_run(&s);
		const char *got = json_string_value(json_object_get(o, "err"));
		if (!got || strcmp(got, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\"", i, got ? got : "success");
		assert_string_equal(json_string_value(json_object_get(o, "type")),
				    CONVERSE_STREAM_MALFORMED);
		assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
		assert_string_equal(json_string_value(json_object_get(o, "message")), cases[i].err);
		json_decref(o);
	}
}

static void tool_input_must_be_json(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "contentBlockStart",
		     "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":{\"toolUseId\":\"t9\","
		     "\"name\":\"search\"}}}");
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":\"{\\\"q\\\":\"}}}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	script_end(&s);
	json_t *o = script_run(&s);
	assert_string_equal(json_string_value(json_object_get(o, "err")),
			    "the input of tool use t9 (search, content block 0) is not JSON: "
			    "unexpected token near end of file at byte 5");
	/* A garbled 200 stream is worth another try. */
	struct retry_policy p;
	retry_policy_init(&p);
	assert_int_equal(retry_classify(&p, POOL_ANSWERED, 200, CONVERSE_STREAM_MALFORMED),
			 RETRY_TRANSIENT);
	json_decref(o);

	/* Tool input without a contentBlockStart naming the tool. */
	s = (struct script){ { 0 } };
	script_event(&s, "contentBlockDelta",
		     "{\"contentBlockIndex\":3,\"delta\":{\"toolUse\":{\"input\":\"{}\"}}}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":3}");
	o = script_run(&s);
	assert_string_equal(json_string_value(json_object_get(o, "err")),
			    "content block 3 of the stream has tool input but no contentBlockStart "
			    "naming the tool");
	json_decref(o);

	/* A delta after the block's stop. */
	s = (struct script){ { 0 } };
	script_event(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\"}}");
	script_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	script_event(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"b\"}}");
	o = script_run(&s);
	assert_string_equal(json_string_value(json_object_get(o, "err")),
			    "content block 0 of the stream has a contentBlockDelta after its "
			    "contentBlockStop");
	json_decref(o);
}

static void a_cut_stream_is_never_a_success(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_event(&s, "messageStart", "{\"role\":\"assistant\"}");
	script_event(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\"}}");
	json_t *o = script_run(&s);
	assert_string_equal(json_string_value(json_object_get(o, "err")),
			    "the stream ended before messageStop");
	assert_string_equal(json_string_value(json_object_get(o, "type")), "MalformedResponse");
	json_decref(o);

	s = (struct script){ { 0 } };
	script_event(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\"}}");
	script_event(&s, "messageStop", "{\"stopReason\":\"end_turn\"}");
	o = script_run(&s);
	assert_string_equal(json_string_value(json_object_get(o, "err")),
			    "the stream ended before metadata");
	json_decref(o);

	/* Nothing at all. */
	struct converse_stream *cs = converse_stream_new();
	struct response res;
	struct nb_err err;
	assert_false(converse_stream_has_content(cs));
	assert_int_equal(converse_stream_finish(cs, &res, &err), -1);
	assert_string_equal(err.msg, "the stream ended before messageStop");
	assert_null(res.output_text);
	converse_stream_free(cs);
	converse_stream_free(NULL);
}

/* Feeds every frame whatever the assembler says; keeps the last answer. */
struct persist {
	struct converse_stream *cs;
	int rc;
	struct nb_err err;
};

static int feed_on(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	(void)err;
	struct persist *p = ctx;
	p->rc = converse_stream_feed(p->cs, f, &p->err);
	return 0;
}

static void a_failed_stream_stays_failed(void **state)
{
	(void)state;
	struct script s = { { 0 } };
	script_raw(&s, "exception", ":exception-type", "validationException", "{}");
	script_event(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\"}}");
	script_end(&s);
	struct persist p = { converse_stream_new(), 0, { "" } };
	struct eventstream_decoder d;
	struct nb_err err;
	struct response res;
	eventstream_decoder_init(&d);
	assert_int_equal(eventstream_decoder_feed(&d, s.bytes.data, s.bytes.len, feed_on, &p, &err),
			 0);
	/* The frames after the exception are refused with the same error. */
	const char *want = "ValidationException inside the stream: ValidationException with no "
			   "message";
	assert_int_equal(p.rc, -1);
	assert_string_equal(p.err.msg, want);
	assert_false(converse_stream_has_content(p.cs));
	assert_int_equal(converse_stream_finish(p.cs, &res, &err), -1);
	assert_string_equal(err.msg, want);
	const struct converse_stream_error *e = converse_stream_error(p.cs);
	assert_string_equal(e->type, "ValidationException");
	assert_int_equal(e->http_status, 400);
	assert_string_equal(e->message, "ValidationException with no message");
	eventstream_decoder_cleanup(&d);
	converse_stream_free(p.cs);
	buf_cleanup(&s.bytes);

	struct script t = { { 0 } };
	script_raw(&t, "exception", ":exception-type", "serviceUnavailableException",
		   "<html>busy</html>");
	assert_outcome(script_run(&t),
		       "{\"err\":\"ServiceUnavailableException inside the stream: <html>busy</html>\","
		       "\"type\":\"ServiceUnavailableException\",\"status\":503,"
		       "\"message\":\"<html>busy</html>\",\"frames\":1,\"first_content\":-1}");
}

static void the_content_cap_holds(void **state)
{
	(void)state;
	char *chunk = xmalloc(1024 * 1024 + 1);
	memset(chunk, 'a', 1024 * 1024);
	chunk[1024 * 1024] = '\0';
	char *payload = xasprintf("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"%s\"}}", chunk);
	struct converse_stream *cs = converse_stream_new();
	struct eventstream_header h[2] = {
		eventstream_header_string(":event-type", "contentBlockDelta"),
		eventstream_header_string(":message-type", "event"),
	};
	struct buf frame;
	struct nb_err err;
	buf_init(&frame, 0);
	assert_int_equal(eventstream_encode(h, 2, payload, strlen(payload), &frame, &err), 0);
	struct eventstream_decoder d;
	struct run r = { cs, 0, -1 };
	eventstream_decoder_init(&d);
	int rc = 0;
	for (int i = 0; i < 40 && rc == 0; i++)
		rc = eventstream_decoder_feed(&d, frame.data, frame.len, feed_frame, &r, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(r.frames, 33);
	assert_string_equal(err.msg, "the streamed answer is larger than 33554432 bytes");
	eventstream_decoder_cleanup(&d);
	converse_stream_free(cs);
	buf_cleanup(&frame);
	free(payload);
	free(chunk);
}

static void error_names_are_capitalised(void **state)
{
	(void)state;
	char out[32];
	converse_stream_error_name(out, sizeof out, "throttlingException");
	assert_string_equal(out, "ThrottlingException");
	converse_stream_error_name(out, sizeof out, "InternalFailure");
	assert_string_equal(out, "InternalFailure");
	converse_stream_error_name(out, sizeof out, "");
	assert_string_equal(out, "");
	converse_stream_error_name(out, 8, "modelStreamErrorException");
	assert_string_equal(out, "ModelSt");
}

/* decode(encode(answer)) is the answer, however it is split. */
static void encoded_answers_round_trip(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t chunks, deltas;
	} cases[] = {
		{ "Hello, world \xc3\xa9\xe2\x98\x83!", 1, 1 },
		{ "Hello, world \xc3\xa9\xe2\x98\x83!", 4, 4 },
		/* More chunks than characters: one delta per character. */
		{ "\xc3\xa9\xe2\x98\x83" "a", 50, 3 },
		{ "", 3, 1 },
		{ "quote \" and \\ and \n", 0, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct converse_stream_answer a = { .text = cases[i].text,
						    .chunks = cases[i].chunks,
						    .input_tokens = 10,
						    .output_tokens = 7,
						    .latency_ms = 250 };
		struct buf out;
		struct nb_err err;
		buf_init(&out, 0);
		assert_int_equal(converse_stream_encode_answer(&a, &out, &err), 0);
		json_t *o = assemble_every_way((unsigned char *)out.data, out.len);
		json_t *want = json_pack("{s:s,s:[{s:s}],s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "text",
					 cases[i].text, "content", "text", cases[i].text, "stop",
					 "end_turn", "in", 10, "out", 7, "total", 17, "cache_read",
					 -1, "cache_write", -1, "latency", 250, "first_content", 2);
		if (!json_equal(o, want))
			fail_msg("case %zu: %s", i, json_dumps(o, JSON_COMPACT));
		/* 5 frames around the deltas. */
		struct eventstream_decoder d;
		struct run r = { converse_stream_new(), 0, -1 };
		eventstream_decoder_init(&d);
		assert_int_equal(eventstream_decoder_feed(&d, out.data, out.len, feed_frame, &r, &err),
				 0);
		assert_int_equal(r.frames, 4 + cases[i].deltas);
		eventstream_decoder_cleanup(&d);
		converse_stream_free(r.cs);
		json_decref(want);
		json_decref(o);
		buf_cleanup(&out);
	}
}

static void the_answer_encoder_refuses_bad_text_and_leaves_out_alone(void **state)
{
	(void)state;
	struct converse_stream_answer a = { .text = "ok \xff", .chunks = 2 };
	struct buf out;
	struct nb_err err;
	buf_init(&out, 0);
	buf_append_str(&out, "kept");
	assert_int_equal(converse_stream_encode_answer(&a, &out, &err), -1);
	assert_string_equal(err.msg, "converse stream: the contentBlockDelta payload is not valid "
				     "UTF-8");
	assert_string_equal(buf_str(&out), "kept");

	/* A cap that holds messageStart and a little more. */
	struct buf capped;
	buf_init(&capped, 150);
	a.text = "fine";
	assert_int_equal(converse_stream_encode_answer(&a, &capped, &err), -1);
	assert_non_null(strstr(err.msg, "does not fit in the output buffer"));
	assert_int_equal(capped.len, 0);
	buf_cleanup(&capped);
	buf_cleanup(&out);
}

static void encoded_exceptions_round_trip(void **state)
{
	(void)state;
	struct buf out;
	struct nb_err err;
	buf_init(&out, 0);
	struct converse_stream_answer a = { .text = "partial", .chunks = 1 };
	assert_int_equal(converse_stream_encode_answer(&a, &out, &err), 0);
	/* Keep messageStart and the delta, then throttle. */
	size_t cut = 0;
	for (int f = 0; f < 2; f++)
		cut += (size_t)((unsigned char)out.data[cut] << 24 |
				(unsigned char)out.data[cut + 1] << 16 |
				(unsigned char)out.data[cut + 2] << 8 | (unsigned char)out.data[cut + 3]);
	out.len = cut;
	assert_int_equal(converse_stream_encode_exception("throttlingException", "slow down", &out,
							  &err),
			 0);
	assert_outcome(assemble_every_way((unsigned char *)out.data, out.len),
		       "{\"err\":\"ThrottlingException inside the stream: slow down\","
		       "\"type\":\"ThrottlingException\",\"status\":429,\"message\":\"slow down\","
		       "\"frames\":3,\"first_content\":2}");
	buf_cleanup(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_text_stream_gives_the_converse_result),
		cmocka_unit_test(a_tool_use_stream_joins_and_parses_the_input),
		cmocka_unit_test(stream_exceptions_are_named_as_outside_a_stream),
		cmocka_unit_test(streams_agree_with_the_sdk_view),
		cmocka_unit_test(stream_errors_classify_like_their_twins),
		cmocka_unit_test(reasoning_is_kept_apart_from_the_text),
		cmocka_unit_test(blocks_are_ordered_by_index_and_unknowns_ignored),
		cmocka_unit_test(an_empty_answer_is_a_success),
		cmocka_unit_test(additional_fields_are_kept),
		cmocka_unit_test(malformed_streams_are_errors),
		cmocka_unit_test(tool_input_must_be_json),
		cmocka_unit_test(a_cut_stream_is_never_a_success),
		cmocka_unit_test(a_failed_stream_stays_failed),
		cmocka_unit_test(the_content_cap_holds),
		cmocka_unit_test(error_names_are_capitalised),
		cmocka_unit_test(encoded_answers_round_trip),
		cmocka_unit_test(the_answer_encoder_refuses_bad_text_and_leaves_out_alone),
		cmocka_unit_test(encoded_exceptions_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
