/* JUnit XML: escaping for XML 1.0, and the suites, cases and counts of a
 * run and of a comparison built from results made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "junit.h"

static char *escaped(const char *s, bool attr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	junit_text(out, s, attr);
	fclose(out);
	return text;
}

static void escapes_markup_controls_and_bad_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool attr;
		const char *out;
	} cases[] = {
		{"a<b>&\"c\"'", false, "a&lt;b&gt;&amp;\"c\"'"},
		{"a<b>&\"c\"'", true, "a&lt;b&gt;&amp;&quot;c&quot;&apos;"},
		{"line1\nline2\tx\r", false, "line1\nline2\tx\r"},
		{"line1\nline2\tx\r", true, "line1&#10;line2&#9;x&#13;"},
		/* Controls XML 1.0 forbids, even as references, become U+FFFD. */
		{"bell\x07 esc\x1b[0m", false, "bell\xEF\xBF\xBD esc\xEF\xBF\xBD[0m"},
		/* Valid UTF-8 passes; a lone continuation byte, a truncated
		 * sequence, an overlong '/' and a surrogate do not. */
		{"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", false,
		 "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"},
		{"a\x80z", false, "a\xEF\xBF\xBDz"},
		{"a\xE2\x82", false, "a\xEF\xBF\xBD\xEF\xBF\xBD"},
		{"\xC0\xAF", false, "\xEF\xBF\xBD\xEF\xBF\xBD"},
		{"\xED\xA0\x80", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
		/* U+FFFE and U+FFFF are not XML characters. */
		{"\xEF\xBF\xBE", false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = escaped(cases[i].in, cases[i].attr);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].out);
		free(got);
	}
}

static struct results_job job(const char *id, const char *model, const char *status,
			      const char *expect, const char *failures, const char *output)
{
	struct results_job j = {
		.job_id = (char *)id,
		.model_id = (char *)model,
		.status = (char *)status,
		.expect_status = (char *)expect,
		.expect_failures = (char *)failures,
		.excerpt = (char *)output,
		.has_output = output != NULL,
		.latency_ms = 1500,
		.input_tokens = 10,
		.output_tokens = 5,
		.cost_known = true,
	};
	/* A distinct "hash" per output text is enough here. */
	if (output)
		memcpy(j.output_hash, output, strnlen(output, sizeof j.output_hash));
	return j;
}

static char *render_run(const struct results *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct nb_err err;
	assert_int_equal(junit_write_run(r, out, &err), 0);
	fclose(out);
	return text;
}

static void a_run_has_a_suite_per_model_and_counts(void **state)
{
	(void)state;
	struct results_job jobs[] = {
		job("j1", "lite", "ok", "passed", NULL, "fine"),
		job("j2", "lite", "ok", "failed",
		    "[{\"assertion\":\"contains\",\"message\":\"no \\\"x\\\"\"},"
		    "{\"assertion\":\"json\",\"message\":\"not JSON\"}]",
		    "bad <output>\x01"),
		job("j3", "lite", "failed", NULL, NULL, NULL),
		job("j1", "pro", "pending", NULL, NULL, NULL),
	};
	jobs[2].error = (char *)"ThrottlingException: slow down";
	struct results r = {.run_id = 7, .run_name = (char *)"nightly", .jobs = jobs, .n = 4};
	char *xml = render_run(&r);
	const char *want[] = {
		"<testsuites name=\"run 7 (nightly)\" tests=\"4\" failures=\"1\" errors=\"1\" "
		"skipped=\"1\">",
		"<testsuite name=\"lite\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\">",
		"<testcase classname=\"lite\" name=\"j2\" time=\"1.500\">",
		"<failure message=\"expect.contains: no &quot;x&quot; (and 1 more)\" "
		"type=\"expect.contains\">expect.contains: no \"x\"\nexpect.json: not JSON\n"
		"</failure>",
		"<system-out>bad &lt;output&gt;\xEF\xBF\xBD</system-out>",
		"<error message=\"ThrottlingException: slow down\" type=\"failed\"/>",
		"<testsuite name=\"pro\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\">",
		"<skipped message=",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(xml, want[i]))
			fail_msg("no \"%s\" in:\n%s", want[i], xml);
	free(xml);
}

static void a_comparison_fails_regressions_and_crossed_thresholds(void **state)
{
	(void)state;
	struct results_job b[] = {
		job("a", "lite", "ok", "passed", NULL, "one"),
		job("b", "lite", "ok", "passed", NULL, "two"),
		job("c", "lite", "ok", NULL, NULL, "three"),
	};
	struct results_job n[] = {
		job("a", "lite", "ok", "failed",
		    "[{\"assertion\":\"regex\",\"message\":\"the output does not match\"}]", "uno"),
		job("b", "lite", "ok", "passed", NULL, "two"),
		job("c", "lite", "ok", NULL, NULL, "tres"),
	};
	n[2].latency_ms = 4000; /* p90 grows from 1500 ms to 4000 ms */
	struct results base = {.run_id = 1, .jobs = b, .n = 3};
	struct results new = {.run_id = 2, .jobs = n, .n = 3};
	struct compare_thresholds th = {50, -1, -1, true};
	struct compare c;
	compare_compute(&base, &new, &th, &c);
	assert_int_equal(c.nmodels, 1);
	assert_int_equal(c.models[0].newly_failing, 1);
	assert_int_equal(c.models[0].outputs_changed, 2);
	assert_int_equal(c.nbreaches, 3);
	assert_string_equal(c.breaches[0].threshold, "newly-failing");
	assert_string_equal(c.breaches[1].threshold, "max-latency-regression");
	assert_string_equal(c.breaches[2].threshold, "fail-on-output-change");

	char *xml = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&xml, &len);
	struct nb_err err;
	assert_int_equal(junit_write_compare(&c, out, &err), 0);
	fclose(out);
	const char *want[] = {
		"<testsuite name=\"lite\" tests=\"4\" failures=\"3\" errors=\"0\" skipped=\"0\">",
		"<failure message=\"regression: expect.regex: the output does not match\" "
		"type=\"expect.regex\">",
		"<failure message=\"output changed (--fail-on-output-change)\"",
		"name=\"threshold max-latency-regression\"",
		"<failure message=\"--max-latency-regression: p90 latency 1500.0 ms -&gt; "
		"4000.0 ms (+166.7%), more than the 50% allowed\"",
		"<system-out>base: one\nnew: uno\n</system-out>",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(xml, want[i]))
			fail_msg("no \"%s\" in:\n%s", want[i], xml);
	free(xml);
	compare_cleanup(&c);
}

static void a_write_failure_is_reported(void **state)
{
	(void)state;
	FILE *out = fopen("/dev/full", "w");
	if (!out)
		skip();
	struct results_job jobs[] = {job("j1", "lite", "ok", NULL, NULL, "x")};
	struct results r = {.run_id = 1, .jobs = jobs, .n = 1};
	struct nb_err err;
	assert_int_equal(junit_write_run(&r, out, &err), -1);
	assert_non_null(strstr(err.msg, "No space left"));
	fclose(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_markup_controls_and_bad_utf8),
		cmocka_unit_test(a_run_has_a_suite_per_model_and_counts),
		cmocka_unit_test(a_comparison_fails_regressions_and_crossed_thresholds),
		cmocka_unit_test(a_write_failure_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
