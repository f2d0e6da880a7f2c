#include "ratelimit.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

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
/* The estimate is measured over at least this long: fewer requests than a
 * second's worth say little. A fresh server accepts its burst at once, and
 * the first estimate counts it as a second's worth. */
#define RATELIMIT_MEASURE_MIN_S 1.0

struct ratelimit_bucket {
	double level;  /* may go negative after a settle that used more than reserved */
	double cap;    /* 0: no bucket */
	double per_ms; /* refill */
};

/* The attempts sent during one slot of the window, and how many of them
 * have been refused so far. */
struct ratelimit_slot {
	long long n; /* slot number: floor(ms / SLOT_MS) */
	double sent;
	double refused;
};

struct ratelimit_model {
	struct ratelimit_bucket req, tok;
	bool adaptive;
	double last_ms;  /* when everything was last brought up to date */
	double first_ms; /* the first send; INFINITY before */
	/* The adaptive state, used once a 429 has been seen. */
	long decreases;     /* epochs so far; 0: no 429 yet */
	double rate;        /* requests/s at last_ms */
	double pace;        /* the pacer's level, in requests */
	double epoch_ms;    /* the last decrease */
	double mark_ms;     /* when the last epoch's 429 was sent: the server's bucket was empty */
	double seen;        /* the quota estimate, accepted requests/s, corrected since */
	double seen_from_ms, seen_to_ms; /* the sends it counted */
	double ceiling;     /* the rate in force at the last decrease; INFINITY at the first */
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
 * earliest, the oldest slot kept) to now, and those not refused so far. */
static void window_sum(const struct ratelimit_model *m, long long from, double now_ms,
		       double *sent, double *accepted)
{
	long long cur = slot_number(now_ms);
	*sent = 0;
	*accepted = 0;
	for (int i = 0; i < RATELIMIT_SLOTS; i++) {
		const struct ratelimit_slot *s = &m->win[i];
		if (s->n >= from && s->n > cur - RATELIMIT_SLOTS && s->n <= cur) {
			*sent += s->sent;
			*accepted += s->sent - s->refused;
		}
	}
}

/* The oldest slot kept at now. */
static long long window_oldest(double now_ms)
{
	return slot_number(now_ms) - RATELIMIT_SLOTS + 1;
}

/* When the sends counted from slot number from began: the slot's start,
 * or the first send. */
static double window_start_ms(const struct ratelimit_model *m, long long from)
{
	return fmax((double)from * RATELIMIT_SLOT_MS, m->first_ms);
}

/* The adaptive rate at now: on the cubic curve through beta * estimate at
 * the last decrease and the estimate itself K seconds later; doubling from
 * beta * estimate after the first decrease. */
static double adaptive_rate(const struct ratelimit_model *m, double now_ms)
{
	double top = fmax(RATELIMIT_FLOOR, fmin(m->seen, m->ceiling));
	double t = (now_ms - m->epoch_ms) / 1000;
	double r;
	if (m->decreases == 1) {
		r = RATELIMIT_BETA * top * exp2(t / RATELIMIT_START_DOUBLING_S);
	} else {
		double k = fmax(RATELIMIT_PROBE_MIN_S, RATELIMIT_PROBE_REQUESTS / top);
		double u = (t - k) / k;
		r = top * (1 + (1 - RATELIMIT_BETA) * u * u * u);
	}
	if (r > top) {
		double sent, accepted;
		long long from = window_oldest(now_ms);
		window_sum(m, from, now_ms, &sent, &accepted);
		double span_s = fmax(RATELIMIT_MEASURE_MIN_S,
				     (now_ms - window_start_ms(m, from)) / 1000);
		r = fmin(r, fmax(top, RATELIMIT_HEADROOM * sent / span_s));
	}
	return fmax(r, RATELIMIT_FLOOR);
}

/* Brings the buckets, the pacer and the rate up to now, and returns now;
 * time never runs backwards here, whatever the caller passes. */
static double ratelimit_advance(struct ratelimit_model *m, double now_ms)
{
	if (!(now_ms > m->last_ms))
		return m->last_ms;
	double dt = now_ms - m->last_ms;
	bucket_refill(&m->req, dt);
	bucket_refill(&m->tok, dt);
	if (m->decreases) {
		m->pace = fmin(RATELIMIT_PACE_BURST, m->pace + m->rate * dt / 1000);
		m->rate = adaptive_rate(m, now_ms);
	}
	m->last_ms = now_ms;
	return now_ms;
}

/* Measures the quota at a new epoch: what the server accepted since the
 * last epoch's 429 (its bucket was empty then and is empty now, so it
 * accepted what it refilled), or over the window kept when that is older.
 * The slot of that 429 is left out: what was sent in it before the 429 was
 * accepted from the bucket, not from the refill. */
static void adaptive_measure(struct ratelimit_model *m, double now_ms)
{
	long long from = window_oldest(now_ms);
	if (m->decreases && slot_number(m->mark_ms) + 1 > from)
		from = slot_number(m->mark_ms) + 1;
	double start = window_start_ms(m, from);
	double span_s = (now_ms - start) / 1000;
	if (span_s < RATELIMIT_MEASURE_MIN_S) {
		if (m->decreases)
			return; /* too short to say more than the last estimate */
		span_s = RATELIMIT_MEASURE_MIN_S;
	}
	double sent, accepted;
	window_sum(m, from, now_ms, &sent, &accepted);
	m->seen = accepted / span_s;
	m->seen_from_ms = start;
	m->seen_to_ms = now_ms;
}

/* A 429 for an attempt sent at sent_ms. */
static void adaptive_throttled(struct ratelimit_model *m, double now_ms, double sent_ms)
{
	long long n = slot_number(sent_ms);
	struct ratelimit_slot *s = slot_of(m, n);
	if (s->n == n && s->refused < s->sent)
		s->refused++;

	if (m->decreases && sent_ms < m->epoch_ms) {
		/* Sent before the last decrease: the decrease already answered
		 * it. If the estimate counted it as accepted, it was one too
		 * many; that is the only change. */
		if (sent_ms >= m->seen_from_ms && sent_ms < m->seen_to_ms) {
			double span_s = fmax(RATELIMIT_MEASURE_MIN_S,
					     (m->seen_to_ms - m->seen_from_ms) / 1000);
			m->seen -= 1 / span_s;
			m->rate = adaptive_rate(m, now_ms);
		}
		return;
	}
	adaptive_measure(m, now_ms);
	m->ceiling = m->decreases ? m->rate : INFINITY;
	m->decreases++;
	m->epoch_ms = now_ms;
	m->mark_ms = sent_ms;
	m->pace = 0;
	m->rate = adaptive_rate(m, now_ms);
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
	if (m->decreases && m->pace < 1 - RATELIMIT_SLACK)
		w = fmax(w, (1 - m->pace) / m->rate * 1000);
	return w;
}

void ratelimit_take(struct ratelimit_model *m, double now_ms, double est_tokens)
{
	now_ms = ratelimit_advance(m, now_ms);
	bucket_add(&m->req, -1);
	bucket_add(&m->tok, -ratelimit_tokens(est_tokens));
	if (m->decreases)
		m->pace -= 1;
	if (m->adaptive) {
		m->first_ms = fmin(m->first_ms, now_ms);
		long long n = slot_number(now_ms);
		struct ratelimit_slot *s = slot_of(m, n);
		if (s->n != n) {
			s->n = n;
			s->sent = 0;
			s->refused = 0;
		}
		s->sent++;
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
	return m->decreases ? m->rate : 0;
}
