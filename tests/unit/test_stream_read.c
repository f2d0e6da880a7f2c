/* Reading a streamed attempt: its answer, its timings from the times the
 * bytes arrived, and each way a stream goes wrong, through attempt_read as
 * the scheduler calls it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "attempt.h"
#include "buf.h"
#include "stream_read.h"

#define MS 1000000ull /* nanoseconds */

static struct retry_policy policy;

/* The frames of a six-word answer in three deltas. */
static void answer_frames(struct buf *out)
{
	struct converse_stream_answer a = {
		.text = "one two three four five six",
		.chunks = 3,
		.stop_reason = "end_turn",
		.input_tokens = 12,
		.output_tokens = 9,
		.latency_ms = 40,
	};
	struct nb_err err;
	buf_init(out, 0);
	assert_int_equal(converse_stream_encode_answer(&a, out, &err), 0);
}

static struct pool_result streamed(enum pool_transport t, uint64_t end_ns)
{
	struct pool_result r = {
		.transport = t,
		.http_status = t == POOL_ANSWERED ? 200 : 0,
		.body = "",
		.start_ns = 100 * MS,
		.end_ns = end_ns,
		.headers = "HTTP/1.1 200 OK\r\nx-amzn-RequestId: rid-s\r\n\r\n",
		.transport_error = t == POOL_CUT_SHORT ? "transfer closed with outstanding read data" : NULL,
	};
	return r;
}

/* Frame boundaries of an encoded stream, from each frame's length. */
static size_t frame_ends(const struct buf *b, size_t *ends, size_t max)
{
	size_t n = 0;
	for (size_t at = 0; at < b->len && n < max;) {
		const unsigned char *p = (const unsigned char *)b->data + at;
		at += (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		ends[n++] = at;
	}
	return n;
}

static void times_the_first_token_the_gaps_and_the_rate(void **state)
{
	(void)state;
	struct buf b;
	answer_frames(&b);
	size_t ends[16];
	size_t n = frame_ends(&b, ends, 16);
	/* messageStart, 3 deltas, contentBlockStop, messageStop, metadata. */
	assert_int_equal(n, 7);
	/* Frame i arrives at 100 ms + a time of its own: the deltas at 150,
	 * 160 and 190 ms. */
	static const uint64_t at_ms[] = {120, 150, 160, 190, 195, 195, 200};
	struct stream_read sr;
	stream_read_init(&sr);
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(stream_read_feed(&sr, b.data + from, ends[i] - from, at_ms[i] * MS), 0);
		from = ends[i];
	}
	struct pool_result r = streamed(POOL_ANSWERED, 250 * MS);
	struct attempt_outcome a;
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_SUCCESS);
	assert_string_equal(a.answer.output_text, "one two three four five six");
	assert_string_equal(a.answer.stop_reason, "end_turn");
	assert_int_equal(a.answer.input_tokens, 12);
	assert_int_equal(a.answer.output_tokens, 9);
	assert_string_equal(a.request_id, "rid-s");
	assert_float_equal(a.latency_ms, 150, 1e-9);
	assert_float_equal(a.ttft_ms, 50, 1e-9);
	/* Gaps 10 and 30 ms: the median by nearest rank is 10. */
	assert_float_equal(a.gap_p50_ms, 10, 1e-9);
	assert_float_equal(a.gap_max_ms, 30, 1e-9);
	/* 8 tokens after the first, in the 100 ms from 150 to 250 ms. */
	assert_float_equal(a.tokens_per_s, 80, 1e-9);
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
	buf_cleanup(&b);
}

static void the_answer_is_the_same_however_the_bytes_are_split(void **state)
{
	(void)state;
	struct buf b;
	answer_frames(&b);
	for (size_t cut = 1; cut < b.len; cut++) {
		struct stream_read sr;
		stream_read_init(&sr);
		assert_int_equal(stream_read_feed(&sr, b.data, cut, 110 * MS), 0);
		assert_int_equal(stream_read_feed(&sr, b.data + cut, b.len - cut, 120 * MS), 0);
		struct response res;
		assert_int_equal(stream_read_finish(&sr, &res), 0);
		assert_string_equal(res.output_text, "one two three four five six");
		response_cleanup(&res);
		stream_read_cleanup(&sr);
	}
	buf_cleanup(&b);
}

