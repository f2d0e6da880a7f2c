/*
 * The table writers of compare: aligned plain text for a terminal. For two
 * runs: the models' changes (expectations and outputs, latency, tokens and
 * cost), each job that changed with both outputs, and the verdict. For
 * --across-models: a summary per model, then a row per job with each
 * model's expectation result, latency, output tokens and cost.
 */
#include "compare.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "texttable.h"
#include "xalloc.h"

/* Bytes of an output or a message shown on one line, at most. */
#define COMPARE_TABLE_EXCERPT_MAX 160

static int compare_table_done(FILE *out, struct nb_err *err)
{
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}

static void compare_table_rate(struct texttable *t, const struct compare_side *s)
{
	double r = compare_pass_rate(s);
	if (r >= 0)
		texttable_cell(t, "%.1f%%", r);
	else
		texttable_cell(t, "-");
}

static void compare_table_expect(const struct compare *c, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrrrr");
	const char *head[] = {"model", "jobs", "only base", "only new", "pass rate base",
			      "pass rate new", "newly failing", "newly fixed", "outputs changed"};
	for (size_t i = 0; i < 9; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		texttable_cell(&t, "%s", *m->model_id ? m->model_id : "(none)");
		texttable_cell(&t, "%" PRId64, m->matched);
		texttable_cell(&t, "%" PRId64, m->only_base);
		texttable_cell(&t, "%" PRId64, m->only_new);
		compare_table_rate(&t, &m->base);
		compare_table_rate(&t, &m->new);
		texttable_cell(&t, "%" PRId64, m->newly_failing);
		texttable_cell(&t, "%" PRId64, m->newly_fixed);
		texttable_cell(&t, "%" PRId64, m->outputs_changed);
	}
	texttable_flush(&t, out);
}

static void compare_table_ms(struct texttable *t, const struct compare_dist *d, double v)
{
	if (d->n)
		texttable_cell(t, "%.1f", v);
	else
		texttable_cell(t, "-");
}

static void compare_table_change(struct texttable *t, double pct)
{
	char text[COMPARE_PCT_LEN];
	compare_pct_text(pct, text);
	texttable_cell(t, "%s", text);
}

static void compare_table_latency(const struct compare *c, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrr");
	const char *head[] = {"latency ms", "p50 base", "p50 new", "change",
			      "p90 base", "p90 new", "change"};
	for (size_t i = 0; i < 7; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		const struct compare_dist *b = &m->base.latency, *n = &m->new.latency;
		bool both = b->n && n->n;
		texttable_cell(&t, "%s", *m->model_id ? m->model_id : "(none)");
		compare_table_ms(&t, b, b->p50);
		compare_table_ms(&t, n, n->p50);
		compare_table_change(&t, both ? compare_change_pct(b->p50, n->p50) : NAN);
		compare_table_ms(&t, b, b->p90);
		compare_table_ms(&t, n, n->p90);
		compare_table_change(&t, both ? compare_change_pct(b->p90, n->p90) : NAN);
	}
	texttable_flush(&t, out);
}

static void compare_table_usd(struct texttable *t, const struct compare_side *s)
{
	char usd[REPORT_USD_LEN];
	report_usd_text(s->cost_pusd, usd);
	texttable_cell(t, "%s", s->cost_known ? usd : "n/a");
}

static void compare_table_cost(const struct compare *c, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrrr");
	const char *head[] = {"tokens and cost", "input base", "input new", "output base",
			      "output new", "USD base", "USD new", "change"};
	for (size_t i = 0; i < 8; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		texttable_cell(&t, "%s", *m->model_id ? m->model_id : "(none)");
		texttable_cell(&t, "%" PRId64, m->base.input_tokens);
		texttable_cell(&t, "%" PRId64, m->new.input_tokens);
		texttable_cell(&t, "%" PRId64, m->base.output_tokens);
		texttable_cell(&t, "%" PRId64, m->new.output_tokens);
		compare_table_usd(&t, &m->base);
		compare_table_usd(&t, &m->new);
		bool known = m->base.cost_known && m->new.cost_known;
		compare_table_change(&t, known ? compare_change_pct((double)m->base.cost_pusd,
								    (double)m->new.cost_pusd)
					       : NAN);
	}
	texttable_flush(&t, out);
}

static const char *compare_table_what(unsigned flags)
{
	if (flags & COMPARE_NEWLY_FAILING)
		return "newly failing";
	if (flags & COMPARE_NEWLY_FIXED)
		return "newly fixed";
	return "output changed";
}

