/*
 * test_report: a report computed from a real database file (schema applied
 * by the store, rows inserted by SQL), the run references, nearest-rank
 * percentiles, and the writers' output: JSON parsed back, the table, CSV
 * and Markdown compared with the text they must hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "models.h"
#include "report.h"
#include "report_series.h"
#include "db_fixture.h"
#include "store.h"
#include "store_query.h"

#define PRO "us.amazon.nova-pro-v1:0"
#define MICRO "amazon.nova-micro-v1:0"
#define LLAMA "meta.llama3-70b-instruct-v1:0"

/*
 * Run 1 "nightly" (done, built-in prices):
 *   PRO: 100 ok jobs with latencies 1..100 inserted out of order, TTFT i/2
 *   and output tokens/s 1.5 i on the even ones (1..50, 3..150), server
 *   latency 1..100, 10 input and 20 output tokens each, finished 30 s apart
 *   from the run's start; 2 failed jobs after 3 throttled attempts each.
 *   MICRO: 3 ok (latency 5, 6, 7; no TTFT) with cache tokens, 1 pending,
 *   1 failed with no error type.
 *   LLAMA: 1 ok, not in the price table.
 *   '': 2 invalid lines.
 * Run 2 "nightly" (done, no jobs), run 3 "adhoc" (running, its own price
 * table), run 4 (interrupted, no name, one failed job with a long message
 * holding control characters).
 */
static const char fixture_sql[] =
	"INSERT INTO runs (id, name, status, started_at, finished_at, version, endpoint,"
	" region, concurrency, job_files, command_line, prices) VALUES"
	" (1, 'nightly', 'done', '2026-11-25T02:11:05.123Z', '2026-11-25T02:15:07.001Z',"
	"  '0.1.0', 'https://bedrock-runtime.us-east-1.amazonaws.com', 'us-east-1', 32,"
	"  '[]', '[]', NULL),"
	" (2, 'nightly', 'done', '2026-11-26T02:00:00.000Z', '2026-11-26T03:01:02.500Z',"
	"  '0.1.0', 'http://user:pw@127.0.0.1:4010/base', 'us-west-2', 4, '[]', '[]', NULL),"
	" (3, 'adhoc', 'running', '2026-11-27T10:00:00.000Z', NULL, '0.1.0',"
	"  'http://[::1]:8080', 'eu-west-1', 8, '[]', '[]',"
	"  '{\"models\":[{\"id\":\"amazon.nova-lite-v1:0\",\"input\":0.001,\"output\":0.002}]}'),"
	" (4, NULL, 'interrupted', '2026-11-28T10:00:00.000Z', NULL, '0.1.0', 'not a url',"
	"  'us-east-1', 1, '[]', '[]', NULL);"
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)"
	" INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line, attempts,"
	"  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms,"
	"  ttft_ms, output_tokens_per_s, server_latency_ms, finished_at)"
	" SELECT 1, 'p' || i, '" PRO "', 'ok', 'jobs.jsonl', i, 1, 10, 20, 0, 0,"
	"  (i * 37) % 100 + 1, CASE WHEN i % 2 = 0 THEN i / 2.0 END,"
	"  CASE WHEN i % 2 = 0 THEN i * 1.5 END, i,"
	"  strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25T02:11:05.123Z', '+' || (i * 30) || ' seconds')"
	" FROM n;"
	"INSERT INTO jobs (id, run_id, job_id, model_id, status, source_file, source_line,"
	" attempts, error_type, error_message) VALUES"
	" (1001, 1, 'f1', '" PRO "', 'failed', 'jobs.jsonl', 101, 3, 'ThrottlingException',"
	"  'Too many requests, please wait before trying again.'),"
	" (1002, 1, 'f2', '" PRO "', 'failed', 'jobs.jsonl', 102, 3, 'ThrottlingException',"
	"  'Rate exceeded'),"
	" (1003, 1, 'm-fail', '" MICRO "', 'failed', 'jobs.jsonl', 103, 1, NULL,"
	"  'Connection refused'),"
	" (1004, 1, 'jobs.jsonl:7', '', 'invalid', 'jobs.jsonl', 7, 0, 'InvalidJobLine',"
	"  'jobs.jsonl:7: not valid JSON'),"
	" (1005, 1, 'jobs.jsonl:9', '', 'invalid', 'jobs.jsonl', 9, 0, 'InvalidJobLine',"
	"  'jobs.jsonl:9: field ''messages'': missing');"
	"INSERT INTO attempts (job_rowid, number, started_at, http_status, error_type) VALUES"
	" (1001, 1, 't', 429, 'ThrottlingException'), (1001, 2, 't', 429, 'ThrottlingException'),"
	" (1001, 3, 't', 429, 'ThrottlingException'), (1002, 1, 't', 429, 'ThrottlingException'),"
	" (1002, 2, 't', 429, 'ThrottlingException'), (1002, 3, 't', 429, 'ThrottlingException'),"
	" (1003, 1, 't', 0, NULL), (1, 1, 't', 500, 'InternalServerException');"
	"INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line, attempts,"
	" input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms)"
	" VALUES (1, 'm1', '" MICRO "', 'ok', 'jobs.jsonl', 201, 1, 100, 50, 1000, 10, 7),"
	" (1, 'm2', '" MICRO "', 'ok', 'jobs.jsonl', 202, 1, 100, 50, 1000, 10, 5),"
	" (1, 'm3', '" MICRO "', 'ok', 'jobs.jsonl', 203, 2, 100, 50, 1000, 10, 6.25),"
	" (1, 'm4', '" MICRO "', 'pending', 'jobs.jsonl', 204, 0, NULL, NULL, NULL, NULL, NULL),"
	" (1, 'l1', '" LLAMA "', 'ok', 'jobs.jsonl', 301, 1, 5, 5, NULL, NULL, 40),"
	" (3, 'lite1', 'us.amazon.nova-lite-v1:0', 'ok', 'jobs.jsonl', 1, 1, 1000, 500, 0, 0,"
	"  12.5),"
	" (4, 'odd', '" MICRO "', 'failed', 'jobs.jsonl', 1, 1, NULL, NULL, NULL, NULL, NULL);"
	"UPDATE jobs SET error_type = 'ValidationException', error_message = 'line1' || char(10)"
	" || 'line2' || char(27) || '[31m' || substr(hex(zeroblob(100)), 1, 200) || 'END'"
	" WHERE run_id = 4;";

