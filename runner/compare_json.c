/*
 * The JSON writers of compare: one object each, for scripts and dashboards.
 *
 * Two runs: {"base", "new", "thresholds", "regression", "breaches",
 * "models", "jobs"}; "jobs" holds the pairs that changed (newly failing,
 * newly fixed, output changed) with both sides' status, expectation
 * verdict, failures and output excerpt. Across models: {"run", "models",
 * "jobs"}, a job's "models" keyed by model id. Percentages are numbers, null
 * when unknown; costs are USD numbers (15 significant digits, as the
 * report's) and exact pico-USD integers.
 */
#include "compare.h"

#include <jansson.h>
#include <math.h>

#include "jsonout.h"


static json_t *compare_json_pct(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *compare_json_run(const struct results *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->run_id));
	json_object_set_new(o, "name", jsonout_str(r->run_name));
	return o;
}

static json_t *compare_json_dist(const struct compare_dist *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "p50", d->n ? json_real(d->p50) : json_null());
	json_object_set_new(o, "p90", d->n ? json_real(d->p90) : json_null());
	return o;
}

static json_t *compare_json_side(const struct compare_side *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "ok", json_integer(s->ok));
	json_object_set_new(o, "expect_jobs", json_integer(s->expect_jobs));
	json_object_set_new(o, "expect_passed", json_integer(s->expect_passed));
	json_object_set_new(o, "pass_rate", compare_json_pct(compare_pass_rate(s) >= 0
								     ? compare_pass_rate(s)
								     : NAN));
	json_object_set_new(o, "latency_ms", compare_json_dist(&s->latency));
	json_object_set_new(o, "input_tokens", json_integer(s->input_tokens));
	json_object_set_new(o, "output_tokens", json_integer(s->output_tokens));
	jsonout_cost(o, s->cost_known, s->cost_pusd);
	return o;
}

static json_t *compare_json_model(const struct compare_model *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "model_id", jsonout_str(m->model_id));
	json_object_set_new(o, "jobs", json_integer(m->matched));
	json_object_set_new(o, "only_base", json_integer(m->only_base));
	json_object_set_new(o, "only_new", json_integer(m->only_new));
	json_object_set_new(o, "newly_failing", json_integer(m->newly_failing));
	json_object_set_new(o, "newly_fixed", json_integer(m->newly_fixed));
	json_object_set_new(o, "outputs_changed", json_integer(m->outputs_changed));
	json_object_set_new(o, "base", compare_json_side(&m->base));
	json_object_set_new(o, "new", compare_json_side(&m->new));
	double was = compare_pass_rate(&m->base), is = compare_pass_rate(&m->new);
	bool lat = m->base.latency.n && m->new.latency.n;
	bool cost = m->base.cost_known && m->new.cost_known;
	json_t *ch = json_object();
	json_object_set_new(ch, "pass_rate_points",
			    compare_json_pct(was >= 0 && is >= 0 ? is - was : NAN));
	json_object_set_new(ch, "latency_p50_pct",
			    compare_json_pct(lat ? compare_change_pct(m->base.latency.p50,
								      m->new.latency.p50)
						 : NAN));
	json_object_set_new(ch, "latency_p90_pct",
			    compare_json_pct(lat ? compare_change_pct(m->base.latency.p90,
								      m->new.latency.p90)
						 : NAN));
	json_object_set_new(
		ch, "output_tokens_pct",
		compare_json_pct(compare_change_pct((double)m->base.output_tokens,
						    (double)m->new.output_tokens)));
	json_object_set_new(ch, "cost_pct",
			    compare_json_pct(cost ? compare_change_pct((double)m->base.cost_pusd,
								       (double)m->new.cost_pusd)
						  : NAN));
	json_object_set_new(o, "change", ch);
	return o;
}

static json_t *compare_json_job_side(const struct results_job *j)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", jsonout_str(j->status));
	json_object_set_new(o, "expect_status", jsonout_str(j->expect_status));
	json_t *failures = j->expect_failures ? json_loads(j->expect_failures, 0, NULL) : NULL;
	json_object_set_new(o, "expect_failures", failures ? failures : json_array());
	json_object_set_new(o, "output_excerpt", jsonout_str(j->excerpt));
	json_object_set_new(o, "error", jsonout_str(j->error));
	json_object_set_new(o, "latency_ms", j->latency_ms >= 0 ? json_real(j->latency_ms)
								: json_null());
	return o;
}

