#include "ratelimit.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The token bucket holds this many seconds of the tpm cap (see the header). */
#define RATELIMIT_TPM_BURST_S 10.0
/* A bucket this close to what is needed (relative to the need) holds it:
 * after a wait computed to the exact moment, rounding must not ask for
 * another wait of a few nanoseconds. */
#define RATELIMIT_SLACK 1e-9
/* The adaptive pacer holds at most this many requests: the scheduler
 * rounds its timers up to the millisecond, and a pacer holding only one
 * would lose that time on every wait; two is not yet a burst. */
#define RATELIMIT_PACE_BURST 2.0
/* After a 429 the rate drops to this share of the quota estimate. Close to
 * 1 because the estimate is what the server accepted, not what was sent; the
 * rest lets the server's bucket fill a little before the next probe. */
#define RATELIMIT_BETA 0.9
/* After a decrease the rate climbs back to the estimate in K seconds, on a
 * cubic curve, then goes on above it (10% above at 2K, twice it at 3.2K).
 * K is the time to send this many requests at the estimate, so that each
 * probe costs about the same share of 429s at any rate... */
#define RATELIMIT_PROBE_REQUESTS 40.0
/* ...but no less than this many seconds at high rates. */
#define RATELIMIT_PROBE_MIN_S 2.0
/* Between the first 429 and the second the rate doubles every this many
 * seconds instead: the first estimate counts the server's burst as a
 * second's worth, which may be far under its rate. */
#define RATELIMIT_START_DOUBLING_S 1.0
/* The adaptive rate never goes lower, in requests/s: no wait is longer than
 * two seconds because of it. */
#define RATELIMIT_FLOOR 0.5
/* The probe above the estimate stops at this many times the rate really
 * sent over the window: when concurrency is the cap the rate cannot be
 * tested, and must not grow without bound. */
#define RATELIMIT_HEADROOM 2.0
/* Sends and refusals are counted per slot of SLOT_MS, over the last SLOTS
 * slots (ten seconds). */
#define RATELIMIT_SLOT_MS 100.0
#define RATELIMIT_SLOTS 100
/* The first estimate, and the rate sent for the headroom, are measured
 * over at least this long: a fresh server accepts its burst at once, and
 * the first estimate counts it as a second's worth. */
#define RATELIMIT_MEASURE_MIN_S 1.0
/* A later estimate, measured exactly between two decreases, counts at
 * least this many accepted attempts: fewer say little. A 429 that comes
 * sooner waits for more. */
#define RATELIMIT_MEASURE_MIN 10.0
/* A count of refusals differs from what a share predicts when it lies more
 * than this many standard deviations, plus one request, away: about one
 * wrong verdict in a thousand, and none on a single 429. */
#define RATELIMIT_CHECK_Z 3.0
/* The background share is the refused share of the last this many
 * attempts that bear on it: enough to know 30% within 1.5%, few enough to
 * follow throttling that eases within a minute at 20 requests/s. */
#define RATELIMIT_BACKGROUND_MEMORY 1000.0
/* The background share is taken as at most this: the estimate divides by
 * what is left of it, so a server that refuses nearly everything (a model
 * not ready yet) multiplies it by 100 at most, and only 429s clearly over
 * 99% still cut. */
#define RATELIMIT_BACKGROUND_MAX 0.99
/* While no check runs, the attempts are counted over periods of this
 * length; a period clearly under the background share bears on it. */
#define RATELIMIT_PERIOD_MS 2000.0
/* Decreases remembered for undoing. */
#define RATELIMIT_UNDO_DEPTH 8

struct ratelimit_bucket {
	double level;  /* may go negative after a settle that used more than reserved */
	double cap;    /* 0: no bucket */
	double per_ms; /* refill */
};

/* Attempts sent, and how many of them have been refused so far. */
struct ratelimit_count {
	double sent;
	double refused;
};

/* The attempts sent during one slot of the window. */
struct ratelimit_slot {
	long long n; /* slot number: floor(ms / SLOT_MS) */
	struct ratelimit_count c;
};

/* The curve of the adaptive rate: what a decrease sets and an undo puts
 * back. */
