#include "sched.h"

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "attempt.h"
#include "clock.h"
#include "creds.h"
#include "failfast.h"
#include "job.h"
#include "jobfile.h"
#include "pool.h"
#include "report.h"
#include "resume.h"
#include "spend.h"
#include "xalloc.h"

/* Jobs held at once, per request allowed in flight: the others wait for a
 * retry or for their model's rate, and new lines are read meanwhile. */
#define SCHED_HOLD_PER_SLOT 2

/* Sends of one job refused as expired, at most: past that the service
 * refuses what the source gives, and the job fails. */
#define SCHED_MAX_EXPIRED 8

/* Lines read in one go before the loop gets a turn. */
#define SCHED_FILL_LINES 1024

/* One model's rate limiter and fail-fast record. */
struct sched_model {
	char *id;
	struct ratelimit_model *rate;
	struct failfast failfast;
	char *stop_message; /* set once failfast trips: why its jobs are not sent */
	struct models_price price;
	bool priced;        /* the price table knows the model */
	double pass_wait;   /* the wait found in the current dispatch pass */
	unsigned pass;      /* which pass pass_wait belongs to */
	struct sched_model *next;
};

enum sched_slot_state {
	SLOT_READY,     /* in the ready queue */
	SLOT_IN_FLIGHT, /* a request is out */
	SLOT_BACKOFF,   /* in the backoff queue, its timer running; then ready */
};

/* Slots in order, linked through their prev and next. */
struct sched_queue {
	struct sched_slot *head, *tail;
};

/* A job held by the scheduler, from its first attempt to its last. */
struct sched_slot {
	struct sched *s;
	struct job job;
	struct sched_model *model;
	int64_t rowid;
	enum sched_slot_state state;
	int attempts;               /* attempts sent in this session */
	int attempt_base;           /* attempts recorded by earlier sessions */
	int expired;                /* attempts refused as expired: not counted
				       against max_attempts */
	unsigned creds_generation;  /* of the credentials the attempt was signed with */
	int64_t worst_pusd;         /* the spend reserved for the attempt in flight */
	double delay_ms;            /* the backoff before the attempt now due */
	double sent_ms;             /* when the attempt in flight was sent */
	char first_started_at[CLOCK_ISO_LEN];
	char attempt_started_at[CLOCK_ISO_LEN];
	struct request req;         /* the attempt in flight */
	struct buf media_body;      /* its body with media files read in, if any */
	bool stream;                /* ConverseStream */
	struct stream_read sr;      /* the streamed attempt in flight */
	uv_timer_t backoff;
	struct sched_slot *prev, *next; /* the queue of its state, if any */
};

struct sched {
	const struct sched_config *cfg;
	uv_loop_t loop;
	uv_timer_t commit_timer;
	uv_timer_t progress_timer;
	uv_timer_t dispatch_timer; /* wakes the dispatcher when a rate allows */
	uv_timer_t grace_timer;    /* after a first signal: then abort */
	uv_timer_t fill_timer;     /* reading goes on after the loop's turn */
	uv_signal_t sigint, sigterm;
	struct spend spend;
	struct pool *pool;
	struct creds *creds;
	struct sched_model *models;
	struct sched_queue ready;   /* to send, oldest first */
	struct sched_queue backoff; /* waiting to be ready again */
	size_t held;
	unsigned pass;
	uint64_t random_state;
	int file_index;
	struct jobfile reader;
	bool reader_open;
	bool reader_done;
	bool closing;
	bool stopping; /* a signal or the cost limit: nothing new is sent */
	struct sched_totals totals;
	struct nb_err fatal; /* set once: the run cannot go on */
	bool failed;
};

static double sched_now_ms(void)
{
	return (double)clock_mono_ns() / 1e6;
}