static int fixture_setup(void **state)
{
	*state = db_fixture_new(fixture_sql);
	return 0;
}

static int fixture_teardown(void **state)
{
	db_fixture_free(*state);
	return 0;
}

static sqlite3 *db_of(void **state)
{
	return store_db(((struct db_fixture *)*state)->st);
}

static void assert_run_ref(void **state, const char *ref, int64_t want)
{
	int64_t id = -1;
	struct nb_err err;
	if (store_query_run(db_of(state), ref, &id, &err) < 0)
		fail_msg("%s: %s", ref, err.msg);
	assert_int_equal(id, want);
}

static void assert_run_ref_fails(void **state, const char *ref, const char *start)
{
	int64_t id = -1;
	struct nb_err err;
	assert_int_equal(store_query_run(db_of(state), ref, &id, &err), -1);
	assert_int_equal(id, -1);
	if (strncmp(err.msg, start, strlen(start)) != 0 || !strstr(err.msg, "novabatch.db"))
		fail_msg("%s: unexpected message: %s", ref, err.msg);
}

static void resolves_run_references(void **state)
{
	assert_run_ref(state, "last", 4);
	assert_run_ref(state, "last~0", 4);
	assert_run_ref(state, "last~1", 3);
	assert_run_ref(state, "last~3", 1);
	assert_run_ref(state, "1", 1);
	assert_run_ref(state, "3", 3);
	assert_run_ref(state, "nightly", 2); /* the latest of that name */
	assert_run_ref(state, "adhoc", 3);
	assert_run_ref_fails(state, "last~4", "no run 'last~4' in ");
	assert_run_ref_fails(state, "99", "no run with id 99 in ");
	assert_run_ref_fails(state, "nope", "no run named 'nope' in ");
	assert_run_ref_fails(state, "last~x", "no run named 'last~x' in ");
	assert_run_ref_fails(state, "99999999999999999999", "no run named ");

	int64_t id;
	struct nb_err err;
	assert_int_equal(store_query_run(db_of(state), "", &id, &err), -1);
	assert_string_equal(err.msg, "an empty run reference names no run (try `--run last`)");
}

static void percentiles_are_nearest_rank(void **state)
{
	const double pct[] = {50, 90, 99, 100, 1, 0.5};
	double v[6] = {0};
	int64_t n = 0;
	struct nb_err err;
	assert_int_equal(store_query_percentiles(db_of(state), 1, PRO, STORE_QUERY_LATENCY, pct, 6,
						 v, &n, &err),
			 0);
	assert_int_equal(n, 100);
	assert_true(v[0] == 50 && v[1] == 90 && v[2] == 99 && v[3] == 100);
	assert_true(v[4] == 1 && v[5] == 1);

	/* 3 values 5, 6.25, 7: rank ceil(1.5) = 2, ceil(2.7) = 3. */
	assert_int_equal(store_query_percentiles(db_of(state), 1, MICRO, STORE_QUERY_LATENCY, pct,
						 3, v, &n, &err),
			 0);
	assert_int_equal(n, 3);
	assert_true(v[0] == 6.25 && v[1] == 7 && v[2] == 7);

	/* No values: n is 0 and out[] untouched. */
	v[0] = -1;
	assert_int_equal(store_query_percentiles(db_of(state), 1, MICRO, STORE_QUERY_TTFT, pct, 1,
						 v, &n, &err),
			 0);
	assert_int_equal(n, 0);
	assert_true(v[0] == -1);
}

static const struct report_model *find_model(const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->nmodels; i++)
		if (strcmp(r->models[i].model_id, id) == 0)
			return &r->models[i];
	fail_msg("no model %s in the report", id);
	return NULL;
}

