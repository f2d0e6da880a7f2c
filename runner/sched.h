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
 * retried after a backoff on a timer when retry.h says so. Every attempt
 * is signed with the credentials creds.h holds at its send; an attempt
 * refused as expired (ExpiredTokenException) renews them and is sent
 * again without counting against max_attempts, and while no usable
 * credentials are held nothing is sent. It prints
 * nothing: it reports through the callbacks and the totals.
 */
#ifndef NB_SCHED_H
#define NB_SCHED_H

#include <stdint.h>

#include "creds_chain.h"
#include "creds_value.h"
#include "err.h"
#include "job.h"
#include "models.h"
#include "ratelimit.h"
#include "request.h"
#include "retry.h"
#include "sigv4.h"
#include "store.h"

/* How a run ended. */
enum sched_ending {
	SCHED_FINISHED,    /* every job line was read and every job ended */
	SCHED_INTERRUPTED, /* a signal stopped it; its pending jobs can resume */
	SCHED_STOPPED,     /* the cost limit stopped it; likewise */
	SCHED_NO_CREDENTIALS, /* renewing the credentials kept failing; likewise */
};

/* Counts over the whole run: jobs an earlier session recorded and this one
 * skipped count with their status, and in `skipped`. */
struct sched_totals {
	long ok, failed, invalid;
	long skipped;
	long expect_failed; /* this session's jobs whose expectations failed */
	long attempts, retries, throttled; /* this session's */
	long expired;      /* attempts refused with ExpiredTokenException */
	long renewals;     /* credentials renewed during the run */
	int64_t input_tokens, output_tokens; /* this session's answers */
	int64_t cost_pusd; /* earlier sessions' (given) plus this one's answers */
	bool cost_known;   /* false once an answer came from a model without a price */
	size_t in_flight;
	enum sched_ending ending;
	char stop_message[512]; /* why it stopped, when ending is not FINISHED */
};

struct sched_callbacks {
	/* A line was recorded invalid, or a job failed: message says why. */
	void (*job_problem)(const char *message, void *data);
	/* Something a person should know that is not a problem: a resumed job
	 * whose request changed, the run stopping. */
	void (*notice)(const char *message, void *data);
	/* An assertion of a job's "expect" failed: message names the job,
	 * the model, the assertion and why. May be NULL. */
	void (*expect_failed)(const char *message, void *data);
	/* Called at most every progress_interval_ms while the run goes on. */
	void (*progress)(const struct sched_totals *totals, void *data);
	void *data;
};

struct sched_config {
	char *const *files; /* job files, read in order */
	int nfiles;
	struct job_models models;  /* --model, --models, aliases */
	int concurrency;           /* requests in flight at most */
	long connect_timeout_ms;
	long timeout_ms;           /* per attempt */
	bool stream;               /* ConverseStream for every job */
	long idle_timeout_ms;      /* a stream without a byte this long fails */
	struct retry_policy retry;
	struct ratelimit_config rate; /* per model */
	const struct request_endpoint *endpoint;
	const struct creds_source *creds_source; /* where credentials are renewed from */
	const struct creds_value *creds;         /* the first ones (copied) */
	const char *ca_bundle;     /* NULL: the system's CA certificates */
	bool insecure;             /* no certificate check (--insecure) */
	struct store *store;
	int64_t run_id;
	int session;          /* 1 for a new run, 2 and more when resumed */
	bool retry_failed;    /* resumed: run the failed jobs again */
	const struct models *prices; /* for the cost so far and the limit */
	int64_t spent_pusd;   /* what earlier sessions of the run spent */
	int64_t max_cost_pusd; /* SPEND_NO_LIMIT, or where dispatching stops */
	long grace_ms;        /* after a first signal, the wait for requests in flight */
	long commit_interval_ms;
	long progress_interval_ms; /* 0: no progress calls */
	struct sched_callbacks cb;
};

/* Runs every job to its end, or until SIGINT, SIGTERM or the cost limit
 * stops it. A first signal stops dispatching and lets the requests in
 * flight end for up to grace_ms; a second one, or the end of the grace,
 * aborts them (their jobs stay pending, their attempts are recorded as
 * Interrupted). Returns 0 with the totals (see ending), or -1 with err set
 * when the run could not go on (a job file that cannot be read, a database
 * write that failed); jobs in flight are finished and recorded first. */
int sched_run(const struct sched_config *cfg, struct sched_totals *totals, struct nb_err *err);

#endif
