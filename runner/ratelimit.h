/*
 * ratelimit: when the next request to one model may be sent.
 *
 * Owns the state of one model's limits: a request bucket (--rpm), a token
 * bucket (--tpm) and the adaptive rate learnt from throttling. A pure core:
 * no I/O, no clock, no randomness; times come in as milliseconds on any
 * monotonic scale. It does not own the concurrency window, the retries or
 * their backoff (retry.h), nor the timers: the scheduler asks how long to
 * wait, waits on a timer, asks again, and then takes.
 *
 * Buckets. The request bucket holds burst requests and refills rpm/60 per
 * second. The token bucket holds ten seconds of the tpm cap and refills tpm/60
 * per second. Bedrock documents its quota per minute and reserves input +
 * maxTokens when a request starts, settling to the tokens really used when
 * it ends; the bucket does the same (take reserves est_tokens, settle gives
 * back est - used, or takes more, so the level may go negative and the waits
 * grow). A minute's worth would let a run spend a whole minute of tokens at
 * once and, with the refill, twice the cap in its first minute; a second's
 * worth is smaller than one request whenever tpm is under about 60 times
 * maxTokens. Ten seconds bounds any minute to 1 1/6 of the cap and holds
 * several requests. A reservation larger than the whole bucket is let
 * through when the bucket is full, so nothing waits forever.
 *
 * Adaptive rate. Until a first 429 there is no adaptive limit: concurrency
 * is the only cap. A 429 for an attempt sent after the last decrease starts
 * an epoch: the rate drops to beta (0.9) times an estimate of the quota,
 * then climbs back to the estimate on a cubic curve, reaching it after K
 * seconds (the time to send 40 requests, at least 2 s), and goes on above
 * it, slowly and then faster, so that a quota that rose is found again.
 * The AWS SDKs' adaptive mode (CUBIC, beta 0.7, fed from the send rate)
 * is reported to use about half of a quota when many requests are in
 * flight, because every 429 of a burst cuts the rate again; two rules
 * avoid that:
 *  - One reaction per epoch. A 429 for an attempt sent before the last
 *    decrease was already answered by it (TCP ignores losses from before
 *    its last reduction the same way); it only corrects the estimate.
 *  - The estimate is what the server accepted, not what was sent: the
 *    attempts sent since the last decrease, less those refused, per
 *    second. The server's bucket was empty at that decrease's 429 and is
 *    empty at this one, so in between it accepted exactly what it refilled:
 *    its quota. Counted exactly, this holds for a short interval too, once
 *    it holds 10 accepted attempts; a 429 that comes sooner waits for more
 *    (over ten seconds, the last ten are counted). Successes cannot tell
 *    it at the first 429 (they arrive a latency later, 429s at once), so an
 *    attempt counts as accepted from its send until it is refused; each 429
 *    of the same burst that arrives after the decrease takes one back, and
 *    a decrease left with fewer than it needs is withdrawn. The first
 *    estimate can only count the burst a fresh server accepted at once, as
 *    a second's worth, so until the second epoch the rate doubles every
 *    second instead of following the curve.
 * The rate never goes under 0.5 request/s; above the estimate it never
 * goes past twice the rate really sent over the last ten seconds (when
 * concurrency is the cap, a higher rate cannot be tested).
 *
 * Throttling the rate does not cause. Some 429s come whatever one client
 * sends: capacity throttling, a model not ready, a test server's faults.
 * Cut after cut for them, the rate would sink to its floor and an
 * overnight run would crawl. A quota and such a background differ in how
 * they answer a decrease: under a quota the refused share falls with the
 * rate (at S requests/s over a quota Q it is 1 - Q/S, and nothing is
 * refused under Q), a background share does not move. So:
 *  - A decrease is checked. The quota refuses nothing sent under the
 *    estimate, so the attempts sent after a decrease until the curve is
 *    back at the estimate see only the background share (below). If they
 *    are refused at the share of the second before the decrease instead,
 *    the decrease did not cure: it is undone, with the earlier ones that
 *    the same share explains, and both samples count as background. A
 *    share clearly lower (a cure) or clearly higher (things changed) lets
 *    the decrease stand and the 429 count as any other. "Clearly" is by
 *    more than three standard deviations plus one request, so a lone 429
 *    decides nothing. The first decrease is not checked: its estimate
 *    counts the server's burst, so nothing is known to be under the quota.
 *  - The background share is the refused share of the last 1000 attempts
 *    that bear on it: those of checks that ran their course (they were
 *    sent under the estimate), those of an undone decrease, and those of
 *    a two-second period clearly under it, so that it falls when the
 *    throttling eases. While it is not zero, a 429 starts an epoch only if
 *    the attempts since the last decrease, undo or period are refused
 *    clearly more than it, and the estimate divides what was accepted by
 *    what the background leaves (1 - share, the share at most 0.99).
 *  - A server that accepted nothing is no quota: a quota accepts its
 *    burst and its refill. A decrease whose estimate late 429s bring to
 *    no accepted attempt at all is withdrawn, and the share that prompted
 *    it is background. A quota that another client uses up looks the same:
 *    pacing is then left to the retries' backoff.
 */
#ifndef NB_RATELIMIT_H
#define NB_RATELIMIT_H

#include <stdbool.h>

struct ratelimit_config {
	double rpm;    /* requests per minute cap; 0 = none */
	double tpm;    /* tokens per minute cap; 0 = none */
	double burst;  /* request bucket size; 0 = rpm/60 (one second's worth), at least 1 */
	bool adaptive; /* discover the quota from throttling */
};

enum ratelimit_outcome {
	RATELIMIT_OK,        /* the model answered */
	RATELIMIT_THROTTLED, /* 429 ThrottlingException: nothing ran, no tokens used */
	RATELIMIT_OTHER,     /* any other failure: the rate is not touched */
};

/* The state for one model. */
struct ratelimit_model;

/* Returns a new model state; both buckets start full. */
struct ratelimit_model *ratelimit_model_new(const struct ratelimit_config *cfg, double now_ms);

/* Frees m; NULL does nothing. */
void ratelimit_model_free(struct ratelimit_model *m);

/* Milliseconds to wait, from now, before a request estimated at est_tokens
 * (input + maxTokens) may be sent; 0 = now. Does not reserve. Ask again when
 * the wait is over: the answer may have changed either way. */
double ratelimit_wait_ms(struct ratelimit_model *m, double now_ms, double est_tokens);

/* Reserves one request and est_tokens at now: call it when the request is
 * sent, right after ratelimit_wait_ms returned 0. */
void ratelimit_take(struct ratelimit_model *m, double now_ms, double est_tokens);

/* Settles one finished attempt that was sent (taken) at sent_ms. For OK and
 * OTHER, used_tokens is input + output (< 0 unknown: the estimate stands);
 * for THROTTLED the whole reservation comes back. The difference goes back
 * to (or comes out of) the token bucket, and the outcome feeds the adaptive
 * rate. */
void ratelimit_settle(struct ratelimit_model *m, double now_ms, double sent_ms,
		      enum ratelimit_outcome outcome, double est_tokens, double used_tokens);

/* The adaptive send rate in requests/s as of the last call, or 0 while no
 * throttling has been seen (or the config is not adaptive). */
double ratelimit_rate(const struct ratelimit_model *m);

#endif
