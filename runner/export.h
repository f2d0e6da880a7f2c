/*
 * export: the jobs of a run as JSON lines, one object per job and model.
 *
 * Streams: one prepared statement is stepped in job order and each row is
 * written as it comes, so memory stays flat for a run of any size. Keys are
 * the jobs table's column names (job_id, model_id, status, attempts,
 * output_text, stop_reason, tokens, latencies, errors, where the job came
 * from), with SQL NULL as JSON null and the answer's content blocks as JSON.
 * It does not choose a run (store_query.h) nor open the output.
 */
#ifndef NB_EXPORT_H
#define NB_EXPORT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Writes every job row of run run_id to out, one JSON object per line, and
 * flushes out. Returns 0; -1 with err set when the database fails; or
 * EXPORT_WRITE_ERROR with err holding the cause when out cannot be written. */
#define EXPORT_WRITE_ERROR (-2)
int export_jsonl(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err);

#endif
