/*
 * ratelimit: the buckets case by case, then the adaptive rate in a
 * discrete-event simulation of a throttling server (simulated clock,
 * random values hashed from job and attempt: the figures are the same on
 * every machine and every run).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "xalloc.h"

static const struct ratelimit_config no_limits = {0, 0, 0, false};

static void test_without_limits_never_waits(void **state)
{
	(void)state;
	struct ratelimit_model *m = ratelimit_model_new(&no_limits, 0);
	for (int i = 0; i < 1000; i++) {
		assert_true(ratelimit_wait_ms(m, 0, 1e6) == 0);
		ratelimit_take(m, 0, 1e6);
	}
	ratelimit_settle(m, 5, 0, RATELIMIT_THROTTLED, 1e6, -1);
	assert_true(ratelimit_wait_ms(m, 5, 1e6) == 0);
	assert_true(ratelimit_rate(m) == 0);
	ratelimit_model_free(m);
	ratelimit_model_free(NULL);
}

static void test_rpm_burst_defaults_to_one_second(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.rpm = 600}; /* 10/s, burst 10 */
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 1000);
	for (int i = 0; i < 10; i++) {
		assert_true(ratelimit_wait_ms(m, 1000, 0) == 0);
		ratelimit_take(m, 1000, 0);
	}
	assert_float_equal(ratelimit_wait_ms(m, 1000, 0), 100, 1e-9);
	assert_float_equal(ratelimit_wait_ms(m, 1040, 0), 60, 1e-9);
	assert_true(ratelimit_wait_ms(m, 1100, 0) == 0);
	ratelimit_take(m, 1100, 0);
	/* After a long pause the bucket holds one second's worth, no more. */
	for (int i = 0; i < 10; i++) {
		assert_true(ratelimit_wait_ms(m, 60000, 0) == 0);
		ratelimit_take(m, 60000, 0);
	}
	assert_true(ratelimit_wait_ms(m, 60000, 0) > 0);
	ratelimit_model_free(m);
}

static void test_rpm_burst_is_at_least_one(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.rpm = 6}; /* one every 10 s */
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	assert_true(ratelimit_wait_ms(m, 0, 0) == 0);
	ratelimit_take(m, 0, 0);
	assert_float_equal(ratelimit_wait_ms(m, 0, 0), 10000, 1e-6);
	ratelimit_model_free(m);

	struct ratelimit_config big = {.rpm = 60, .burst = 3};
	m = ratelimit_model_new(&big, 0);
	for (int i = 0; i < 3; i++)
		ratelimit_take(m, 0, 0);
	assert_float_equal(ratelimit_wait_ms(m, 0, 0), 1000, 1e-6);
	ratelimit_model_free(m);
}

static void test_tpm_reserves_and_settles(void **state)
{
	(void)state;
	/* 60000 tpm: 1000 tokens/s, a bucket of 10000. */
	struct ratelimit_config cfg = {.tpm = 60000};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	assert_true(ratelimit_wait_ms(m, 0, 8000) == 0);
	ratelimit_take(m, 0, 8000);
	/* 2000 left: a second 8000 waits 6 s. */
	assert_float_equal(ratelimit_wait_ms(m, 0, 8000), 6000, 1e-6);
	/* The first used 3000 of its 8000: 5000 come back. */
	ratelimit_settle(m, 1000, 0, RATELIMIT_OK, 8000, 3000);
	assert_true(ratelimit_wait_ms(m, 1000, 8000) == 0);
	ratelimit_take(m, 1000, 8000); /* level 0 */
	/* It used more than reserved: the level goes to -2000. */
	ratelimit_settle(m, 1000, 1000, RATELIMIT_OK, 8000, 10000);
	assert_float_equal(ratelimit_wait_ms(m, 1000, 1000), 3000, 1e-6);
	ratelimit_model_free(m);
}

