/*
 * store_query: read-side helpers over a novabatch database.
 *
 * Resolves what a user types to name a run (`12`, `last`, `last~2`,
 * `nightly`) into a run id, and computes nearest-rank percentiles of a job
 * column with SQLite doing the sorting, so memory stays flat however many
 * jobs a run holds. It only reads; the store (store.h) is the only writer.
 * It owns no connection: callers pass a `sqlite3 *` borrowed from the store.
 */
#ifndef NB_STORE_QUERY_H
#define NB_STORE_QUERY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Resolves ref to a run id: a run id ("12"), "last", "last~N" (N runs before
 * the last, by id) or a run name (the latest run of that name). A ref made of
 * digits is always an id, and "last" is never a name. Returns 0, or -1 with
 * err naming the reference and the database. */
int store_query_run(sqlite3 *db, const char *ref, int64_t *run_id, struct nb_err *err);

/* The job columns whose distribution a report shows. */
enum store_query_column {
	STORE_QUERY_LATENCY,        /* jobs.latency_ms */
	STORE_QUERY_TTFT,           /* jobs.ttft_ms */
	STORE_QUERY_SERVER_LATENCY, /* jobs.server_latency_ms */
	STORE_QUERY_OUTPUT_TPS,     /* jobs.output_tokens_per_s (streamed jobs) */
};

/* Nearest-rank percentiles of a column over the `ok` jobs of a run and model
 * whose value is not NULL: for percentile p of n values, the value of rank
 * ceil(p / 100 x n) in ascending order (p = 100 gives the maximum). pct[]
 * holds npct percentiles in (0, 100]; out[] receives their values. *count
 * receives n; when n is 0, out[] is left untouched. It counts, then scans:
 * call it inside a read transaction when a run may be writing, so both see
 * the same rows. Returns 0, or -1 with err set. */
int store_query_percentiles(sqlite3 *db, int64_t run_id, const char *model_id,
			    enum store_query_column column, const double *pct, size_t npct,
			    double *out, int64_t *count, struct nb_err *err);

/* The same over the ok jobs of a run with tag key (group STORE_QUERY_BY_TAG;
 * "" is the jobs without tags) or of model key (STORE_QUERY_BY_MODEL). */
enum store_query_group { STORE_QUERY_BY_MODEL, STORE_QUERY_BY_TAG };
int store_query_percentiles_of(sqlite3 *db, int64_t run_id, enum store_query_group group,
			       const char *key, enum store_query_column column, const double *pct,
			       size_t npct, double *out, int64_t *count, struct nb_err *err);

/* Whether the jobs table has the expectation columns (schema version 4):
 * a database an older novabatch made, opened read-only, has not. */
bool store_query_has_expect(sqlite3 *db);

/* How many jobs of run run_id passed and failed their expectations. */
int store_query_expect_counts(sqlite3 *db, int64_t run_id, int64_t *passed, int64_t *failed,
			      struct nb_err *err);

/* What a resumed run needs to know of its earlier sessions. */
struct store_query_resume {
	char *name;      /* owned; NULL when the run has none */
	char *status;    /* owned */
	char *job_files; /* owned; the JSON array the run recorded */
	char *prices;    /* owned; the run's price table as JSON, NULL when none */
};

/* Reads run run_id for a resume. Returns 0, or -1 with err set. Call
 * store_query_resume_cleanup after, whatever the result. */
int store_query_resume_info(sqlite3 *db, int64_t run_id, struct store_query_resume *out,
			    struct nb_err *err);
void store_query_resume_cleanup(struct store_query_resume *r);

/* Calls each for every model of run run_id with the token sums of its ok
 * jobs (what the run has been billed for, as far as it recorded). */
typedef void (*store_query_tokens_fn)(const char *model_id, int64_t input, int64_t output,
				      int64_t cache_read, int64_t cache_write, void *data);
int store_query_ok_tokens(sqlite3 *db, int64_t run_id, store_query_tokens_fn each, void *data,
			  struct nb_err *err);

#endif