struct ratelimit_curve {
	long decreases;  /* epochs so far; 0: no adaptive limit */
	double epoch_ms; /* the last decrease */
	double seen;     /* the quota estimate, accepted requests/s, corrected since */
	double seen_from_ms, seen_to_ms; /* the sends it counted */
	double seen_unit;                /* what one of them adds to it */
	double seen_accepted;            /* how many attempts it counted as accepted */
	double seen_need;                /* how many it needs to stand */
	double ceiling;  /* the rate in force at the last decrease; INFINITY at the first */
};

/* A decrease, remembered so that it can be undone. */
struct ratelimit_cut {
	struct ratelimit_curve before; /* the curve it replaced */
	double since_ms;               /* the count it ended (see the model) */
	struct ratelimit_count since;
	double why_from_ms;            /* the second of sends before it... */
	struct ratelimit_count why;    /* ...and how many of them were refused */
};

struct ratelimit_model {
	struct ratelimit_bucket req, tok;
	bool adaptive;
	double last_ms;  /* when everything was last brought up to date */
	double first_ms; /* the first send; INFINITY before */
	/* The adaptive state. */
	struct ratelimit_curve c;
	double rate; /* requests/s at last_ms, once c.decreases > 0 */
	double pace; /* the pacer's level, in requests */
	/* The attempts sent since the last decrease: the next estimate. */
	double since_ms;
	struct ratelimit_count since;
	struct ratelimit_cut cuts[RATELIMIT_UNDO_DEPTH]; /* the last decreases, oldest first */
	int ncuts;
	/* The check of the last decrease: the attempts sent from it until
	 * check_to_ms, while the rate stays under the estimate. */
	bool checking;
	double check_to_ms;
	struct ratelimit_count check;
	/* The background share of 429s, which no decrease cures; and the
	 * attempts since the last decision (a decrease, an undo or a new
	 * period), which the next 429 is weighed against. */
	double background;
	double background_n; /* the attempts it stands on, at most BACKGROUND_MEMORY */
	double period_ms;
	struct ratelimit_count period;
	struct ratelimit_slot win[RATELIMIT_SLOTS];
};

static double ratelimit_tokens(double est_tokens)
{
	return est_tokens > 0 ? est_tokens : 0; /* NaN too */
}

static void bucket_init(struct ratelimit_bucket *b, double cap, double per_s)
{
	b->level = cap;
	b->cap = cap;
	b->per_ms = per_s / 1000;
}

static void bucket_refill(struct ratelimit_bucket *b, double dt_ms)
{
	if (b->level < b->cap)
		b->level = fmin(b->cap, b->level + b->per_ms * dt_ms);
}

/* Adds n (which may be negative) to the level, up to the cap. */
static void bucket_add(struct ratelimit_bucket *b, double n)
{
	if (b->cap > 0)
		b->level = fmin(b->cap, b->level + n);
}

/* Milliseconds until b holds need, or is full when need is more than it
 * can hold, so that no reservation waits forever. */
static double bucket_wait_ms(const struct ratelimit_bucket *b, double need)
{
	if (b->cap <= 0)
		return 0;
	need = fmin(need, b->cap);
	double missing = need - b->level;
	return missing <= RATELIMIT_SLACK * fmax(1, need) ? 0 : missing / b->per_ms;
}

/* Whether k refused of n is clearly more (above) or clearly less (below)
 * than the share p predicts; see RATELIMIT_CHECK_Z. */
static bool clearly_above(struct ratelimit_count c, double p)
{
	return c.refused - c.sent * p > RATELIMIT_CHECK_Z * sqrt(c.sent * p * (1 - p)) + 1;
}

static bool clearly_below(struct ratelimit_count c, double p)
{
	return c.sent * p - c.refused > RATELIMIT_CHECK_Z * sqrt(c.sent * p * (1 - p)) + 1;
}

static double refused_share(struct ratelimit_count c)
{
	return c.sent > 0 ? c.refused / c.sent : 1;
}

static long long slot_number(double ms)
{
	double n = floor(ms / RATELIMIT_SLOT_MS);
	/* Beyond any clock, or NaN: a slot no send is counted in. */
	return fabs(n) < 1e15 ? (long long)n : LLONG_MIN;
}

