#include "sched.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "clock.h"
#include "job.h"
#include "jobfile.h"
#include "pool.h"
#include "response.h"
#include "xalloc.h"

/* A job in flight. */
struct sched_slot {
	struct sched *s;
	struct job job;
	int64_t rowid;
	struct request req;
	char started_at[CLOCK_ISO_LEN];
};

struct sched {
	const struct sched_config *cfg;
	uv_loop_t loop;
	uv_timer_t commit_timer;
	uv_timer_t progress_timer;
	struct pool *pool;
	int file_index;
	struct jobfile reader;
	bool reader_open;
	bool reader_done;
	bool closing;
	struct sched_totals totals;
	struct nb_err fatal; /* set once: the run cannot go on */
	bool failed;
};

static void sched_problem(struct sched *s, const char *message)
{
	if (s->cfg->cb.job_problem)
		s->cfg->cb.job_problem(message, s->cfg->cb.data);
}

/* Stops reading: what is in flight finishes, nothing new starts. */
static void sched_fail(struct sched *s, const struct nb_err *err)
{
	if (!s->failed) {
		s->failed = true;
		s->fatal = *err;
	}
	s->reader_done = true;
}

static void sched_record_invalid(struct sched *s, const struct job *job, const char *message)
{
	struct store_job_key key = {
		.run_id = s->cfg->run_id,
		.job_id = job->id,
		.model_id = job->model_id,
		.source_file = job->file,
		.source_line = job->line,
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

static void sched_slot_free(struct sched_slot *slot)
{
	job_cleanup(&slot->job);
	request_cleanup(&slot->req);
	free(slot);
}

/* Fills the outcome's answer fields from a 200 body, or says why not. */
static void sched_read_answer(const struct pool_result *res, struct response *ans,
			      struct store_job_outcome *o, struct store_attempt *a,
			      struct response_error *rerr, struct nb_err *perr)
{
	if (res->transport_code != 0) {
		o->error_type = a->error_type = "TransportError";
		o->error_message = a->error_message = a->transport_error = res->transport_error;
		return;
	}
	if (res->http_status == 200) {
		if (response_parse_converse(res->body, res->body_len, ans, perr) == 0) {
			o->status = "ok";
			o->output_text = ans->output_text;
			o->content = ans->content;
			o->stop_reason = ans->stop_reason;
			o->input_tokens = ans->input_tokens;
			o->output_tokens = ans->output_tokens;
			o->total_tokens = ans->total_tokens;
			o->cache_read_tokens = ans->cache_read_tokens;
			o->cache_write_tokens = ans->cache_write_tokens;
			o->server_latency_ms = ans->server_latency_ms;
			return;
		}
		o->error_type = a->error_type = "MalformedResponse";
		o->error_message = a->error_message = perr->msg;
		return;
	}
	char type_header[256];
	const char *th = pool_result_header(res, "x-amzn-ErrorType", type_header, sizeof type_header);
	response_parse_error(res->http_status, th, res->body, res->body_len, rerr);
	o->error_type = a->error_type = rerr->type;
	o->error_message = a->error_message = rerr->message;
}

static void sched_fill(struct sched *s);
static void sched_maybe_finish(struct sched *s);

static void sched_done_cb(const struct pool_result *res, void *data)
{
	struct sched_slot *slot = data;
	struct sched *s = slot->s;
	char request_id[128];
	char finished_at[CLOCK_ISO_LEN];
	clock_utc_iso(finished_at);
	double latency = clock_ms_between(res->start_ns, res->end_ns);

	struct store_attempt a = {
		.number = 1,
		.started_at = slot->started_at,
		.latency_ms = latency,
		.ttft_ms = -1,
		.http_status = res->http_status,
		.request_id = pool_result_header(res, "x-amzn-RequestId", request_id,
						 sizeof request_id),
	};
	struct store_job_outcome o = {
		.status = "failed",
		.attempts = 1,
		.input_tokens = -1,
		.output_tokens = -1,
		.total_tokens = -1,
		.cache_read_tokens = -1,
		.cache_write_tokens = -1,
		.latency_ms = latency,
		.server_latency_ms = -1,
		.ttft_ms = -1,
		.request_id = a.request_id,
		.http_status = res->http_status,
		.started_at = slot->started_at,
		.finished_at = finished_at,
	};
	struct response ans = {0};
	struct response_error rerr = {0};
	struct nb_err perr;
	sched_read_answer(res, &ans, &o, &a, &rerr, &perr);

	struct nb_err err;
	if (store_attempt_add(s->cfg->store, slot->rowid, &a, &err) < 0 ||
	    store_job_finish(s->cfg->store, slot->rowid, &o, &err) < 0)
		sched_fail(s, &err);
	s->totals.attempts++;
	if (strcmp(o.status, "ok") == 0) {
		s->totals.ok++;
		s->totals.input_tokens += ans.input_tokens > 0 ? ans.input_tokens : 0;
		s->totals.output_tokens += ans.output_tokens > 0 ? ans.output_tokens : 0;
	} else {
		s->totals.failed++;
		char *msg = xasprintf("%s:%ld: job '%s' failed: %s: %s", slot->job.file,
				      slot->job.line, slot->job.id, o.error_type, o.error_message);
		sched_problem(s, msg);
		free(msg);
	}
	response_cleanup(&ans);
	response_error_cleanup(&rerr);
	sched_slot_free(slot);
	sched_fill(s);
	sched_maybe_finish(s);
}

/* Records and sends one valid job. Takes ownership of job. */
static void sched_start_job(struct sched *s, struct job *job)
{
	struct sched_slot *slot = xcalloc(1, sizeof *slot);
	slot->s = s;
	slot->job = *job;
	memset(job, 0, sizeof *job);
	struct store_job_key key = {
		.run_id = s->cfg->run_id,
		.job_id = slot->job.id,
		.model_id = slot->job.model_id,
		.source_file = slot->job.file,
		.source_line = slot->job.line,
	};
	struct nb_err err;
	int rc = store_job_begin(s->cfg->store, &key, slot->job.request_hash, &slot->rowid, &err);
	if (rc == STORE_DUPLICATE) {
		char *msg = xasprintf("%s:%ld: field 'id': '%s' is already used by an earlier line "
				      "for model %s; ids must be unique in a run",
				      slot->job.file, slot->job.line, slot->job.id,
				      slot->job.model_id);
		free(slot->job.id);
		slot->job.id = xasprintf("%s:%ld", slot->job.file, slot->job.line);
		sched_record_invalid(s, &slot->job, msg);
		free(msg);
		sched_slot_free(slot);
		return;
	}
	if (rc < 0) {
		sched_fail(s, &err);
		sched_slot_free(slot);
		return;
	}
	clock_utc_iso(slot->started_at);
	if (request_build(&slot->req, s->cfg->endpoint, slot->job.model_id, slot->job.body,
			  slot->job.body_len, &s->cfg->creds, clock_utc_seconds(), &err) < 0 ||
	    pool_post(s->pool, slot->req.url, slot->req.headers, slot->job.body,
		      slot->job.body_len, sched_done_cb, slot, &err) < 0) {
		/* Nothing was sent; the job fails with the reason. */
		struct store_job_outcome o = {
			.status = "failed",
			.input_tokens = -1,
			.output_tokens = -1,
			.total_tokens = -1,
			.cache_read_tokens = -1,
			.cache_write_tokens = -1,
			.latency_ms = -1,
			.server_latency_ms = -1,
			.ttft_ms = -1,
			.error_type = "RequestError",
			.error_message = err.msg,
			.started_at = slot->started_at,
			.finished_at = slot->started_at,
		};
		struct nb_err serr;
		if (store_job_finish(s->cfg->store, slot->rowid, &o, &serr) < 0)
			sched_fail(s, &serr);
		s->totals.failed++;
		sched_problem(s, err.msg);
		sched_slot_free(slot);
	}
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

/* Starts jobs until the window is full or the files are read. */
static void sched_fill(struct sched *s)
{
	const char *text;
	size_t len;
	while (pool_in_flight(s->pool) < (size_t)s->cfg->concurrency &&
	       sched_next_line(s, &text, &len)) {
		struct job job;
		struct nb_err err;
		if (job_parse(&job, text, len, s->reader.path, s->reader.line,
			      s->cfg->default_model, &err) < 0)
			sched_record_invalid(s, &job, err.msg);
		else
			sched_start_job(s, &job);
		job_cleanup(&job);
	}
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
	s->cfg->cb.progress(&s->totals, s->cfg->cb.data);
}

/* When the files are read and nothing is in flight, closes the loop's
 * handles so uv_run returns. */
static void sched_maybe_finish(struct sched *s)
{
	if (s->closing || !s->reader_done || pool_in_flight(s->pool) > 0)
		return;
	s->closing = true;
	if (s->reader_open) {
		jobfile_close(&s->reader);
		s->reader_open = false;
	}
	uv_close((uv_handle_t *)&s->commit_timer, NULL);
	uv_close((uv_handle_t *)&s->progress_timer, NULL);
	pool_close(s->pool);
}

int sched_run(const struct sched_config *cfg, struct sched_totals *totals, struct nb_err *err)
{
	struct sched *s = xcalloc(1, sizeof *s);
	s->cfg = cfg;
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
	};
	if (pool_new(&s->loop, &pcfg, &s->pool, err) < 0)
		goto out;
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
	sched_fill(s);
	sched_maybe_finish(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);

	struct nb_err cerr;
	if (store_commit(cfg->store, &cerr) < 0)
		sched_fail(s, &cerr);
	*totals = s->totals;
	totals->in_flight = 0;
	if (s->failed)
		*err = s->fatal;
	else
		ret = 0;
out:
	if (uv_loop_close(&s->loop) != 0 && ret == 0)
		ret = err_set(err, "the event loop did not close cleanly");
	free(s);
	return ret;
}