static json_t *compare_json_jobs(const struct compare *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		for (size_t k = 0; k < m->npairs; k++) {
			const struct compare_pair *p = &m->pairs[k];
			if (!(p->flags & (COMPARE_NEWLY_FAILING | COMPARE_NEWLY_FIXED |
					  COMPARE_OUTPUT_CHANGED)))
				continue;
			json_t *o = json_object();
			json_object_set_new(o, "job_id", jsonout_str(p->new->job_id));
			json_object_set_new(o, "model_id", jsonout_str(m->model_id));
			json_object_set_new(o, "newly_failing",
					    json_boolean(p->flags & COMPARE_NEWLY_FAILING));
			json_object_set_new(o, "newly_fixed",
					    json_boolean(p->flags & COMPARE_NEWLY_FIXED));
			json_object_set_new(o, "output_changed",
					    json_boolean(p->flags & COMPARE_OUTPUT_CHANGED));
			json_object_set_new(o, "base", compare_json_job_side(p->base));
			json_object_set_new(o, "new", compare_json_job_side(p->new));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

static json_t *compare_json_thresholds(const struct compare_thresholds *th)
{
	json_t *o = json_object();
	json_object_set_new(o, "max_latency_regression_pct",
			    th->max_latency_pct >= 0 ? json_real(th->max_latency_pct) : json_null());
	json_object_set_new(o, "max_cost_regression_pct",
			    th->max_cost_pct >= 0 ? json_real(th->max_cost_pct) : json_null());
	json_object_set_new(o, "max_pass_rate_drop_points",
			    th->max_pass_drop_pct >= 0 ? json_real(th->max_pass_drop_pct)
						       : json_null());
	json_object_set_new(o, "fail_on_output_change", json_boolean(th->fail_on_output_change));
	return o;
}

int compare_write_json(const struct compare *c, FILE *out, struct nb_err *err)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "base", compare_json_run(c->base));
	json_object_set_new(doc, "new", compare_json_run(c->new));
	json_object_set_new(doc, "thresholds", compare_json_thresholds(&c->th));
	json_object_set_new(doc, "regression", json_boolean(c->nbreaches > 0));
	json_t *breaches = json_array();
	for (size_t i = 0; i < c->nbreaches; i++) {
		json_t *b = json_object();
		json_object_set_new(b, "model_id", jsonout_str(c->breaches[i].model_id));
		json_object_set_new(b, "threshold", json_string(c->breaches[i].threshold));
		json_object_set_new(b, "message", jsonout_str(c->breaches[i].message));
		json_array_append_new(breaches, b);
	}
	json_object_set_new(doc, "breaches", breaches);
	json_t *models = json_array();
	for (size_t i = 0; i < c->nmodels; i++)
		json_array_append_new(models, compare_json_model(&c->models[i]));
	json_object_set_new(doc, "models", models);
	json_object_set_new(doc, "jobs", compare_json_jobs(c));
	return jsonout_write(doc, out, err);
}

static json_t *compare_json_cell(const struct results_job *j)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", jsonout_str(j->status));
	json_object_set_new(o, "expect_status", jsonout_str(j->expect_status));
	json_object_set_new(o, "latency_ms", j->latency_ms >= 0 ? json_real(j->latency_ms)
								: json_null());
	json_object_set_new(o, "input_tokens",
			    j->input_tokens >= 0 ? json_integer(j->input_tokens) : json_null());
	json_object_set_new(o, "output_tokens",
			    j->output_tokens >= 0 ? json_integer(j->output_tokens) : json_null());
	jsonout_cost(o, j->cost_known, j->cost_pusd);
	json_object_set_new(o, "output_excerpt", jsonout_str(j->excerpt));
	return o;
}

int compare_across_write_json(const struct compare_across *a, FILE *out, struct nb_err *err)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "run", compare_json_run(a->run));
	json_t *models = json_array();
	for (size_t i = 0; i < a->nmodels; i++) {
		const struct compare_across_model *m = &a->models[i];
		json_t *o = json_object();
		json_object_set_new(o, "model_id", jsonout_str(m->model_id));
		json_object_set_new(o, "jobs", json_integer(m->jobs));
		json_object_set_new(o, "ok", json_integer(m->ok));
		json_object_set_new(o, "expect_jobs", json_integer(m->expect_jobs));
		json_object_set_new(o, "expect_passed", json_integer(m->expect_passed));
		json_object_set_new(o, "pass_rate",
				    m->expect_jobs ? json_real(100.0 * (double)m->expect_passed /
							       (double)m->expect_jobs)
						   : json_null());
		json_object_set_new(o, "latency_ms", compare_json_dist(&m->latency));
		json_object_set_new(o, "output_tokens", json_integer(m->output_tokens));
		jsonout_cost(o, m->cost_known, m->cost_pusd);
		json_array_append_new(models, o);
	}
	json_object_set_new(doc, "models", models);
	json_t *jobs = json_array();
	for (size_t r = 0; r < a->nrows; r++) {
		json_t *row = json_object();
		json_object_set_new(row, "job_id", jsonout_str(a->rows[r].job_id));
		json_t *cells = json_object();
		for (size_t i = 0; i < a->nmodels; i++)
			if (a->rows[r].cells[i])
				json_object_set_new(cells, a->models[i].model_id,
						    compare_json_cell(a->rows[r].cells[i]));
		json_object_set_new(row, "models", cells);
		json_array_append_new(jobs, row);
	}
	json_object_set_new(doc, "jobs", jobs);
	return jsonout_write(doc, out, err);
}
