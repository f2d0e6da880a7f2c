#include "report.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "report_series.h"
#include "store_query.h"
#include "xalloc.h"

#define REPORT_PUSD_PER_USD INT64_C(1000000000000)

static int report_fail(sqlite3 *db, struct nb_err *err)
{
	return err_set(err, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
}

/* A copy of a text column, or NULL for SQL NULL. */
static char *report_text(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	return s ? xstrdup(s) : NULL;
}

/* host[:port] of an endpoint URL, or NULL when it does not parse. The path
 * and any user information stay out of the report. */
static char *report_endpoint_host(const char *url)
{
	char *host = NULL, *port = NULL, *out = NULL;
	CURLU *u = curl_url();
	if (!u)
		abort(); /* curl_url fails only when out of memory */
	if (url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			out = xasprintf("%s:%s", host, port);
		else
			out = xstrdup(host);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* Reads the runs row; hands back the stored price table text, if any. */
static int report_header(sqlite3 *db, int64_t run_id, struct report *r, char **prices,
			 struct nb_err *err)
{
	static const char sql[] =
		"SELECT name, status, started_at, finished_at, version, region, endpoint,"
		" concurrency, prices,"
		" coalesce(CAST(round((julianday(finished_at) - julianday(started_at))"
		" * 86400000.0) AS INTEGER), -1)"
		" FROM runs WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	int step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		if (step == SQLITE_DONE)
			err_set(err, "no run with id %" PRId64 " in %s", run_id,
				sqlite3_db_filename(db, "main"));
		else
			report_fail(db, err);
		goto out;
	}
	r->run_id = run_id;
	r->name = report_text(st, 0);
	r->status = report_text(st, 1);
	r->started_at = report_text(st, 2);
	r->finished_at = report_text(st, 3);
	r->version = report_text(st, 4);
	r->region = report_text(st, 5);
	r->endpoint_host = report_endpoint_host((const char *)sqlite3_column_text(st, 6));
	r->concurrency = sqlite3_column_int(st, 7);
	*prices = report_text(st, 8);
	r->duration_ms = sqlite3_column_int64(st, 9);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static const double report_latency_pct[] = {50, 90, 99, 100};
static const double report_ttft_pct[] = {50, 90, 99, 100};
static const double report_p50[] = {50};

/* The distributions of a group's ok jobs: a model's, or a tag's. */
static int report_dists(sqlite3 *db, int64_t run_id, enum store_query_group group,
			struct report_model *m, struct nb_err *err)
{
	double v[4];
	if (store_query_percentiles_of(db, run_id, group, m->model_id, STORE_QUERY_LATENCY,
				    report_latency_pct, 4, v, &m->latency.n, err) < 0)
		return -1;
	if (m->latency.n) {
		m->latency.p50 = v[0];
		m->latency.p90 = v[1];
		m->latency.p99 = v[2];
		m->latency.max = v[3];
	}
	if (store_query_percentiles_of(db, run_id, group, m->model_id, STORE_QUERY_TTFT, report_ttft_pct,
				    4, v, &m->ttft.n, err) < 0)
		return -1;
	if (m->ttft.n) {
		m->ttft.p50 = v[0];
		m->ttft.p90 = v[1];
		m->ttft.p99 = v[2];
		m->ttft.max = v[3];
	}
	if (store_query_percentiles_of(db, run_id, group, m->model_id, STORE_QUERY_SERVER_LATENCY,
				    report_p50, 1, v, &m->server_latency.n, err) < 0)
		return -1;
	if (m->server_latency.n)
		m->server_latency.p50 = v[0];
	if (store_query_percentiles_of(db, run_id, group, m->model_id, STORE_QUERY_OUTPUT_TPS, report_p50,
				    1, v, &m->tokens_per_s.n, err) < 0)
		return -1;
	if (m->tokens_per_s.n)
		m->tokens_per_s.p50 = v[0];
	return 0;
}

static void report_price(const struct models *prices, struct report_model *m)
{
	struct models_price p;
	struct report_counts *c = &m->c;
	if (!*m->model_id) {
		/* An invalid line without a model was never sent. */
		c->cost_known = true;
		c->cost_pusd = 0;
	} else if (models_price_for(prices, m->model_id, &p)) {
		c->cost_known = true;
		c->cost_pusd = models_cost_pusd(&p, c->input_tokens, c->output_tokens,
						c->cache_read_tokens, c->cache_write_tokens);
	}
}

static void report_add_counts(struct report_counts *t, const struct report_counts *c)
{
	t->jobs += c->jobs;
	t->ok += c->ok;
	t->failed += c->failed;
	t->invalid += c->invalid;
	t->pending += c->pending;
	t->attempts += c->attempts;
	t->throttled += c->throttled;
	t->input_tokens += c->input_tokens;
	t->output_tokens += c->output_tokens;
	t->cache_read_tokens += c->cache_read_tokens;
	t->cache_write_tokens += c->cache_write_tokens;
	t->expect_jobs += c->expect_jobs;
	t->expect_passed += c->expect_passed;
	if (c->cost_known)
		t->cost_pusd += c->cost_pusd;
	else
		t->cost_known = false;
}

static int report_models(sqlite3 *db, int64_t run_id, const struct models *prices, bool series,
			 struct report *r, struct nb_err *err)
{
	static const char sql[] =
		"SELECT model_id, count(*), sum(status = 'ok'), sum(status = 'failed'),"
		" sum(status = 'invalid'), sum(status = 'pending'), coalesce(sum(attempts), 0),"
		" (SELECT count(*) FROM attempts a JOIN jobs t ON t.id = a.job_rowid"
		"  WHERE t.run_id = ?1 AND t.model_id = j.model_id"
		"  AND a.http_status = 429),"
		" coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
		" coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0), ";
	static const char from[] =
		" FROM jobs j WHERE run_id = ?1 GROUP BY model_id ORDER BY model_id = '', model_id";
	/* A database of schema version 3 (opened read-only, so not migrated)
	 * has no expectations. */
	char *query = xasprintf("%s%s%s", sql,
				store_query_has_expect(db)
					? "count(expect_status), coalesce(sum(expect_status = 'passed'), 0)"
					: "0, 0",
				from);
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	int prepared = sqlite3_prepare_v2(db, query, -1, &st, NULL);
	free(query);
	if (prepared != SQLITE_OK) {
		report_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	r->total.cost_known = true;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r->models = xrealloc(r->models, (r->nmodels + 1) * sizeof *r->models);
		struct report_model *m = &r->models[r->nmodels++];
		memset(m, 0, sizeof *m);
		m->model_id = report_text(st, 0);
		struct report_counts *c = &m->c;
		int64_t *fields[] = {&c->jobs, &c->ok, &c->failed, &c->invalid,
				     &c->pending, &c->attempts, &c->throttled, &c->input_tokens,
				     &c->output_tokens, &c->cache_read_tokens,
				     &c->cache_write_tokens, &c->expect_jobs, &c->expect_passed};
		for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
			*fields[i] = sqlite3_column_int64(st, i + 1);
		report_price(prices, m);
		report_add_counts(&r->total, c);
		if (report_dists(db, run_id, STORE_QUERY_BY_MODEL, m, err) < 0)
			goto out;
		if (series && report_series_model(db, run_id, m, err) < 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		report_fail(db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Groups by name, "" last. */
static int report_group_cmp(const void *a, const void *b)
{
	const char *x = ((const struct report_model *)a)->model_id;
	const char *y = ((const struct report_model *)b)->model_id;
	if (!*x || !*y)
		return !*x - !*y;
	return strcmp(x, y);
}

/* The group of tag in r, added when new. */
static struct report_model *report_tag_entry(struct report *r, const char *tag)
{
	for (size_t i = 0; i < r->nmodels; i++)
		if (strcmp(r->models[i].model_id, tag) == 0)
			return &r->models[i];
	r->models = xrealloc(r->models, (r->nmodels + 1) * sizeof *r->models);
	struct report_model *m = &r->models[r->nmodels++];
	memset(m, 0, sizeof *m);
	m->model_id = xstrdup(tag);
	m->c.cost_known = true;
	return m;
}

/* Replaces the groups by model with groups by tag: a job counts under each
 * of its tags ("" for a job without any), and is priced by its model. The
 * totals stay the run's (a job with two tags is counted once there). */
static int report_tags(sqlite3 *db, int64_t run_id, const struct models *prices,
		       struct report *r, struct nb_err *err)
{
	/* A database made before tags (opened read-only, so not migrated)
	 * has every job untagged. */
	sqlite3_stmt *probe = NULL;
	bool has_tags = sqlite3_prepare_v2(db, "SELECT tags FROM jobs LIMIT 0", -1, &probe,
					   NULL) == SQLITE_OK;
	sqlite3_finalize(probe);
	const char *tags = has_tags ? "json_each(coalesce(j.tags, '[\"\"]')) t"
				    : "json_each('[\"\"]') t";
	char *query = xasprintf(
		"SELECT t.value, j.model_id, count(*), sum(status = 'ok'), sum(status = 'failed'),"
		" sum(status = 'invalid'), sum(status = 'pending'), coalesce(sum(attempts), 0),"
		" coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),"
		" coalesce(sum(cache_read_tokens), 0), coalesce(sum(cache_write_tokens), 0), %s"
		" FROM jobs j, %s WHERE j.run_id = ?1 GROUP BY 1, 2",
		store_query_has_expect(db)
			? "count(expect_status), coalesce(sum(expect_status = 'passed'), 0)"
			: "0, 0",
		tags);
	char *throttled = xasprintf("SELECT t.value, count(*) FROM attempts a JOIN jobs j"
				    " ON j.id = a.job_rowid, %s WHERE j.run_id = ?1"
				    " AND a.http_status = 429 GROUP BY 1",
				    tags);
	for (size_t i = 0; i < r->nmodels; i++) {
		free(r->models[i].model_id);
		free(r->models[i].latency_hist.counts);
		free(r->models[i].ttft_hist.counts);
	}
	r->nmodels = 0;
	r->by_tag = true;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, run_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_model *m =
			report_tag_entry(r, (const char *)sqlite3_column_text(st, 0));
		const char *model_id = (const char *)sqlite3_column_text(st, 1);
		struct report_counts c = {0};
		int64_t *fields[] = {&c.jobs, &c.ok, &c.failed, &c.invalid, &c.pending,
				     &c.attempts, &c.input_tokens, &c.output_tokens,
				     &c.cache_read_tokens, &c.cache_write_tokens, &c.expect_jobs,
				     &c.expect_passed};
		for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++)
			*fields[i] = sqlite3_column_int64(st, i + 2);
		struct models_price p;
		if (!model_id || !*model_id) {
			c.cost_known = true; /* never sent */
		} else if (models_price_for(prices, model_id, &p)) {
			c.cost_known = true;
			c.cost_pusd = models_cost_pusd(&p, c.input_tokens, c.output_tokens,
						       c.cache_read_tokens, c.cache_write_tokens);
		}
		report_add_counts(&m->c, &c);
	}
	if (step != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, throttled, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, run_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		report_tag_entry(r, (const char *)sqlite3_column_text(st, 0))->c.throttled =
			sqlite3_column_int64(st, 1);
	if (step != SQLITE_DONE)
		goto fail;
	qsort(r->models, r->nmodels, sizeof *r->models, report_group_cmp);
	for (size_t i = 0; has_tags && i < r->nmodels; i++)
		if (report_dists(db, run_id, STORE_QUERY_BY_TAG, &r->models[i], err) < 0)
			goto out;
	rc = 0;
	goto out;
fail:
	report_fail(db, err);
out:
	sqlite3_finalize(st);
	free(query);
	free(throttled);
	return rc;
}

static int report_errors(sqlite3 *db, int64_t run_id, struct report *r, struct nb_err *err)
{
	/* With exactly one min() in a query, SQLite takes the bare columns
	 * (message, job id, model) from the row that holds the minimum: the
	 * first job with that error is the example. */
	static const char sql[] =
		"SELECT coalesce(nullif(error_type, ''), '(none)'), count(*), error_message,"
		" job_id, model_id, min(id)"
		" FROM jobs WHERE run_id = ?1 AND status IN ('failed', 'invalid')"
		" GROUP BY 1 ORDER BY 2 DESC, 1";
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r->errors = xrealloc(r->errors, (r->nerrors + 1) * sizeof *r->errors);
		struct report_error *e = &r->errors[r->nerrors++];
		e->type = report_text(st, 0);
		e->count = sqlite3_column_int64(st, 1);
		e->example = report_text(st, 2);
		e->example_job = report_text(st, 3);
		e->example_model = report_text(st, 4);
	}
	if (step != SQLITE_DONE) {
		report_fail(db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* The table to price with: the caller's, the run's, or the built-in one
 * (loaded into *owned, which the caller frees). */
static int report_pick_prices(const struct report_options *opt, const char *stored, int64_t run_id,
			      struct report *r, struct models **owned, const struct models **prices,
			 struct nb_err *err)
{
	if (opt && opt->prices) {
		r->prices = REPORT_PRICES_FILE;
		r->prices_file = xstrdup(opt->prices_file ? opt->prices_file : "a file");
		*prices = opt->prices;
	} else if (stored) {
		char origin[64];
		snprintf(origin, sizeof origin, "the price table stored with run %" PRId64, run_id);
		if (models_load_text(stored, origin, owned, err) < 0)
			return -1;
		r->prices = REPORT_PRICES_RUN;
		*prices = *owned;
	} else {
		if (models_load_builtin(owned, err) < 0)
			return -1;
		r->prices = REPORT_PRICES_BUILTIN;
		*prices = *owned;
	}
	const char *date = models_effective_date(*prices);
	r->prices_effective = date ? xstrdup(date) : NULL;
	return 0;
}

int report_compute_with(sqlite3 *db, int64_t run_id, const struct report_options *opt,
			struct report *r, struct nb_err *err)
{
	memset(r, 0, sizeof *r);
	struct models *owned = NULL;
	const struct models *prices = NULL;
	char *prices_text = NULL;
	bool series = opt && opt->series;
	bool by_tag = opt && opt->by_tag;
	int rc = -1;
	/* One read transaction: every query sees the same snapshot, even while
	 * a run commits new results (WAL). */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		report_fail(db, err);
		goto out;
	}
	if (report_header(db, run_id, r, &prices_text, err) < 0 ||
	    report_pick_prices(opt, prices_text, run_id, r, &owned, &prices, err) < 0)
		goto out;
	if (report_models(db, run_id, prices, series && !by_tag, r, err) < 0 ||
	    (by_tag && report_tags(db, run_id, prices, r, err) < 0) ||
	    report_errors(db, run_id, r, err) < 0)
		goto out;
	if (series && report_series_timeline(db, run_id, &r->timeline, err) < 0)
		goto out;
	rc = 0;
out:
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	models_free(owned);
	free(prices_text);
	return rc;
}

int report_compute(sqlite3 *db, int64_t run_id, struct report *r, struct nb_err *err)
{
	return report_compute_with(db, run_id, NULL, r, err);
}

void report_cleanup(struct report *r)
{
	free(r->name);
	free(r->status);
	free(r->started_at);
	free(r->finished_at);
	free(r->version);
	free(r->region);
	free(r->endpoint_host);
	free(r->prices_file);
	free(r->prices_effective);
	for (size_t i = 0; i < r->nmodels; i++) {
		free(r->models[i].model_id);
		free(r->models[i].latency_hist.counts);
		free(r->models[i].ttft_hist.counts);
	}
	free(r->models);
	free(r->timeline.ok);
	free(r->timeline.failed);
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].type);
		free(r->errors[i].example);
		free(r->errors[i].example_job);
		free(r->errors[i].example_model);
	}
	free(r->errors);
	memset(r, 0, sizeof *r);
}

double report_pass_rate(const struct report_counts *c)
{
	return c->expect_jobs ? 100.0 * (double)c->expect_passed / (double)c->expect_jobs : -1;
}

const char *report_group_label(const struct report *r)
{
	return r->by_tag ? "tag" : "model";
}

const char *report_group_name(const struct report *r, const struct report_model *m)
{
	if (*m->model_id)
		return m->model_id;
	return r->by_tag ? "(no tag)" : "(none)";
}

char *report_prices_text(const struct report *r)
{
	const char *date = r->prices_effective;
	switch (r->prices) {
	case REPORT_PRICES_FILE:
		return date ? xasprintf("from %s (effective %s)", r->prices_file, date)
			    : xasprintf("from %s", r->prices_file);
	case REPORT_PRICES_RUN:
		return date ? xasprintf("stored with the run (effective %s)", date)
			    : xstrdup("stored with the run");
	case REPORT_PRICES_BUILTIN:
		break;
	}
	return date ? xasprintf("built-in table of %s", date) : xstrdup("built-in table");
}

void report_usd_text(int64_t pusd, char out[REPORT_USD_LEN])
{
	int n = snprintf(out, REPORT_USD_LEN, "%" PRId64 ".%012" PRId64, pusd / REPORT_PUSD_PER_USD,
			 pusd % REPORT_PUSD_PER_USD);
	/* Keep two decimals, drop the zeros after them. */
	const char *dot = strchr(out, '.');
	while (n > dot - out + 3 && out[n - 1] == '0')
		out[--n] = '\0';
}

void report_duration_text(int64_t ms, char out[REPORT_DURATION_LEN])
{
	int64_t s = ms / 1000;
	if (ms < 60000)
		snprintf(out, REPORT_DURATION_LEN, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, REPORT_DURATION_LEN, "%" PRId64 "m %02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, REPORT_DURATION_LEN, "%" PRId64 "h %02" PRId64 "m %02" PRId64 "s",
			 s / 3600, s / 60 % 60, s % 60);
}