static struct ratelimit_slot *slot_of(struct ratelimit_model *m, long long n)
{
	long long i = n % RATELIMIT_SLOTS;
	return &m->win[i < 0 ? i + RATELIMIT_SLOTS : i];
}

/* Sums the attempts sent from the start of slot number from (at the
 * earliest, the oldest slot kept) to now, and those refused so far. */
static struct ratelimit_count window_sum(const struct ratelimit_model *m, long long from,
					 double now_ms)
{
	long long cur = slot_number(now_ms);
	struct ratelimit_count sum = {0, 0};
	for (int i = 0; i < RATELIMIT_SLOTS; i++) {
		const struct ratelimit_slot *s = &m->win[i];
		if (s->n >= from && s->n > cur - RATELIMIT_SLOTS && s->n <= cur) {
			sum.sent += s->c.sent;
			sum.refused += s->c.refused;
		}
	}
	return sum;
}

/* The oldest slot kept at now. */
static long long window_oldest(double now_ms)
{
	return slot_number(now_ms) - RATELIMIT_SLOTS + 1;
}

/* The first slot of the last second at now. */
static long long window_last_second(double now_ms)
{
	return slot_number(now_ms) - (long long)(1000 / RATELIMIT_SLOT_MS) + 1;
}

/* When the sends counted from slot number from began: the slot's start,
 * or the first send. */
static double window_start_ms(const struct ratelimit_model *m, long long from)
{
	return fmax((double)from * RATELIMIT_SLOT_MS, m->first_ms);
}

/* The estimate as the curve uses it. */
static double curve_top(const struct ratelimit_curve *c)
{
	return fmax(RATELIMIT_FLOOR, fmin(c->seen, c->ceiling));
}

/* Seconds from a decrease until the curve is back at the estimate. */
static double curve_back_s(const struct ratelimit_curve *c)
{
	if (c->decreases == 1)
		return log2(1 / RATELIMIT_BETA) * RATELIMIT_START_DOUBLING_S;
	return fmax(RATELIMIT_PROBE_MIN_S, RATELIMIT_PROBE_REQUESTS / curve_top(c));
}

/* The adaptive rate at now: on the cubic curve through beta * estimate at
 * the last decrease and the estimate itself K seconds later; doubling from
 * beta * estimate after the first decrease. */
static double adaptive_rate(const struct ratelimit_model *m, double now_ms)
{
	double top = curve_top(&m->c);
	double t = (now_ms - m->c.epoch_ms) / 1000;
	double r;
	if (m->c.decreases == 1) {
		r = RATELIMIT_BETA * top * exp2(t / RATELIMIT_START_DOUBLING_S);
	} else {
		double k = curve_back_s(&m->c);
		double u = (t - k) / k;
		r = top * (1 + (1 - RATELIMIT_BETA) * u * u * u);
	}
	if (r > top) {
		long long from = window_oldest(now_ms);
		struct ratelimit_count w = window_sum(m, from, now_ms);
		double span_s = fmax(RATELIMIT_MEASURE_MIN_S,
				     (now_ms - window_start_ms(m, from)) / 1000);
		r = fmin(r, fmax(top, RATELIMIT_HEADROOM * w.sent / span_s));
	}
	return fmax(r, RATELIMIT_FLOOR);
}

/* Starts a new period of attempts for the next 429 to be weighed against. */
static void period_start(struct ratelimit_model *m, double now_ms)
{
	m->period_ms = now_ms;
	m->period = (struct ratelimit_count){0, 0};
}

/* Adds attempts that bear on the background share: refused, if at all,
 * whatever the rate. A single 429 is no background. */
static void background_learn(struct ratelimit_model *m, struct ratelimit_count c)
{
	double n = m->background_n + c.sent;
	double k = m->background * m->background_n + c.refused;
	if (n <= 0 || (m->background_n == 0 && !clearly_above(c, 0)))
		return;
	m->background = fmin(RATELIMIT_BACKGROUND_MAX, k / n);
	m->background_n = fmin(RATELIMIT_BACKGROUND_MEMORY, n);
}

