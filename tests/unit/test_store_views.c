/*
 * test_store_views: the SQL views of schemas/store.sql agree with the C
 * code that reads the same rows. job_results prices every job as
 * models_price_for and models_cost_pusd do (ARNs, inference profiles, a
 * model missing from the table, a line without a model, a run without a
 * table); model_summary and error_summary count what report_compute counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "models.h"
#include "report.h"
#include "store.h"

#define TABLE_JSON                                                                         \
	"{\"models\":[{\"id\":\"amazon.nova-micro-v1:0\",\"input\":0.000035,"              \
	"\"output\":0.00014,\"cache_read\":0.00000875},"                                    \
	"{\"id\":\"amazon.nova-pro-v1:0\",\"input\":0.0008,\"output\":0.0032},"              \
	"{\"id\":\"eu.amazon.nova-pro-v1:0\",\"input\":0.001,\"output\":0.004,"              \
	"\"cache_read\":0.0001,\"cache_write\":0.002}]}"
#define TABLE "'" TABLE_JSON "'"

/* Run 1 stores TABLE; run 2 stores nothing; run 3 stores text that is not
 * JSON (the view must not fail on it). */
static const char fixture_sql[] =
	"INSERT INTO runs (id, name, status, started_at, version, endpoint, region, concurrency,"
	" job_files, command_line, prices) VALUES"
	" (1, 'a', 'done', 't', 'v', 'http://x', 'us-east-1', 1, '[]', '[]', " TABLE "),"
	" (2, 'b', 'done', 't', 'v', 'http://x', 'us-east-1', 1, '[]', '[]', NULL),"
	" (3, 'c', 'done', 't', 'v', 'http://x', 'us-east-1', 1, '[]', '[]', 'oops');"
	"INSERT INTO jobs (id, run_id, job_id, model_id, status, source_file, source_line,"
	" attempts, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
	" latency_ms, error_type, error_message) VALUES"
	" (1, 1, 'base', 'amazon.nova-micro-v1:0', 'ok', 'f', 1, 1, 1000, 200, 50, 7, 10, NULL,"
	"  NULL),"
	" (2, 1, 'us', 'us.amazon.nova-micro-v1:0', 'ok', 'f', 2, 2, 10, 20, NULL, NULL, 30,"
	"  NULL, NULL),"
	" (3, 1, 'apac', 'apac.amazon.nova-pro-v1:0', 'ok', 'f', 3, 1, 3, 4, 5, 6, 20, NULL,"
	"  NULL),"
	" (4, 1, 'eu', 'eu.amazon.nova-pro-v1:0', 'ok', 'f', 4, 1, 3, 4, 5, 6, 40, NULL, NULL),"
	" (5, 1, 'arn', 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
	"us.amazon.nova-pro-v1:0', 'failed', 'f', 5, 3, 9, 0, NULL, NULL, NULL,"
	"  'ThrottlingException', 'slow down'),"
	" (6, 1, 'arn-eu', 'arn:aws:bedrock:eu-west-1::foundation-model/eu.amazon.nova-pro-v1:0',"
	"  'ok', 'f', 6, 1, 1, 1, 0, 0, 5, NULL, NULL),"
	" (7, 1, 'US', 'US.amazon.nova-pro-v1:0', 'ok', 'f', 7, 1, 1, 1, 0, 0, 5, NULL, NULL),"
	" (8, 1, 'llama', 'meta.llama3-70b-instruct-v1:0', 'failed', 'f', 8, 1, NULL, NULL,"
	"  NULL, NULL, NULL, '', 'gone'),"
	" (9, 1, 'f:9', '', 'invalid', 'f', 9, 0, NULL, NULL, NULL, NULL, NULL,"
	"  'InvalidJobLine', 'f:9: not valid JSON'),"
	" (10, 1, 'f:10', '', 'invalid', 'f', 10, 0, NULL, NULL, NULL, NULL, NULL,"
	"  'InvalidJobLine', 'f:10: not valid JSON'),"
	" (11, 1, 'pending', 'amazon.nova-micro-v1:0', 'pending', 'f', 11, 0, NULL, NULL, NULL,"
	"  NULL, NULL, NULL, NULL),"
	" (12, 2, 'unpriced', 'amazon.nova-micro-v1:0', 'ok', 'f', 1, 1, 5, 5, 0, 0, 1, NULL,"
	"  NULL),"
	" (13, 3, 'bad-table', 'amazon.nova-micro-v1:0', 'ok', 'f', 1, 1, 5, 5, 0, 0, 1, NULL,"
	"  NULL);"
	"INSERT INTO attempts (job_rowid, number, started_at, http_status) VALUES"
	" (5, 1, 't', 429), (5, 2, 't', 429), (5, 3, 't', 503), (2, 1, 't', 429),"
	" (2, 2, 't', 200);";

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

static sqlite3_stmt *prepare(void **state, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db_of(state), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db_of(state)));
	return st;
}