static void test_tpm_settle_of_unknown_use_keeps_the_estimate(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.tpm = 60000};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	ratelimit_take(m, 0, 10000);
	ratelimit_settle(m, 0, 0, RATELIMIT_OK, 10000, -1);
	ratelimit_settle(m, 0, 0, RATELIMIT_OTHER, 10000, -1);
	assert_float_equal(ratelimit_wait_ms(m, 0, 1000), 1000, 1e-6);
	/* A 429 ran nothing: the whole reservation comes back. */
	ratelimit_settle(m, 0, 0, RATELIMIT_THROTTLED, 10000, -1);
	assert_true(ratelimit_wait_ms(m, 0, 10000) == 0);
	ratelimit_model_free(m);
}

static void test_tpm_oversize_request_waits_for_a_full_bucket(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.tpm = 60000}; /* bucket 10000 */
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	ratelimit_take(m, 0, 4000);
	/* 50000 can never fit: it goes when the bucket is full again. */
	assert_float_equal(ratelimit_wait_ms(m, 0, 50000), 4000, 1e-6);
	assert_true(ratelimit_wait_ms(m, 4000, 50000) == 0);
	ratelimit_take(m, 4000, 50000);
	/* The debt is paid at the refill rate: 40 s to the next 10000. */
	assert_float_equal(ratelimit_wait_ms(m, 4000, 10000), 50000, 1e-6);
	ratelimit_model_free(m);
}

static void test_adaptive_does_not_limit_before_throttling(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	for (int i = 0; i < 500; i++) {
		assert_true(ratelimit_wait_ms(m, i, 100) == 0);
		ratelimit_take(m, i, 100);
		ratelimit_settle(m, i + 0.5, i, RATELIMIT_OTHER, 100, -1);
	}
	assert_true(ratelimit_rate(m) == 0);
	ratelimit_model_free(m);
}

static void test_not_adaptive_ignores_throttling(void **state)
{
	(void)state;
	struct ratelimit_model *m = ratelimit_model_new(&no_limits, 0);
	for (int i = 0; i < 10; i++) {
		ratelimit_take(m, 0, 0);
		ratelimit_settle(m, 1, 0, RATELIMIT_THROTTLED, 0, -1);
	}
	assert_true(ratelimit_rate(m) == 0);
	assert_true(ratelimit_wait_ms(m, 1, 0) == 0);
	ratelimit_model_free(m);
}

/* Sends n at t, of which the first ok are accepted; the others come back
 * as 429s at t + 1, one after another. */
static void burst(struct ratelimit_model *m, double t, int n, int ok)
{
	for (int i = 0; i < n; i++)
		ratelimit_take(m, t, 0);
	for (int i = ok; i < n; i++)
		ratelimit_settle(m, t + 1, t, RATELIMIT_THROTTLED, 0, -1);
}

/* Sends from t to end whenever the limiter allows, as the scheduler does
 * with a timer; no 429 comes back. Returns the requests sent. */
static int send_at_pace(struct ratelimit_model *m, double t, double end)
{
	int n = 0;
	while (t < end) {
		double w = ratelimit_wait_ms(m, t, 0);
		if (w > 0) {
			t += w;
			continue;
		}
		ratelimit_take(m, t, 0);
		n++;
	}
	return n;
}

static void test_a_burst_of_429s_is_one_decrease(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	/* 64 sent at once into a quota of 10/s with a burst of 10: the
	 * estimate is the 10 accepted, not 64 cut by each of the 54 429s. */
	burst(m, 1000, 64, 10);
	assert_float_equal(ratelimit_rate(m), 0.9 * 10, 1e-9);
	/* A pacer of 9/s: the next send waits 1/9 s. */
	assert_float_equal(ratelimit_wait_ms(m, 1001, 0), 1000 / 9.0, 1e-6);
	ratelimit_model_free(m);
}

static void test_estimate_is_what_was_accepted_between_429s(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	burst(m, 0, 64, 50);
	/* Then 20/s for three seconds, all accepted, and a 429: between its
	 * two empty moments (the decrease at 1 ms and this 429) the server
	 * took 60 in 3.1 s, whatever was sent. */
	for (double t = 100; t <= 3100; t += 50)
		ratelimit_take(m, t, 0);
	ratelimit_settle(m, 3101, 3100, RATELIMIT_THROTTLED, 0, -1);
	double r = ratelimit_rate(m);
	assert_float_equal(r, 0.9 * 60 / 3.1, 1e-9);
	/* A late 429 sent before that decrease only takes its one request
	 * back from the estimate (59 accepted, not 60): no second cut. */
	ratelimit_wait_ms(m, 3150, 0);
	double before = ratelimit_rate(m);
	ratelimit_settle(m, 3150, 3050, RATELIMIT_THROTTLED, 0, -1);
	assert_true(ratelimit_rate(m) < before && ratelimit_rate(m) > before * 58 / 60);
	ratelimit_model_free(m);
}