static void computes_a_run_per_model(void **state)
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), 1, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.run_id, 1);
	assert_string_equal(r.name, "nightly");
	assert_string_equal(r.status, "done");
	assert_string_equal(r.started_at, "2026-11-25T02:11:05.123Z");
	assert_string_equal(r.finished_at, "2026-11-25T02:15:07.001Z");
	assert_int_equal(r.duration_ms, 241878);
	assert_string_equal(r.endpoint_host, "bedrock-runtime.us-east-1.amazonaws.com");
	assert_string_equal(r.region, "us-east-1");
	assert_int_equal(r.concurrency, 32);
	assert_int_equal(r.prices, REPORT_PRICES_BUILTIN);

	/* By model id, the lines without a model last. */
	assert_int_equal(r.nmodels, 4);
	assert_string_equal(r.models[0].model_id, MICRO);
	assert_string_equal(r.models[1].model_id, LLAMA);
	assert_string_equal(r.models[2].model_id, PRO);
	assert_string_equal(r.models[3].model_id, "");

	const struct report_model *pro = find_model(&r, PRO);
	assert_int_equal(pro->c.jobs, 102);
	assert_int_equal(pro->c.ok, 100);
	assert_int_equal(pro->c.failed, 2);
	assert_int_equal(pro->c.invalid, 0);
	assert_int_equal(pro->c.attempts, 106);
	assert_int_equal(pro->c.throttled, 6);
	assert_int_equal(pro->c.input_tokens, 1000);
	assert_int_equal(pro->c.output_tokens, 2000);
	assert_true(pro->c.cost_known);
	assert_int_equal(pro->c.cost_pusd, 7200000000); /* 0.0008 + 0.0064 USD */
	assert_int_equal(pro->latency.n, 100);
	assert_true(pro->latency.p50 == 50 && pro->latency.p90 == 90);
	assert_true(pro->latency.p99 == 99 && pro->latency.max == 100);
	assert_int_equal(pro->ttft.n, 50);
	assert_true(pro->ttft.p50 == 25 && pro->ttft.p90 == 45 && pro->ttft.p99 == 50);
	assert_true(pro->server_latency.p50 == 50);
	assert_int_equal(pro->tokens_per_s.n, 50);
	assert_true(pro->tokens_per_s.p50 == 75);

	const struct report_model *micro = find_model(&r, MICRO);
	assert_int_equal(micro->c.jobs, 5);
	assert_int_equal(micro->c.ok, 3);
	assert_int_equal(micro->c.failed, 1);
	assert_int_equal(micro->c.pending, 1);
	assert_int_equal(micro->c.attempts, 5);
	assert_int_equal(micro->c.throttled, 0);
	assert_int_equal(micro->c.cache_read_tokens, 3000);
	assert_int_equal(micro->c.cache_write_tokens, 30);
	/* 300 x 35000 + 150 x 140000 + 3000 x 8750 + 30 x 35000 (cache writes
	 * at the input rate). */
	assert_int_equal(micro->c.cost_pusd, 10500000 + 21000000 + 26250000 + 1050000);
	assert_true(micro->latency.p50 == 6.25 && micro->latency.max == 7);
	assert_int_equal(micro->ttft.n, 0);
	assert_int_equal(micro->server_latency.n, 0);

	const struct report_model *llama = find_model(&r, LLAMA);
	assert_false(llama->c.cost_known);
	assert_int_equal(llama->c.input_tokens, 5);

	const struct report_model *none = find_model(&r, "");
	assert_int_equal(none->c.jobs, 2);
	assert_int_equal(none->c.invalid, 2);
	assert_true(none->c.cost_known);
	assert_int_equal(none->c.cost_pusd, 0);
	assert_int_equal(none->latency.n, 0);

	assert_int_equal(r.total.jobs, 110);
	assert_int_equal(r.total.ok, 104);
	assert_int_equal(r.total.failed, 3);
	assert_int_equal(r.total.invalid, 2);
	assert_int_equal(r.total.pending, 1);
	assert_int_equal(r.total.throttled, 6);
	assert_false(r.total.cost_known);
	assert_int_equal(r.total.cost_pusd, 7200000000 + 58800000);

	/* Most frequent first, then by name; the first job is the example. */
	assert_int_equal(r.nerrors, 3);
	assert_string_equal(r.errors[0].type, "InvalidJobLine");
	assert_int_equal(r.errors[0].count, 2);
	assert_string_equal(r.errors[0].example, "jobs.jsonl:7: not valid JSON");
	assert_string_equal(r.errors[0].example_job, "jobs.jsonl:7");
	assert_string_equal(r.errors[0].example_model, "");
	assert_string_equal(r.errors[1].type, "ThrottlingException");
	assert_int_equal(r.errors[1].count, 2);
	assert_string_equal(r.errors[1].example,
			    "Too many requests, please wait before trying again.");
	assert_string_equal(r.errors[1].example_job, "f1");
	assert_string_equal(r.errors[2].type, "(none)");
	assert_string_equal(r.errors[2].example, "Connection refused");
	report_cleanup(&r);
}

static void prices_with_the_table_the_run_stored(void **state)
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), 3, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.prices, REPORT_PRICES_RUN);
	assert_string_equal(r.status, "running");
	assert_null(r.finished_at);
	assert_true(r.duration_ms < 0);
	assert_string_equal(r.endpoint_host, "[::1]:8080");
	assert_int_equal(r.nmodels, 1);
	/* 1000 x 0.001 / 1000 + 500 x 0.002 / 1000 USD. */
	assert_int_equal(r.models[0].c.cost_pusd, 2000000000);
	assert_true(r.total.cost_known);
	report_cleanup(&r);
}

