/*
 * spend: what a run has spent, what its requests in flight may still
 * spend, and the stop-loss (`run --max-cost`).
 *
 * A pure core over integer pico-USD (models.h). A request reserves its
 * worst case when it is sent (its input estimate plus maxTokens, at list
 * price) and gives the reservation back when its answer is recorded, which
 * then adds what it really cost. A run may send a request only while what
 * is spent, what is reserved and the request's own worst case stay within
 * the limit. It reads no clock and no database: the scheduler feeds it.
 */
#ifndef NB_SPEND_H
#define NB_SPEND_H

#include <stdbool.h>
#include <stdint.h>

#include "models.h"

#define SPEND_NO_LIMIT (-1)

struct spend {
	int64_t limit_pusd;    /* SPEND_NO_LIMIT, or the most the run may spend */
	int64_t spent_pusd;    /* the cost of the answers recorded */
	int64_t reserved_pusd; /* the worst case of the requests in flight */
};

/* Starts with what earlier sessions of the run spent. */
void spend_init(struct spend *s, int64_t limit_pusd, int64_t spent_pusd);

/* The most a request may cost: its input estimate and maxTokens, both at
 * list price. */
int64_t spend_worst_case_pusd(const struct models_price *price, double est_input_tokens,
			      double max_output_tokens);

/* Whether a request of that worst case may be sent now. */
bool spend_allows(const struct spend *s, int64_t worst_pusd);

/* A request was sent. */
void spend_reserve(struct spend *s, int64_t worst_pusd);

/* Its attempt ended: the reservation goes, cost_pusd (0 when nothing is
 * billed) is added. */
void spend_settle(struct spend *s, int64_t worst_pusd, int64_t cost_pusd);

/* Parses a limit in USD ("12", "0.5", "3.25") into pico-USD. Returns 0, or
 * -1 when text is not a non-negative decimal number below a million USD
 * with at most 12 decimals. */
int spend_parse_usd(const char *text, int64_t *pusd);

#endif