/* The check ran its course without a verdict, and the decrease stands.
 * The attempts it counted were sent under the estimate, where the quota
 * refuses none: those refused among them are the background's. */
static void check_end(struct ratelimit_model *m)
{
	m->checking = false;
	background_learn(m, m->check);
}

/* Brings the buckets, the pacer, the rate, the check and the background
 * up to now, and returns now; time never runs backwards here, whatever
 * the caller passes. */
static double ratelimit_advance(struct ratelimit_model *m, double now_ms)
{
	if (!(now_ms > m->last_ms))
		return m->last_ms;
	double dt = now_ms - m->last_ms;
	bucket_refill(&m->req, dt);
	bucket_refill(&m->tok, dt);
	if (m->c.decreases) {
		m->pace = fmin(RATELIMIT_PACE_BURST, m->pace + m->rate * dt / 1000);
		m->rate = adaptive_rate(m, now_ms);
	}
	if (m->checking && now_ms >= m->check_to_ms)
		check_end(m);
	if (m->background > 0 && !m->checking && now_ms - m->period_ms >= RATELIMIT_PERIOD_MS) {
		if (clearly_below(m->period, m->background))
			background_learn(m, m->period);
		period_start(m, now_ms);
	}
	m->last_ms = now_ms;
	return now_ms;
}

/* Measures the quota at a new epoch, and returns false when there is too
 * little to measure. The server's bucket was empty at the last decrease and
 * is empty now, so in between it accepted exactly what it refilled: the
 * attempts sent since, less those refused. The first estimate has no such
 * start: it counts the window, as a second's worth at least, which a fresh
 * server's burst may fill. An interval longer than the window is measured
 * over the window. A background share of 429s, which would come at any
 * rate, is counted as accepted. */
static bool adaptive_measure(struct ratelimit_model *m, double now_ms)
{
	struct ratelimit_count c = m->since;
	double start = m->since_ms;
	if (!m->c.decreases || now_ms - start > RATELIMIT_SLOTS * RATELIMIT_SLOT_MS) {
		long long from = window_oldest(now_ms);
		start = window_start_ms(m, from);
		c = window_sum(m, from, now_ms);
	}
	double need = m->c.decreases ? RATELIMIT_MEASURE_MIN : 1;
	double span_s = (now_ms - start) / 1000;
	if (!m->c.decreases)
		span_s = fmax(RATELIMIT_MEASURE_MIN_S, span_s);
	/* No time at all: only a caller that sends within the millisecond of
	 * a decrease, which the pacer does not allow. */
	if (c.sent - c.refused < need || !(span_s > 0))
		return false;
	m->c.seen_unit = 1 / (span_s * (1 - m->background));
	m->c.seen = (c.sent - c.refused) * m->c.seen_unit;
	m->c.seen_accepted = c.sent - c.refused;
	m->c.seen_need = need;
	m->c.seen_from_ms = start;
	m->c.seen_to_ms = now_ms;
	return true;
}

/* Starts counting the attempts for the next estimate. */
static void since_start(struct ratelimit_model *m, double now_ms)
{
	m->since_ms = now_ms;
	m->since = (struct ratelimit_count){0, 0};
}

/* A decrease, remembered, measured, then checked. */
static void adaptive_decrease(struct ratelimit_model *m, double now_ms)
{
	struct ratelimit_curve before = m->c;
	if (!adaptive_measure(m, now_ms))
		return;
	if (m->ncuts == RATELIMIT_UNDO_DEPTH) {
		memmove(&m->cuts[0], &m->cuts[1], (RATELIMIT_UNDO_DEPTH - 1) * sizeof m->cuts[0]);
		m->ncuts--;
	}
	struct ratelimit_cut *cut = &m->cuts[m->ncuts++];
	long long from = window_last_second(now_ms);
	cut->before = before;
	cut->since_ms = m->since_ms;
	cut->since = m->since;
	cut->why_from_ms = window_start_ms(m, from);
	cut->why = window_sum(m, from, now_ms);

	m->c.ceiling = m->c.decreases ? m->rate : INFINITY;
	m->c.decreases++;
	m->c.epoch_ms = now_ms;
	m->pace = 0;
	since_start(m, now_ms);
	m->rate = adaptive_rate(m, now_ms);
	/* The first estimate counts the server's burst: what is sent under it
	 * is not known to be under the quota, so there is nothing to check. */
	m->checking = m->c.decreases > 1;
	m->check_to_ms = now_ms + 1000 * curve_back_s(&m->c);
	m->check = (struct ratelimit_count){0, 0};
	period_start(m, now_ms);
}