static void reports_runs_without_jobs_or_endpoint(void **state)
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), 2, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.nmodels, 0);
	assert_int_equal(r.nerrors, 0);
	assert_int_equal(r.duration_ms, 3662500);
	/* The user information never reaches the report. */
	assert_string_equal(r.endpoint_host, "127.0.0.1:4010");
	assert_true(r.total.cost_known);
	report_cleanup(&r);

	if (report_compute(db_of(state), 4, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_null(r.name);
	assert_null(r.endpoint_host);
	report_cleanup(&r);

	assert_int_equal(report_compute(db_of(state), 77, &r, &err), -1);
	assert_non_null(strstr(err.msg, "no run with id 77 in "));
	report_cleanup(&r);
}

static void formats_usd_exactly(void **state)
{
	(void)state;
	char s[REPORT_USD_LEN];
	report_usd_text(0, s);
	assert_string_equal(s, "0.00");
	report_usd_text(3200000000000, s);
	assert_string_equal(s, "3.20");
	report_usd_text(8750000, s);
	assert_string_equal(s, "0.00000875");
	report_usd_text(1, s);
	assert_string_equal(s, "0.000000000001");
	report_usd_text(INT64_C(1234567890123456789), s);
	assert_string_equal(s, "1234567.890123456789");
}

/* Writes the report of run_id with write into a string; the caller frees it. */
static char *render(void **state, int64_t run_id,
		    int (*write)(const struct report *, FILE *, struct nb_err *))
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), run_id, &r, &err) < 0)
		fail_msg("%s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(write(&r, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	report_cleanup(&r);
	return text;
}

static json_t *get(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof key, "%.*s", (int)n, path);
		o = json_is_array(o) ? json_array_get(o, strtoul(key, NULL, 10))
				     : json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	if (!o)
		fail_msg("missing %s", path);
	return o;
}

static void json_has_the_documented_shape(void **state)
{
	char *text = render(state, 1, report_write_json);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	if (!doc)
		fail_msg("not JSON: %s\n%s", jerr.text, text);
	assert_int_equal(json_integer_value(get(doc, "run.id")), 1);
	assert_string_equal(json_string_value(get(doc, "run.name")), "nightly");
	assert_string_equal(json_string_value(get(doc, "run.status")), "done");
	assert_string_equal(json_string_value(get(doc, "run.started_at")),
			    "2026-11-25T02:11:05.123Z");
	assert_string_equal(json_string_value(get(doc, "run.finished_at")),
			    "2026-11-25T02:15:07.001Z");
	assert_int_equal(json_array_size(get(doc, "models")), 4);

	const char *keys[] = {"model_id", "jobs", "ok", "failed", "invalid", "attempts",
			      "throttled", "input_tokens", "output_tokens", "cost_usd",
			      "latency_ms.p50", "latency_ms.p90", "latency_ms.p99",
			      "latency_ms.max", "ttft_ms.p50", "ttft_ms.p90", "ttft_ms.p99"};
	for (size_t m = 0; m < 4; m++) {
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			char path[64];
			snprintf(path, sizeof path, "models.%zu.%s", m, keys[k]);
			get(doc, path);
		}
	}
	json_t *pro = get(doc, "models.2");
	assert_string_equal(json_string_value(get(pro, "model_id")), PRO);
	assert_int_equal(json_integer_value(get(pro, "jobs")), 102);
	assert_int_equal(json_integer_value(get(pro, "throttled")), 6);
	assert_true(json_real_value(get(pro, "latency_ms.p90")) == 90);
	assert_true(json_real_value(get(pro, "ttft_ms.p99")) == 50);
	assert_true(json_real_value(get(pro, "output_tokens_per_s.p50")) == 75);
	assert_true(json_is_null(get(doc, "models.0.output_tokens_per_s.p50")));
	assert_string_equal(json_string_value(get(doc, "run.prices")), "built-in");
	assert_string_equal(json_string_value(get(doc, "run.prices_effective_date")),
			    "2025-04-01");
	assert_true(json_is_null(get(doc, "models.0.ttft_ms.p50")));
	assert_true(json_is_null(get(doc, "models.1.cost_usd")));
	assert_string_equal(json_string_value(get(doc, "models.3.model_id")), "");
	assert_int_equal(json_integer_value(get(doc, "models.3.invalid")), 2);
	assert_int_equal(json_integer_value(get(doc, "totals.cost_pusd")), 7258800000);
	assert_true(json_is_false(get(doc, "totals.cost_complete")));
	assert_string_equal(json_string_value(get(doc, "errors.0.type")), "InvalidJobLine");
	assert_int_equal(json_integer_value(get(doc, "errors.0.count")), 2);

	/* Costs are the exact decimals, without binary noise. */
	assert_non_null(strstr(text, "\"cost_usd\": 0.0072,"));
	assert_non_null(strstr(text, "\"cost_usd\": 5.88e-5,"));
	assert_non_null(strstr(text, "\"cost_usd\": 0.0072588,"));
	json_decref(doc);
	free(text);
}

static void table_shows_models_costs_and_errors(void **state)
{
	char *text = render(state, 1, report_write_table);
	const char *want[] = {
		"run 1 \"nightly\": done\n",
		"(4m 01s)",
		"bedrock-runtime.us-east-1.amazonaws.com (us-east-1), concurrency 32",
		"\n(none)  ",
		"n/a\n",
		"*0.0072588\n",
		"0.0072\n",
		"0.0000588\n",
		PRO "        50.0  90.0  99.0  100.0      25.0      45.0      50.0        50.0       75.0\n",
		"  version   0.1.0; prices: built-in table of 2025-04-01\n",
		"\nerror                jobs  first job                        message\n",
		"\nInvalidJobLine          2  jobs.jsonl:7 (no model)          "
		"jobs.jsonl:7: not valid JSON\n",
		"\nThrottlingException     2  f1 (" PRO ")     Too many requests",
		"\n(none)                  1  m-fail (" MICRO ")  Connection refused\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(text, want[i])) {
			fprintf(stderr, "%s", text);
			fail_msg("no \"%s\" in the table above", want[i]);
		}
	free(text);
}

