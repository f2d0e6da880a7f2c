/*
 * test_mock_fault: the mock's fault decisions, with explicit times and
 * random values: the error answers, the draw, token buckets, fail-first
 * counts, plans (and their error messages) and the quotas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mock_fault.h"

#define LITE "us.amazon.nova-lite-v1:0"
#define MICRO "us.amazon.nova-micro-v1:0"
#define MS UINT64_C(1000000)
#define SECOND UINT64_C(1000000000)

static void test_errors_have_the_service_shape(void **state)
{
	static const struct {
		enum mock_fault_answer answer;
		unsigned status;
		const char *type;
		const char *message;
	} cases[] = {
		{MOCK_FAULT_VALIDATION, 400, "ValidationException" MOCK_FAULT_NS_BEDROCK,
		 "Malformed input request, please reformat your input and try again."},
		{MOCK_FAULT_ACCESS_DENIED, 403, "AccessDeniedException" MOCK_FAULT_NS_BEDROCK,
		 "You don't have access to the model with the specified model ID."},
		{MOCK_FAULT_EXPIRED_TOKEN, 403, "ExpiredTokenException" MOCK_FAULT_NS_CORAL,
		 "The security token included in the request is expired"},
		{MOCK_FAULT_NOT_FOUND, 404, "ResourceNotFoundException" MOCK_FAULT_NS_BEDROCK, NULL},
		{MOCK_FAULT_MODEL_TIMEOUT, 408, "ModelTimeoutException" MOCK_FAULT_NS_BEDROCK, NULL},
		{MOCK_FAULT_MODEL_ERROR, 424, "ModelErrorException" MOCK_FAULT_NS_BEDROCK, NULL},
		{MOCK_FAULT_THROTTLED, 429, "ThrottlingException" MOCK_FAULT_NS_BEDROCK,
		 "Too many requests, please wait before trying again."},
		{MOCK_FAULT_TOO_MANY_TOKENS, 429, "ThrottlingException" MOCK_FAULT_NS_BEDROCK,
		 "Too many tokens, please wait before trying again."},
		{MOCK_FAULT_NOT_READY, 429, "ModelNotReadyException" MOCK_FAULT_NS_BEDROCK, NULL},
		{MOCK_FAULT_INTERNAL, 500, "InternalServerException" MOCK_FAULT_NS_BEDROCK, NULL},
		{MOCK_FAULT_UNAVAILABLE, 503, "ServiceUnavailableException" MOCK_FAULT_NS_BEDROCK,
		 "Bedrock is unable to process your request."},
	};
	(void)state;

	assert_null(mock_fault_error(MOCK_FAULT_NONE));
	assert_null(mock_fault_error(MOCK_FAULT_RESET));
	/* The stream answers are a 200 that breaks later. */
	assert_null(mock_fault_error(MOCK_FAULT_STREAM_ERROR));
	assert_null(mock_fault_error(MOCK_FAULT_STREAM_THROTTLE));
	assert_null(mock_fault_error(MOCK_FAULT_CORRUPT));
	assert_null(mock_fault_error(MOCK_FAULT_CUT));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mock_fault_error *e = mock_fault_error(cases[i].answer);
		assert_non_null(e);
		assert_int_equal(e->status, cases[i].status);
		assert_string_equal(e->type, cases[i].type);
		assert_true(strlen(e->message) > 20);
		if (cases[i].message)
			assert_string_equal(e->message, cases[i].message);
	}
}

static void test_uniform_is_splitmix64(void **state)
{
	(void)state;

	/* splitmix64's first output from state 0 is 0xe220a8397b1dcdaf. */
	assert_true(mock_fault_uniform(0, 0) ==
		    (double)(UINT64_C(0xe220a8397b1dcdaf) >> 11) * 0x1p-53);
	assert_true(mock_fault_uniform(7, 3) == mock_fault_uniform(7, 3));
	assert_true(mock_fault_uniform(7, 3) != mock_fault_uniform(8, 3));
	assert_true(mock_fault_uniform(7, 3) != mock_fault_uniform(7, 4));
	for (uint64_t n = 0; n < 100000; n++) {
		double u = mock_fault_uniform(42, n);
		assert_true(u >= 0 && u < 1);
	}
}