/* Puts back the curve from before the last decrease, and the count of
 * attempts since the decrease before it. */
static void adaptive_pop(struct ratelimit_model *m, double now_ms)
{
	const struct ratelimit_cut *cut = &m->cuts[--m->ncuts];
	m->c = cut->before;
	m->since_ms = cut->since_ms;
	m->since.sent += cut->since.sent;
	m->since.refused += cut->since.refused;
	m->checking = false;
	if (m->c.decreases)
		m->rate = adaptive_rate(m, now_ms);
	period_start(m, now_ms);
}

/* The last decrease did not cure: the attempts sent since kept being
 * refused at the share that prompted it. That share, over both, is
 * background; the decrease is undone, and so are those before it that the
 * background explains as well. */
static void adaptive_undo(struct ratelimit_model *m, double now_ms)
{
	const struct ratelimit_count *why = &m->cuts[m->ncuts - 1].why;
	background_learn(m, (struct ratelimit_count){why->sent + m->check.sent,
						   why->refused + m->check.refused});
	do
		adaptive_pop(m, now_ms);
	while (m->ncuts > 0 && !clearly_above(m->cuts[m->ncuts - 1].why, m->background));
}

enum ratelimit_verdict { VERDICT_NONE_YET, VERDICT_CURED, VERDICT_NOT_CURED, VERDICT_WORSE };

/* Weighs the attempts sent since the last decrease (the check) against the
 * refused share of the second before it (why) and the background share,
 * which is what a cure leaves. */
static enum ratelimit_verdict adaptive_verdict(const struct ratelimit_model *m)
{
	double why = refused_share(m->cuts[m->ncuts - 1].why);
	struct ratelimit_count cured = {m->check.sent, m->check.sent * m->background};
	if (clearly_above(m->check, why))
		return VERDICT_WORSE;
	if (clearly_below(m->check, why))
		return VERDICT_CURED;
	/* Neither: the share that prompted the decrease, once the check is
	 * long enough for a cure to show as clearly less. */
	if (clearly_above(m->check, m->background) && clearly_below(cured, why))
		return VERDICT_NOT_CURED;
	return VERDICT_NONE_YET;
}

/* Counts one more refusal in c, which never holds more than were sent:
 * attempts sent in the millisecond of a decrease, just before it, may be
 * refused after it. */
static void count_refused(struct ratelimit_count *c)
{
	if (c->refused < c->sent)
		c->refused++;
}

