/*
 * progress: the one-line account of a run in progress.
 *
 * A pure formatter: from the scheduler's totals, the number of jobs the
 * files hold and the time since the session started, it writes the line a
 * terminal redraws (and a log repeats every --log-interval): jobs done of
 * the total, percent, in flight, requests per second, ok/failed/invalid,
 * retries, throttled, tokens, cost so far and the time left. It reads no
 * clock and prints nothing: cmd_run does.
 */
#ifndef NB_PROGRESS_H
#define NB_PROGRESS_H

#include <stddef.h>

#include "sched.h"

#define PROGRESS_LINE_LEN 384
#define PROGRESS_WORD_LEN 48

/* total: the jobs the files hold, < 0 when unknown (a pipe); elapsed_s: the
 * session's duration so far. */
void progress_line(const struct sched_totals *t, long total, double elapsed_s,
		   char out[PROGRESS_LINE_LEN]);

/* A count with a metric suffix: "950", "12.3k", "4.56M". */
void progress_count(double n, char out[PROGRESS_WORD_LEN]);

/* A duration: "45s", "12m05s", "3h20m". */
void progress_duration(double seconds, char out[PROGRESS_WORD_LEN]);

#endif
