#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xalloc.h"
#include "percentile.h"

/* Job ids named in a breach message, at most; the rest are counted. */
#define COMPARE_MAX_NAMED 5

static void compare_dist_of(double *v, size_t n, struct compare_dist *d)
{
	d->n = (int64_t)n;
	if (!n)
		return;
	percentile_sort(v, n);
	d->p50 = percentile_of(v, n, 50);
	d->p90 = percentile_of(v, n, 90);
}

const char *compare_result_text(const struct results_job *j)
{
	if (j->expect_status)
		return strcmp(j->expect_status, "passed") == 0 ? "pass" : "FAIL";
	if (strcmp(j->status, "ok") == 0)
		return "-";
	return strcmp(j->status, "failed") == 0 ? "(failed)" : "(no answer)";
}

double compare_pass_rate(const struct compare_side *s)
{
	return s->expect_jobs ? 100.0 * (double)s->expect_passed / (double)s->expect_jobs : -1;
}

double compare_change_pct(double a, double b)
{
	if (a == 0)
		return b == 0 ? 0 : HUGE_VAL;
	return (b - a) / a * 100.0;
}

/* Adds one run's job to its side of a model. */
static void compare_side_add(struct compare_side *s, const struct results_job *j, double *lat,
			     size_t *nlat)
{
	if (strcmp(j->status, "ok") == 0) {
		s->ok++;
		if (j->latency_ms >= 0)
			lat[(*nlat)++] = j->latency_ms;
	}
	if (j->expect_status) {
		s->expect_jobs++;
		s->expect_passed += strcmp(j->expect_status, "passed") == 0;
	}
	s->input_tokens += j->input_tokens > 0 ? j->input_tokens : 0;
	s->output_tokens += j->output_tokens > 0 ? j->output_tokens : 0;
	if (j->cost_known)
		s->cost_pusd += j->cost_pusd;
	else
		s->cost_known = false;
}

static unsigned compare_flags(const struct results_job *b, const struct results_job *n)
{
	if (!n)
		return COMPARE_ONLY_BASE;
	if (!b)
		return COMPARE_ONLY_NEW;
	unsigned f = 0;
	if (b->expect_status && n->expect_status) {
		bool was = strcmp(b->expect_status, "passed") == 0;
		bool is = strcmp(n->expect_status, "passed") == 0;
		if (was && !is)
			f |= COMPARE_NEWLY_FAILING;
		if (!was && is)
			f |= COMPARE_NEWLY_FIXED;
	}
	if (results_output_changed(b, n))
		f |= COMPARE_OUTPUT_CHANGED;
	return f;
}

/* Fills a model's counts and distributions from its pairs. */
static void compare_model_stats(struct compare_model *m)
{
	double *lat_b = xcalloc(m->npairs + 1, sizeof *lat_b);
	double *lat_n = xcalloc(m->npairs + 1, sizeof *lat_n);
	size_t nb = 0, nn = 0;
	m->base.cost_known = m->new.cost_known = true;
	for (size_t i = 0; i < m->npairs; i++) {
		const struct compare_pair *p = &m->pairs[i];
		if (p->flags & COMPARE_ONLY_BASE) {
			m->only_base++;
			continue;
		}
		if (p->flags & COMPARE_ONLY_NEW) {
			m->only_new++;
			continue;
		}
		m->matched++;
		compare_side_add(&m->base, p->base, lat_b, &nb);
		compare_side_add(&m->new, p->new, lat_n, &nn);
		m->newly_failing += (p->flags & COMPARE_NEWLY_FAILING) != 0;
		m->newly_fixed += (p->flags & COMPARE_NEWLY_FIXED) != 0;
		m->outputs_changed += (p->flags & COMPARE_OUTPUT_CHANGED) != 0;
	}
	compare_dist_of(lat_b, nb, &m->base.latency);
	compare_dist_of(lat_n, nn, &m->new.latency);
	free(lat_b);
	free(lat_n);
}

static void compare_breach_add(struct compare *c, const struct compare_model *m,
			       const char *threshold, char *message)
{
	c->breaches = xrealloc(c->breaches, (c->nbreaches + 1) * sizeof *c->breaches);
	c->breaches[c->nbreaches++] = (struct compare_breach){m->model_id, threshold, message};
}

/* "a, b, c and 2 more": the jobs of m with flag. */
static char *compare_job_list(const struct compare_model *m, unsigned flag)
{
	char *list = xstrdup("");
	int64_t named = 0, total = 0;
	for (size_t i = 0; i < m->npairs; i++) {
		if (!(m->pairs[i].flags & flag))
			continue;
		if (++total > COMPARE_MAX_NAMED)
			continue;
		char *next = xasprintf("%s%s%s", list, named++ ? ", " : "", m->pairs[i].new->job_id);
		free(list);
		list = next;
	}
	if (total > COMPARE_MAX_NAMED) {
		char *next = xasprintf("%s and %lld more", list,
				       (long long)(total - COMPARE_MAX_NAMED));
		free(list);
		list = next;
	}
	return list;
}