static void table_keeps_a_message_on_one_short_line(void **state)
{
	char *text = render(state, 4, report_write_table);
	assert_null(strchr(text, 27));
	assert_null(strstr(text, "END"));
	const char *line = strstr(text, "line1 line2 [31m000");
	if (!line)
		fail_msg("no message in:\n%s", text);
	const char *end = strchr(line, '\n');
	assert_int_equal(end - line, 160 + 3);
	assert_memory_equal(end - 3, "...", 3);
	free(text);
}

static void csv_has_a_row_per_model_and_a_total(void **state)
{
	char *text = render(state, 1, report_write_csv);
	const char *want =
		"run_id,kind,model_id,jobs,ok,failed,invalid,pending,attempts,throttled,"
		"input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,"
		"cost_complete,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_max_ms,"
		"server_latency_p50_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,"
		"output_tokens_per_s_p50,expect_jobs,expect_passed,expect_failed,expect_pass_rate\r\n"
		"1,model," MICRO ",5,3,1,0,1,5,0,300,150,3000,30,0.0000588,true,"
		"6.25,7,7,7,,,,,,0,0,0,\r\n"
		"1,model," LLAMA ",1,1,0,0,0,1,0,5,5,0,0,,false,40,40,40,40,,,,,,0,0,0,\r\n"
		"1,model," PRO ",102,100,2,0,0,106,6,1000,2000,0,0,0.0072,true,"
		"50,90,99,100,50,25,45,50,75,0,0,0,\r\n"
		"1,model,,2,0,0,2,0,0,0,0,0,0,0,0.00,true,,,,,,,,,,0,0,0,\r\n"
		"1,total,,110,104,3,2,1,112,6,1305,2155,3000,30,0.0072588,false,,,,,,,,,,0,0,0,\r\n";
	assert_string_equal(text, want);
	free(text);

	/* A run without jobs: the header and a total of zeros. */
	text = render(state, 2, report_write_csv);
	const char *total = strstr(text, "\r\n") + 2;
	assert_string_equal(total, "2,total,,0,0,0,0,0,0,0,0,0,0,0,0.00,true,,,,,,,,,,0,0,0,\r\n");
	free(text);
}

static void assert_contains(const char *text, const char *const *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strstr(text, want[i])) {
			fprintf(stderr, "%s", text);
			fail_msg("no \"%s\" in the text above", want[i]);
		}
}

static void md_has_the_run_the_models_and_the_errors(void **state)
{
	char *text = render(state, 1, report_write_md);
	const char *want[] = {
		"### novabatch run 1 \"nightly\": done\n\n",
		"- started: 2026-11-25T02:11:05.123Z\n",
		"- finished: 2026-11-25T02:15:07.001Z (4m 01s)\n",
		"- endpoint: bedrock-runtime.us-east-1.amazonaws.com (us-east-1), concurrency 32\n",
		"- version: 0.1.0; prices: built-in table of 2025-04-01\n",
		"| model | jobs | ok | failed | invalid | pending | attempts | throttled |\n"
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
		"| " MICRO " | 5 | 3 | 1 | 0 | 1 | 5 | 0 |\n",
		"| " PRO " | 102 | 100 | 2 | 0 | 0 | 106 | 6 |\n",
		"| (none) | 2 | 0 | 0 | 2 | 0 | 0 | 0 |\n"
		"| **total** | 110 | 104 | 3 | 2 | 1 | 112 | 6 |\n",
		"| " LLAMA " | 5 | 5 | 0 | 0 | n/a |\n",
		"| " PRO " | 1000 | 2000 | 0 | 0 | 0.0072 |\n",
		"| **total** | 1305 | 2155 | 3000 | 30 | 0.0072588\\* |\n",
		"\\*: the total counts priced models only\n",
		"| " PRO " | 50.0 | 90.0 | 99.0 | 100.0 | 25.0 | 45.0 | 50.0 | 50.0 | 75.0 |\n",
		"| " MICRO " | 6.2 | 7.0 | 7.0 | 7.0 | - | - | - | - | - |\n",
		"| error | jobs | first job | message |\n| --- | ---: | --- | --- |\n"
		"| InvalidJobLine | 2 | jobs.jsonl:7 (no model) | jobs.jsonl:7: not valid JSON |\n"
		"| ThrottlingException | 2 | f1 (" PRO ") | Too many requests, please wait "
		"before trying again. |\n"
		"| (none) | 1 | m-fail (" MICRO ") | Connection refused |\n",
	};
	assert_contains(text, want, sizeof want / sizeof want[0]);
	free(text);

	text = render(state, 2, report_write_md);
	const char *empty[] = {"\nNo jobs recorded.\n", "#### Errors\n\nNo errors.\n"};
	assert_contains(text, empty, 2);
	free(text);
}

