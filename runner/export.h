/*
 * export: the jobs of a run, one record per job and model, as JSON lines or
 * as CSV.
 *
 * Streams: one prepared statement is stepped in job order and each row is
 * written as it comes, so memory stays flat for a run of any size. Both
 * formats carry the same columns, named as in the jobs table (job_id,
 * model_id, status, attempts, output_text, stop_reason, tokens, latencies,
 * errors, where the job came from). In JSON lines SQL NULL is null and the
 * answer's content blocks are JSON; in CSV (csv.h: RFC 4180, CRLF line
 * ends, a header row first) NULL is an empty field and the content blocks
 * are their JSON text. It does not choose a run (store_query.h) nor open the
 * output.
 */
#ifndef NB_EXPORT_H
#define NB_EXPORT_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Each writes every job row of run run_id to out and flushes out: one JSON
 * object per line, or a CSV header row and one CSV row per job. Returns 0;
 * -1 with err set when the database fails; or EXPORT_WRITE_ERROR with err
 * holding the cause when out cannot be written (it stops at the first
 * row that fails). */
#define EXPORT_WRITE_ERROR (-2)
int export_jsonl(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err);
int export_csv(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err);

#endif
