/* Expectations: each assertion kind passing and failing, failed jobs, and
 * the message for each bad spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "job.h"

static struct expect *parse_ok(const char *spec)
{
	json_t *v = json_loads(spec, 0, NULL);
	assert_non_null(v);
	struct expect *e;
	struct nb_err err;
	if (expect_parse(v, "jobs.jsonl", 4, &e, &err) < 0)
		fail_msg("%s: %s", spec, err.msg);
	json_decref(v);
	return e;
}

static void assert_bad(const char *spec, const char *message)
{
	json_t *v = json_loads(spec, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_non_null(v);
	struct expect *e = (struct expect *)1;
	struct nb_err err;
	assert_int_equal(expect_parse(v, "jobs.jsonl", 4, &e, &err), -1);
	assert_null(e);
	assert_string_equal(err.msg, message);
	json_decref(v);
}

/* Judges the answer and returns the failures as their JSON text. */
static char *judge(const char *spec, const char *text, const char *stop, int64_t tokens,
		   double latency, size_t *checked)
{
	struct expect *e = parse_ok(spec);
	struct expect_answer a = {text, stop, tokens, latency};
	struct expect_verdict v;
	expect_judge(e, &a, &v);
	*checked = v.checked;
	char *json = expect_verdict_json(&v);
	expect_verdict_cleanup(&v);
	expect_free(e);
	return json;
}

struct judge_case {
	const char *spec;
	const char *text;
	const char *stop;
	int64_t tokens;
	double latency;
	size_t checked;
	const char *failures;
};