static void job_results_prices_each_job_as_the_report_does(void **state)
{
	struct models *table = NULL;
	struct nb_err err;
	if (models_load_text(TABLE_JSON, "test", &table, &err) < 0)
		fail_msg("%s", err.msg);
	sqlite3_stmt *st = prepare(state,
				   "SELECT job_id, model_id, coalesce(input_tokens, 0),"
				   " coalesce(output_tokens, 0), coalesce(cache_read_tokens, 0),"
				   " coalesce(cache_write_tokens, 0), cost_pusd, cost_usd, throttled,"
				   " run_name FROM job_results WHERE run_id = 1 ORDER BY job_rowid");
	int rows = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		const char *job = (const char *)sqlite3_column_text(st, 0);
		const char *model = (const char *)sqlite3_column_text(st, 1);
		struct models_price p;
		bool known = !*model || models_price_for(table, model, &p);
		if (!known) {
			if (sqlite3_column_type(st, 6) != SQLITE_NULL)
				fail_msg("%s: a cost for an unpriced model", job);
			continue;
		}
		int64_t want = *model ? models_cost_pusd(&p, sqlite3_column_int64(st, 2),
							 sqlite3_column_int64(st, 3),
							 sqlite3_column_int64(st, 4),
							 sqlite3_column_int64(st, 5))
				      : 0;
		if (sqlite3_column_type(st, 6) != SQLITE_INTEGER ||
		    sqlite3_column_int64(st, 6) != want)
			fail_msg("%s: cost_pusd %s, expected %lld", job,
				 (const char *)sqlite3_column_text(st, 6), (long long)want);
		assert_true(sqlite3_column_double(st, 7) == (double)want / 1e12);
		assert_string_equal((const char *)sqlite3_column_text(st, 9), "a");
	}
	sqlite3_finalize(st);
	assert_int_equal(rows, 11);
	models_free(table);

	/* Spot checks of the rules themselves: the eu. entry wins over the
	 * base model for eu. ids, apac. falls back to the base, "US." is not a
	 * profile prefix, and 429s are counted per job. */
	st = prepare(state, "SELECT group_concat(job_id || '=' || coalesce(cost_pusd, 'null')"
			    " || '/' || throttled, ' ') FROM (SELECT * FROM job_results"
			    " WHERE run_id = 1 AND job_id IN ('eu', 'apac', 'arn', 'arn-eu', 'US',"
			    " 'f:9') ORDER BY job_rowid)");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
			    "apac=24000000/0 eu=31500000/0 arn=7200000/2 arn-eu=5000000/0 "
			    "US=null/0 f:9=0/0");
	sqlite3_finalize(st);

	/* No table, or a table that is not JSON: no cost, and no failure. */
	st = prepare(state, "SELECT count(*), count(cost_pusd) FROM job_results"
			    " WHERE run_id IN (2, 3)");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	sqlite3_finalize(st);
}

static void model_summary_counts_what_the_report_counts(void **state)
{
	struct report r;
	struct nb_err err;
	if (report_compute(db_of(state), 1, &r, &err) < 0)
		fail_msg("%s", err.msg);
	sqlite3_stmt *st = prepare(
		state, "SELECT jobs, ok, failed, invalid, pending, attempts, throttled,"
		       " input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
		       " cost_pusd, max_latency_ms FROM model_summary"
		       " WHERE run_id = 1 AND model_id = ?1");
	for (size_t i = 0; i < r.nmodels; i++) {
		const struct report_model *m = &r.models[i];
		const struct report_counts *c = &m->c;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, m->model_id, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		const int64_t want[] = {c->jobs, c->ok, c->failed, c->invalid, c->pending,
					c->attempts, c->throttled, c->input_tokens,
					c->output_tokens, c->cache_read_tokens,
					c->cache_write_tokens};
		for (int k = 0; k < 11; k++)
			if (sqlite3_column_int64(st, k) != want[k])
				fail_msg("%s: column %d is %lld, the report says %lld", m->model_id,
					 k, (long long)sqlite3_column_int64(st, k),
					 (long long)want[k]);
		/* The report prices the sums, the view sums the prices: equal in
		 * integers. */
		if (c->cost_known)
			assert_int_equal(sqlite3_column_int64(st, 11), c->cost_pusd);
		else
			assert_int_equal(sqlite3_column_type(st, 11), SQLITE_NULL);
		if (m->latency.n)
			assert_true(sqlite3_column_double(st, 12) == m->latency.max);
		else
			assert_int_equal(sqlite3_column_type(st, 12), SQLITE_NULL);
	}
	sqlite3_finalize(st);
	report_cleanup(&r);
}

static void error_summary_groups_final_errors_with_an_example(void **state)
{
	sqlite3_stmt *st = prepare(state,
				   "SELECT run_name, model_id, error_type, jobs, example_job_id,"
				   " example_message FROM error_summary ORDER BY run_id, model_id");
	const char *want[][6] = {
		{"a", "", "InvalidJobLine", "2", "f:9", "f:9: not valid JSON"},
		{"a", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
		      "us.amazon.nova-pro-v1:0",
		 "ThrottlingException", "1", "arn", "slow down"},
		{"a", "meta.llama3-70b-instruct-v1:0", "(none)", "1", "llama", "gone"},
	};
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(n < 3);
		for (int k = 0; k < 6; k++)
			assert_string_equal((const char *)sqlite3_column_text(st, k), want[n][k]);
		n++;
	}
	assert_int_equal(n, 3);
	sqlite3_finalize(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(job_results_prices_each_job_as_the_report_does),
		cmocka_unit_test(model_summary_counts_what_the_report_counts),
		cmocka_unit_test(error_summary_groups_final_errors_with_an_example),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