/* A 429 for an attempt sent at sent_ms. */
static void adaptive_throttled(struct ratelimit_model *m, double now_ms, double sent_ms)
{
	long long n = slot_number(sent_ms);
	struct ratelimit_slot *s = slot_of(m, n);
	if (s->n == n)
		count_refused(&s->c);

	/* Sent before the last decrease (in its millisecond too: the pacer
	 * sends nothing in the millisecond of a decrease). */
	if (m->c.decreases && sent_ms <= m->c.epoch_ms) {
		/* The decrease already answered it. It counts in the share
		 * that prompted the decrease; if the estimate counted it as
		 * accepted, it was one too many. */
		struct ratelimit_cut *cut = m->ncuts ? &m->cuts[m->ncuts - 1] : NULL;
		if (cut && sent_ms >= cut->why_from_ms)
			count_refused(&cut->why);
		if (sent_ms >= m->c.seen_from_ms && sent_ms <= m->c.seen_to_ms) {
			m->c.seen -= m->c.seen_unit;
			m->rate = adaptive_rate(m, now_ms);
			/* Too little accepted after all: as if the 429 that
			 * prompted the decrease had waited for more. None at
			 * all: the server refuses for a reason of its own
			 * (a quota accepts its refill), in the share that
			 * prompted the decrease. */
			if (--m->c.seen_accepted < m->c.seen_need && m->ncuts > 0) {
				if (m->c.seen_accepted <= 0 && cut)
					background_learn(m, cut->why);
				adaptive_pop(m, now_ms);
			}
		}
		return;
	}
	if (sent_ms >= m->period_ms)
		count_refused(&m->period);
	if (sent_ms >= m->since_ms)
		count_refused(&m->since);
	if (m->checking && sent_ms < m->check_to_ms) {
		count_refused(&m->check);
		switch (adaptive_verdict(m)) {
		case VERDICT_NONE_YET:
			return;
		case VERDICT_NOT_CURED:
			adaptive_undo(m, now_ms);
			return;
		case VERDICT_CURED:
		case VERDICT_WORSE:
			/* The rate matters: this 429 is weighed like any other. */
			m->checking = false;
			break;
		}
	}
	/* A background share of 429s comes at any rate; only more than that
	 * says the rate is too high. */
	if (m->background > 0 && !clearly_above(m->period, m->background))
		return;
	adaptive_decrease(m, now_ms);
}

struct ratelimit_model *ratelimit_model_new(const struct ratelimit_config *cfg, double now_ms)
{
	struct ratelimit_model *m = xcalloc(1, sizeof *m);
	if (cfg->rpm > 0) {
		double burst = cfg->burst > 0 ? cfg->burst : cfg->rpm / 60;
		bucket_init(&m->req, fmax(1, burst), cfg->rpm / 60);
	}
	if (cfg->tpm > 0)
		bucket_init(&m->tok, cfg->tpm / 60 * RATELIMIT_TPM_BURST_S, cfg->tpm / 60);
	m->adaptive = cfg->adaptive;
	m->last_ms = isfinite(now_ms) ? now_ms : 0;
	m->first_ms = INFINITY;
	m->period_ms = m->last_ms;
	m->since_ms = m->last_ms;
	return m;
}

void ratelimit_model_free(struct ratelimit_model *m)
{
	free(m);
}

double ratelimit_wait_ms(struct ratelimit_model *m, double now_ms, double est_tokens)
{
	ratelimit_advance(m, now_ms);
	double w = fmax(bucket_wait_ms(&m->req, 1),
			bucket_wait_ms(&m->tok, ratelimit_tokens(est_tokens)));
	if (m->c.decreases && m->pace < 1 - RATELIMIT_SLACK)
		w = fmax(w, (1 - m->pace) / m->rate * 1000);
	return w;
}

void ratelimit_take(struct ratelimit_model *m, double now_ms, double est_tokens)
{
	now_ms = ratelimit_advance(m, now_ms);
	bucket_add(&m->req, -1);
	bucket_add(&m->tok, -ratelimit_tokens(est_tokens));
	if (m->c.decreases)
		m->pace -= 1;
	if (m->adaptive) {
		m->first_ms = fmin(m->first_ms, now_ms);
		long long n = slot_number(now_ms);
		struct ratelimit_slot *s = slot_of(m, n);
		if (s->n != n) {
			s->n = n;
			s->c = (struct ratelimit_count){0, 0};
		}
		s->c.sent++;
		m->period.sent++;
		m->since.sent++;
		if (m->checking)
			m->check.sent++;
	}
}

void ratelimit_settle(struct ratelimit_model *m, double now_ms, double sent_ms,
		      enum ratelimit_outcome outcome, double est_tokens, double used_tokens)
{
	now_ms = ratelimit_advance(m, now_ms);
	double est = ratelimit_tokens(est_tokens);
	if (outcome == RATELIMIT_THROTTLED)
		bucket_add(&m->tok, est);
	else if (used_tokens >= 0)
		bucket_add(&m->tok, est - used_tokens);
	if (m->adaptive && outcome == RATELIMIT_THROTTLED)
		adaptive_throttled(m, now_ms, sent_ms);
}

double ratelimit_rate(const struct ratelimit_model *m)
{
	return m->c.decreases ? m->rate : 0;
}
