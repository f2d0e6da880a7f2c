#include "store_query.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percentile.h"
#include "xalloc.h"

static const char *store_query_where(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	return path && *path ? path : "the database";
}

static int store_query_fail(sqlite3 *db, struct nb_err *err)
{
	return err_set(err, "%s: %s", store_query_where(db), sqlite3_errmsg(db));
}

/* Reads an unsigned decimal number that makes up all of s. */
static bool store_query_number(const char *s, int64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

int store_query_run(sqlite3 *db, const char *ref, int64_t *run_id, struct nb_err *err)
{
	enum { BY_ID, BY_AGE, BY_NAME } kind;
	static const char *const sql[] = {
		[BY_ID] = "SELECT id FROM runs WHERE id = ?1",
		[BY_AGE] = "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?1",
		[BY_NAME] = "SELECT id FROM runs WHERE name = ?1 ORDER BY id DESC LIMIT 1",
	};
	int64_t n = 0;
	if (!*ref)
		return err_set(err, "an empty run reference names no run (try `--run last`)");
	if (store_query_number(ref, &n))
		kind = BY_ID;
	else if (strcmp(ref, "last") == 0)
		kind = BY_AGE;
	else if (strncmp(ref, "last~", 5) == 0 && store_query_number(ref + 5, &n))
		kind = BY_AGE;
	else
		kind = BY_NAME;

	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql[kind], -1, &st, NULL) != SQLITE_OK) {
		store_query_fail(db, err);
		goto out;
	}
	if (kind == BY_NAME)
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, n);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*run_id = sqlite3_column_int64(st, 0);
		rc = 0;
	} else if (step != SQLITE_DONE) {
		store_query_fail(db, err);
	} else if (kind == BY_ID) {
		err_set(err, "no run with id %s in %s", ref, store_query_where(db));
	} else if (kind == BY_AGE) {
		err_set(err, "no run '%s' in %s: it holds %s", ref, store_query_where(db),
			n ? "fewer runs" : "no runs yet");
	} else {
		err_set(err, "no run named '%s' in %s", ref, store_query_where(db));
	}
out:
	sqlite3_finalize(st);
	return rc;
}

static const char *const store_query_columns[] = {
	[STORE_QUERY_LATENCY] = "latency_ms",
	[STORE_QUERY_TTFT] = "ttft_ms",
	[STORE_QUERY_SERVER_LATENCY] = "server_latency_ms",
	[STORE_QUERY_OUTPUT_TPS] = "output_tokens_per_s",
};

int store_query_percentiles(sqlite3 *db, int64_t run_id, const char *model_id,
			    enum store_query_column column, const double *pct, size_t npct,
			    double *out, int64_t *count, struct nb_err *err)
{
	return store_query_percentiles_of(db, run_id, STORE_QUERY_BY_MODEL, model_id, column, pct,
					  npct, out, count, err);
}

int store_query_percentiles_of(sqlite3 *db, int64_t run_id, enum store_query_group group,
			       const char *key, enum store_query_column column, const double *pct,
			       size_t npct, double *out, int64_t *count, struct nb_err *err)
{
	const char *col = store_query_columns[column];
	/* A job without tags is in the group of the tag "". */
	const char *from = group == STORE_QUERY_BY_TAG
				   ? "jobs, json_each(coalesce(jobs.tags, '[\"\"]')) t"
				     " WHERE run_id = ?1 AND t.value = ?2"
				   : "jobs WHERE run_id = ?1 AND model_id = ?2";
	char count_sql[256], values_sql[320];
	/* The index on (run_id, model_id, status) finds the rows; SQLite sorts
	 * them (spilling to a temporary file when large) and hands them over
	 * one at a time, so only one value is held here at once. */
	snprintf(count_sql, sizeof count_sql, "SELECT count(%s) FROM %s AND status = 'ok'", col,
		 from);
	snprintf(values_sql, sizeof values_sql,
		 "SELECT %s FROM %s AND status = 'ok' AND %s IS NOT NULL ORDER BY 1", col, from,
		 col);

	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, count_sql, -1, &st, NULL) != SQLITE_OK) {
		store_query_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_query_fail(db, err);
		goto out;
	}
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	*count = n;
	int64_t last = 0;
	for (size_t i = 0; n > 0 && i < npct; i++)
		if (percentile_rank(pct[i], n) > last)
			last = percentile_rank(pct[i], n);
	if (last == 0) {
		rc = 0;
		goto out;
	}
	if (sqlite3_prepare_v2(db, values_sql, -1, &st, NULL) != SQLITE_OK) {
		store_query_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	for (int64_t rank = 1; rank <= last; rank++) {
		int step = sqlite3_step(st);
		if (step == SQLITE_DONE) {
			err_set(err, "%s: run %lld changed while it was read; try again",
				store_query_where(db), (long long)run_id);
			goto out;
		}
		if (step != SQLITE_ROW) {
			store_query_fail(db, err);
			goto out;
		}
		for (size_t i = 0; i < npct; i++)
			if (percentile_rank(pct[i], n) == rank)
				out[i] = sqlite3_column_double(st, 0);
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static char *store_query_text(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	return v ? xstrdup(v) : NULL;
}

int store_query_resume_info(sqlite3 *db, int64_t run_id, struct store_query_resume *out,
			    struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT name, status, job_files, prices FROM runs WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		store_query_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		out->name = store_query_text(st, 0);
		out->status = store_query_text(st, 1);
		out->job_files = store_query_text(st, 2);
		out->prices = store_query_text(st, 3);
		rc = 0;
	} else if (step == SQLITE_DONE) {
		err_set(err, "no run with id %lld in %s", (long long)run_id, store_query_where(db));
	} else {
		store_query_fail(db, err);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

void store_query_resume_cleanup(struct store_query_resume *r)
{
	free(r->name);
	free(r->status);
	free(r->job_files);
	free(r->prices);
	memset(r, 0, sizeof *r);
}

int store_query_ok_tokens(sqlite3 *db, int64_t run_id, store_query_tokens_fn each, void *data,
			  struct nb_err *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT model_id, coalesce(sum(input_tokens), 0),"
			       " coalesce(sum(output_tokens), 0), coalesce(sum(cache_read_tokens), 0),"
			       " coalesce(sum(cache_write_tokens), 0) FROM jobs"
			       " WHERE run_id = ?1 AND status = 'ok' GROUP BY model_id",
			       -1, &st, NULL) != SQLITE_OK)
		return store_query_fail(db, err);
	sqlite3_bind_int64(st, 1, run_id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		each((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		     sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
		     sqlite3_column_int64(st, 4), data);
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : store_query_fail(db, err);
}

bool store_query_has_expect(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool has = false;
	if (sqlite3_prepare_v2(db,
			       "SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'expect_status'",
			       -1, &st, NULL) == SQLITE_OK)
		has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

int store_query_expect_counts(sqlite3 *db, int64_t run_id, int64_t *passed, int64_t *failed,
			      struct nb_err *err)
{
	*passed = *failed = 0;
	if (!store_query_has_expect(db))
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT coalesce(sum(expect_status = 'passed'), 0),"
			       " coalesce(sum(expect_status = 'failed'), 0) FROM jobs WHERE run_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return store_query_fail(db, err);
	sqlite3_bind_int64(st, 1, run_id);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*passed = sqlite3_column_int64(st, 0);
		*failed = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? 0 : store_query_fail(db, err);
}