/* A uniform value in [0, 1) for backoff jitter (xorshift64*). */
static double sched_random(struct sched *s)
{
	uint64_t x = s->random_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->random_state = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

static void sched_problem(struct sched *s, const char *message)
{
	if (s->cfg->cb.job_problem)
		s->cfg->cb.job_problem(message, s->cfg->cb.data);
}

static void sched_notice(struct sched *s, const char *message)
{
	if (s->cfg->cb.notice)
		s->cfg->cb.notice(message, s->cfg->cb.data);
}

/* Stops reading: what is held finishes, nothing new starts. */
static void sched_fail(struct sched *s, const struct nb_err *err)
{
	if (!s->failed) {
		s->failed = true;
		s->fatal = *err;
	}
	s->reader_done = true;
}

static struct sched_model *sched_model_for(struct sched *s, const char *id)
{
	for (struct sched_model *m = s->models; m; m = m->next)
		if (strcmp(m->id, id) == 0)
			return m;
	struct sched_model *m = xcalloc(1, sizeof *m);
	m->id = xstrdup(id);
	m->rate = ratelimit_model_new(&s->cfg->rate, sched_now_ms());
	failfast_init(&m->failfast);
	m->priced = s->cfg->prices && models_price_for(s->cfg->prices, id, &m->price);
	m->next = s->models;
	s->models = m;
	return m;
}

static void sched_models_free(struct sched *s)
{
	while (s->models) {
		struct sched_model *m = s->models;
		s->models = m->next;
		ratelimit_model_free(m->rate);
		failfast_cleanup(&m->failfast);
		free(m->stop_message);
		free(m->id);
		free(m);
	}
}

static void sched_record_invalid(struct sched *s, const struct job *job, const char *message)
{
	struct store_job_key key = {
		.run_id = s->cfg->run_id,
		.job_id = job->id,
		.model_id = job->model_id,
		.source_file = job->file,
		.source_line = job->line,
		.session = s->cfg->session,
	};
	struct nb_err err;
	int rc = store_job_invalid(s->cfg->store, &key, message, &err);
	if (rc == STORE_DUPLICATE) {
		/* The line's own id is taken: record it under FILE:LINE instead. */
		char *where = xasprintf("%s:%ld", job->file, job->line);
		key.job_id = where;
		rc = store_job_invalid(s->cfg->store, &key, message, &err);
		free(where);
	}
	if (rc < 0)
		sched_fail(s, &err);
	s->totals.invalid++;
	sched_problem(s, message);
}

static void sched_queue_push(struct sched_queue *q, struct sched_slot *slot)
{
	slot->next = NULL;
	slot->prev = q->tail;
	if (q->tail)
		q->tail->next = slot;
	else
		q->head = slot;
	q->tail = slot;
}

static void sched_queue_remove(struct sched_queue *q, struct sched_slot *slot)
{
	if (slot->prev)
		slot->prev->next = slot->next;
	else
		q->head = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	else
		q->tail = slot->prev;
	slot->prev = slot->next = NULL;
}

static void sched_ready_push(struct sched *s, struct sched_slot *slot)
{
	slot->state = SLOT_READY;
	sched_queue_push(&s->ready, slot);
}

static void sched_slot_closed_cb(uv_handle_t *h)
{
	struct sched_slot *slot = h->data;
	job_cleanup(&slot->job);
	request_cleanup(&slot->req);
	free(slot);
}

/* Lets go of a job whose end is recorded. */
static void sched_slot_release(struct sched_slot *slot)
{
	slot->s->held--;
	uv_close((uv_handle_t *)&slot->backoff, sched_slot_closed_cb);
}

/* Puts a job's expectation verdict into its outcome and, when tell, tells
 * of each failed assertion (a failed job's problem is told already).
 * Returns the failures' JSON, which o borrows until the caller frees it. */
static char *sched_expect_outcome(struct sched *s, const struct sched_slot *slot,
				  const struct expect_verdict *v, bool tell,
				  struct store_job_outcome *o)
{
	o->expect_status = v->nfailures ? "failed" : "passed";
	if (!v->nfailures)
		return NULL;
	s->totals.expect_failed++;
	for (size_t i = 0; tell && i < v->nfailures && s->cfg->cb.expect_failed; i++) {
		char *msg = xasprintf("%s:%ld: job '%s' on %s: expect.%s failed: %s",
				      slot->job.file, slot->job.line, slot->job.id,
				      slot->job.model_id, v->failures[i].assertion,
				      v->failures[i].message);
		s->cfg->cb.expect_failed(msg, s->cfg->cb.data);
		free(msg);
	}
	o->expect_failures = expect_verdict_json(v);
	return (char *)o->expect_failures;
}

/* The end of a job without an answer to show: its last error. */
static void sched_finish_failed(struct sched *s, struct sched_slot *slot, const char *error_type,
				const char *message, long http_status, const char *request_id)
{
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	struct store_job_outcome o = {
		.status = "failed",
		.attempts = slot->attempt_base + slot->attempts,
		.input_tokens = -1,
		.output_tokens = -1,
		.total_tokens = -1,
		.cache_read_tokens = -1,
		.cache_write_tokens = -1,
		.latency_ms = -1,
		.server_latency_ms = -1,
		.ttft_ms = -1,
		.stream = STORE_NOT_STREAMED,
		.request_id = request_id && *request_id ? request_id : NULL,
		.http_status = http_status,
		.error_type = error_type,
		.error_message = message,
		.started_at = slot->first_started_at[0] ? slot->first_started_at : now,
		.finished_at = now,
	};
	struct expect_verdict v;
	char *failures = NULL;
	if (slot->job.expect) {
		char *why = xasprintf("%s: %s", error_type, message);
		expect_fail_all(slot->job.expect, why, &v);
		free(why);
		failures = sched_expect_outcome(s, slot, &v, false, &o);
	}
	struct nb_err err;
	if (store_job_finish(s->cfg->store, slot->rowid, &o, &err) < 0)
		sched_fail(s, &err);
	free(failures);
	if (slot->job.expect)
		expect_verdict_cleanup(&v);
	s->totals.failed++;
	int attempts = slot->attempt_base + slot->attempts;
	char *msg = xasprintf("%s:%ld: job '%s' failed after %d attempt%s: %s: %s", slot->job.file,
			      slot->job.line, slot->job.id, attempts, attempts == 1 ? "" : "s",
			      error_type, message);
	sched_problem(s, msg);
	free(msg);
	sched_slot_release(slot);
}

static void sched_finish_ok(struct sched *s, struct sched_slot *slot,
			    const struct attempt_outcome *a)
{
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	const struct response *ans = &a->answer;
	struct store_job_outcome o = {
		.status = "ok",
		.attempts = slot->attempt_base + slot->attempts,
		.output_text = ans->output_text,
		.content = ans->content,
		.additional_fields = ans->additional_fields,
		.trace = ans->trace,
		.stop_reason = ans->stop_reason,
		.input_tokens = ans->input_tokens,
		.output_tokens = ans->output_tokens,
		.total_tokens = ans->total_tokens,
		.cache_read_tokens = ans->cache_read_tokens,
		.cache_write_tokens = ans->cache_write_tokens,
		.latency_ms = a->latency_ms,
		.server_latency_ms = ans->server_latency_ms,
		.ttft_ms = a->ttft_ms,
		.stream = {a->tokens_per_s, a->gap_p50_ms, a->gap_max_ms},
		.request_id = a->request_id[0] ? a->request_id : NULL,
		.http_status = a->http_status,
		.started_at = slot->first_started_at,
		.finished_at = now,
	};
	struct expect_verdict v;
	char *failures = NULL;
	if (slot->job.expect) {
		struct expect_answer answer = {
			.output_text = ans->output_text,
			.stop_reason = ans->stop_reason,
			.output_tokens = ans->output_tokens,
			.latency_ms = a->latency_ms,
		};
		expect_judge(slot->job.expect, &answer, &v);
		failures = sched_expect_outcome(s, slot, &v, true, &o);
	}
	struct nb_err err;
	if (store_job_finish(s->cfg->store, slot->rowid, &o, &err) < 0)
		sched_fail(s, &err);
	free(failures);
	if (slot->job.expect)
		expect_verdict_cleanup(&v);
	s->totals.ok++;
	s->totals.input_tokens += ans->input_tokens > 0 ? ans->input_tokens : 0;
	s->totals.output_tokens += ans->output_tokens > 0 ? ans->output_tokens : 0;
	sched_slot_release(slot);
}

/* A model judged broken: its jobs end here, unsent. */
static void sched_finish_stopped(struct sched *s, struct sched_slot *slot)
{
	sched_finish_failed(s, slot, slot->model->failfast.type, slot->model->stop_message, 0,
			    NULL);
}

static void sched_dispatch(struct sched *s);
static void sched_fill(struct sched *s);
static void sched_maybe_finish(struct sched *s);

static void sched_backoff_cb(uv_timer_t *h)
{
	struct sched_slot *slot = h->data;
	struct sched *s = slot->s;
	sched_queue_remove(&s->backoff, slot);
	sched_ready_push(s, slot);
	sched_dispatch(s);
}

static void sched_record_attempt(struct sched *s, struct sched_slot *slot,
				 const struct attempt_outcome *a)
{
	struct store_attempt row = {
		.number = slot->attempt_base + slot->attempts,
		.started_at = slot->attempt_started_at,
		.delay_ms = slot->delay_ms,
		.latency_ms = a->latency_ms,
		.ttft_ms = a->ttft_ms,
		.stream = {a->tokens_per_s, a->gap_p50_ms, a->gap_max_ms},
		.http_status = a->http_status,
		.transport_error = a->transport_error,
		.error_type = a->error_type[0] ? a->error_type : NULL,
		.error_message = a->error_message,
		.request_id = a->request_id[0] ? a->request_id : NULL,
	};
	struct nb_err err;
	if (store_attempt_add(s->cfg->store, slot->rowid, &row, &err) < 0)
		sched_fail(s, &err);
	s->totals.attempts++;
	if (a->class == RETRY_THROTTLED)
		s->totals.throttled++;
}

static void sched_trip(struct sched *s, struct sched_model *m)
{
	m->stop_message = xasprintf("not sent: the last %d attempts on model %s all failed with "
				    "%s (%s), so its remaining jobs were not sent",
				    FAILFAST_STREAK, m->id, m->failfast.type, m->failfast.message);
	char *msg = xasprintf("model %s: %d attempts in a row failed with %s; its remaining "
			      "jobs are failed without being sent",
			      m->id, FAILFAST_STREAK, m->failfast.type);
	sched_problem(s, msg);
	free(msg);
}

/* What an answer cost, in pico-USD; 0 when the model has no price. */
static int64_t sched_cost(struct sched *s, struct sched_model *m, const struct attempt_outcome *a)
{
	const struct response *ans = &a->answer;
	if (!m->priced) {
		s->totals.cost_known = false;
		return 0;
	}
	return models_cost_pusd(&m->price, ans->input_tokens > 0 ? ans->input_tokens : 0,
				ans->output_tokens > 0 ? ans->output_tokens : 0,
				ans->cache_read_tokens > 0 ? ans->cache_read_tokens : 0,
				ans->cache_write_tokens > 0 ? ans->cache_write_tokens : 0);
}

static void sched_done_cb(const struct pool_result *res, void *data)
{
	struct sched_slot *slot = data;
	struct sched *s = slot->s;
	struct sched_model *m = slot->model;
	struct attempt_outcome a;
	attempt_read(res, slot->stream ? &slot->sr : NULL, &s->cfg->retry, &a);
	request_cleanup(&slot->req);
	buf_cleanup(&slot->media_body);
	if (slot->stream)
		stream_read_cleanup(&slot->sr);
	sched_record_attempt(s, slot, &a);

	/* Tokens the attempt used: the answer's usage; none for an error
	 * answer (the model did not run to an end); unknown when the
	 * connection failed, so the reservation stands. */
	double used = -1;
	if (a.class == RETRY_SUCCESS && a.answer.input_tokens >= 0 && a.answer.output_tokens >= 0)
		used = (double)(a.answer.input_tokens + a.answer.output_tokens);
	else if (a.class != RETRY_SUCCESS && a.http_status > 0)
		used = 0;
	enum ratelimit_outcome rl = a.class == RETRY_SUCCESS     ? RATELIMIT_OK
				    : a.class == RETRY_THROTTLED ? RATELIMIT_THROTTLED
								 : RATELIMIT_OTHER;
	ratelimit_settle(m->rate, sched_now_ms(), slot->sent_ms, rl, job_quota_tokens(&slot->job),
			 used);
	spend_settle(&s->spend, slot->worst_pusd, a.class == RETRY_SUCCESS ? sched_cost(s, m, &a) : 0);
	slot->worst_pusd = 0;
	if (failfast_note(&m->failfast, a.class, a.error_type, a.error_message))
		sched_trip(s, m);

	bool again = (a.class == RETRY_THROTTLED || a.class == RETRY_TRANSIENT) &&
		     slot->attempts - slot->expired < s->cfg->retry.max_attempts &&
		     !m->stop_message;
	/* Expired credentials say nothing of the request: it goes again, with
	 * the renewed ones, and the attempt is not counted against it. */
	bool renew = a.class == RETRY_REFRESH && slot->expired < SCHED_MAX_EXPIRED;
	if (a.class == RETRY_REFRESH)
		s->totals.expired++;
	if (a.class == RETRY_SUCCESS) {
		sched_finish_ok(s, slot, &a);
	} else if (a.class == RETRY_INTERRUPTED || ((again || renew) && s->stopping)) {
		/* The run is stopping: the job stays pending for a resume. */
		sched_slot_release(slot);
	} else if (renew) {
		s->totals.retries++;
		slot->expired++;
		slot->delay_ms = 0;
		sched_ready_push(s, slot);
		creds_expired(s->creds, slot->creds_generation);
	} else if (again) {
		s->totals.retries++;
		slot->state = SLOT_BACKOFF;
		sched_queue_push(&s->backoff, slot);
		slot->delay_ms = retry_delay_ms(&s->cfg->retry, a.class, slot->attempts,
						sched_random(s));
		uv_timer_start(&slot->backoff, sched_backoff_cb, (uint64_t)ceil(slot->delay_ms), 0);
	} else {
		/* Final, out of attempts, or refused as expired too often:
		 * the last error is the job's. */
		sched_finish_failed(s, slot, a.error_type, a.error_message, a.http_status,
				    a.request_id);
	}
	attempt_outcome_cleanup(&a);
	sched_fill(s);
	sched_dispatch(s);
	sched_maybe_finish(s);
}

/* The body the attempt sends: the line's, or with its media files read in. */
static const char *sched_body(const struct sched_slot *slot, size_t *len)
{
	if (slot->job.media.nfiles > 0) {
		*len = slot->media_body.len;
		return slot->media_body.data;
	}
	*len = slot->job.body_len;
	return slot->job.body;
}

/* Bytes of a 200 stream: decoded and timed as they come. */
static int sched_chunk_cb(const char *bytes, size_t len, uint64_t now_ns, void *data)
{
	struct sched_slot *slot = data;
	return stream_read_feed(&slot->sr, bytes, len, now_ns);
}

/* Hands the signed request to the pool; a stream is read as it comes. */
static int sched_post(struct sched *s, struct sched_slot *slot, struct nb_err *err)
{
	size_t body_len;
	const char *body = sched_body(slot, &body_len);
	struct pool_request pr = {
		.url = slot->req.url,
		.headers = slot->req.headers,
		.body = body,
		.body_len = body_len,
		.done = sched_done_cb,
		.data = slot,
	};
	if (slot->stream) {
		stream_read_init(&slot->sr);
		pr.on_chunk = sched_chunk_cb;
		pr.idle_timeout_ms = s->cfg->idle_timeout_ms;
	}
	if (pool_post(s->pool, &pr, err) < 0) {
		if (slot->stream)
			stream_read_cleanup(&slot->sr);
		return -1;
	}
	return 0;
}

/* Signs and sends the next attempt of a ready job. */
static void sched_send(struct sched *s, struct sched_slot *slot, double now_ms)
{
	struct nb_err err;
	if (slot->job.media.nfiles > 0) {
		buf_init(&slot->media_body, 0);
		if (job_media_expand(slot->job.body, slot->job.body_len, &slot->job.media,
				     &slot->media_body, &err) < 0) {
			buf_cleanup(&slot->media_body);
			sched_finish_failed(s, slot, "MediaFileError", err.msg, 0, NULL);
			return;
		}
	}
	size_t body_len;
	const char *body = sched_body(slot, &body_len);
	struct request_job rj = {slot->job.id, slot->job.model_id, body, body_len, slot->stream};
	clock_utc_iso(slot->attempt_started_at);
	if (!slot->first_started_at[0])
		memcpy(slot->first_started_at, slot->attempt_started_at, CLOCK_ISO_LEN);
	const struct creds_value *cv = creds_current(s->creds, &slot->creds_generation);
	struct request_auth auth = {
		.sigv4 = {cv->access_key_id, cv->secret_access_key, cv->session_token},
		.bearer_token = cv->bearer_token,
	};
	if (request_build(&slot->req, s->cfg->endpoint, &rj, &auth, clock_utc_seconds(), &err) < 0 ||
	    sched_post(s, slot, &err) < 0) {
		/* Nothing was sent; the job fails with the reason. */
		request_cleanup(&slot->req);
		buf_cleanup(&slot->media_body);
		sched_finish_failed(s, slot, "RequestError", err.msg, 0, NULL);
		return;
	}
	ratelimit_take(slot->model->rate, now_ms, job_quota_tokens(&slot->job));
	spend_reserve(&s->spend, slot->worst_pusd);
	slot->sent_ms = now_ms;
	slot->attempts++;
	slot->state = SLOT_IN_FLIGHT;
}

/* Lets go of every job not in flight, unsent, and stops reading: the
 * rows of those jobs stay pending for a resume. */
static void sched_stop(struct sched *s, enum sched_ending ending, const char *why)
{
	if (s->stopping)
		return;
	bool quiet = ending == SCHED_INTERRUPTED; /* the signal handler told already */
	s->stopping = true;
	s->totals.ending = ending;
	snprintf(s->totals.stop_message, sizeof s->totals.stop_message, "%s", why);
	s->reader_done = true;
	struct sched_queue *queues[] = {&s->ready, &s->backoff};
	for (size_t i = 0; i < 2; i++) {
		while (queues[i]->head) {
			struct sched_slot *slot = queues[i]->head;
			sched_queue_remove(queues[i], slot);
			uv_timer_stop(&slot->backoff);
			sched_slot_release(slot);
		}
	}
	uv_timer_stop(&s->dispatch_timer);
	size_t in_flight = pool_in_flight(s->pool);
	if (in_flight > 0 && !quiet) {
		char *msg = xasprintf("stopping (%s): no new requests; waiting for the %zu in flight",
				      why, in_flight);
		sched_notice(s, msg);
		free(msg);
	}
	sched_maybe_finish(s);
}

/* Whether the cost limit lets the slot's next attempt go; stops the run
 * when it does not. */
static bool sched_within_budget(struct sched *s, struct sched_slot *slot)
{
	if (s->spend.limit_pusd == SPEND_NO_LIMIT)
		return true;
	struct sched_model *m = slot->model;
	char why[512];
	if (!m->priced) {
		snprintf(why, sizeof why, "--max-cost: model %s has no price in the price table, "
			 "so what it would spend has no bound", m->id);
		sched_stop(s, SCHED_STOPPED, why);
		return false;
	}
	slot->worst_pusd = spend_worst_case_pusd(&m->price, slot->job.est_input_tokens,
						 slot->job.max_output_tokens);
	if (spend_allows(&s->spend, slot->worst_pusd))
		return true;
	char spent[REPORT_USD_LEN], reserved[REPORT_USD_LEN], worst[REPORT_USD_LEN];
	report_usd_text(s->spend.spent_pusd, spent);
	report_usd_text(s->spend.reserved_pusd, reserved);
	report_usd_text(slot->worst_pusd, worst);
	snprintf(why, sizeof why, "--max-cost: $%s spent and $%s reserved for the requests in "
		 "flight leave no room for the next request (up to $%s)", spent, reserved, worst);
	sched_stop(s, SCHED_STOPPED, why);
	return false;
}

static void sched_dispatch_cb(uv_timer_t *h)
{
	sched_dispatch(h->data);
}

/* Sends what the window and the models' rates allow, oldest first; when a
 * rate holds jobs back, sets the timer for the earliest of them. */
static void sched_dispatch(struct sched *s)
{
	double now = sched_now_ms();
	double soonest = INFINITY;
	s->pass++;
	/* Without usable credentials nothing goes: creds.h calls back when
	 * new ones are in. (Once the run closes, it holds none.) */
	if (!s->creds || !creds_usable(s->creds)) {
		uv_timer_stop(&s->dispatch_timer);
		return;
	}
	for (struct sched_slot *slot = s->ready.head, *next; slot && !s->stopping; slot = next) {
		next = slot->next;
		if (pool_in_flight(s->pool) >= (size_t)s->cfg->concurrency)
			break;
		struct sched_model *m = slot->model;
		if (m->stop_message) {
			sched_queue_remove(&s->ready, slot);
			sched_finish_stopped(s, slot);
			continue;
		}
		if (!sched_within_budget(s, slot))
			break;
		if (m->pass != s->pass) {
			m->pass = s->pass;
			m->pass_wait = ratelimit_wait_ms(m->rate, now, job_quota_tokens(&slot->job));
		}
		if (m->pass_wait > 0) {
			soonest = fmin(soonest, m->pass_wait);
			continue;
		}
		sched_queue_remove(&s->ready, slot);
		sched_send(s, slot, now);
		/* The next job of this model asks the limiter afresh. */
		m->pass = 0;
	}
	if (isfinite(soonest) && !s->stopping)
		uv_timer_start(&s->dispatch_timer, sched_dispatch_cb, (uint64_t)ceil(soonest), 0);
	else
		uv_timer_stop(&s->dispatch_timer);
}

/* A job an earlier session of the run recorded. Returns true when it runs
 * again, with *attempt_base set; false when its recorded end stands (or the
 * database failed). */
static bool sched_resume_job(struct sched *s, const struct job *job,
			     const struct store_job_key *key, int64_t rowid,
			     const struct store_prior *prior, int *attempt_base)
{
	enum resume_action act = resume_decide(prior->status, prior->request_hash,
					       job->request_hash, s->cfg->retry_failed);
	if (act == RESUME_SKIP) {
		s->totals.skipped++;
		if (strcmp(prior->status, "ok") == 0)
			s->totals.ok++;
		else
			s->totals.failed++;
		return false;
	}
	if (act == RESUME_CHANGED) {
		char *msg = xasprintf("%s:%ld: job '%s' on %s is not the request this run recorded "
				      "(it was %s); running it again",
				      job->file, job->line, job->id, job->model_id, prior->status);
		sched_notice(s, msg);
		free(msg);
	}
	struct nb_err err;
	if (store_job_restart(s->cfg->store, rowid, key, job->request_hash, attempt_base,
			      &err) < 0) {
		sched_fail(s, &err);
		return false;
	}
	return true;
}

/* Records a valid job and, unless a resume skips it, queues it. Takes
 * ownership of job when it queues it. A skipped job takes no slot, so a
 * resume reads past a million recorded lines in flat memory. */
static void sched_hold_job(struct sched *s, struct job *job)
{
	struct store_job_key key = {
		.run_id = s->cfg->run_id,
		.job_id = job->id,
		.model_id = job->model_id,
		.source_file = job->file,
		.source_line = job->line,
		.session = s->cfg->session,
		.tags = job->tags,
	};
	struct nb_err err;
	struct store_prior prior;
	int64_t rowid;
	int attempt_base = 0;
	int rc = store_job_begin(s->cfg->store, &key, job->request_hash, &rowid, &prior, &err);
	if (rc == STORE_PRIOR &&
	    !sched_resume_job(s, job, &key, rowid, &prior, &attempt_base))
		return;
	if (rc == STORE_DUPLICATE) {
		char *msg = xasprintf("%s:%ld: field 'id': '%s' is already used by an earlier line "
				      "for model %s; ids must be unique in a run",
				      job->file, job->line, job->id, job->model_id);
		free(job->id);
		job->id = xasprintf("%s:%ld", job->file, job->line);
		sched_record_invalid(s, job, msg);
		free(msg);
		return;
	}
	if (rc < 0) {
		sched_fail(s, &err);
		return;
	}
	struct sched_slot *slot = xcalloc(1, sizeof *slot);
	slot->s = s;
	slot->job = *job;
	memset(job, 0, sizeof *job);
	slot->rowid = rowid;
	slot->attempt_base = attempt_base;
	slot->stream = s->cfg->stream || slot->job.stream;
	uv_timer_init(&s->loop, &slot->backoff);
	slot->backoff.data = slot;
	s->held++;
	slot->model = sched_model_for(s, slot->job.model_id);
	sched_ready_push(s, slot);
}

/* Moves the reader to the next line; false when every file is read. */
static bool sched_next_line(struct sched *s, const char **text, size_t *len)
{
	struct nb_err err;
	while (!s->reader_done) {
		if (!s->reader_open) {
			if (s->file_index == s->cfg->nfiles) {
				s->reader_done = true;
				break;
			}
			if (jobfile_open(&s->reader, s->cfg->files[s->file_index++], &err) < 0) {
				sched_fail(s, &err);
				break;
			}
			s->reader_open = true;
		}
		enum jobfile_status st = jobfile_next(&s->reader, text, len, &err);
		if (st == JOBFILE_LINE)
			return true;
		if (st == JOBFILE_TOO_LONG) {
			struct job job = {
				.id = xasprintf("%s:%ld", s->reader.path, s->reader.line),
				.file = s->reader.path,
				.line = s->reader.line,
			};
			char *msg = xasprintf("%s:%ld: the line is longer than %u MiB",
					      s->reader.path, s->reader.line,
					      JOBFILE_MAX_LINE / (1024 * 1024));
			sched_record_invalid(s, &job, msg);
			free(msg);
			job_cleanup(&job);
			continue;
		}
		if (st == JOBFILE_ERROR)
			sched_fail(s, &err);
		jobfile_close(&s->reader);
		s->reader_open = false;
	}
	return false;
}

/* Reads lines until the scheduler holds a full window or the files end. */
static void sched_fill_cb(uv_timer_t *h)
{
	struct sched *s = h->data;
	sched_fill(s);
	sched_dispatch(s);
	sched_maybe_finish(s);
}

static void sched_fill(struct sched *s)
{
	const char *text;
	size_t len;
	size_t cap = (size_t)s->cfg->concurrency * SCHED_HOLD_PER_SLOT;
	for (int n = 0; s->held < cap; n++) {
		/* Lines that take no slot (skipped by a resume, invalid) could
		 * keep the loop here for a long time: give it back now and then,
		 * so answers, commits and signals are served. */
		if (n == SCHED_FILL_LINES) {
			uv_timer_start(&s->fill_timer, sched_fill_cb, 0, 0);
			return;
		}
		if (!sched_next_line(s, &text, &len))
			return;
		struct job job;
		struct nb_err err;
		if (job_parse(&job, text, len, s->reader.path, s->reader.line, &s->cfg->models,
			      &err) < 0) {
			sched_record_invalid(s, &job, err.msg);
		} else if (job.nmodels == 1) {
			sched_hold_job(s, &job);
		} else {
			/* One job per model: the window may pass its cap by a line. */
			for (size_t i = 0; i < job.nmodels; i++) {
				struct job one;
				job_for_model(&job, i, &one);
				sched_hold_job(s, &one);
				job_cleanup(&one);
			}
		}
		job_cleanup(&job);
	}
}

static void sched_grace_cb(uv_timer_t *h)
{
	struct sched *s = h->data;
	pool_abort_all(s->pool);
}

static void sched_signal_cb(uv_signal_t *h, int signum)
{
	struct sched *s = h->data;
	size_t in_flight = pool_in_flight(s->pool);
	if (s->stopping) {
		/* A second signal (or one during a stop for the cost limit): what is
		 * in flight ends now. */
		if (in_flight > 0)
			sched_notice(s, "aborting the requests in flight");
		pool_abort_all(s->pool);
		return;
	}
	if (in_flight > 0) {
		char *msg = xasprintf("%s: no new requests; waiting up to %ld s for the %zu in "
				      "flight (send it again to abort them)",
				      signum == SIGINT ? "SIGINT" : "SIGTERM",
				      s->cfg->grace_ms / 1000, in_flight);
		sched_notice(s, msg);
		free(msg);
		uv_timer_start(&s->grace_timer, sched_grace_cb, (uint64_t)s->cfg->grace_ms, 0);
	}
	sched_stop(s, SCHED_INTERRUPTED, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void sched_commit_cb(uv_timer_t *h)
{
	struct sched *s = h->data;
	struct nb_err err;
	if (store_commit(s->cfg->store, &err) < 0)
		sched_fail(s, &err);
}

static void sched_progress_cb(uv_timer_t *h)
{
	struct sched *s = h->data;
	s->totals.in_flight = pool_in_flight(s->pool);
	s->totals.cost_pusd = s->spend.spent_pusd;
	s->cfg->cb.progress(&s->totals, s->cfg->cb.data);
}

/* When the files are read and no job is held, closes the loop's handles
 * so uv_run returns. */
static void sched_maybe_finish(struct sched *s)
{
	if (s->closing || !s->reader_done || s->held > 0)
		return;
	s->closing = true;
	if (s->reader_open) {
		jobfile_close(&s->reader);
		s->reader_open = false;
	}
	uv_close((uv_handle_t *)&s->commit_timer, NULL);
	uv_close((uv_handle_t *)&s->progress_timer, NULL);
	uv_close((uv_handle_t *)&s->dispatch_timer, NULL);
	uv_close((uv_handle_t *)&s->grace_timer, NULL);
	uv_close((uv_handle_t *)&s->fill_timer, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	s->totals.renewals = creds_renewals(s->creds);
	creds_close(s->creds);
	s->creds = NULL;
	pool_close(s->pool);
}

static void sched_creds_ready(void *data)
{
	sched_dispatch(data);
}

static void sched_creds_notice(const char *message, void *data)
{
	sched_notice(data, message);
}

/* Renewing failed for good: what is in flight ends, the rest waits for a
 * resume. */
static void sched_creds_gave_up(const char *why, void *data)
{
	sched_stop(data, SCHED_NO_CREDENTIALS, why);
}

int sched_run(const struct sched_config *cfg, struct sched_totals *totals, struct nb_err *err)
{
	struct sched *s = xcalloc(1, sizeof *s);
	s->cfg = cfg;
	s->random_state = clock_mono_ns() | 1;
	s->totals.cost_known = true;
	spend_init(&s->spend, cfg->max_cost_pusd, cfg->spent_pusd);
	int ret = -1;
	if (uv_loop_init(&s->loop) != 0) {
		err_set(err, "cannot start the event loop");
		free(s);
		return -1;
	}
	struct pool_config pcfg = {
		.max_connections = cfg->concurrency,
		.connect_timeout_ms = cfg->connect_timeout_ms,
		.timeout_ms = cfg->timeout_ms,
		.ca_bundle = cfg->ca_bundle,
		.insecure = cfg->insecure,
	};
	if (pool_new(&s->loop, &pcfg, &s->pool, err) < 0)
		goto out;
	struct pool_config http;
	creds_http_config(&pcfg, &http);
	struct creds_value first;
	creds_value_copy(&first, cfg->creds);
	struct creds_events ev = {sched_creds_ready, sched_creds_notice, sched_creds_gave_up, s};
	s->creds = creds_new(&s->loop, cfg->creds_source, &first, &http, &ev);
	uv_timer_init(&s->loop, &s->commit_timer);
	s->commit_timer.data = s;
	uv_timer_start(&s->commit_timer, sched_commit_cb, (uint64_t)cfg->commit_interval_ms,
		       (uint64_t)cfg->commit_interval_ms);
	uv_timer_init(&s->loop, &s->progress_timer);
	s->progress_timer.data = s;
	if (cfg->progress_interval_ms > 0 && cfg->cb.progress)
		uv_timer_start(&s->progress_timer, sched_progress_cb,
			       (uint64_t)cfg->progress_interval_ms,
			       (uint64_t)cfg->progress_interval_ms);
	uv_timer_init(&s->loop, &s->dispatch_timer);
	s->dispatch_timer.data = s;
	uv_timer_init(&s->loop, &s->grace_timer);
	s->grace_timer.data = s;
	uv_timer_init(&s->loop, &s->fill_timer);
	s->fill_timer.data = s;
	uv_signal_init(&s->loop, &s->sigint);
	s->sigint.data = s;
	uv_signal_start(&s->sigint, sched_signal_cb, SIGINT);
	uv_signal_init(&s->loop, &s->sigterm);
	s->sigterm.data = s;
	uv_signal_start(&s->sigterm, sched_signal_cb, SIGTERM);
	sched_fill(s);
	sched_dispatch(s);
	sched_maybe_finish(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);

	struct nb_err cerr;
	if (store_commit(cfg->store, &cerr) < 0)
		sched_fail(s, &cerr);
	*totals = s->totals;
	totals->in_flight = 0;
	totals->cost_pusd = s->spend.spent_pusd;
	if (s->failed)
		*err = s->fatal;
	else
		ret = 0;
out:
	sched_models_free(s);
	if (uv_loop_close(&s->loop) != 0 && ret == 0)
		ret = err_set(err, "the event loop did not close cleanly");
	free(s);
	return ret;
}