static void compare_judge(struct compare *c, const struct compare_model *m)
{
	const struct compare_thresholds *th = &c->th;
	if (m->newly_failing) {
		char *list = compare_job_list(m, COMPARE_NEWLY_FAILING);
		compare_breach_add(c, m, "newly-failing",
				   xasprintf("%lld job%s passed %s expectations in the base run and "
					     "fail%s them now: %s",
					     (long long)m->newly_failing,
					     m->newly_failing == 1 ? "" : "s",
					     m->newly_failing == 1 ? "its" : "their",
					     m->newly_failing == 1 ? "s" : "", list));
		free(list);
	}
	if (th->max_latency_pct >= 0 && m->base.latency.n && m->new.latency.n) {
		double pct = compare_change_pct(m->base.latency.p90, m->new.latency.p90);
		if (pct > th->max_latency_pct)
			compare_breach_add(c, m, "max-latency-regression",
					   xasprintf("p90 latency %.1f ms -> %.1f ms (%+.1f%%), more "
						     "than the %g%% allowed",
						     m->base.latency.p90, m->new.latency.p90, pct,
						     th->max_latency_pct));
	}
	if (th->max_cost_pct >= 0 && m->base.cost_known && m->new.cost_known) {
		double pct = compare_change_pct((double)m->base.cost_pusd, (double)m->new.cost_pusd);
		if (pct > th->max_cost_pct) {
			char a[REPORT_USD_LEN], b[REPORT_USD_LEN];
			report_usd_text(m->base.cost_pusd, a);
			report_usd_text(m->new.cost_pusd, b);
			compare_breach_add(c, m, "max-cost-regression",
					   isinf(pct) ? xasprintf("cost $%s -> $%s, more than the "
								  "%g%% allowed",
								  a, b, th->max_cost_pct)
						      : xasprintf("cost $%s -> $%s (%+.1f%%), more "
								  "than the %g%% allowed",
								  a, b, pct, th->max_cost_pct));
		}
	}
	double was = compare_pass_rate(&m->base), is = compare_pass_rate(&m->new);
	if (th->max_pass_drop_pct >= 0 && was >= 0 && is >= 0 && was - is > th->max_pass_drop_pct)
		compare_breach_add(c, m, "max-pass-rate-drop",
				   xasprintf("pass rate %.1f%% -> %.1f%% (%.1f points down), more "
					     "than the %g points allowed",
					     was, is, was - is, th->max_pass_drop_pct));
	if (th->fail_on_output_change && m->outputs_changed) {
		char *list = compare_job_list(m, COMPARE_OUTPUT_CHANGED);
		compare_breach_add(c, m, "fail-on-output-change",
				   xasprintf("%lld output%s changed: %s",
					     (long long)m->outputs_changed,
					     m->outputs_changed == 1 ? "" : "s", list));
		free(list);
	}
}

static struct compare_model *compare_model_for(struct compare *c, const char *model_id)
{
	if (c->nmodels && strcmp(c->models[c->nmodels - 1].model_id, model_id) == 0)
		return &c->models[c->nmodels - 1];
	c->models = xrealloc(c->models, (c->nmodels + 1) * sizeof *c->models);
	struct compare_model *m = &c->models[c->nmodels++];
	memset(m, 0, sizeof *m);
	m->model_id = model_id;
	return m;
}

/* Orders rows as results_load sorts them: model id, then job id. */
static int compare_key_cmp(const struct results_job *a, const struct results_job *b)
{
	int d = strcmp(a->model_id, b->model_id);
	return d ? d : strcmp(a->job_id, b->job_id);
}

void compare_compute(const struct results *base, const struct results *new,
		     const struct compare_thresholds *th, struct compare *c)
{
	memset(c, 0, sizeof *c);
	c->base = base;
	c->new = new;
	c->th = *th;
	size_t i = 0, k = 0;
	while (i < base->n || k < new->n) {
		const struct results_job *b = i < base->n ? &base->jobs[i] : NULL;
		const struct results_job *n = k < new->n ? &new->jobs[k] : NULL;
		int d = !b ? 1 : !n ? -1 : compare_key_cmp(b, n);
		if (d < 0)
			n = NULL, i++;
		else if (d > 0)
			b = NULL, k++;
		else
			i++, k++;
		struct compare_model *m = compare_model_for(c, (b ? b : n)->model_id);
		m->pairs = xrealloc(m->pairs, (m->npairs + 1) * sizeof *m->pairs);
		m->pairs[m->npairs++] = (struct compare_pair){b, n, compare_flags(b, n)};
	}
	for (size_t x = 0; x < c->nmodels; x++) {
		compare_model_stats(&c->models[x]);
		compare_judge(c, &c->models[x]);
	}
}

void compare_cleanup(struct compare *c)
{
	for (size_t i = 0; i < c->nmodels; i++)
		free(c->models[i].pairs);
	free(c->models);
	for (size_t i = 0; i < c->nbreaches; i++)
		free(c->breaches[i].message);
	free(c->breaches);
	memset(c, 0, sizeof *c);
}