static void test_draw_compares_one_value_with_cumulative_odds(void **state)
{
	/* Binary fractions, so that every bound is exact. */
	const struct mock_fault_odds odds = {0.125, 0.25, 0.25, 0.125, 0.125, 0, 0, 0};
	const struct mock_fault_odds none = {0};
	const struct mock_fault_odds always = {.throttle = 1};
	static const struct {
		double u;
		enum mock_fault_answer answer;
	} cases[] = {
		{0.0, MOCK_FAULT_THROTTLED},       {0.124, MOCK_FAULT_THROTTLED},
		{0.125, MOCK_FAULT_INTERNAL},      {0.374, MOCK_FAULT_INTERNAL},
		{0.375, MOCK_FAULT_UNAVAILABLE},   {0.624, MOCK_FAULT_UNAVAILABLE},
		{0.625, MOCK_FAULT_MODEL_TIMEOUT}, {0.749, MOCK_FAULT_MODEL_TIMEOUT},
		{0.75, MOCK_FAULT_RESET},          {0.874, MOCK_FAULT_RESET},
		{0.875, MOCK_FAULT_NONE},          {0.9999, MOCK_FAULT_NONE},
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(mock_fault_draw(&odds, cases[i].u), cases[i].answer);
	assert_int_equal(mock_fault_draw(&none, 0.0), MOCK_FAULT_NONE);
	assert_int_equal(mock_fault_draw(&always, 0.99999), MOCK_FAULT_THROTTLED);
}

static void test_draws_follow_the_odds(void **state)
{
	const struct mock_fault_odds odds = {.throttle = 0.3, .reset = 0.1};
	size_t throttled = 0, reset = 0;
	(void)state;

	/* The sequence is fixed by the seed, so these counts are too. */
	for (uint64_t n = 0; n < 100000; n++) {
		enum mock_fault_answer a = mock_fault_draw(&odds, mock_fault_uniform(1, n));
		throttled += a == MOCK_FAULT_THROTTLED;
		reset += a == MOCK_FAULT_RESET;
	}
	assert_in_range(throttled, 29000, 31000);
	assert_in_range(reset, 9500, 10500);
}

static void test_draw_puts_the_stream_faults_after_reset(void **state)
{
	const struct mock_fault_odds odds = {0.125, 0.125, 0.125, 0.0625, 0.0625,
					     0.125, 0.125, 0.125};
	const struct mock_fault_odds stream_only = {.stream_error = 0.25, .corrupt = 0.25,
						    .cut = 0.5};
	static const struct {
		double u;
		enum mock_fault_answer answer;
	} cases[] = {
		{0.0, MOCK_FAULT_THROTTLED},      {0.125, MOCK_FAULT_INTERNAL},
		{0.25, MOCK_FAULT_UNAVAILABLE},   {0.375, MOCK_FAULT_MODEL_TIMEOUT},
		{0.4375, MOCK_FAULT_RESET},       {0.499, MOCK_FAULT_RESET},
		{0.5, MOCK_FAULT_STREAM_ERROR},   {0.624, MOCK_FAULT_STREAM_ERROR},
		{0.625, MOCK_FAULT_CORRUPT},      {0.749, MOCK_FAULT_CORRUPT},
		{0.75, MOCK_FAULT_CUT},           {0.874, MOCK_FAULT_CUT},
		{0.875, MOCK_FAULT_NONE},         {0.9999, MOCK_FAULT_NONE},
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(mock_fault_draw(&odds, cases[i].u), cases[i].answer);
	assert_int_equal(mock_fault_draw(&stream_only, 0.0), MOCK_FAULT_STREAM_ERROR);
	assert_int_equal(mock_fault_draw(&stream_only, 0.25), MOCK_FAULT_CORRUPT);
	assert_int_equal(mock_fault_draw(&stream_only, 0.5), MOCK_FAULT_CUT);
	assert_int_equal(mock_fault_draw(&stream_only, 0.99999), MOCK_FAULT_CUT);
}

static void test_stream_draws_follow_the_odds(void **state)
{
	const struct mock_fault_odds odds = {.reset = 0.1, .stream_error = 0.2, .corrupt = 0.1,
					     .cut = 0.3};
	size_t counts[MOCK_FAULT_CUT + 1] = {0};
	(void)state;

	for (uint64_t n = 0; n < 100000; n++)
		counts[mock_fault_draw(&odds, mock_fault_uniform(3, n))]++;
	assert_in_range(counts[MOCK_FAULT_RESET], 9500, 10500);
	assert_in_range(counts[MOCK_FAULT_STREAM_ERROR], 19000, 21000);
	assert_in_range(counts[MOCK_FAULT_CORRUPT], 9500, 10500);
	assert_in_range(counts[MOCK_FAULT_CUT], 29000, 31000);
	assert_in_range(counts[MOCK_FAULT_NONE], 29000, 31000);
	/* A random draw never plans a throttle inside a stream. */
	assert_int_equal(counts[MOCK_FAULT_STREAM_THROTTLE], 0);
}

static void test_stream_answers_are_named_and_normal_outside_a_stream(void **state)
{
	static const struct {
		enum mock_fault_answer answer;
		const char *name;
		enum mock_fault_answer on_converse;
	} cases[] = {
		{MOCK_FAULT_STREAM_ERROR, "stream-error", MOCK_FAULT_NONE},
		{MOCK_FAULT_STREAM_THROTTLE, "stream-throttle", MOCK_FAULT_NONE},
		{MOCK_FAULT_CORRUPT, "corrupt", MOCK_FAULT_NONE},
		{MOCK_FAULT_CUT, "cut", MOCK_FAULT_NONE},
		{MOCK_FAULT_NONE, NULL, MOCK_FAULT_NONE},
		{MOCK_FAULT_RESET, NULL, MOCK_FAULT_RESET},
		{MOCK_FAULT_THROTTLED, NULL, MOCK_FAULT_THROTTLED},
		{MOCK_FAULT_UNAVAILABLE, NULL, MOCK_FAULT_UNAVAILABLE},
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *name = mock_fault_stream_name(cases[i].answer);
		if (cases[i].name)
			assert_string_equal(name, cases[i].name);
		else
			assert_null(name);
		assert_int_equal(mock_fault_on_converse(cases[i].answer), cases[i].on_converse);
	}
}

static void test_bucket_refills_at_its_rate(void **state)
{
	struct mock_fault_bucket b;
	(void)state;

	/* 600 a minute: one every 100 ms; 5 at most. */
	mock_fault_bucket_init(&b, 600, 5, 0);
	assert_int_equal(mock_fault_bucket_tokens(&b), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(mock_fault_bucket_fit(&b, 1), 1);
		mock_fault_bucket_take(&b, 1);
	}
	assert_int_equal(mock_fault_bucket_fit(&b, 1), 0);
	mock_fault_bucket_refill(&b, 100 * MS - 1);
	assert_int_equal(mock_fault_bucket_fit(&b, 1), 0);
	mock_fault_bucket_refill(&b, 100 * MS);
	assert_int_equal(mock_fault_bucket_fit(&b, 1), 1);
	assert_int_equal(mock_fault_bucket_fit(&b, 2), 0);
	mock_fault_bucket_refill(&b, 350 * MS);
	assert_int_equal(mock_fault_bucket_tokens(&b), 3);
	/* An earlier reading (another thread's) adds nothing and moves
	 * nothing back. */
	mock_fault_bucket_refill(&b, 200 * MS);
	assert_int_equal(mock_fault_bucket_tokens(&b), 3);
	mock_fault_bucket_refill(&b, 400 * MS);
	assert_int_equal(mock_fault_bucket_tokens(&b), 4);
	/* Never above the capacity, even after a long idle spell. */
	mock_fault_bucket_refill(&b, 3600 * SECOND);
	assert_int_equal(mock_fault_bucket_tokens(&b), 5);
	mock_fault_bucket_refill(&b, UINT64_MAX);
	assert_int_equal(mock_fault_bucket_tokens(&b), 5);
}

static void test_bucket_at_the_largest_rate(void **state)
{
	struct mock_fault_bucket b;
	(void)state;

	mock_fault_bucket_init(&b, MOCK_FAULT_MAX_RATE, MOCK_FAULT_MAX_RATE, 0);
	assert_int_equal(mock_fault_bucket_tokens(&b), MOCK_FAULT_MAX_RATE);
	mock_fault_bucket_take(&b, MOCK_FAULT_MAX_RATE);
	assert_int_equal(mock_fault_bucket_tokens(&b), 0);
	/* A minute refills it all; a second, a sixtieth. */
	mock_fault_bucket_refill(&b, SECOND);
	assert_int_equal(mock_fault_bucket_tokens(&b), MOCK_FAULT_MAX_RATE / 60);
	mock_fault_bucket_refill(&b, UINT64_MAX);
	assert_int_equal(mock_fault_bucket_tokens(&b), MOCK_FAULT_MAX_RATE);
}

static void test_bucket_gives_back_up_to_its_capacity(void **state)
{
	struct mock_fault_bucket b;
	(void)state;

	mock_fault_bucket_init(&b, 600, 600, 0);
	mock_fault_bucket_take(&b, mock_fault_bucket_fit(&b, 500));
	assert_int_equal(mock_fault_bucket_tokens(&b), 100);
	mock_fault_bucket_give(&b, 200, 0);
	assert_int_equal(mock_fault_bucket_tokens(&b), 300);
	/* Refilled to the time given first: 10 a second. */
	mock_fault_bucket_give(&b, 50, SECOND);
	assert_int_equal(mock_fault_bucket_tokens(&b), 360);
	mock_fault_bucket_give(&b, 1000, SECOND);
	assert_int_equal(mock_fault_bucket_tokens(&b), 600);
}

static void test_bucket_lets_an_oversize_request_pass_when_full(void **state)
{
	struct mock_fault_bucket b;
	(void)state;

	mock_fault_bucket_init(&b, 600, 600, 0);
	assert_int_equal(mock_fault_bucket_fit(&b, 601), 600);
	mock_fault_bucket_take(&b, 1);
	assert_int_equal(mock_fault_bucket_fit(&b, 601), 0);
	assert_int_equal(mock_fault_bucket_fit(&b, 599), 599);
	mock_fault_bucket_refill(&b, 100 * MS);
	assert_int_equal(mock_fault_bucket_fit(&b, 1000), 600);
	mock_fault_bucket_take(&b, 600);
	assert_int_equal(mock_fault_bucket_tokens(&b), 0);
}

static void test_seen_counts_the_first_k_attempts(void **state)
{
	struct mock_fault_seen *s = mock_fault_seen_new(MOCK_FAULT_MAX_REQUESTS);
	(void)state;

	assert_true(mock_fault_seen_first(s, 11, 2));
	assert_true(mock_fault_seen_first(s, 22, 2));
	assert_true(mock_fault_seen_first(s, 11, 2));
	assert_false(mock_fault_seen_first(s, 11, 2));
	assert_false(mock_fault_seen_first(s, 11, 2));
	assert_true(mock_fault_seen_first(s, 22, 2));
	assert_false(mock_fault_seen_first(s, 22, 2));
	/* Key 0 is a key like any other. */
	assert_true(mock_fault_seen_first(s, 0, 1));
	assert_false(mock_fault_seen_first(s, 0, 1));
	mock_fault_seen_free(s);
}

static void test_seen_grows_and_keeps_every_count(void **state)
{
	struct mock_fault_seen *s = mock_fault_seen_new(MOCK_FAULT_MAX_REQUESTS);
	(void)state;

	for (uint64_t k = 1; k <= 50000; k++)
		assert_true(mock_fault_seen_first(s, k * UINT64_C(0x9e3779b97f4a7c15), 1));
	for (uint64_t k = 1; k <= 50000; k++)
		assert_false(mock_fault_seen_first(s, k * UINT64_C(0x9e3779b97f4a7c15), 1));
	mock_fault_seen_free(s);
	mock_fault_seen_free(NULL);
}

static void test_seen_lets_requests_pass_when_full(void **state)
{
	struct mock_fault_seen *s = mock_fault_seen_new(3);
	(void)state;

	assert_true(mock_fault_seen_first(s, 1, 1));
	assert_true(mock_fault_seen_first(s, 2, 1));
	assert_true(mock_fault_seen_first(s, 3, 2));
	assert_false(mock_fault_seen_first(s, 4, 1));
	assert_false(mock_fault_seen_first(s, 4, 1));
	assert_true(mock_fault_seen_first(s, 3, 2));
	assert_false(mock_fault_seen_first(s, 3, 2));
	mock_fault_seen_free(s);
}

static void test_request_key_covers_model_and_body(void **state)
{
	uint64_t key = mock_fault_request_key(LITE, "{}", 2);
	(void)state;

	assert_true(key == mock_fault_request_key(LITE, "{}", 2));
	assert_true(key != mock_fault_request_key(MICRO, "{}", 2));
	assert_true(key != mock_fault_request_key(LITE, "{ }", 3));
	/* The NUL between them: "ab" + "" is not "a" + "b". */
	assert_true(mock_fault_request_key("ab", "", 0) != mock_fault_request_key("a", "b", 1));
}

static struct mock_fault_plan *plan_ok(const char *text)
{
	struct mock_fault_plan *p = NULL;
	struct nb_err err = {{0}};

	if (mock_fault_plan_parse(text, strlen(text), "plan.json", &p, &err) < 0)
		fail_msg("plan refused: %s", err.msg);
	return p;
}

static void plan_refused(const char *text, const char *message)
{
	struct mock_fault_plan *p = NULL;
	struct nb_err err = {{0}};

	assert_int_equal(mock_fault_plan_parse(text, strlen(text), "plan.json", &p, &err), -1);
	assert_null(p);
	assert_string_equal(err.msg, message);
}

static void expect_next(struct mock_fault_plan *p, const char *job, enum mock_fault_answer want)
{
	enum mock_fault_answer got = MOCK_FAULT_NONE;

	assert_true(mock_fault_plan_next(p, job, strlen(job), &got));
	assert_int_equal(got, want);
}

static void test_plan_answers_in_order_then_lets_go(void **state)
{
	enum mock_fault_answer got;
	struct mock_fault_plan *p = plan_ok(
		"{\"job-1\": [429, 503, 200], \"job-3\": [400],"
		" \"job-2\": [\"reset\", \"429-not-ready\", \"403-expired\", 403, 404, 408, 424, 500],"
		" \"idle\": []}");
	(void)state;

	assert_int_equal(mock_fault_plan_jobs(p), 4);
	expect_next(p, "job-1", MOCK_FAULT_THROTTLED);
	expect_next(p, "job-2", MOCK_FAULT_RESET);
	expect_next(p, "job-1", MOCK_FAULT_UNAVAILABLE);
	expect_next(p, "job-1", MOCK_FAULT_NONE);
	assert_false(mock_fault_plan_next(p, "job-1", 5, &got));
	assert_false(mock_fault_plan_next(p, "job-1", 5, &got));
	expect_next(p, "job-2", MOCK_FAULT_NOT_READY);
	expect_next(p, "job-2", MOCK_FAULT_EXPIRED_TOKEN);
	expect_next(p, "job-2", MOCK_FAULT_ACCESS_DENIED);
	expect_next(p, "job-2", MOCK_FAULT_NOT_FOUND);
	expect_next(p, "job-2", MOCK_FAULT_MODEL_TIMEOUT);
	expect_next(p, "job-2", MOCK_FAULT_MODEL_ERROR);
	expect_next(p, "job-2", MOCK_FAULT_INTERNAL);
	assert_false(mock_fault_plan_next(p, "job-2", 5, &got));
	expect_next(p, "job-3", MOCK_FAULT_VALIDATION);
	assert_false(mock_fault_plan_next(p, "idle", 4, &got));
	assert_false(mock_fault_plan_next(p, "job-4", 5, &got));
	/* A job id holding a NUL names no job. */
	assert_false(mock_fault_plan_next(p, "job-3\0x", 7, &got));
	mock_fault_plan_free(p);
	mock_fault_plan_free(NULL);
}

static void test_plan_takes_the_stream_answers(void **state)
{
	enum mock_fault_answer got;
	struct mock_fault_plan *p = plan_ok(
		"{\"s\": [\"stream-error\", \"stream-throttle\", \"corrupt\", \"cut\", 200]}");
	(void)state;

	expect_next(p, "s", MOCK_FAULT_STREAM_ERROR);
	expect_next(p, "s", MOCK_FAULT_STREAM_THROTTLE);
	expect_next(p, "s", MOCK_FAULT_CORRUPT);
	expect_next(p, "s", MOCK_FAULT_CUT);
	expect_next(p, "s", MOCK_FAULT_NONE);
	assert_false(mock_fault_plan_next(p, "s", 1, &got));
	mock_fault_plan_free(p);
	plan_refused("{\"s\": [\"Cut\"]}",
		     "plan.json: job \"s\", entry 1: \"Cut\" is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
}

static void test_plan_refusals_name_the_file_job_and_entry(void **state)
{
	(void)state;

	plan_refused("{\"a\": [429,}", "plan.json: line 1, column 12: unexpected token near '}'");
	plan_refused("", "plan.json: line 1, column 0: '[' or '{' expected near end of file");
	plan_refused("{\"job-1\": [1], \"job-1\": [2]}",
		     "plan.json: line 1, column 22: duplicate object key near '\"job-1\"'");
	plan_refused("[429, 200]",
		     "plan.json: the plan must be a JSON object mapping job ids to lists of "
		     "answers, like {\"job-1\": [429, 503, 200]}");
	plan_refused("{\"job-1\": [200], \"job-2\": 429}",
		     "plan.json: job \"job-2\": the answers must be a list, like [429, 503, 200]");
	plan_refused("{\"job-1\": [429, 302]}",
		     "plan.json: job \"job-1\", entry 2: 302 is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
	plan_refused("{\"job \\\"q\\\"\": [\"Reset\"]}",
		     "plan.json: job \"job \\\"q\\\"\", entry 1: \"Reset\" is not an answer the mock "
		     "knows; use 200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", "
		     "\"429-not-ready\", \"403-expired\", \"stream-error\", \"stream-throttle\", "
		     "\"corrupt\" or \"cut\"");
	plan_refused("{\"j\": [429.0]}",
		     "plan.json: job \"j\", entry 1: 429.0 is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
	plan_refused("{\"j\": [200, {\"status\": 429}]}",
		     "plan.json: job \"j\", entry 2: an object is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
	plan_refused("{\"j\": [[429]]}",
		     "plan.json: job \"j\", entry 1: a list is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
	plan_refused("{\"j\": [null]}",
		     "plan.json: job \"j\", entry 1: null is not an answer the mock knows; use "
		     "200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", "
		     "\"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or "
		     "\"cut\"");
}

static void test_plan_load_reads_the_file(void **state)
{
	char path[] = "/tmp/test_mock_fault_XXXXXX";
	struct mock_fault_plan *p = NULL;
	struct nb_err err = {{0}};
	char message[NB_ERR_MAX];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	(void)state;

	assert_non_null(f);
	fputs("{\"job-1\": [429]}\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mock_fault_plan_load(path, &p, &err), 0);
	expect_next(p, "job-1", MOCK_FAULT_THROTTLED);
	mock_fault_plan_free(p);

	f = fopen(path, "w");
	fputs("{\"job-1\": [429, 201]}\n", f);
	assert_int_equal(fclose(f), 0);
	p = NULL;
	assert_int_equal(mock_fault_plan_load(path, &p, &err), -1);
	assert_null(p);
	snprintf(message, sizeof message, "%s: job \"job-1\", entry 2: 201 is not an answer", path);
	assert_memory_equal(err.msg, message, strlen(message));
	unlink(path);

	assert_int_equal(mock_fault_plan_load(path, &p, &err), -1);
	snprintf(message, sizeof message, "cannot read %s: No such file or directory", path);
	assert_string_equal(err.msg, message);
}

static void test_plan_load_refuses_a_file_past_the_cap(void **state)
{
	char path[] = "/tmp/test_mock_fault_XXXXXX";
	struct mock_fault_plan *p = NULL;
	struct nb_err err = {{0}};
	char message[NB_ERR_MAX];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	(void)state;

	/* Spaces are valid JSON around a value: only the size is wrong. */
	fputs("{}", f);
	for (unsigned i = 2; i <= MOCK_FAULT_MAX_PLAN_BYTES; i++)
		fputc(' ', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mock_fault_plan_load(path, &p, &err), -1);
	assert_null(p);
	snprintf(message, sizeof message, "%s: a plan may hold at most %u bytes", path,
		 MOCK_FAULT_MAX_PLAN_BYTES);
	assert_string_equal(err.msg, message);
	/* One byte fewer fits. */
	assert_int_equal(truncate(path, MOCK_FAULT_MAX_PLAN_BYTES), 0);
	assert_int_equal(mock_fault_plan_load(path, &p, &err), 0);
	assert_int_equal(mock_fault_plan_jobs(p), 0);
	mock_fault_plan_free(p);
	unlink(path);
}

static void test_planned_needs_a_plan_and_a_job(void **state)
{
	struct mock_fault_config cfg = {.plan = plan_ok("{\"job-1\": [503]}")};
	struct mock_fault *f = mock_fault_new(&cfg);
	struct mock_fault *bare = mock_fault_new(&(struct mock_fault_config){0});
	enum mock_fault_answer got;
	(void)state;

	assert_false(mock_fault_planned(f, NULL, 0, &got));
	assert_false(mock_fault_planned(bare, "job-1", 5, &got));
	assert_true(mock_fault_planned(f, "job-1", 5, &got));
	assert_int_equal(got, MOCK_FAULT_UNAVAILABLE);
	assert_false(mock_fault_planned(f, "job-1", 5, &got));
	mock_fault_free(f);
	mock_fault_free(bare);
	mock_fault_free(NULL);
}

static void test_fail_first_counts_each_distinct_request(void **state)
{
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.fail_first = 2});
	struct mock_fault *off = mock_fault_new(&(struct mock_fault_config){0});
	(void)state;

	assert_true(mock_fault_fail_first(f, LITE, "{\"a\":1}", 7));
	assert_true(mock_fault_fail_first(f, LITE, "{\"a\":1}", 7));
	assert_true(mock_fault_fail_first(f, MICRO, "{\"a\":1}", 7));
	assert_true(mock_fault_fail_first(f, LITE, "{\"a\":2}", 7));
	assert_false(mock_fault_fail_first(f, LITE, "{\"a\":1}", 7));
	assert_false(mock_fault_fail_first(f, LITE, "{\"a\":1}", 7));
	assert_true(mock_fault_fail_first(f, MICRO, "{\"a\":1}", 7));
	assert_false(mock_fault_fail_first(f, MICRO, "{\"a\":1}", 7));
	assert_false(mock_fault_fail_first(off, LITE, "{\"a\":1}", 7));
	mock_fault_free(f);
	mock_fault_free(off);
}

static void test_rpm_admits_the_burst_then_refills(void **state)
{
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.rpm = 600, .burst = 5});
	uint64_t taken;
	(void)state;

	for (int i = 0; i < 5; i++)
		assert_int_equal(mock_fault_admit(f, LITE, 100, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(taken, 0);
	assert_int_equal(mock_fault_admit(f, LITE, 100, 0, &taken), MOCK_FAULT_OVER_RPM);
	assert_int_equal(mock_fault_admit(f, LITE, 100, 99 * MS, &taken), MOCK_FAULT_OVER_RPM);
	/* Each model id has its own buckets. */
	assert_int_equal(mock_fault_admit(f, MICRO, 100, 99 * MS, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 100, 100 * MS, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 100, 100 * MS, &taken), MOCK_FAULT_OVER_RPM);
	mock_fault_free(f);
}

static void test_rpm_burst_defaults_to_a_second(void **state)
{
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.rpm = 600});
	struct mock_fault *slow = mock_fault_new(&(struct mock_fault_config){.rpm = 30});
	uint64_t taken;
	(void)state;

	for (int i = 0; i < 10; i++)
		assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_OVER_RPM);
	assert_int_equal(mock_fault_admit(slow, LITE, 1, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(slow, LITE, 1, SECOND, &taken), MOCK_FAULT_OVER_RPM);
	assert_int_equal(mock_fault_admit(slow, LITE, 1, 2 * SECOND, &taken), MOCK_FAULT_ADMITTED);
	mock_fault_free(f);
	mock_fault_free(slow);
}

static void test_tpm_reserves_then_gives_back_the_unused(void **state)
{
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.tpm = 600});
	uint64_t taken;
	(void)state;

	/* A minute's worth, 600 tokens: six requests reserving 100 each. */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(mock_fault_admit(f, LITE, 100, 0, &taken), MOCK_FAULT_ADMITTED);
		assert_int_equal(taken, 100);
	}
	assert_int_equal(mock_fault_admit(f, LITE, 100, 0, &taken), MOCK_FAULT_OVER_TPM);
	assert_int_equal(taken, 0);
	/* Two answers used 50 of their 100: 100 come back. */
	mock_fault_release(f, LITE, 100, 50, 0);
	mock_fault_release(f, LITE, 100, 50, 0);
	assert_int_equal(mock_fault_admit(f, LITE, 100, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_OVER_TPM);
	/* 10 a second flow back in. */
	assert_int_equal(mock_fault_admit(f, LITE, 10, SECOND, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, SECOND, &taken), MOCK_FAULT_OVER_TPM);
	mock_fault_free(f);
}

static void test_tpm_admits_an_oversize_request_into_a_full_bucket(void **state)
{
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.tpm = 600});
	uint64_t taken;
	(void)state;

	assert_int_equal(mock_fault_admit(f, LITE, 5000, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(taken, 600);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_OVER_TPM);
	/* It used 70 of the 600 it took. */
	mock_fault_release(f, LITE, 600, 70, 0);
	assert_int_equal(mock_fault_admit(f, LITE, 530, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_OVER_TPM);
	mock_fault_free(f);
}

static void test_a_refusal_charges_neither_bucket(void **state)
{
	struct mock_fault *f =
		mock_fault_new(&(struct mock_fault_config){.rpm = 600, .burst = 2, .tpm = 600});
	uint64_t taken;
	(void)state;

	assert_int_equal(mock_fault_admit(f, LITE, 200, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 500, 0, &taken), MOCK_FAULT_OVER_TPM);
	assert_int_equal(mock_fault_admit(f, LITE, 400, 0, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 0, &taken), MOCK_FAULT_OVER_RPM);
	/* The requests bucket refilled one; the tokens bucket is empty. */
	assert_int_equal(mock_fault_admit(f, LITE, 2, 100 * MS, &taken), MOCK_FAULT_OVER_TPM);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 100 * MS, &taken), MOCK_FAULT_ADMITTED);
	assert_int_equal(mock_fault_admit(f, LITE, 1, 100 * MS, &taken), MOCK_FAULT_OVER_RPM);
	mock_fault_free(f);
}

