#include "report_series.h"

#include <math.h>
#include <stdlib.h>

#include "xalloc.h"

static int report_series_fail(sqlite3 *db, struct nb_err *err)
{
	return err_set(err, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
}

void report_series_bins(double max, double *width, size_t *nbins)
{
	static const double steps[] = {1, 2, 5, 10};
	double raw = max / REPORT_HIST_BINS;
	*width = 1;
	if (raw > 0) {
		double p = pow(10, floor(log10(raw)));
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			*width = steps[i] * p;
			if (*width >= raw)
				break;
		}
	}
	double n = max > 0 ? floor(max / *width) + 1 : 1;
	/* Rounding cannot push n past the bins a width >= raw allows. */
	*nbins = n > REPORT_HIST_BINS + 1 ? REPORT_HIST_BINS + 1 : (size_t)n;
}

/* The histogram of a job column over the ok jobs of a run and model. The
 * column name comes from this file, never from input. */
static int report_series_hist(sqlite3 *db, int64_t run_id, const char *model_id,
			      const char *col, const struct report_dist *d,
			      struct report_hist *h, struct nb_err *err)
{
	if (d->n == 0)
		return 0;
	report_series_bins(d->max, &h->width, &h->nbins);
	h->counts = xcalloc(h->nbins, sizeof *h->counts);
	char sql[320];
	snprintf(sql, sizeof sql,
		 "SELECT min(max(CAST(%s / ?3 AS INTEGER), 0), ?4 - 1), count(*) FROM jobs"
		 " WHERE run_id = ?1 AND model_id = ?2 AND status = 'ok' AND %s IS NOT NULL"
		 " GROUP BY 1",
		 col, col);
	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_series_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, model_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, h->width);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)h->nbins);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t bin = sqlite3_column_int64(st, 0);
		if (bin >= 0 && (size_t)bin < h->nbins)
			h->counts[bin] += sqlite3_column_int64(st, 1);
	}
	if (step != SQLITE_DONE) {
		report_series_fail(db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int report_series_model(sqlite3 *db, int64_t run_id, struct report_model *m,
			struct nb_err *err)
{
	if (report_series_hist(db, run_id, m->model_id, "latency_ms", &m->latency,
			       &m->latency_hist, err) < 0)
		return -1;
	return report_series_hist(db, run_id, m->model_id, "ttft_ms", &m->ttft, &m->ttft_hist,
				  err);
}

/* Whole milliseconds from the run's start to a job's end. Rounded to an
 * integer first, so a job that ended exactly 60 s in is not put in the
 * first minute by the rounding error of a difference of two julian days. */
#define REPORT_SERIES_SINCE_START                                                              \
	"CAST(round((julianday(j.finished_at) - julianday(r.started_at)) * 86400000.0)"          \
	" AS INTEGER)"
#define REPORT_SERIES_ENDED                                                                    \
	" FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.run_id = ?1"                       \
	" AND (j.status = 'ok' OR j.status = 'failed') AND j.finished_at IS NOT NULL"

/* The milliseconds from the run's start to its last job's end (0 when a
 * clock went back); < 0 when no job ended. */
static int report_series_span(sqlite3 *db, int64_t run_id, int64_t *span, struct nb_err *err)
{
	static const char sql[] =
		"SELECT CASE WHEN count(*) THEN max(max(" REPORT_SERIES_SINCE_START "), 0) ELSE -1 END"
		REPORT_SERIES_ENDED;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_series_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		report_series_fail(db, err);
		goto out;
	}
	*span = sqlite3_column_int64(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int report_series_timeline(sqlite3 *db, int64_t run_id, struct report_timeline *t,
			   struct nb_err *err)
{
	static const char sql[] =
		"SELECT min(max(" REPORT_SERIES_SINCE_START " / ?2, 0), ?3 - 1),"
		" sum(j.status = 'ok'), sum(j.status = 'failed')" REPORT_SERIES_ENDED " GROUP BY 1";
	int64_t span;
	if (report_series_span(db, run_id, &span, err) < 0)
		return -1;
	if (span < 0)
		return 0;
	/* A minute a bar, or whole minutes enough to keep the bars few. */
	int64_t minutes = span / 60000 + 1;
	t->step_s = 60 * ((minutes + REPORT_TIMELINE_MAX - 1) / REPORT_TIMELINE_MAX);
	int64_t n = span / (t->step_s * 1000) + 1;
	t->n = n > REPORT_TIMELINE_MAX ? REPORT_TIMELINE_MAX : (size_t)n;
	t->ok = xcalloc(t->n, sizeof *t->ok);
	t->failed = xcalloc(t->n, sizeof *t->failed);

	sqlite3_stmt *st = NULL;
	int rc = -1, step;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_series_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, t->step_s * 1000);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)t->n);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(st, 0);
		if (i >= 0 && (size_t)i < t->n) {
			t->ok[i] += sqlite3_column_int64(st, 1);
			t->failed[i] += sqlite3_column_int64(st, 2);
		}
	}
	if (step != SQLITE_DONE) {
		report_series_fail(db, err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}