static void an_exception_frame_is_classed_like_its_twin(void **state)
{
	(void)state;
	struct buf b;
	answer_frames(&b);
	size_t ends[16];
	frame_ends(&b, ends, 16);
	struct nb_err err;
	struct buf ex;
	buf_init(&ex, 0);
	assert_int_equal(converse_stream_encode_exception("throttlingException", "Too many tokens",
							  &ex, &err),
			 0);
	struct stream_read sr;
	stream_read_init(&sr);
	assert_int_equal(stream_read_feed(&sr, b.data, ends[1], 130 * MS), 0);
	/* The frame callback refuses: the pool stops the exchange. */
	assert_int_equal(stream_read_feed(&sr, ex.data, ex.len, 140 * MS), -1);
	struct pool_result r = streamed(POOL_READER_STOPPED, 141 * MS);
	struct attempt_outcome a;
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_THROTTLED);
	assert_string_equal(a.error_type, "ThrottlingException");
	assert_non_null(strstr(a.error_message, "Too many tokens"));
	assert_int_equal(a.http_status, 200);
	assert_float_equal(a.ttft_ms, 30, 1e-9);
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
	buf_cleanup(&ex);
	buf_cleanup(&b);
}

static void a_corrupt_frame_is_a_malformed_answer_retried(void **state)
{
	(void)state;
	struct buf b;
	answer_frames(&b);
	b.data[b.len / 2] ^= 0x20;
	struct stream_read sr;
	stream_read_init(&sr);
	assert_int_equal(stream_read_feed(&sr, b.data, b.len, 130 * MS), -1);
	struct pool_result r = streamed(POOL_READER_STOPPED, 131 * MS);
	struct attempt_outcome a;
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_TRANSIENT);
	assert_string_equal(a.error_type, "MalformedResponse");
	assert_non_null(strstr(a.error_message, "checksum mismatch"));
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
	buf_cleanup(&b);
}

static void a_cut_stream_is_never_ok(void **state)
{
	(void)state;
	struct buf b;
	answer_frames(&b);
	size_t ends[16];
	frame_ends(&b, ends, 16);
	/* The connection closed cleanly after four frames: no messageStop. */
	struct stream_read sr;
	stream_read_init(&sr);
	assert_int_equal(stream_read_feed(&sr, b.data, ends[3], 130 * MS), 0);
	struct pool_result r = streamed(POOL_ANSWERED, 131 * MS);
	struct attempt_outcome a;
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_TRANSIENT);
	assert_string_equal(a.error_type, "MalformedResponse");
	assert_non_null(strstr(a.error_message, "messageStop"));
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
	/* The connection broke inside a frame. */
	stream_read_init(&sr);
	assert_int_equal(stream_read_feed(&sr, b.data, ends[3] + 5, 130 * MS), 0);
	r = streamed(POOL_CUT_SHORT, 131 * MS);
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_TRANSIENT);
	assert_string_equal(a.error_type, "ConnectionCutShort");
	assert_string_equal(a.error_message, "the stream broke off after 4 frames, before the answer "
					     "was whole: transfer closed with outstanding read data");
	assert_int_equal(a.http_status, 200);
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
	buf_cleanup(&b);
}

static void an_error_answer_before_the_stream_is_read_as_usual(void **state)
{
	(void)state;
	struct stream_read sr;
	stream_read_init(&sr);
	const char *body = "{\"message\":\"Malformed input request\"}";
	struct pool_result r = {
		.transport = POOL_ANSWERED,
		.http_status = 400,
		.body = body,
		.body_len = strlen(body),
		.headers = "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: ValidationException\r\n\r\n",
	};
	struct attempt_outcome a;
	attempt_read(&r, &sr, &policy, &a);
	assert_int_equal(a.class, RETRY_FINAL);
	assert_string_equal(a.error_type, "ValidationException");
	assert_string_equal(a.error_message, "Malformed input request");
	assert_true(a.ttft_ms < 0);
	attempt_outcome_cleanup(&a);
	stream_read_cleanup(&sr);
}

static int setup(void **state)
{
	(void)state;
	retry_policy_init(&policy);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(times_the_first_token_the_gaps_and_the_rate),
		cmocka_unit_test(the_answer_is_the_same_however_the_bytes_are_split),
		cmocka_unit_test(an_exception_frame_is_classed_like_its_twin),
		cmocka_unit_test(a_corrupt_frame_is_a_malformed_answer_retried),
		cmocka_unit_test(a_cut_stream_is_never_ok),
		cmocka_unit_test(an_error_answer_before_the_stream_is_read_as_usual),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
