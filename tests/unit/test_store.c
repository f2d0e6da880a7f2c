/* The store's resume paths, on a real SQLite file: a job row is taken over
 * by a later session, made pending again, or turned invalid; and a database
 * from before sessions existed is migrated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *st;
	int64_t run_id;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/nb-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
	struct nb_err err;
	assert_int_equal(store_open(f->path, false, &f->st, &err), 0);
	struct store_run_info info = {
		.version = "test", .endpoint = "http://127.0.0.1:1", .region = "us-east-1",
		.concurrency = 1, .job_files = "[]", .command_line = "[]",
	};
	assert_int_equal(store_run_begin(f->st, &info, &f->run_id, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_free(f->st);
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t query_int(struct store *st, const char *sql)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static struct store_job_key key_of(const struct fixture *f, const char *id, long line, int session)
{
	return (struct store_job_key){
		.run_id = f->run_id, .job_id = id, .model_id = "m", .source_file = "jobs.jsonl",
		.source_line = line, .session = session,
	};
}

static void a_later_session_takes_over_the_row_once(void **state)
{
	struct fixture *f = *state;
	struct nb_err err;
	struct store_prior prior;
	int64_t rowid, again;
	struct store_job_key k1 = key_of(f, "a", 1, 1);
	assert_int_equal(store_job_begin(f->st, &k1, "h1", &rowid, &prior, &err), 0);
	/* In the same session, the id is taken. */
	assert_int_equal(store_job_begin(f->st, &k1, "h1", &again, &prior, &err), STORE_DUPLICATE);
	struct store_attempt a = {.number = 1, .started_at = "t", .latency_ms = 5, .ttft_ms = -1,
				  .stream = STORE_NOT_STREAMED, .http_status = 200};
	assert_int_equal(store_attempt_add(f->st, rowid, &a, &err), 0);
	struct store_job_outcome o = {
		.status = "ok", .attempts = 1, .output_text = "hi", .input_tokens = 3,
		.output_tokens = 4, .total_tokens = 7, .cache_read_tokens = -1,
		.cache_write_tokens = -1, .latency_ms = 5, .server_latency_ms = -1, .ttft_ms = -1,
		.stream = STORE_NOT_STREAMED, .http_status = 200,
	};
	assert_int_equal(store_job_finish(f->st, rowid, &o, &err), 0);

	/* Session 2 finds what session 1 recorded, once. */
	int session;
	assert_int_equal(store_run_resume(f->st, f->run_id, &session, &err), 0);
	assert_int_equal(session, 2);
	struct store_job_key k2 = key_of(f, "a", 3, 2);
	assert_int_equal(store_job_begin(f->st, &k2, "h2", &again, &prior, &err), STORE_PRIOR);
	assert_true(again == rowid);
	assert_string_equal(prior.status, "ok");
	assert_string_equal(prior.request_hash, "h1");
	assert_int_equal(store_job_begin(f->st, &k2, "h2", &again, &prior, &err), STORE_DUPLICATE);

	/* Restarted: pending, result emptied, attempts number on. */
	int last = -1;
	assert_int_equal(store_job_restart(f->st, rowid, &k2, "h2", &last, &err), 0);
	assert_int_equal(last, 1);
	assert_int_equal(query_int(f->st, "SELECT count(*) FROM jobs WHERE status = 'pending' AND "
					  "output_text IS NULL AND input_tokens IS NULL AND "
					  "request_hash = 'h2' AND source_line = 3"),
			 1);
	assert_int_equal(query_int(f->st, "SELECT count(*) FROM jobs"), 1);
	assert_int_equal(query_int(f->st, "SELECT status = 'running' AND finished_at IS NULL "
					  "AND sessions = 2 FROM runs"),
			 1);
}

static void an_invalid_line_replaces_a_row_from_an_earlier_session(void **state)
{
	struct fixture *f = *state;
	struct nb_err err;
	struct store_prior prior;
	int64_t rowid;
	struct store_job_key k1 = key_of(f, "b", 1, 1);
	assert_int_equal(store_job_begin(f->st, &k1, "h1", &rowid, &prior, &err), 0);
	int session;
	assert_int_equal(store_run_resume(f->st, f->run_id, &session, &err), 0);
	struct store_job_key k2 = key_of(f, "b", 1, 2);
	assert_int_equal(store_job_invalid(f->st, &k2, "jobs.jsonl:1: broken", &err), 0);
	assert_int_equal(query_int(f->st, "SELECT count(*) FROM jobs WHERE status = 'invalid' AND "
					  "request_hash IS NULL AND session = 2"),
			 1);
	/* Once this session has the row, the id is taken. */
	assert_int_equal(store_job_invalid(f->st, &k2, "again", &err), STORE_DUPLICATE);
	assert_int_equal(query_int(f->st, "SELECT count(*) FROM jobs"), 1);
}

static void a_database_of_version_1_is_migrated(void **state)
{
	struct fixture *f = *state;
	/* Make the file what version 1 wrote: no sessions, no stream timings,
	 * no expectations. */
	assert_int_equal(sqlite3_exec(store_db(f->st),
				      "ALTER TABLE jobs DROP COLUMN session;"
				      "ALTER TABLE runs DROP COLUMN sessions;"
				      "ALTER TABLE jobs DROP COLUMN output_tokens_per_s;"
				      "ALTER TABLE jobs DROP COLUMN chunk_gap_p50_ms;"
				      "ALTER TABLE jobs DROP COLUMN chunk_gap_max_ms;"
				      "ALTER TABLE attempts DROP COLUMN output_tokens_per_s;"
				      "ALTER TABLE attempts DROP COLUMN chunk_gap_p50_ms;"
				      "ALTER TABLE attempts DROP COLUMN chunk_gap_max_ms;"
				      "ALTER TABLE jobs DROP COLUMN additional_fields;"
				      "ALTER TABLE jobs DROP COLUMN trace;"
				      "ALTER TABLE jobs DROP COLUMN expect_status;"
				      "ALTER TABLE jobs DROP COLUMN expect_failures;"
				      "ALTER TABLE jobs DROP COLUMN tags;"
				      "UPDATE schema_version SET version = 1;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	store_free(f->st);
	struct nb_err err;
	assert_int_equal(store_open(f->path, false, &f->st, &err), 0);
	assert_int_equal(query_int(f->st, "SELECT version FROM schema_version"), 6);
	assert_int_equal(query_int(f->st, "SELECT sessions FROM runs"), 1);
	assert_int_equal(query_int(f->st, "SELECT count(chunk_gap_max_ms) FROM attempts"), 0);
	assert_int_equal(query_int(f->st, "SELECT count(expect_status) FROM jobs"), 0);
	/* A database from a newer novabatch is refused, with the reason. */
	assert_int_equal(sqlite3_exec(store_db(f->st), "UPDATE schema_version SET version = 99",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	store_free(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->path, false, &f->st, &err), -1);
	assert_non_null(strstr(err.msg, "schema version 99"));
	assert_int_equal(store_open(f->path, false, &f->st, &err), -1);
	assert_null(f->st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_later_session_takes_over_the_row_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(an_invalid_line_replaces_a_row_from_an_earlier_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_database_of_version_1_is_migrated, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