static void test_a_429_soon_after_a_decrease_waits_for_ten_accepted(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	burst(m, 0, 64, 50);
	/* Five accepted, then a 429: too few to measure, so no decrease; the
	 * rate still doubles from 45/s. */
	for (double t = 100; t <= 600; t += 100)
		ratelimit_take(m, t, 0);
	ratelimit_settle(m, 601, 600, RATELIMIT_THROTTLED, 0, -1);
	assert_float_equal(ratelimit_rate(m), 0.9 * 50 * exp2(0.6), 1e-9);
	/* Ten more, and a 429: 15 accepted in the 1.7 s since the decrease. */
	for (double t = 700; t <= 1700; t += 100)
		ratelimit_take(m, t, 0);
	ratelimit_settle(m, 1701, 1700, RATELIMIT_THROTTLED, 0, -1);
	assert_float_equal(ratelimit_rate(m), 0.9 * 15 / 1.7, 1e-9);
	ratelimit_model_free(m);
}

static void test_adaptive_rate_has_a_floor(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	/* A quota of one request in five seconds. */
	ratelimit_take(m, 0, 0);
	ratelimit_take(m, 5000, 0);
	ratelimit_settle(m, 5001, 5000, RATELIMIT_THROTTLED, 0, -1);
	assert_float_equal(ratelimit_rate(m), 0.5, 1e-9);
	assert_true(ratelimit_wait_ms(m, 5001, 0) <= 2000);
	ratelimit_model_free(m);
}

static void test_a_server_that_accepts_nothing_is_not_paced(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	/* A model not ready: every attempt refused, whatever the rate. The
	 * decrease at the first 429 is withdrawn once the others show that
	 * nothing was accepted: no quota accepts nothing. */
	for (double t = 0; t < 10000; t += 100)
		burst(m, t, 64, 0);
	assert_true(ratelimit_rate(m) == 0);
	assert_true(ratelimit_wait_ms(m, 10000, 0) == 0);
	ratelimit_model_free(m);
}

/* Sends one request every 10 ms (all that concurrency allows) from t to
 * end, or less often when the limiter says so; of every `every` requests,
 * the first `refused` are refused 1 ms later, whatever the rate. Returns
 * the requests sent. */
static int send_refusing(struct ratelimit_model *m, double t, double end, int refused, int every)
{
	int n = 0;
	while (t < end) {
		double w = ratelimit_wait_ms(m, t, 0);
		if (w > 0) {
			t += w;
			continue;
		}
		ratelimit_take(m, t, 0);
		if (n++ % every < refused)
			ratelimit_settle(m, t + 1, t, RATELIMIT_THROTTLED, 0, -1);
		t += 10;
	}
	return n;
}

static void test_throttling_that_a_decrease_does_not_cure_is_undone(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	/* One attempt in four refused, at any rate: the decreases are undone
	 * and no limit is left; the next 20 s go at the full 100/s. */
	send_refusing(m, 0, 20000, 1, 4);
	assert_true(ratelimit_rate(m) == 0);
	assert_true(send_refusing(m, 20000, 40000, 1, 4) == 2000);
	assert_true(ratelimit_rate(m) == 0);
	/* Three in four, still at any rate: the same again. A quota that
	 * comes on top of such a background is found: see the simulation. */
	assert_true(send_refusing(m, 40000, 80000, 3, 4) >= 0.95 * 4000);
	assert_true(ratelimit_rate(m) == 0);
	ratelimit_model_free(m);
}

static void test_rate_doubles_after_the_first_decrease(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	burst(m, 0, 20, 5); /* 5/s, maybe only the server's burst */
	send_at_pace(m, 1, 2001);
	ratelimit_wait_ms(m, 2001, 0);
	assert_float_equal(ratelimit_rate(m), 0.9 * 5 * 4, 1e-9);
	ratelimit_model_free(m);
}

