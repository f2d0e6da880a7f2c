/*
 * attempt: reads one finished HTTP attempt.
 *
 * Turns what the pool measured and received into what the scheduler and
 * the store need: the retry class (retry.h), the parsed answer on success
 * (response.h, or stream_read.h for a streamed attempt, with its timings),
 * otherwise the error type and message, and the request id.
 * Pure: no I/O, no clock.
 */
#ifndef NB_ATTEMPT_H
#define NB_ATTEMPT_H

#include "pool.h"
#include "response.h"
#include "retry.h"
#include "stream_read.h"

struct attempt_outcome {
	enum retry_class class;
	struct response answer; /* filled when class is RETRY_SUCCESS */
	char error_type[128];   /* "" on success */
	char *error_message;    /* owned; NULL on success */
	char *transport_error;  /* owned; curl's message when no answer came */
	char request_id[128];   /* "" when the answer carried none */
	long http_status;       /* 0 when no answer came */
	double latency_ms;
	/* Streamed attempts only; -1 otherwise or when unknown. */
	double ttft_ms;         /* the first content delta */
	double tokens_per_s;    /* output tokens a second after the first */
	double gap_p50_ms, gap_max_ms; /* between content deltas */
};

/* sr: the stream the attempt was read into, or NULL for Converse. */
void attempt_read(const struct pool_result *res, struct stream_read *sr,
		  const struct retry_policy *policy, struct attempt_outcome *out);
void attempt_outcome_cleanup(struct attempt_outcome *o);

#endif
