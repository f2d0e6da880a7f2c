/*
 * test_mock_stream: the frames of the mock's ConverseStream answers, read
 * back with the runner's own decoder and assembler: the whole answer says
 * what the Converse answer says, and each fault breaks it as mock_stream.h
 * promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "converse_stream.h"
#include "eventstream.h"
#include "mock_stream.h"

/* 57 characters, two of them two bytes long in UTF-8. */
#define TEXT "Mock answer from us.amazon.nova-lite-v1:0 to: H\xc3\xa9llo th\xc3\xa9re"

static struct mock_reply reply_of(const char *text)
{
	return (struct mock_reply){
		.text = (char *)text, .input_tokens = 6, .output_tokens = 7,
		.stop_reason = "end_turn",
	};
}

/* What the runner's decoder and assembler make of a stream's first len
 * bytes. */
struct heard {
	char types[16][32]; /* :event-type or :exception-type of each frame */
	size_t nframes;
	size_t deltas;
	int feed_rc;        /* of the decoder: -1 once a frame failed to decode */
	struct nb_err feed_err;
	int finish_rc;      /* of converse_stream_finish */
	struct response res;
	char error_type[128];
	long http_status;
};

struct listen {
	struct converse_stream *cs;
	struct heard *h;
};

static int heard_frame(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	struct listen *l = ctx;
	const struct eventstream_header *type = eventstream_frame_header(f, ":event-type");

	if (!type)
		type = eventstream_frame_header(f, ":exception-type");
	assert_non_null(type);
	assert_true(l->h->nframes < 16);
	snprintf(l->h->types[l->h->nframes++], 32, "%.*s", (int)type->len, (const char *)type->data);
	if (type->len == 17 && memcmp(type->data, "contentBlockDelta", 17) == 0)
		l->h->deltas++;
	/* An exception frame fails the stream; the decoder goes on. */
	converse_stream_feed(l->cs, f, err);
	return 0;
}

static void hear(const struct mock_stream *s, size_t len, struct heard *h)
{
	struct eventstream_decoder d;
	struct listen l = {converse_stream_new(), h};
	struct nb_err err;
	const struct converse_stream_error *e;

	memset(h, 0, sizeof *h);
	eventstream_decoder_init(&d);
	h->feed_rc = eventstream_decoder_feed(&d, s->bytes.data, len, heard_frame, &l, &h->feed_err);
	h->finish_rc = converse_stream_finish(l.cs, &h->res, &err);
	e = converse_stream_error(l.cs);
	if (e) {
		snprintf(h->error_type, sizeof h->error_type, "%s", e->type);
		h->http_status = e->http_status;
	}
	converse_stream_free(l.cs);
	eventstream_decoder_cleanup(&d);
}

static void heard_cleanup(struct heard *h)
{
	if (h->finish_rc == 0)
		response_cleanup(&h->res);
}

static void build(const char *text, size_t chunks, enum mock_fault_answer answer,
		  struct mock_stream *s)
{
	struct mock_reply reply = reply_of(text);
	struct nb_err err = {{0}};

	if (mock_stream_build(&reply, chunks, 25, answer, s, &err) < 0)
		fail_msg("mock_stream_build failed: %s", err.msg);
	assert_true(s->nframes > 0);
	assert_int_equal(s->ends[s->nframes - 1], s->bytes.len);
}

static void test_whole_stream_says_what_converse_says(void **state)
{
	static const char *const types[] = {
		"messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
		"contentBlockDelta", "contentBlockStop", "messageStop", "metadata",
	};
	struct mock_stream s;
	struct heard h;
	(void)state;

	build(TEXT, MOCK_STREAM_DEFAULT_CHUNKS, MOCK_FAULT_NONE, &s);
	assert_int_equal(s.nframes, 8);
	assert_int_equal(s.stop, s.bytes.len);
	assert_false(s.dropped);
	hear(&s, s.stop, &h);
	assert_int_equal(h.feed_rc, 0);
	assert_int_equal(h.nframes, 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(h.types[i], types[i]);
	assert_int_equal(h.finish_rc, 0);
	assert_string_equal(h.res.output_text, TEXT);
	assert_string_equal(h.res.stop_reason, "end_turn");
	assert_int_equal(h.res.input_tokens, 6);
	assert_int_equal(h.res.output_tokens, 7);
	assert_int_equal(h.res.total_tokens, 13);
	assert_int_equal(h.res.server_latency_ms, 25);
	heard_cleanup(&h);
	mock_stream_cleanup(&s);
}

static void test_chunks_set_the_deltas(void **state)
{
	static const struct {
		const char *text;
		size_t chunks, deltas;
	} cases[] = {
		{TEXT, 1, 1}, {TEXT, 3, 3}, {TEXT, 10, 10},
		/* Fewer when the text has fewer characters. */
		{"abc", 4, 3}, {"\xc3\xa9t\xc3\xa9", 100, 3}, {"a", 4, 1},
	};
	struct mock_stream s;
	struct heard h;
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		build(cases[i].text, cases[i].chunks, MOCK_FAULT_NONE, &s);
		hear(&s, s.stop, &h);
		assert_int_equal(h.feed_rc, 0);
		assert_int_equal(h.deltas, cases[i].deltas);
		assert_int_equal(s.nframes, cases[i].deltas + 4);
		assert_int_equal(h.finish_rc, 0);
		assert_string_equal(h.res.output_text, cases[i].text);
		heard_cleanup(&h);
		mock_stream_cleanup(&s);
	}
}