static void test_rate_climbs_back_then_probes(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	burst(m, 0, 64, 50);
	for (double t = 100; t <= 3100; t += 50)
		ratelimit_take(m, t, 0);
	ratelimit_settle(m, 3101, 3100, RATELIMIT_THROTTLED, 0, -1);
	double top = ratelimit_rate(m) / 0.9; /* about 19/s */
	/* K = 40 requests at the estimate, about 2 s: back at the estimate,
	 * then 10% above it at 2K. */
	double k = fmax(2, 40 / top);
	int n = send_at_pace(m, 3101, 3101 + 1000 * k);
	ratelimit_wait_ms(m, 3101 + 1000 * k, 0);
	assert_float_equal(ratelimit_rate(m), top, 0.01);
	assert_true(n >= 0.9 * k * top && n <= k * top);
	send_at_pace(m, 3101 + 1000 * k, 3101 + 2000 * k);
	ratelimit_wait_ms(m, 3101 + 2000 * k, 0);
	assert_float_equal(ratelimit_rate(m), 1.1 * top, 0.02);
	ratelimit_model_free(m);
}

static void test_probe_is_capped_by_what_is_sent(void **state)
{
	(void)state;
	struct ratelimit_config cfg = {.adaptive = true};
	struct ratelimit_model *m = ratelimit_model_new(&cfg, 0);
	burst(m, 0, 64, 50);
	/* Then only 5 requests/s go out (concurrency, or few jobs): a minute
	 * later the rate has not run away from the estimate. */
	for (double t = 100; t < 60000; t += 200)
		ratelimit_take(m, t, 0);
	ratelimit_wait_ms(m, 60000, 0);
	assert_float_equal(ratelimit_rate(m), 50, 1e-9);
	ratelimit_model_free(m);
}

/*
 * The simulation. A server decides as `novabatch mock` does, in this order:
 * fail-first (every job's first fail_first attempts get a 429), the quota
 * (a token bucket whose burst is one second of quota; none when quota is
 * 0), then one random draw per attempt against the odds of a 429, a 500, a
 * 503 and a reset. A 429 comes back after 1 ms; a success and the other
 * failures (RATELIMIT_OTHER to the limiter) after latency_ms. The client
 * mirrors the scheduler: at most concurrency attempts in flight; after
 * every event it sends what the limiter allows, or sets one timer for
 * ceil(wait) ms; a failed attempt is retried, up to SIM_MAX_ATTEMPTS in
 * all, after full jitter backoff uniform(0, min(20000, base * 2^(n-1))) ms,
 * rounded up, where base is 1000 ms after a 429 and 250 ms after another
 * failure. The random values are a hash of (job, attempt, purpose): a job
 * meets the same faults and backoffs whatever the limiter does, so that two
 * runs of a setup differ by their limiters only.
 */
#define SIM_REFUSE_MS 1.0
#define SIM_THROTTLED_BASE_MS 1000.0
#define SIM_TRANSIENT_BASE_MS 250.0
#define SIM_BACKOFF_CAP_MS 20000.0
#define SIM_MAX_ATTEMPTS 20
#define SIM_EST_TOKENS 1000.0
#define SIM_USED_TOKENS 600.0

struct sim_params {
	const char *name;
	double quota;     /* requests/s; the server's burst is one second of it; 0: none
			   * (from none to a quota2, the server's bucket starts empty) */
	double quota2;    /* the quota from change_ms on; 0: no change */
	double change_ms;
	struct ratelimit_config cfg;
	int jobs;
	int concurrency;
	double latency_ms;
	int fail_first;   /* every job's first attempts that get a 429 */
	double p_throttle, p_500, p_503, p_reset; /* odds of each fault, per attempt */
};

struct sim_result {
	double goodput;   /* successes per second over the run / the quota */
	double used;      /* successes / what the server could accept: its burst,
			   * then its quota over the run; stricter than goodput */
	double ok_per_s;  /* successes per second over the run */
	double throttled; /* share of attempts refused */
	long attempts, refused, other;
	long ok, failed;  /* jobs */
	int max_attempts;
	double run_s;     /* from the first send to the last answer */
	double settled;   /* successes/s over the 10 s from 5 s after change_ms (from the
			   * start when there is no change), by send time */
};

