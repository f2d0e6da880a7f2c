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

#endif