/* The jobs that changed: their outputs, and the new failures. */
static void compare_table_jobs(const struct compare *c, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lll");
	size_t shown = 0;
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		for (size_t k = 0; k < m->npairs; k++) {
			const struct compare_pair *p = &m->pairs[k];
			if (!(p->flags & (COMPARE_NEWLY_FAILING | COMPARE_NEWLY_FIXED |
					  COMPARE_OUTPUT_CHANGED)))
				continue;
			if (!shown++) {
				texttable_cell(&t, "job");
				texttable_cell(&t, "model");
				texttable_cell(&t, "what changed");
			}
			texttable_cell(&t, "%s", p->new->job_id);
			texttable_cell(&t, "%s", m->model_id);
			texttable_cell(&t, "%s", compare_table_what(p->flags));
			texttable_cell(&t, "%s", "");
			texttable_cell(&t, "%s", "  base");
			texttable_cell_line(&t, p->base->excerpt ? p->base->excerpt : "(no output)",
					    COMPARE_TABLE_EXCERPT_MAX);
			texttable_cell(&t, "%s", "");
			texttable_cell(&t, "%s", "  new");
			texttable_cell_line(&t, p->new->excerpt ? p->new->excerpt : "(no output)",
					    COMPARE_TABLE_EXCERPT_MAX);
			if (p->flags & COMPARE_NEWLY_FAILING) {
				texttable_cell(&t, "%s", "");
				texttable_cell(&t, "%s", "  failures");
				char *failures = results_failures_text(p->new);
				texttable_cell_line(&t, failures, COMPARE_TABLE_EXCERPT_MAX);
				free(failures);
			}
		}
	}
	if (shown)
		texttable_flush(&t, out);
	else
		fputs("jobs: no expectation or output changed\n", out);
}

int compare_write_table(const struct compare *c, FILE *out, struct nb_err *err)
{
	errno = 0;
	char *base = results_label(c->base), *new = results_label(c->new);
	fprintf(out, "compare %s (base) with %s (new)\n\n", base, new);
	free(base);
	free(new);
	if (c->nmodels) {
		compare_table_expect(c, out);
		fputc('\n', out);
		compare_table_latency(c, out);
		fputc('\n', out);
		compare_table_cost(c, out);
		fputc('\n', out);
	}
	compare_table_jobs(c, out);
	fputc('\n', out);
	if (!c->nbreaches)
		fputs("verdict: no regression\n", out);
	for (size_t i = 0; i < c->nbreaches; i++) {
		const struct compare_breach *b = &c->breaches[i];
		fprintf(out, "regression: %s: %s: %s\n", *b->model_id ? b->model_id : "(none)",
			b->threshold, b->message);
	}
	return compare_table_done(out, err);
}

static void compare_table_across_summary(const struct compare_across *a, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrr");
	const char *head[] = {"model", "jobs", "ok", "pass rate", "p50 ms", "output tokens",
			      "cost USD"};
	for (size_t i = 0; i < 7; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < a->nmodels; i++) {
		const struct compare_across_model *m = &a->models[i];
		texttable_cell(&t, "%s", *m->model_id ? m->model_id : "(none)");
		texttable_cell(&t, "%" PRId64, m->jobs);
		texttable_cell(&t, "%" PRId64, m->ok);
		if (m->expect_jobs)
			texttable_cell(&t, "%.1f%% of %" PRId64,
				       100.0 * (double)m->expect_passed / (double)m->expect_jobs,
				       m->expect_jobs);
		else
			texttable_cell(&t, "-");
		compare_table_ms(&t, &m->latency, m->latency.p50);
		texttable_cell(&t, "%" PRId64, m->output_tokens);
		char usd[REPORT_USD_LEN];
		report_usd_text(m->cost_pusd, usd);
		texttable_cell(&t, "%s", m->cost_known ? usd : "n/a");
	}
	texttable_flush(&t, out);
}

int compare_across_write_table(const struct compare_across *a, FILE *out, struct nb_err *err)
{
	errno = 0;
	char *label = results_label(a->run);
	fprintf(out, "%s across models\n\n", label);
	free(label);
	compare_table_across_summary(a, out);
	fputc('\n', out);
	size_t ncols = 1 + 4 * a->nmodels;
	char *align = xmalloc(ncols + 1);
	align[0] = 'l';
	for (size_t i = 1; i < ncols; i++)
		align[i] = (i - 1) % 4 == 0 ? 'l' : 'r';
	align[ncols] = '\0';
	struct texttable t;
	texttable_init(&t, align);
	texttable_cell(&t, "job");
	for (size_t i = 0; i < a->nmodels; i++) {
		char name[COMPARE_SHORT_LEN];
		compare_short_model(a->models[i].model_id, name);
		texttable_cell(&t, "%s", name);
		texttable_cell(&t, "ms");
		texttable_cell(&t, "tokens");
		texttable_cell(&t, "USD");
	}
	for (size_t r = 0; r < a->nrows; r++) {
		texttable_cell(&t, "%s", a->rows[r].job_id);
		for (size_t i = 0; i < a->nmodels; i++) {
			const struct results_job *j = a->rows[r].cells[i];
			if (!j) {
				for (int k = 0; k < 4; k++)
					texttable_cell(&t, "%s", k ? "" : "(none)");
				continue;
			}
			texttable_cell(&t, "%s", compare_result_text(j));
			if (j->latency_ms >= 0)
				texttable_cell(&t, "%.1f", j->latency_ms);
			else
				texttable_cell(&t, "-");
			if (j->output_tokens >= 0)
				texttable_cell(&t, "%" PRId64, j->output_tokens);
			else
				texttable_cell(&t, "-");
			char usd[REPORT_USD_LEN];
			report_usd_text(j->cost_pusd, usd);
			texttable_cell(&t, "%s", j->cost_known ? usd : "n/a");
		}
	}
	texttable_flush(&t, out);
	free(align);
	return compare_table_done(out, err);
}