enum sim_kind { SIM_OK, SIM_REFUSED, SIM_OTHER, SIM_READY };

struct sim_event {
	double t;
	long seq; /* ties are taken in order of scheduling */
	enum sim_kind kind;
	int job;
	double sent_ms;
};

struct sim_heap {
	struct sim_event *ev;
	size_t len, alloc;
	long seq;
};

static bool sim_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void sim_push(struct sim_heap *h, double t, enum sim_kind kind, int job, double sent_ms)
{
	if (h->len == h->alloc) {
		h->alloc = h->alloc ? 2 * h->alloc : 256;
		h->ev = xrealloc(h->ev, h->alloc * sizeof *h->ev);
	}
	size_t i = h->len++;
	h->ev[i] = (struct sim_event){t, h->seq++, kind, job, sent_ms};
	while (i > 0 && sim_before(&h->ev[i], &h->ev[(i - 1) / 2])) {
		struct sim_event tmp = h->ev[i];
		h->ev[i] = h->ev[(i - 1) / 2];
		h->ev[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static struct sim_event sim_pop(struct sim_heap *h)
{
	struct sim_event top = h->ev[0];
	h->ev[0] = h->ev[--h->len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		if (l < h->len && sim_before(&h->ev[l], &h->ev[min]))
			min = l;
		if (r < h->len && sim_before(&h->ev[r], &h->ev[min]))
			min = r;
		if (min == i)
			break;
		struct sim_event tmp = h->ev[i];
		h->ev[i] = h->ev[min];
		h->ev[min] = tmp;
		i = min;
	}
	return top;
}

enum sim_draw { SIM_DRAW_FAULT, SIM_DRAW_BACKOFF };

/* A uniform value in [0, 1) for one purpose of one attempt of one job:
 * splitmix64's finalizer over the three, the same on every run. */
static double sim_random01(int job, int attempt, enum sim_draw purpose)
{
	uint64_t z = 0x9e3779b97f4a7c15ULL * ((uint64_t)job * 64 + (uint64_t)attempt * 2 +
					      (uint64_t)purpose + 1);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* The server's quota: a token bucket whose burst is one second of quota. */
struct sim_server {
	double quota, level, last_ms;
};

static void sim_server_refill(struct sim_server *srv, double t)
{
	srv->level = fmin(srv->quota, srv->level + (t - srv->last_ms) * srv->quota / 1000);
	srv->last_ms = t;
}

static bool sim_server_accepts(struct sim_server *srv, const struct sim_params *p, double t)
{
	if (p->quota2 > 0 && t >= p->change_ms && srv->quota != p->quota2) {
		sim_server_refill(srv, p->change_ms);
		srv->quota = p->quota2;
		srv->level = fmin(srv->level, srv->quota);
	}
	if (srv->quota <= 0)
		return true;
	sim_server_refill(srv, t);
	/* The server counts in whole requests; the slack only absorbs
	 * rounding between two clocks that compute the same refill. */
	if (srv->level < 1 - 1e-9)
		return false;
	srv->level -= 1;
	return true;
}

/* The server's answer to attempt n (from 1) of job j, sent at t. */
static enum sim_kind sim_server_answer(struct sim_server *srv, const struct sim_params *p,
				       int j, int n, double t)
{
	if (n <= p->fail_first || !sim_server_accepts(srv, p, t))
		return SIM_REFUSED;
	double r = sim_random01(j, n, SIM_DRAW_FAULT);
	if (r < p->p_throttle)
		return SIM_REFUSED;
	if (r < p->p_throttle + p->p_500 + p->p_503 + p->p_reset)
		return SIM_OTHER;
	return SIM_OK;
}

static struct sim_result simulate(const struct sim_params *p)
{
	struct sim_result res = {0};
	struct sim_server srv = {p->quota, p->quota, 0};
	struct sim_heap h = {0};
	struct ratelimit_model *m = ratelimit_model_new(&p->cfg, 0);
	int *attempts = xcalloc((size_t)p->jobs, sizeof *attempts);
	int *queue = xcalloc((size_t)p->jobs, sizeof *queue); /* ring of ready jobs */
	size_t qhead = 0, qlen = 0;
	for (int j = 0; j < p->jobs; j++)
		queue[qlen++] = j;
	int in_flight = 0, done = 0;
	double t = 0, wake = INFINITY, first_send = -1, last_answer = 0;
	long settled_ok = 0;

	while (done < p->jobs) {
		/* Dispatch, as the scheduler does after every event. */
		wake = INFINITY;
		while (in_flight < p->concurrency && qlen > 0) {
			double w = ratelimit_wait_ms(m, t, SIM_EST_TOKENS);
			if (w > 0) {
				wake = t + ceil(w);
				break;
			}
			int j = queue[qhead];
			qhead = (qhead + 1) % (size_t)p->jobs;
			qlen--;
			ratelimit_take(m, t, SIM_EST_TOKENS);
			if (first_send < 0)
				first_send = t;
			attempts[j]++;
			res.attempts++;
			in_flight++;
			enum sim_kind k = sim_server_answer(&srv, p, j, attempts[j], t);
			sim_push(&h, t + (k == SIM_REFUSED ? SIM_REFUSE_MS : p->latency_ms), k, j, t);
		}
		/* The next event, or the dispatch timer. */
		if (h.len == 0 || wake < h.ev[0].t) {
			assert_true(isfinite(wake));
			t = wake;
			continue;
		}
		struct sim_event e = sim_pop(&h);
		t = e.t;
		double base = SIM_TRANSIENT_BASE_MS;
		switch (e.kind) {
		case SIM_OK:
			in_flight--;
			ratelimit_settle(m, t, e.sent_ms, RATELIMIT_OK, SIM_EST_TOKENS,
					 SIM_USED_TOKENS);
			done++;
			res.ok++;
			last_answer = t;
			if (e.sent_ms >= p->change_ms + 5000 && e.sent_ms < p->change_ms + 15000)
				settled_ok++;
			break;
		case SIM_REFUSED:
			res.refused++;
			base = SIM_THROTTLED_BASE_MS;
			ratelimit_settle(m, t, e.sent_ms, RATELIMIT_THROTTLED, SIM_EST_TOKENS, -1);
			/* fall through */
		case SIM_OTHER:
			in_flight--;
			last_answer = t;
			if (e.kind == SIM_OTHER) {
				res.other++;
				ratelimit_settle(m, t, e.sent_ms, RATELIMIT_OTHER, SIM_EST_TOKENS, -1);
			}
			if (attempts[e.job] >= SIM_MAX_ATTEMPTS) {
				done++;
				res.failed++;
				break;
			}
			double ceiling = fmin(SIM_BACKOFF_CAP_MS, base * pow(2, attempts[e.job] - 1));
			double r = sim_random01(e.job, attempts[e.job], SIM_DRAW_BACKOFF);
			sim_push(&h, t + ceil(ceiling * r), SIM_READY, e.job, 0);
			break;
		case SIM_READY:
			queue[(qhead + qlen++) % (size_t)p->jobs] = e.job;
			break;
		}
	}

	res.run_s = (last_answer - first_send) / 1000;
	res.settled = (double)settled_ok / 10;
	res.ok_per_s = (double)res.ok / res.run_s;
	res.throttled = (double)res.refused / (double)res.attempts;
	for (int j = 0; j < p->jobs; j++)
		if (attempts[j] > res.max_attempts)
			res.max_attempts = attempts[j];
	printf("[ sim      ] %-34s %s", p->name, p->cfg.adaptive ? "" : "(not adaptive) ");
	if (p->quota > 0) {
		double capacity = p->quota * res.run_s;
		if (p->quota2 > 0)
			capacity = (p->quota * (p->change_ms - first_send) +
				    p->quota2 * (last_answer - p->change_ms)) / 1000;
		res.goodput = (double)res.ok / capacity;
		res.used = (double)res.ok / (capacity + p->quota);
		printf("goodput %5.1f%% of the quota (%5.1f%% of burst + quota x run), ",
		       100 * res.goodput, 100 * res.used);
	}
	printf("%.1f ok/s, throttled %4.2f%% (%ld of %ld attempts), run %.1f s, most attempts %d",
	       res.ok_per_s, 100 * res.throttled, res.refused, res.attempts, res.run_s,
	       res.max_attempts);
	if (res.other > 0 || res.failed > 0)
		printf(", %ld other failures, %ld jobs failed", res.other, res.failed);
	if (p->quota2 > 0)
		printf(", %.1f/s accepted 5-15 s after the change", res.settled);
	else if (p->quota > 0 && p->p_throttle > 0)
		printf(", %.1f ok/s sent 5-15 s in", res.settled);
	printf("\n");
	ratelimit_model_free(m);
	free(h.ev);
	free(attempts);
	free(queue);
	return res;
}

/* The setups and targets of the design: targets are asserted on used, which
 * is never more than goodput. */
static struct sim_params sim_default(const char *name, double quota)
{
	return (struct sim_params){
		.name = name,
		.quota = quota,
		.cfg = {.adaptive = true},
		.jobs = 1500,
		.concurrency = 64,
		.latency_ms = 100,
	};
}

/* The same setup with the limiter's adaptive rate off. */
static struct sim_result simulate_not_adaptive(const struct sim_params *p)
{
	struct sim_params q = *p;
	q.cfg.adaptive = false;
	return simulate(&q);
}

static void test_sim_rpm_cap_at_the_quota(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 50/s, --rpm 3000 burst 50", 50);
	p.cfg.rpm = 3000;
	p.cfg.burst = 50;
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.97);
	assert_true(r.throttled <= 0.01);
}

static void test_sim_discovers_a_quota_of_50(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 50/s, discovered", 50);
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.90);
	assert_true(r.throttled <= 0.05);
}

static void test_sim_discovers_a_quota_of_10(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 10/s, discovered", 10);
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.85);
	assert_true(r.throttled <= 0.05);
}

static void test_sim_discovers_a_quota_of_200(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 200/s, discovered", 200);
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.85);
	assert_true(r.throttled <= 0.05);
}

