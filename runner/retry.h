/*
 * retry: what to do after an attempt, and how long to wait before the next.
 *
 * A pure core. retry_classify is the one place that maps what came back
 * (transport outcome, HTTP status, error type) to a decision; retry_delay_ms
 * turns the attempt number and a random value into a wait (exponential,
 * capped, full jitter). It keeps no state and reads no clock: the scheduler
 * counts attempts and waits on timers.
 */
#ifndef NB_RETRY_H
#define NB_RETRY_H

#include <stdbool.h>

#include "pool.h"

enum retry_class {
	RETRY_SUCCESS,   /* the answer is the result */
	RETRY_THROTTLED, /* over quota: wait longer, slow the model down, again */
	RETRY_TRANSIENT, /* the service or the network hiccuped: wait, again */
	RETRY_REFRESH,   /* the credentials expired: refresh them, then again */
	RETRY_FINAL,     /* the same request would fail the same way */
	RETRY_INTERRUPTED, /* the run stopped it: no verdict, the job waits */
};

struct retry_policy {
	int max_attempts;          /* attempts per job, the first included */
	double transient_base_ms;  /* first backoff ceiling after a transient error */
	double throttled_base_ms;  /* first backoff ceiling after throttling */
	double cap_ms;             /* no backoff ceiling grows past this */
	bool retry_model_timeout;  /* 408 ModelTimeoutException is transient */
	bool retry_model_error;    /* 424 ModelErrorException is transient */
};

#define RETRY_DEFAULT_MAX_ATTEMPTS 8

void retry_policy_init(struct retry_policy *p);

/* Classifies one attempt. error_type is the service's error name
 * ("ThrottlingException"), or "MalformedResponse" for a 200 whose body could
 * not be read, or NULL. */
enum retry_class retry_classify(const struct retry_policy *p, enum pool_transport transport,
				long http_status, const char *error_type);

/* The wait before the next attempt, after attempts_done attempts (>= 1)
 * ended in class c: uniform in [0, min(cap, base * 2^(attempts_done-1))),
 * taken from random01 in [0, 1). */
double retry_delay_ms(const struct retry_policy *p, enum retry_class c, int attempts_done,
		      double random01);

/* "throttled", "transient", ...: for messages. */
const char *retry_class_name(enum retry_class c);

#endif