static void each_assertion_passes_and_fails(void **state)
{
	(void)state;
	static const struct judge_case cases[] = {
		{"{\"contains\":[\"Paris\",\"France\"]}", "Paris, France", "end_turn", 3, 10, 2, "[]"},
		{"{\"contains\":[\"Paris\",\"Rome\"]}", "Paris, France", "end_turn", 3, 10, 2,
		 "[{\"assertion\":\"contains\",\"message\":\"the output does not contain "
		 "\\\"Rome\\\"\"}]"},
		{"{\"contains\":\"Paris\"}", "in Paris", NULL, 2, 1, 1, "[]"},
		{"{\"not_contains\":[\"sorry\"]}", "Here you go", NULL, 3, 1, 1, "[]"},
		{"{\"not_contains\":[\"sorry\"]}", "I am sorry", NULL, 3, 1, 1,
		 "[{\"assertion\":\"not_contains\",\"message\":\"the output contains "
		 "\\\"sorry\\\"\"}]"},
		{"{\"regex\":\"^[0-9]{4}-[0-9]{2}$\"}", "2024-11", NULL, 1, 1, 1, "[]"},
		{"{\"regex\":\"^[0-9]{4}$\"}", "year 2024", NULL, 2, 1, 1,
		 "[{\"assertion\":\"regex\",\"message\":\"the output does not match "
		 "\\\"^[0-9]{4}$\\\"\"}]"},
		{"{\"equals\":\"42\"}", "42", NULL, 1, 1, 1, "[]"},
		{"{\"equals\":\"42\"}", "42 ", NULL, 1, 1, 1,
		 "[{\"assertion\":\"equals\",\"message\":\"the output is \\\"42 \\\", not "
		 "\\\"42\\\"\"}]"},
		{"{\"json\":true}", "{\"a\": [1, 2]}", NULL, 5, 1, 1, "[]"},
		{"{\"json\":true}", "  17 ", NULL, 1, 1, 1, "[]"},
		{"{\"json\":true}", "{\"a\": ", NULL, 2, 1, 1,
		 "[{\"assertion\":\"json\",\"message\":\"the output is not JSON: unexpected "
		 "token near end of file (line 1, column 6)\"}]"},
		{"{\"json\":false}", "not json", NULL, 2, 1, 0, "[]"},
		{"{\"stop_reason\":\"end_turn\"}", "x", "end_turn", 1, 1, 1, "[]"},
		{"{\"stop_reason\":\"end_turn\"}", "x", "max_tokens", 1, 1, 1,
		 "[{\"assertion\":\"stop_reason\",\"message\":\"the stop reason is "
		 "\\\"max_tokens\\\", not \\\"end_turn\\\"\"}]"},
		{"{\"max_output_tokens\":10}", "x", NULL, 10, 1, 1, "[]"},
		{"{\"max_output_tokens\":10}", "x", NULL, 11, 1, 1,
		 "[{\"assertion\":\"max_output_tokens\",\"message\":\"11 output tokens, more "
		 "than 10\"}]"},
		{"{\"max_output_tokens\":10}", "x", NULL, -1, 1, 1,
		 "[{\"assertion\":\"max_output_tokens\",\"message\":\"the answer reported no "
		 "output token count\"}]"},
		{"{\"max_latency_ms\":500}", "x", NULL, 1, 499.5, 1, "[]"},
		{"{\"max_latency_ms\":500}", "x", NULL, 1, 812.25, 1,
		 "[{\"assertion\":\"max_latency_ms\",\"message\":\"a latency of 812.2 ms, more "
		 "than 500 ms\"}]"},
		{"{}", "anything", NULL, 1, 1, 0, "[]"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct judge_case *c = &cases[i];
		size_t checked;
		char *got = judge(c->spec, c->text, c->stop, c->tokens, c->latency, &checked);
		if (strcmp(got, c->failures) != 0 || checked != c->checked)
			fail_msg("case %zu %s on '%s': got %s (%zu checked), want %s (%zu)", i,
				 c->spec, c->text, got, checked, c->failures, c->checked);
		free(got);
	}
}

static void a_long_quote_is_cut_at_a_character_boundary(void **state)
{
	(void)state;
	/* 79 ASCII bytes, then a two-byte character across the 80-byte cut. */
	char want[100];
	memset(want, 'a', 79);
	strcpy(want + 79, "\xc3\xa9tail");
	char spec[160];
	snprintf(spec, sizeof spec, "{\"contains\":[\"%s\"]}", want);
	size_t checked;
	char *got = judge(spec, "nothing", NULL, 1, 1, &checked);
	char expected[200];
	snprintf(expected, sizeof expected,
		 "[{\"assertion\":\"contains\",\"message\":\"the output does not contain "
		 "\\\"%.79s...\\\"\"}]",
		 want);
	assert_string_equal(got, expected);
	free(got);
}

static void a_failed_job_fails_every_assertion(void **state)
{
	(void)state;
	struct expect *e = parse_ok("{\"contains\":[\"a\",\"b\"],\"json\":true,"
				    "\"max_latency_ms\":10}");
	struct expect_verdict v;
	expect_fail_all(e, "ThrottlingException: slow down", &v);
	assert_int_equal(v.checked, 4);
	assert_int_equal(v.nfailures, 4);
	assert_string_equal(v.failures[0].assertion, "contains");
	assert_string_equal(v.failures[1].assertion, "contains");
	assert_string_equal(v.failures[2].assertion, "json");
	assert_string_equal(v.failures[3].assertion, "max_latency_ms");
	assert_string_equal(v.failures[3].message,
			    "the job failed: ThrottlingException: slow down");
	expect_verdict_cleanup(&v);
	expect_free(e);
}

static void bad_specs_name_the_field(void **state)
{
	(void)state;
	assert_bad("[1]", "jobs.jsonl:4: field 'expect': must be an object of assertions");
	assert_bad("{\"regex\":\"((\"}",
		   "jobs.jsonl:4: field 'expect.regex': not a POSIX extended regular "
		   "expression: Unmatched ( or \\(");
	assert_bad("{\"regex\":5}", "jobs.jsonl:4: field 'expect.regex': must be a string");
	assert_bad("{\"contains\":[]}",
		   "jobs.jsonl:4: field 'expect.contains': must hold at least one string");
	assert_bad("{\"contains\":{}}",
		   "jobs.jsonl:4: field 'expect.contains': must be a list of strings");
	assert_bad("{\"not_contains\":[\"a\",7]}",
		   "jobs.jsonl:4: field 'expect.not_contains[1]': must be a string");
	assert_bad("{\"json\":\"yes\"}", "jobs.jsonl:4: field 'expect.json': must be true or false");
	assert_bad("{\"max_output_tokens\":-1}",
		   "jobs.jsonl:4: field 'expect.max_output_tokens': must be a number from 0");
	assert_bad("{\"max_output_tokens\":2.5}",
		   "jobs.jsonl:4: field 'expect.max_output_tokens': must be a whole number");
	assert_bad("{\"max_latency_ms\":\"fast\"}",
		   "jobs.jsonl:4: field 'expect.max_latency_ms': must be a number from 0");
	assert_bad("{\"equals\":\"a\\u0000b\"}",
		   "jobs.jsonl:4: field 'expect.equals': must not hold a NUL character");
	assert_bad("{\"contain\":[\"a\"]}",
		   "jobs.jsonl:4: field 'expect.contain': unknown assertion (known: contains, "
		   "not_contains, regex, equals, json, stop_reason, max_output_tokens, "
		   "max_latency_ms)");
	char many[1024] = "{\"contains\":[";
	for (int i = 0; i <= EXPECT_MAX_ITEMS; i++)
		strcat(many, i ? ",\"x\"" : "\"x\"");
	strcat(many, "]}");
	assert_bad(many, "jobs.jsonl:4: field 'expect.contains': holds more than 64 strings");
}

static void a_job_line_keeps_its_expectations_out_of_the_body(void **state)
{
	(void)state;
	const char *line = "{\"id\":\"e1\",\"modelId\":\"m\",\"messages\":[{\"role\":\"user\","
			   "\"content\":[{\"text\":\"hi\"}]}],\"expect\":{\"contains\":[\"hi\"]}}";
	struct job job;
	struct nb_err err;
	assert_int_equal(job_parse(&job, line, strlen(line), "jobs.jsonl", 4, NULL, &err), 0);
	assert_non_null(job.expect);
	assert_null(strstr(job.body, "expect"));
	job_cleanup(&job);

	const char *bad = "{\"id\":\"e2\",\"modelId\":\"m\",\"messages\":[{\"role\":\"user\","
			  "\"content\":[{\"text\":\"hi\"}]}],\"expect\":{\"regex\":\"[\"}}";
	assert_int_equal(job_parse(&job, bad, strlen(bad), "jobs.jsonl", 4, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "jobs.jsonl:4: field 'expect.regex': "));
	assert_string_equal(job.id, "e2");
	assert_null(job.expect);
	job_cleanup(&job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_assertion_passes_and_fails),
		cmocka_unit_test(a_long_quote_is_cut_at_a_character_boundary),
		cmocka_unit_test(a_failed_job_fails_every_assertion),
		cmocka_unit_test(bad_specs_name_the_field),
		cmocka_unit_test(a_job_line_keeps_its_expectations_out_of_the_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
