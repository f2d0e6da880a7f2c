#include "spend.h"

#include <math.h>

/* A million USD in pico-USD: a limit beyond is a typo. */
#define SPEND_MAX_LIMIT_PUSD 1000000000000000000LL
#define SPEND_PUSD_PER_USD 1000000000000LL

void spend_init(struct spend *s, int64_t limit_pusd, int64_t spent_pusd)
{
	s->limit_pusd = limit_pusd;
	s->spent_pusd = spent_pusd;
	s->reserved_pusd = 0;
}

int64_t spend_worst_case_pusd(const struct models_price *price, double est_input_tokens,
			      double max_output_tokens)
{
	/* Estimates are whole numbers of tokens in practice; round up so the
	 * worst case is never below the real one for a request of that size. */
	double input = est_input_tokens > 0 ? ceil(est_input_tokens) : 0;
	double output = max_output_tokens > 0 ? ceil(max_output_tokens) : 0;
	/* Past any limit (a million USD), the exact figure does not matter:
	 * it is held there, so sums of worst cases cannot overflow. */
	double worst = input * (double)price->input + output * (double)price->output;
	if (!(worst < (double)SPEND_MAX_LIMIT_PUSD))
		return 2 * SPEND_MAX_LIMIT_PUSD;
	return models_cost_pusd(price, (int64_t)input, (int64_t)output, 0, 0);
}

bool spend_allows(const struct spend *s, int64_t worst_pusd)
{
	if (s->limit_pusd == SPEND_NO_LIMIT)
		return true;
	return s->spent_pusd + s->reserved_pusd + worst_pusd <= s->limit_pusd;
}

void spend_reserve(struct spend *s, int64_t worst_pusd)
{
	s->reserved_pusd += worst_pusd;
}

void spend_settle(struct spend *s, int64_t worst_pusd, int64_t cost_pusd)
{
	s->reserved_pusd -= worst_pusd;
	s->spent_pusd += cost_pusd;
}

int spend_parse_usd(const char *text, int64_t *pusd)
{
	int64_t whole = 0, frac = 0, scale = SPEND_PUSD_PER_USD;
	const char *p = text;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole >= SPEND_MAX_LIMIT_PUSD / SPEND_PUSD_PER_USD)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 1)
				return -1; /* finer than a pico-dollar */
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (*p)
		return -1;
	*pusd = whole * SPEND_PUSD_PER_USD + frac;
	return 0;
}