void compare_pct_text(double pct, char out[COMPARE_PCT_LEN])
{
	if (isnan(pct))
		snprintf(out, COMPARE_PCT_LEN, "n/a");
	else if (isinf(pct))
		snprintf(out, COMPARE_PCT_LEN, "new");
	else
		snprintf(out, COMPARE_PCT_LEN, "%+.1f%%", pct);
}

void compare_short_model(const char *model_id, char out[COMPARE_SHORT_LEN])
{
	const char *s = strrchr(model_id, '/');
	s = s ? s + 1 : model_id;
	static const char *const geo[] = {"us.", "eu.", "apac.", "global."};
	for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++)
		if (strncmp(s, geo[i], strlen(geo[i])) == 0)
			s += strlen(geo[i]);
	const char *dot = strchr(s, '.');
	if (dot && dot[1])
		s = dot + 1;
	size_t n = strcspn(s, ":");
	snprintf(out, COMPARE_SHORT_LEN, "%.*s", (int)(n ? n : strlen(s)), n ? s : model_id);
}

const struct compare_breach *compare_breach_for(const struct compare *c, const char *model_id,
						const char *threshold)
{
	for (size_t i = 0; i < c->nbreaches; i++)
		if (strcmp(c->breaches[i].model_id, model_id) == 0 &&
		    strcmp(c->breaches[i].threshold, threshold) == 0)
			return &c->breaches[i];
	return NULL;
}

static int compare_across_row_cmp(const void *a, const void *b)
{
	const struct results_job *x = *(const struct results_job *const *)a;
	const struct results_job *y = *(const struct results_job *const *)b;
	int d = strcmp(x->job_id, y->job_id);
	return d ? d : strcmp(x->model_id, y->model_id);
}

static void compare_across_models(const struct results *run, struct compare_across *a)
{
	/* The rows come sorted by model: a new model starts a new entry. */
	double *lat = xcalloc(run->n + 1, sizeof *lat);
	size_t nlat = 0;
	for (size_t i = 0; i < run->n; i++) {
		const struct results_job *j = &run->jobs[i];
		if (!a->nmodels || strcmp(a->models[a->nmodels - 1].model_id, j->model_id) != 0) {
			if (a->nmodels)
				compare_dist_of(lat, nlat, &a->models[a->nmodels - 1].latency);
			nlat = 0;
			a->models = xrealloc(a->models, (a->nmodels + 1) * sizeof *a->models);
			a->models[a->nmodels++] = (struct compare_across_model){
				.model_id = j->model_id, .cost_known = true};
		}
		struct compare_across_model *m = &a->models[a->nmodels - 1];
		m->jobs++;
		if (strcmp(j->status, "ok") == 0) {
			m->ok++;
			if (j->latency_ms >= 0)
				lat[nlat++] = j->latency_ms;
		}
		if (j->expect_status) {
			m->expect_jobs++;
			m->expect_passed += strcmp(j->expect_status, "passed") == 0;
		}
		m->output_tokens += j->output_tokens > 0 ? j->output_tokens : 0;
		if (j->cost_known)
			m->cost_pusd += j->cost_pusd;
		else
			m->cost_known = false;
	}
	if (a->nmodels)
		compare_dist_of(lat, nlat, &a->models[a->nmodels - 1].latency);
	free(lat);
}

static size_t compare_across_model_index(const struct compare_across *a, const char *model_id)
{
	size_t i = 0;
	while (i < a->nmodels && strcmp(a->models[i].model_id, model_id) != 0)
		i++;
	return i;
}

void compare_across_compute(const struct results *run, struct compare_across *a)
{
	memset(a, 0, sizeof *a);
	a->run = run;
	compare_across_models(run, a);
	const struct results_job **byjob = xcalloc(run->n + 1, sizeof *byjob);
	for (size_t i = 0; i < run->n; i++)
		byjob[i] = &run->jobs[i];
	qsort(byjob, run->n, sizeof *byjob, compare_across_row_cmp);
	for (size_t i = 0; i < run->n; i++) {
		if (!a->nrows || strcmp(a->rows[a->nrows - 1].job_id, byjob[i]->job_id) != 0) {
			a->rows = xrealloc(a->rows, (a->nrows + 1) * sizeof *a->rows);
			a->rows[a->nrows++] = (struct compare_across_row){
				byjob[i]->job_id, xcalloc(a->nmodels, sizeof(void *))};
		}
		a->rows[a->nrows - 1].cells[compare_across_model_index(a, byjob[i]->model_id)] =
			byjob[i];
	}
	free(byjob);
}

void compare_across_cleanup(struct compare_across *a)
{
	for (size_t i = 0; i < a->nrows; i++)
		free(a->rows[i].cells);
	free(a->rows);
	free(a->models);
	memset(a, 0, sizeof *a);
}
