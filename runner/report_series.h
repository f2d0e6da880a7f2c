/*
 * report_series: the data behind a report's charts, computed by SQLite so
 * that memory stays flat in the number of jobs: a histogram's bins, not its
 * values; counts per interval, not per job.
 *
 * It reads inside the report's read transaction and fills parts of a struct
 * report (report.h owns and frees them). It draws nothing (report_html.c
 * and svg.c do) and prints nothing.
 */
#ifndef NB_REPORT_SERIES_H
#define NB_REPORT_SERIES_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"
#include "report.h"

/* Fills m->latency_hist and m->ttft_hist from the ok jobs of model m of run
 * run_id; needs m->latency and m->ttft computed (their max sets the bins).
 * Returns 0, or -1 with err set. */
int report_series_model(sqlite3 *db, int64_t run_id, struct report_model *m,
			struct nb_err *err);

/* Fills t with the jobs of run run_id that ended ok or failed per interval
 * since the run started. Returns 0, or -1 with err set. */
int report_series_timeline(sqlite3 *db, int64_t run_id, struct report_timeline *t,
			   struct nb_err *err);

/* The round bin width (1, 2 or 5 x 10^k milliseconds) and bin count of a
 * histogram whose largest value is max: the smallest such width giving at
 * most REPORT_HIST_BINS bins below max, plus the bin holding max. */
void report_series_bins(double max, double *width, size_t *nbins);

#endif
