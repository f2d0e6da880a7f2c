/*
 * The JSON writer of a report: one object, the shape DESIGN.md fixes
 * ("run", "models", "errors") plus totals and detail.
 *
 * Costs are printed from the exact pico-USD sums. cost_usd is a JSON number,
 * the double nearest to the sum, printed with 15 significant digits: every
 * cost below 1000 USD has at most 15 digits down to the pico-USD, so its text
 * is the exact decimal (3.2, 8.75e-06) with no binary noise; above that, the
 * text keeps 15 significant digits. cost_pusd carries the integer itself.
 */
#include "report.h"

#include <jansson.h>

#include "jsonout.h"


static json_t *report_json_ms(const struct report_dist *d, double v)
{
	return d->n ? json_real(v) : json_null();
}

static json_t *report_json_run(const struct report *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->run_id));
	json_object_set_new(o, "name", jsonout_str(r->name));
	json_object_set_new(o, "status", jsonout_str(r->status));
	json_object_set_new(o, "started_at", jsonout_str(r->started_at));
	json_object_set_new(o, "finished_at", jsonout_str(r->finished_at));
	json_object_set_new(o, "duration_ms",
			    r->duration_ms >= 0 ? json_integer(r->duration_ms) : json_null());
	json_object_set_new(o, "version", jsonout_str(r->version));
	json_object_set_new(o, "region", jsonout_str(r->region));
	json_object_set_new(o, "endpoint_host", jsonout_str(r->endpoint_host));
	json_object_set_new(o, "concurrency", json_integer(r->concurrency));
	static const char *const prices[] = {
		[REPORT_PRICES_BUILTIN] = "built-in",
		[REPORT_PRICES_RUN] = "run",
		[REPORT_PRICES_FILE] = "file",
	};
	json_object_set_new(o, "prices", json_string(prices[r->prices]));
	json_object_set_new(o, "prices_file", jsonout_str(r->prices_file));
	json_object_set_new(o, "prices_effective_date", jsonout_str(r->prices_effective));
	return o;
}

/* Adds the counters of c to o. */
static void report_json_counts(json_t *o, const struct report_counts *c)
{
	json_object_set_new(o, "jobs", json_integer(c->jobs));
	json_object_set_new(o, "ok", json_integer(c->ok));
	json_object_set_new(o, "failed", json_integer(c->failed));
	json_object_set_new(o, "invalid", json_integer(c->invalid));
	json_object_set_new(o, "pending", json_integer(c->pending));
	json_object_set_new(o, "attempts", json_integer(c->attempts));
	json_object_set_new(o, "throttled", json_integer(c->throttled));
	json_object_set_new(o, "input_tokens", json_integer(c->input_tokens));
	json_object_set_new(o, "output_tokens", json_integer(c->output_tokens));
	json_object_set_new(o, "cache_read_tokens", json_integer(c->cache_read_tokens));
	json_object_set_new(o, "cache_write_tokens", json_integer(c->cache_write_tokens));
	/* Jobs with expectations, passed and failed; pass_rate in percent,
	 * null when none had any. */
	json_t *e = json_object();
	json_object_set_new(e, "jobs", json_integer(c->expect_jobs));
	json_object_set_new(e, "passed", json_integer(c->expect_passed));
	json_object_set_new(e, "failed", json_integer(c->expect_jobs - c->expect_passed));
	json_object_set_new(e, "pass_rate",
			    c->expect_jobs ? json_real(report_pass_rate(c)) : json_null());
	json_object_set_new(o, "expectations", e);
}

static json_t *report_json_model(const struct report *r, const struct report_model *m)
{
	json_t *o = json_object();
	json_object_set_new(o, r->by_tag ? "tag" : "model_id", jsonout_str(m->model_id));
	report_json_counts(o, &m->c);
	jsonout_cost(o, m->c.cost_known, m->c.cost_pusd);
	json_t *lat = json_object();
	json_object_set_new(lat, "p50", report_json_ms(&m->latency, m->latency.p50));
	json_object_set_new(lat, "p90", report_json_ms(&m->latency, m->latency.p90));
	json_object_set_new(lat, "p99", report_json_ms(&m->latency, m->latency.p99));
	json_object_set_new(lat, "max", report_json_ms(&m->latency, m->latency.max));
	json_object_set_new(o, "latency_ms", lat);
	json_t *ttft = json_object();
	json_object_set_new(ttft, "p50", report_json_ms(&m->ttft, m->ttft.p50));
	json_object_set_new(ttft, "p90", report_json_ms(&m->ttft, m->ttft.p90));
	json_object_set_new(ttft, "p99", report_json_ms(&m->ttft, m->ttft.p99));
	json_object_set_new(o, "ttft_ms", ttft);
	json_t *server = json_object();
	json_object_set_new(server, "p50",
			    report_json_ms(&m->server_latency, m->server_latency.p50));
	json_object_set_new(o, "server_latency_ms", server);
	json_t *tps = json_object();
	json_object_set_new(tps, "p50", report_json_ms(&m->tokens_per_s, m->tokens_per_s.p50));
	json_object_set_new(o, "output_tokens_per_s", tps);
	return o;
}

static json_t *report_json_error(const struct report_error *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", jsonout_str(e->type));
	json_object_set_new(o, "count", json_integer(e->count));
	json_object_set_new(o, "example", jsonout_str(e->example));
	json_object_set_new(o, "example_job_id", jsonout_str(e->example_job));
	json_object_set_new(o, "example_model_id", jsonout_str(e->example_model));
	return o;
}

int report_write_json(const struct report *r, FILE *out, struct nb_err *err)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "run", report_json_run(r));
	json_t *models = json_array();
	for (size_t i = 0; i < r->nmodels; i++)
		json_array_append_new(models, report_json_model(r, &r->models[i]));
	json_object_set_new(doc, r->by_tag ? "tags" : "models", models);
	json_t *totals = json_object();
	report_json_counts(totals, &r->total);
	/* The total cost counts the priced models only; this says if all were. */
	jsonout_cost(totals, true, r->total.cost_pusd);
	json_object_set_new(totals, "cost_complete", json_boolean(r->total.cost_known));
	json_object_set_new(doc, "totals", totals);
	json_t *errors = json_array();
	for (size_t i = 0; i < r->nerrors; i++)
		json_array_append_new(errors, report_json_error(&r->errors[i]));
	json_object_set_new(doc, "errors", errors);

	return jsonout_write(doc, out, err);
}
