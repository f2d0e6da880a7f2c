/*
 * sched: runs the jobs of a run, from job files to database rows.
 *
 * Owns the libuv loop of a run, the reader's position in the job files, the
 * jobs it holds (in flight, waiting for a retry, or waiting for their
 * model's rate limit), a rate limiter and a fail-fast record per model, and
 * the HTTP pool. It reads a line only while it holds fewer than twice the
 * concurrency, so memory is bounded by the window and never by the files'
 * size. Each job is parsed (job.h), recorded, signed and sent (request.h,
 * pool.h); each attempt is read (attempt.h), recorded (store.h), and
 * retried after a backoff on a timer when retry.h says so. It prints
 * nothing: it reports through the callbacks and the totals.
 */
#ifndef NB_SCHED_H
#define NB_SCHED_H

#include <stdint.h>

#include "err.h"
#include "ratelimit.h"
#include "request.h"
#include "retry.h"
#include "sigv4.h"
#include "store.h"

struct sched_totals {
	long ok, failed, invalid;
	long attempts, retries, throttled;
	int64_t input_tokens, output_tokens;
	size_t in_flight;
};

struct sched_callbacks {
	/* A line was recorded invalid, or a job failed: message says why. */
	void (*job_problem)(const char *message, void *data);
	/* Called at most every progress_interval_ms while the run goes on. */
	void (*progress)(const struct sched_totals *totals, void *data);
	void *data;
};

struct sched_config {
	char *const *files; /* job files, read in order */
	int nfiles;
	const char *default_model; /* for lines without modelId; may be NULL */
	int concurrency;           /* requests in flight at most */
	long connect_timeout_ms;
	long timeout_ms;           /* per attempt */
	struct retry_policy retry;
	struct ratelimit_config rate; /* per model */
	const struct request_endpoint *endpoint;
	struct sigv4_credentials creds;
	struct store *store;
	int64_t run_id;
	long commit_interval_ms;
	long progress_interval_ms; /* 0: no progress calls */
	struct sched_callbacks cb;
};

/* Runs every job to its end. Returns 0 with the totals, or -1 with err set
 * when the run could not go on (a job file that cannot be read, a database
 * write that failed); jobs in flight are finished and recorded first. */
int sched_run(const struct sched_config *cfg, struct sched_totals *totals, struct nb_err *err);

#endif