static void test_sim_follows_a_quota_that_drops(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 50/s, 25/s from 10 s", 50);
	p.quota2 = 25;
	p.change_ms = 10000;
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.85);
	assert_true(r.throttled <= 0.05);
	assert_true(r.settled >= 0.85 * 25 && r.settled <= 25 * 1.01);
}

static void test_sim_finds_a_quota_that_rises(void **state)
{
	(void)state;
	struct sim_params p = sim_default("quota 25/s, 50/s from 10 s", 25);
	p.quota2 = 50;
	p.change_ms = 10000;
	struct sim_result r = simulate(&p);
	assert_true(r.used >= 0.85);
	assert_true(r.throttled <= 0.05);
	assert_true(r.settled >= 0.85 * 50);
}

/* The mock's --fail-first 3: no quota, but every job's first three
 * attempts are refused, whatever the rate. */
static void sim_fail_first(int jobs)
{
	struct sim_params p = sim_default(jobs == 20 ? "fail-first 3, 20 jobs, no quota"
						     : "fail-first 3, 400 jobs, no quota",
					  0);
	p.jobs = jobs;
	p.fail_first = 3;
	struct sim_result plain = simulate_not_adaptive(&p);
	struct sim_result r = simulate(&p);
	assert_true(r.ok == jobs && plain.ok == jobs);
	assert_true(r.run_s <= 3 * plain.run_s);
}

