#include "results.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "store_query.h"
#include "xalloc.h"
#include "utf8.h"

static int results_fail(sqlite3 *db, struct nb_err *err)
{
	return err_set(err, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
}

static char *results_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s ? xstrdup(s) : NULL;
}

static int64_t results_count(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

/* The run's name and its price table (the built-in one when it stored none). */
static int results_header(sqlite3 *db, int64_t run_id, struct results *r, struct models **prices,
			  struct nb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT name, prices FROM runs WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		results_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		if (step == SQLITE_DONE)
			err_set(err, "no run with id %" PRId64 " in %s", run_id,
				sqlite3_db_filename(db, "main"));
		else
			results_fail(db, err);
		goto out;
	}
	r->run_id = run_id;
	r->run_name = results_text(st, 0);
	const char *text = (const char *)sqlite3_column_text(st, 1);
	if (text) {
		char origin[64];
		snprintf(origin, sizeof origin, "the price table stored with run %" PRId64, run_id);
		rc = models_load_text(text, origin, prices, err);
	} else {
		rc = models_load_builtin(prices, err);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* An excerpt of text: at most RESULTS_EXCERPT_MAX bytes, cut at a character
 * boundary, "..." marking the cut. */
static char *results_excerpt(const char *text, size_t len)
{
	if (len <= RESULTS_EXCERPT_MAX)
		return xstrndup(text, len);
	size_t n = utf8_cut(text, len, RESULTS_EXCERPT_MAX);
	return xasprintf("%.*s...", (int)n, text);
}

static void results_row(sqlite3_stmt *st, const struct models *prices, struct results_job *j)
{
	memset(j, 0, sizeof *j);
	j->job_id = results_text(st, 0);
	j->model_id = results_text(st, 1);
	j->status = results_text(st, 2);
	j->expect_status = results_text(st, 3);
	j->expect_failures = results_text(st, 4);
	const char *out = (const char *)sqlite3_column_text(st, 5);
	if (out) {
		size_t len = (size_t)sqlite3_column_bytes(st, 5);
		j->has_output = true;
		j->excerpt = results_excerpt(out, len);
		struct digest_part part = {out, len};
		digest_sha256(&part, 1, j->output_hash);
	}
	const char *type = (const char *)sqlite3_column_text(st, 6);
	const char *msg = (const char *)sqlite3_column_text(st, 7);
	if (strcmp(j->status, "failed") == 0 || strcmp(j->status, "invalid") == 0)
		j->error = xasprintf("%s: %s", type && *type ? type : "(none)", msg ? msg : "");
	j->latency_ms = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1
								  : sqlite3_column_double(st, 8);
	j->input_tokens = results_count(st, 9);
	j->output_tokens = results_count(st, 10);
	struct models_price price;
	if (!*j->model_id || strcmp(j->status, "ok") != 0) {
		/* Nothing was billed for a job without an answer, as the report
		 * counts it. */
		j->cost_known = true;
	} else if (models_price_for(prices, j->model_id, &price)) {
		j->cost_known = true;
		j->cost_pusd = models_cost_pusd(
			&price, j->input_tokens > 0 ? j->input_tokens : 0,
			j->output_tokens > 0 ? j->output_tokens : 0,
			sqlite3_column_int64(st, 11), sqlite3_column_int64(st, 12));
	}
}

int results_load(sqlite3 *db, int64_t run_id, struct results *r, struct nb_err *err)
{
	memset(r, 0, sizeof *r);
	struct models *prices = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		results_fail(db, err);
		goto out;
	}
	if (results_header(db, run_id, r, &prices, err) < 0)
		goto out;
	/* A database of schema version 3 (opened read-only, so not migrated)
	 * has no expectations to read. */
	char sql[640];
	snprintf(sql, sizeof sql,
		 "SELECT job_id, model_id, status, %s, output_text, error_type,"
		 " error_message, latency_ms, input_tokens, output_tokens,"
		 " coalesce(cache_read_tokens, 0), coalesce(cache_write_tokens, 0)"
		 " FROM jobs WHERE run_id = ?1 ORDER BY model_id, job_id",
		 store_query_has_expect(db) ? "expect_status, expect_failures" : "NULL, NULL");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		results_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (r->n == cap) {
			cap = cap ? cap * 2 : 64;
			r->jobs = xrealloc(r->jobs, cap * sizeof *r->jobs);
		}
		results_row(st, prices, &r->jobs[r->n++]);
	}
	if (step != SQLITE_DONE) {
		results_fail(db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	models_free(prices);
	return rc;
}

void results_cleanup(struct results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct results_job *j = &r->jobs[i];
		free(j->job_id);
		free(j->model_id);
		free(j->status);
		free(j->expect_status);
		free(j->expect_failures);
		free(j->excerpt);
		free(j->error);
	}
	free(r->jobs);
	free(r->run_name);
	memset(r, 0, sizeof *r);
}

char *results_label(const struct results *r)
{
	if (r->run_name)
		return xasprintf("run %" PRId64 " (%s)", r->run_id, r->run_name);
	return xasprintf("run %" PRId64, r->run_id);
}

bool results_output_changed(const struct results_job *a, const struct results_job *b)
{
	return a->has_output && b->has_output &&
	       memcmp(a->output_hash, b->output_hash, sizeof a->output_hash) != 0;
}

char *results_failures_text(const struct results_job *j)
{
	json_t *arr = json_loads(j->expect_failures ? j->expect_failures : "[]", 0, NULL);
	char *text = xstrdup("");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *f = json_array_get(arr, i);
		const char *a = json_string_value(json_object_get(f, "assertion"));
		const char *m = json_string_value(json_object_get(f, "message"));
		char *next = xasprintf("%s%sexpect.%s: %s", text, i ? "; " : "", a ? a : "?",
				       m ? m : "");
		free(text);
		text = next;
	}
	json_decref(arr);
	return text;
}