static void test_random_follows_the_seeded_sequence(void **state)
{
	const struct mock_fault_odds odds = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
	struct mock_fault *f = mock_fault_new(&(struct mock_fault_config){.odds = odds, .seed = 9});
	struct mock_fault *off = mock_fault_new(&(struct mock_fault_config){.seed = 9});
	(void)state;

	for (uint64_t n = 0; n < 1000; n++)
		assert_int_equal(mock_fault_random(f), mock_fault_draw(&odds, mock_fault_uniform(9, n)));
	for (int i = 0; i < 100; i++)
		assert_int_equal(mock_fault_random(off), MOCK_FAULT_NONE);
	mock_fault_free(f);
	mock_fault_free(off);
}

static void test_random_draws_with_only_stream_odds(void **state)
{
	struct mock_fault *f = mock_fault_new(
		&(struct mock_fault_config){.odds = {.cut = 1}, .seed = 4});
	(void)state;

	/* The stream odds alone turn the draw on. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(mock_fault_random(f), MOCK_FAULT_CUT);
	mock_fault_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_have_the_service_shape),
		cmocka_unit_test(test_uniform_is_splitmix64),
		cmocka_unit_test(test_draw_compares_one_value_with_cumulative_odds),
		cmocka_unit_test(test_draws_follow_the_odds),
		cmocka_unit_test(test_draw_puts_the_stream_faults_after_reset),
		cmocka_unit_test(test_stream_draws_follow_the_odds),
		cmocka_unit_test(test_stream_answers_are_named_and_normal_outside_a_stream),
		cmocka_unit_test(test_bucket_refills_at_its_rate),
		cmocka_unit_test(test_bucket_at_the_largest_rate),
		cmocka_unit_test(test_bucket_gives_back_up_to_its_capacity),
		cmocka_unit_test(test_bucket_lets_an_oversize_request_pass_when_full),
		cmocka_unit_test(test_seen_counts_the_first_k_attempts),
		cmocka_unit_test(test_seen_grows_and_keeps_every_count),
		cmocka_unit_test(test_seen_lets_requests_pass_when_full),
		cmocka_unit_test(test_request_key_covers_model_and_body),
		cmocka_unit_test(test_plan_answers_in_order_then_lets_go),
		cmocka_unit_test(test_plan_takes_the_stream_answers),
		cmocka_unit_test(test_plan_refusals_name_the_file_job_and_entry),
		cmocka_unit_test(test_plan_load_reads_the_file),
		cmocka_unit_test(test_plan_load_refuses_a_file_past_the_cap),
		cmocka_unit_test(test_planned_needs_a_plan_and_a_job),
		cmocka_unit_test(test_fail_first_counts_each_distinct_request),
		cmocka_unit_test(test_rpm_admits_the_burst_then_refills),
		cmocka_unit_test(test_rpm_burst_defaults_to_a_second),
		cmocka_unit_test(test_tpm_reserves_then_gives_back_the_unused),
		cmocka_unit_test(test_tpm_admits_an_oversize_request_into_a_full_bucket),
		cmocka_unit_test(test_a_refusal_charges_neither_bucket),
		cmocka_unit_test(test_random_follows_the_seeded_sequence),
		cmocka_unit_test(test_random_draws_with_only_stream_odds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