static void test_sim_fail_first_does_not_slow_20_jobs(void **state)
{
	(void)state;
	sim_fail_first(20);
}

static void test_sim_fail_first_does_not_slow_400_jobs(void **state)
{
	(void)state;
	sim_fail_first(400);
}

/* The storm of test_run_retries: a share of the attempts fails at random,
 * whatever the rate. */
static struct sim_params sim_storm(const char *name, double quota)
{
	struct sim_params p = sim_default(name, quota);
	p.jobs = 400;
	p.p_throttle = 0.30;
	p.p_500 = 0.05;
	p.p_503 = 0.05;
	p.p_reset = 0.02;
	return p;
}

static void test_sim_random_throttling_does_not_slow_the_run(void **state)
{
	(void)state;
	struct sim_params p = sim_storm("storm: 30% 429, 12% other, no quota", 0);
	struct sim_result plain = simulate_not_adaptive(&p);
	struct sim_result r = simulate(&p);
	assert_true(r.ok_per_s >= 0.8 * plain.ok_per_s);
}

/* The storm on top of a quota. The server counts a request against the
 * quota before the random draw, as the mock does, so at most 58% of the
 * quota can succeed; 1500 jobs give a steady stretch to measure, away from
 * the start and from the tail of retries. */
static void test_sim_random_throttling_over_a_quota(void **state)
{
	(void)state;
	struct sim_params p = sim_storm("storm over quota 50/s", 50);
	p.jobs = 1500;
	simulate_not_adaptive(&p);
	struct sim_result r = simulate(&p);
	double fault_free = 1 - p.p_throttle - p.p_500 - p.p_503 - p.p_reset;
	assert_true(r.settled >= 0.8 * fault_free * p.quota);
}