static void test_same_reply_same_bytes(void **state)
{
	struct mock_stream a, b;
	(void)state;

	build(TEXT, 5, MOCK_FAULT_CORRUPT, &a);
	build(TEXT, 5, MOCK_FAULT_CORRUPT, &b);
	assert_int_equal(a.bytes.len, b.bytes.len);
	assert_memory_equal(a.bytes.data, b.bytes.data, a.bytes.len);
	mock_stream_cleanup(&a);
	mock_stream_cleanup(&b);
}

static void test_stream_error_ends_after_half_the_deltas(void **state)
{
	static const struct {
		enum mock_fault_answer answer;
		const char *exception, *type;
		long status;
	} cases[] = {
		{MOCK_FAULT_STREAM_ERROR, "modelStreamErrorException", "ModelStreamErrorException",
		 424},
		{MOCK_FAULT_STREAM_THROTTLE, "throttlingException", "ThrottlingException", 429},
	};
	struct mock_stream s;
	struct heard h;
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		build(TEXT, 4, cases[i].answer, &s);
		assert_false(s.dropped);
		assert_int_equal(s.stop, s.bytes.len);
		hear(&s, s.stop, &h);
		assert_int_equal(h.feed_rc, 0);
		/* messageStart, 2 of the 4 deltas, the exception. */
		assert_int_equal(h.nframes, 4);
		assert_int_equal(s.nframes, 4);
		assert_string_equal(h.types[0], "messageStart");
		assert_int_equal(h.deltas, 2);
		assert_string_equal(h.types[3], cases[i].exception);
		assert_int_equal(h.finish_rc, -1);
		assert_string_equal(h.error_type, cases[i].type);
		assert_int_equal(h.http_status, cases[i].status);
		mock_stream_cleanup(&s);
	}
	/* One delta: none of it goes out before the exception. */
	build("a", 4, MOCK_FAULT_STREAM_ERROR, &s);
	hear(&s, s.stop, &h);
	assert_int_equal(h.nframes, 2);
	assert_int_equal(h.deltas, 0);
	mock_stream_cleanup(&s);
}

static void test_corrupt_fails_the_crc_of_the_middle_frame(void **state)
{
	struct mock_stream whole, s;
	struct heard h;
	size_t differ = 0, at = 0;
	(void)state;

	build(TEXT, 4, MOCK_FAULT_NONE, &whole);
	build(TEXT, 4, MOCK_FAULT_CORRUPT, &s);
	assert_false(s.dropped);
	assert_int_equal(s.stop, s.bytes.len);
	assert_int_equal(s.bytes.len, whole.bytes.len);
	for (size_t i = 0; i < s.bytes.len; i++)
		if (s.bytes.data[i] != whole.bytes.data[i]) {
			differ++;
			at = i;
		}
	/* One bit of the last payload byte of frame 4 (of 8). */
	assert_int_equal(differ, 1);
	assert_int_equal(at, s.ends[4] - 5);
	assert_int_equal(s.bytes.data[at] ^ whole.bytes.data[at], 0x01);
	hear(&s, s.stop, &h);
	assert_int_equal(h.feed_rc, -1);
	assert_non_null(strstr(h.feed_err.msg, "checksum"));
	assert_int_equal(h.nframes, 4);
	assert_int_equal(h.finish_rc, -1);
	mock_stream_cleanup(&s);
	mock_stream_cleanup(&whole);
}

static void test_cut_stops_between_frames_before_message_stop(void **state)
{
	struct mock_stream s;
	struct heard h;
	(void)state;

	build(TEXT, 4, MOCK_FAULT_CUT, &s);
	assert_true(s.dropped);
	assert_int_equal(s.nframes, 8);
	assert_int_equal(s.stop, s.ends[3]);
	hear(&s, s.stop, &h);
	assert_int_equal(h.feed_rc, 0);
	assert_int_equal(h.nframes, 4);
	assert_int_equal(h.deltas, 3);
	assert_int_equal(h.finish_rc, -1);
	assert_string_equal(h.error_type, CONVERSE_STREAM_MALFORMED);
	mock_stream_cleanup(&s);
	/* The fewest frames: messageStart and the one delta. */
	build("a", 4, MOCK_FAULT_CUT, &s);
	assert_int_equal(s.stop, s.ends[1]);
	mock_stream_cleanup(&s);
}

static void test_reset_stops_after_half_the_bytes(void **state)
{
	struct mock_stream s;
	struct heard h;
	(void)state;

	build(TEXT, 4, MOCK_FAULT_RESET, &s);
	assert_true(s.dropped);
	assert_int_equal(s.stop, s.bytes.len / 2);
	hear(&s, s.stop, &h);
	assert_int_equal(h.finish_rc, -1);
	mock_stream_cleanup(&s);
}

static void test_refuses_text_that_is_not_utf8(void **state)
{
	struct mock_reply reply = reply_of("caf\xe9");
	struct mock_stream s;
	struct nb_err err = {{0}};
	(void)state;

	assert_int_equal(mock_stream_build(&reply, 4, 0, MOCK_FAULT_NONE, &s, &err), -1);
	assert_null(s.bytes.data);
	assert_null(s.ends);
	assert_true(strlen(err.msg) > 0);
	mock_stream_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_stream_says_what_converse_says),
		cmocka_unit_test(test_chunks_set_the_deltas),
		cmocka_unit_test(test_same_reply_same_bytes),
		cmocka_unit_test(test_stream_error_ends_after_half_the_deltas),
		cmocka_unit_test(test_corrupt_fails_the_crc_of_the_middle_frame),
		cmocka_unit_test(test_cut_stops_between_frames_before_message_stop),
		cmocka_unit_test(test_reset_stops_after_half_the_bytes),
		cmocka_unit_test(test_refuses_text_that_is_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