/* A report built by hand: text that Markdown would act on. */
static void md_escapes_what_markdown_acts_on(void **state)
{
	(void)state;
	struct report_model m = {.model_id = "a|b"};
	struct report_error e = {
		.type = "Odd|Type",
		.count = 1,
		.example = "x | y\r\nnew *line* <b>bold</b> [a](b) `c` _d_ ~e~ $f$ #g \\h &amp;\x1b!",
		.example_job = "j|1",
		.example_model = "a|b",
	};
	struct report r = {
		.run_id = 7,
		.name = "## *n*",
		.status = "done",
		.started_at = "s",
		.version = "v",
		.region = "r",
		.duration_ms = -1,
		.models = &m,
		.nmodels = 1,
		.errors = &e,
		.nerrors = 1,
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct nb_err err;
	assert_int_equal(report_write_md(&r, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	const char *want[] = {
		"### novabatch run 7 \"\\#\\# \\*n\\*\": done\n",
		"- endpoint: ? (r)",
		"| a\\|b | 0 | 0 |",
		"| Odd\\|Type | 1 | j\\|1 (a\\|b) | x \\| y<br>new \\*line\\* \\<b\\>bold\\</b\\> "
		"\\[a\\](b) \\`c\\` \\_d\\_ \\~e\\~ \\$f\\$ \\#g \\\\h \\&amp; ! |\n",
	};
	assert_contains(text, want, sizeof want / sizeof want[0]);
	assert_null(strstr(text, "finished"));
	free(text);
}

static void md_keeps_a_message_in_its_cell(void **state)
{
	char *text = render(state, 4, report_write_md);
	assert_null(strchr(text, 27));
	const char *cell = strstr(text, "| line1<br>line2 \\[31m000");
	if (!cell)
		fail_msg("no message in:\n%s", text);
	assert_non_null(strstr(cell, "000END |\n"));
	free(text);

	/* A long one is cut at a character boundary: "a" then 2-byte
	 * characters, so byte 300 is the middle of one. */
	char msg[1 + 2 * 400 + 1] = "a";
	for (int i = 0; i < 400; i++)
		memcpy(msg + 1 + 2 * i, "\xc3\xa9", 2);
	msg[sizeof msg - 1] = '\0';
	struct report_error e = {.type = "T", .count = 1, .example = msg, .example_job = "j",
				 .example_model = "m"};
	struct report r = {.run_id = 1, .status = "done", .started_at = "s", .version = "v",
			   .region = "r", .duration_ms = -1, .errors = &e, .nerrors = 1};
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct nb_err err;
	assert_int_equal(report_write_md(&r, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	cell = strstr(text, "| a\xc3\xa9");
	assert_non_null(cell);
	assert_int_equal(strchr(cell, '\n') - cell, 2 + 299 + 3 + 2);
	assert_non_null(strstr(cell, "\xc3\xa9... |\n"));
	free(text);
}

static void assert_bins(double max, double width, size_t nbins)
{
	double w;
	size_t n;
	report_series_bins(max, &w, &n);
	if (w != width || n != nbins)
		fail_msg("max %g: width %g and %zu bins, want %g and %zu", max, w, n, width, nbins);
}

static void chooses_round_histogram_bins(void **state)
{
	(void)state;
	assert_bins(100, 5, 21);
	assert_bins(99, 5, 20);
	assert_bins(7, 0.5, 15);
	assert_bins(0, 1, 1);
	assert_bins(1, 0.05, 21);
	assert_bins(12345, 1000, 13);
	assert_bins(1e9, 5e7, 21);
}

/* Run 1 with its charts' data. */
static void computes_chart_series_with_sql(void **state)
{
	struct report r;
	struct nb_err err;
	struct report_options opt = {.series = true};
	if (report_compute_with(db_of(state), 1, &opt, &r, &err) < 0)
		fail_msg("%s", err.msg);
	const struct report_model *pro = find_model(&r, PRO);
	/* Latencies 1..100 in bins of 5 ms: 1-4, then 5 a bin, then 100. */
	assert_true(pro->latency_hist.width == 5);
	assert_int_equal(pro->latency_hist.nbins, 21);
	assert_int_equal(pro->latency_hist.counts[0], 4);
	for (size_t i = 1; i < 20; i++)
		assert_int_equal(pro->latency_hist.counts[i], 5);
	assert_int_equal(pro->latency_hist.counts[20], 1);
	/* TTFT 1..50. */
	assert_true(pro->ttft_hist.width == 5);
	assert_int_equal(pro->ttft_hist.nbins, 11);
	assert_int_equal(pro->ttft_hist.counts[0], 4);
	assert_int_equal(pro->ttft_hist.counts[10], 1);
	/* 5, 6.25 and 7 ms in bins of 0.5 ms; no TTFT. */
	const struct report_model *micro = find_model(&r, MICRO);
	assert_true(micro->latency_hist.width == 0.5);
	assert_int_equal(micro->latency_hist.nbins, 15);
	assert_int_equal(micro->latency_hist.counts[10], 1);
	assert_int_equal(micro->latency_hist.counts[12], 1);
	assert_int_equal(micro->latency_hist.counts[14], 1);
	assert_int_equal(micro->ttft_hist.nbins, 0);
	assert_int_equal(find_model(&r, "")->latency_hist.nbins, 0);
	/* PRO jobs ended 30 s apart from 30 s to 50 min: one in the first
	 * minute, two a minute after, one in minute 50. Jobs without an end
	 * time are not counted. */
	assert_int_equal(r.timeline.step_s, 60);
	assert_int_equal(r.timeline.n, 51);
	assert_int_equal(r.timeline.ok[0], 1);
	for (size_t i = 1; i < 50; i++)
		assert_int_equal(r.timeline.ok[i], 2);
	assert_int_equal(r.timeline.ok[50], 1);
	for (size_t i = 0; i < 51; i++)
		assert_int_equal(r.timeline.failed[i], 0);
	report_cleanup(&r);

	/* Without series, nothing is computed; a run without ended jobs has
	 * an empty timeline. */
	if (report_compute(db_of(state), 1, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.models[0].latency_hist.nbins, 0);
	assert_int_equal(r.timeline.n, 0);
	report_cleanup(&r);
	if (report_compute_with(db_of(state), 2, &opt, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.timeline.n, 0);
	report_cleanup(&r);
}

/* Cache reads and writes at their own rates, input tokens (which exclude
 * the cached ones) at the input rate: four distinct prices, so a cache
 * token priced at the wrong rate changes the cost. */
static void prices_cache_tokens_at_their_own_rates(void **state)
{
	struct models *prices = NULL;
	struct nb_err err;
	if (models_load_text("{\"effective_date\": \"2030-01-02\", \"models\": [{\"id\": \"" MICRO
			     "\", \"input\": 0.001, \"output\": 0.002, \"cache_read\": 0.0001,"
			     " \"cache_write\": 0.00125}]}",
			     "prices.json", &prices, &err) < 0)
		fail_msg("%s", err.msg);
	struct report_options opt = {.prices = prices, .prices_file = "prices.json"};
	struct report r;
	if (report_compute_with(db_of(state), 1, &opt, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.prices, REPORT_PRICES_FILE);
	assert_string_equal(r.prices_file, "prices.json");
	assert_string_equal(r.prices_effective, "2030-01-02");
	char *text = report_prices_text(&r);
	assert_string_equal(text, "from prices.json (effective 2030-01-02)");
	free(text);
	/* MICRO: 300 input, 150 output, 3000 cache read, 30 cache write tokens.
	 * In USD: (300 x 0.001 + 150 x 0.002 + 3000 x 0.0001 + 30 x 0.00125)
	 * / 1000 = (0.3 + 0.3 + 0.3 + 0.0375) / 1000 = 0.0009375. */
	const struct report_model *micro = find_model(&r, MICRO);
	assert_true(micro->c.cost_known);
	assert_int_equal(micro->c.cost_pusd, 937500000);
	char usd[REPORT_USD_LEN];
	report_usd_text(micro->c.cost_pusd, usd);
	assert_string_equal(usd, "0.0009375");
	/* The file knows no other model: PRO is unpriced now. */
	assert_false(find_model(&r, PRO)->c.cost_known);
	report_cleanup(&r);

	/* The given table wins over the one the run stored. */
	if (report_compute_with(db_of(state), 3, &opt, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.prices, REPORT_PRICES_FILE);
	assert_false(r.models[0].c.cost_known);
	report_cleanup(&r);
	models_free(prices);

	/* A stored table without a date, and the built-in one. */
	if (report_compute(db_of(state), 3, &r, &err) < 0)
		fail_msg("%s", err.msg);
	text = report_prices_text(&r);
	assert_string_equal(text, "stored with the run");
	free(text);
	report_cleanup(&r);
	if (report_compute(db_of(state), 1, &r, &err) < 0)
		fail_msg("%s", err.msg);
	text = report_prices_text(&r);
	assert_string_equal(text, "built-in table of 2025-04-01");
	free(text);
	report_cleanup(&r);
}

static char *render_html(void **state, int64_t run_id)
{
	struct report r;
	struct nb_err err;
	struct report_options opt = {.series = true};
	if (report_compute_with(db_of(state), run_id, &opt, &r, &err) < 0)
		fail_msg("%s", err.msg);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_int_equal(report_write_html(&r, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	report_cleanup(&r);
	return text;
}

/* Nothing in the page can make a browser fetch anything. */
static void assert_self_contained(const char *html)
{
	const char *banned[] = {"http://", "https://", "<script", "<link", "<img", "<iframe",
				"<object", "<embed", "src=", "href=", "url(", "@import"};
	for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
		if (strstr(html, banned[i]))
			fail_msg("the page holds \"%s\"", banned[i]);
}

static void html_is_one_self_contained_page(void **state)
{
	for (int64_t run = 1; run <= 4; run++) {
		char *text = render_html(state, run);
		assert_self_contained(text);
		assert_int_equal(strncmp(text, "<!DOCTYPE html>\n", 16), 0);
		assert_non_null(strstr(text, "</body>\n</html>\n"));
		assert_non_null(strstr(text, "default-src 'none'"));
		assert_null(strchr(text, 27));
		free(text);
	}
	char *text = render_html(state, 1);
	const char *want[] = {
		"<title>novabatch run 1 nightly</title>",
		"<h1>novabatch run 1 &ldquo;nightly&rdquo;: done</h1>",
		"<dt>prices</dt><dd>built-in table of 2025-04-01</dd>",
		"(4m 01s)",
		"<tr><td class=\"l\">" PRO "</td><td>102</td><td>100</td><td>2</td><td>0</td>"
		"<td>0</td><td>106</td><td>6</td></tr>",
		"<tr class=\"total\"><td class=\"l\">total</td><td>110</td>",
		"<td>3000</td><td>30</td><td>0.0072588*</td></tr>",
		"<td>n/a</td></tr>",
		"<td>50.0</td><td>90.0</td><td>99.0</td><td>100.0</td><td>25.0</td><td>45.0</td>"
		"<td>50.0</td><td>50.0</td><td>75.0</td></tr>",
		"<td class=\"l\">InvalidJobLine</td><td>2</td>",
		PRO ": client latency of 100 ok jobs</title>",
		PRO ": time to first token of 50 ok jobs</title>",
		"Tokens per model</title>",
		"Cost per model (USD)</title>",
		"Jobs ended per minute</title>",
		"<title>95 to 100 ms: 5</title>",
		"<title>50 to 51 minutes since the start: 1</title>",
	};
	assert_contains(text, want, sizeof want / sizeof want[0]);
	free(text);

	text = render_html(state, 2);
	const char *empty[] = {"<p>No jobs recorded.</p>", "<p>No errors.</p>"};
	assert_contains(text, empty, 2);
	free(text);
}

/* A report built by hand: text that HTML would act on. */
static void html_escapes_text_from_the_database(void **state)
{
	(void)state;
	int64_t counts[] = {1, 2};
	struct report_model m = {
		.model_id = "a<b>\"c\"",
		.latency = {.n = 3, .max = 1},
		.latency_hist = {.width = 1, .nbins = 2, .counts = counts},
	};
	struct report_error e = {
		.type = "<i>Type</i>",
		.count = 1,
		.example = "<script>alert('x')</script> & \"q\"\n<a href=\"https://evil.example\">"
			   "\x1b[31m",
		.example_job = "j&1",
		.example_model = "<m>",
	};
	struct report r = {
		.run_id = 7,
		.name = "</title><script src=\"http://x\"></script>",
		.status = "done",
		.started_at = "s",
		.version = "v<1>",
		.region = "r",
		.endpoint_host = "h\"><img src=x>",
		.duration_ms = -1,
		.models = &m,
		.nmodels = 1,
		.errors = &e,
		.nerrors = 1,
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct nb_err err;
	assert_int_equal(report_write_html(&r, out, &err), 0);
	assert_int_equal(fclose(out), 0);
	const char *want[] = {
		"<title>novabatch run 7 &lt;/title&gt;&lt;script src=&quot;http://x&quot;&gt;"
		"&lt;/script&gt;</title>",
		"<dd>h&quot;&gt;&lt;img src=x&gt; (r), concurrency 0</dd>",
		"<dd>v&lt;1&gt;</dd>",
		"<td class=\"l\">a&lt;b&gt;&quot;c&quot;</td>",
		"<td class=\"l\">&lt;i&gt;Type&lt;/i&gt;</td><td>1</td><td class=\"l\">j&amp;1 "
		"(&lt;m&gt;)</td><td class=\"l msg\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; "
		"&amp; &quot;q&quot; &lt;a href=&quot;https://evil.example&quot;&gt; [31m</td>",
		"a&lt;b&gt;&quot;c&quot;: client latency of 3 ok jobs</title>",
	};
	assert_contains(text, want, sizeof want / sizeof want[0]);
	assert_null(strstr(text, "<script"));
	assert_null(strstr(text, "<img"));
	assert_null(strstr(text, "<a "));
	assert_null(strstr(text, "<i>"));
	assert_null(strchr(text, 27));
	free(text);
}

static void writers_report_a_full_disk(void **state)
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), 1, &r, &err) < 0)
		fail_msg("%s", err.msg);
	FILE *out = fopen("/dev/full", "w");
	assert_non_null(out);
	assert_int_equal(report_write_json(&r, out, &err), -1);
	assert_string_equal(err.msg, "No space left on device");
	fclose(out);
	int (*const writers[])(const struct report *, FILE *, struct nb_err *) = {
		report_write_table, report_write_csv, report_write_md, report_write_html};
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		out = fopen("/dev/full", "w");
		assert_non_null(out);
		err_clear(&err);
		assert_int_equal(writers[i](&r, out, &err), -1);
		assert_string_equal(err.msg, "No space left on device");
		fclose(out);
	}
	report_cleanup(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolves_run_references),
		cmocka_unit_test(percentiles_are_nearest_rank),
		cmocka_unit_test(computes_a_run_per_model),
		cmocka_unit_test(prices_with_the_table_the_run_stored),
		cmocka_unit_test(reports_runs_without_jobs_or_endpoint),
		cmocka_unit_test(formats_usd_exactly),
		cmocka_unit_test(json_has_the_documented_shape),
		cmocka_unit_test(table_shows_models_costs_and_errors),
		cmocka_unit_test(table_keeps_a_message_on_one_short_line),
		cmocka_unit_test(csv_has_a_row_per_model_and_a_total),
		cmocka_unit_test(md_has_the_run_the_models_and_the_errors),
		cmocka_unit_test(md_escapes_what_markdown_acts_on),
		cmocka_unit_test(md_keeps_a_message_in_its_cell),
		cmocka_unit_test(chooses_round_histogram_bins),
		cmocka_unit_test(computes_chart_series_with_sql),
		cmocka_unit_test(prices_cache_tokens_at_their_own_rates),
		cmocka_unit_test(html_is_one_self_contained_page),
		cmocka_unit_test(html_escapes_text_from_the_database),
		cmocka_unit_test(writers_report_a_full_disk),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