/* The storm with no quota, then a quota of 50/s from 10 s: the limiter has
 * learnt the storm as background by then, and must still find the quota.
 * 8000 jobs keep it busy well past the change. */
static void test_sim_finds_a_quota_under_random_throttling(void **state)
{
	(void)state;
	struct sim_params p = sim_storm("storm, then quota 50/s from 10 s", 0);
	p.jobs = 8000;
	p.quota2 = 50;
	p.change_ms = 10000;
	struct sim_result plain = simulate_not_adaptive(&p);
	struct sim_result r = simulate(&p);
	double fault_free = 1 - p.p_throttle - p.p_500 - p.p_503 - p.p_reset;
	assert_true(r.settled >= 0.8 * fault_free * p.quota2);
	assert_true(r.throttled <= 0.5 && r.throttled < plain.throttled);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_limits_never_waits),
		cmocka_unit_test(test_rpm_burst_defaults_to_one_second),
		cmocka_unit_test(test_rpm_burst_is_at_least_one),
		cmocka_unit_test(test_tpm_reserves_and_settles),
		cmocka_unit_test(test_tpm_settle_of_unknown_use_keeps_the_estimate),
		cmocka_unit_test(test_tpm_oversize_request_waits_for_a_full_bucket),
		cmocka_unit_test(test_adaptive_does_not_limit_before_throttling),
		cmocka_unit_test(test_not_adaptive_ignores_throttling),
		cmocka_unit_test(test_a_burst_of_429s_is_one_decrease),
		cmocka_unit_test(test_estimate_is_what_was_accepted_between_429s),
		cmocka_unit_test(test_a_429_soon_after_a_decrease_waits_for_ten_accepted),
		cmocka_unit_test(test_adaptive_rate_has_a_floor),
		cmocka_unit_test(test_a_server_that_accepts_nothing_is_not_paced),
		cmocka_unit_test(test_throttling_that_a_decrease_does_not_cure_is_undone),
		cmocka_unit_test(test_rate_doubles_after_the_first_decrease),
		cmocka_unit_test(test_rate_climbs_back_then_probes),
		cmocka_unit_test(test_probe_is_capped_by_what_is_sent),
		cmocka_unit_test(test_sim_rpm_cap_at_the_quota),
		cmocka_unit_test(test_sim_discovers_a_quota_of_50),
		cmocka_unit_test(test_sim_discovers_a_quota_of_10),
		cmocka_unit_test(test_sim_discovers_a_quota_of_200),
		cmocka_unit_test(test_sim_follows_a_quota_that_drops),
		cmocka_unit_test(test_sim_finds_a_quota_that_rises),
		cmocka_unit_test(test_sim_fail_first_does_not_slow_20_jobs),
		cmocka_unit_test(test_sim_fail_first_does_not_slow_400_jobs),
		cmocka_unit_test(test_sim_random_throttling_does_not_slow_the_run),
		cmocka_unit_test(test_sim_random_throttling_over_a_quota),
		cmocka_unit_test(test_sim_finds_a_quota_under_random_throttling),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
