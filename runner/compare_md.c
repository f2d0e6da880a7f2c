/*
 * The Markdown writers of compare, fit for a pull-request comment
 * (GitHub-flavoured tables). Two runs: a verdict line first (what a
 * reviewer reads), the regressions, a table per aspect, then each job that
 * changed with both outputs in a collapsed <details> block. Across
 * models: a summary table and a table with a row per job. Text from the
 * database goes through report_md_text, so no output can break a table or
 * turn into markup.
 */
#include "compare.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Bytes of an output excerpt or a failure shown, at most. */
#define COMPARE_MD_EXCERPT_MAX 300

static void compare_md_model(FILE *out, const char *model_id)
{
	fputs("| ", out);
	report_md_text(out, *model_id ? model_id : "(none)", SIZE_MAX);
}

static void compare_md_rate(FILE *out, double rate)
{
	if (rate >= 0)
		fprintf(out, " | %.1f%%", rate);
	else
		fputs(" | -", out);
}

static void compare_md_pct(FILE *out, double pct)
{
	char text[COMPARE_PCT_LEN];
	compare_pct_text(pct, text);
	fprintf(out, " | %s", text);
}

static void compare_md_ms(FILE *out, const struct compare_dist *d, double v)
{
	if (d->n)
		fprintf(out, " | %.1f", v);
	else
		fputs(" | -", out);
}

static void compare_md_usd(FILE *out, bool known, int64_t pusd)
{
	char usd[REPORT_USD_LEN];
	report_usd_text(pusd, usd);
	fprintf(out, " | %s", known ? usd : "n/a");
}

static void compare_md_verdict(const struct compare *c, FILE *out)
{
	if (!c->nbreaches) {
		fputs("**No regression.**\n", out);
		return;
	}
	fprintf(out, "**Regression** (%zu):\n\n", c->nbreaches);
	for (size_t i = 0; i < c->nbreaches; i++) {
		const struct compare_breach *b = &c->breaches[i];
		fputs("- ", out);
		report_md_text(out, *b->model_id ? b->model_id : "(none)", SIZE_MAX);
		fputs(": ", out);
		report_md_text(out, b->threshold, SIZE_MAX);
		fputs(": ", out);
		report_md_text(out, b->message, SIZE_MAX);
		fputc('\n', out);
	}
}

static void compare_md_models(const struct compare *c, FILE *out)
{
	const char *const head[] = {"model", "jobs", "pass rate base", "pass rate new",
				    "newly failing", "newly fixed", "outputs changed",
				    "p50 ms", "p90 ms", "p90 change", "cost USD", "cost change"};
	report_md_head(out, head, "lrrrrrrrrrrr");
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		bool lat = m->base.latency.n && m->new.latency.n;
		bool cost = m->base.cost_known && m->new.cost_known;
		compare_md_model(out, m->model_id);
		fprintf(out, " | %" PRId64, m->matched);
		compare_md_rate(out, compare_pass_rate(&m->base));
		compare_md_rate(out, compare_pass_rate(&m->new));
		fprintf(out, " | %" PRId64 " | %" PRId64 " | %" PRId64, m->newly_failing,
			m->newly_fixed, m->outputs_changed);
		compare_md_ms(out, &m->new.latency, m->new.latency.p50);
		compare_md_ms(out, &m->new.latency, m->new.latency.p90);
		compare_md_pct(out, lat ? compare_change_pct(m->base.latency.p90,
							     m->new.latency.p90)
					: NAN);
		compare_md_usd(out, m->new.cost_known, m->new.cost_pusd);
		compare_md_pct(out, cost ? compare_change_pct((double)m->base.cost_pusd,
							      (double)m->new.cost_pusd)
					 : NAN);
		fputs(" |\n", out);
	}
}

static void compare_md_excerpt(FILE *out, const char *label, const char *text)
{
	fprintf(out, "- %s: ", label);
	report_md_text(out, text ? text : "(no output)", COMPARE_MD_EXCERPT_MAX);
	fputc('\n', out);
}

static void compare_md_jobs(const struct compare *c, FILE *out)
{
	size_t shown = 0;
	for (size_t i = 0; i < c->nmodels; i++) {
		const struct compare_model *m = &c->models[i];
		for (size_t k = 0; k < m->npairs; k++) {
			const struct compare_pair *p = &m->pairs[k];
			if (!(p->flags & (COMPARE_NEWLY_FAILING | COMPARE_NEWLY_FIXED |
					  COMPARE_OUTPUT_CHANGED)))
				continue;
			if (!shown++)
				fputs("\n#### Jobs that changed\n", out);
			fputs("\n<details><summary>", out);
			report_md_text(out, p->new->job_id, SIZE_MAX);
			fputs(" on ", out);
			report_md_text(out, m->model_id, SIZE_MAX);
			fputs(": ", out);
			fputs(p->flags & COMPARE_NEWLY_FAILING ? "newly failing"
			      : p->flags & COMPARE_NEWLY_FIXED ? "newly fixed"
								: "output changed",
			      out);
			fputs("</summary>\n\n", out);
			compare_md_excerpt(out, "base", p->base->excerpt);
			compare_md_excerpt(out, "new", p->new->excerpt);
			if (p->flags & COMPARE_NEWLY_FAILING) {
				char *failures = results_failures_text(p->new);
				compare_md_excerpt(out, "failures", failures);
				free(failures);
			}
			fputs("\n</details>\n", out);
		}
	}
}

int compare_write_md(const struct compare *c, FILE *out, struct nb_err *err)
{
	errno = 0;
	char *base = results_label(c->base), *new = results_label(c->new);
	fputs("### novabatch compare: ", out);
	report_md_text(out, new, SIZE_MAX);
	fputs(" against ", out);
	report_md_text(out, base, SIZE_MAX);
	fputs("\n\n", out);
	free(base);
	free(new);
	compare_md_verdict(c, out);
	if (c->nmodels) {
		fputc('\n', out);
		compare_md_models(c, out);
	}
	compare_md_jobs(c, out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}

int compare_across_write_md(const struct compare_across *a, FILE *out, struct nb_err *err)
{
	errno = 0;
	char *label = results_label(a->run);
	fputs("### novabatch: ", out);
	report_md_text(out, label, SIZE_MAX);
	fputs(" across models\n\n", out);
	free(label);
	const char *const head[] = {"model", "jobs", "ok", "pass rate", "p50 ms",
				    "output tokens", "cost USD"};
	report_md_head(out, head, "lrrrrrr");
	for (size_t i = 0; i < a->nmodels; i++) {
		const struct compare_across_model *m = &a->models[i];
		compare_md_model(out, m->model_id);
		fprintf(out, " | %" PRId64 " | %" PRId64, m->jobs, m->ok);
		compare_md_rate(out, m->expect_jobs ? 100.0 * (double)m->expect_passed /
							      (double)m->expect_jobs
						    : -1);
		compare_md_ms(out, &m->latency, m->latency.p50);
		fprintf(out, " | %" PRId64, m->output_tokens);
		compare_md_usd(out, m->cost_known, m->cost_pusd);
		fputs(" |\n", out);
	}
	fputs("\n| job", out);
	for (size_t i = 0; i < a->nmodels; i++) {
		char name[COMPARE_SHORT_LEN];
		compare_short_model(a->models[i].model_id, name);
		fputs(" | ", out);
		report_md_text(out, name, SIZE_MAX);
	}
	fputs(" |\n| ---", out);
	for (size_t i = 0; i < a->nmodels; i++)
		fputs(" | ---", out);
	fputs(" |\n", out);
	for (size_t r = 0; r < a->nrows; r++) {
		fputs("| ", out);
		report_md_text(out, a->rows[r].job_id, SIZE_MAX);
		for (size_t i = 0; i < a->nmodels; i++) {
			const struct results_job *j = a->rows[r].cells[i];
			fputs(" | ", out);
			if (!j) {
				fputs("(none)", out);
				continue;
			}
			char usd[REPORT_USD_LEN];
			report_usd_text(j->cost_pusd, usd);
			fprintf(out, "%s", compare_result_text(j));
			if (j->latency_ms >= 0)
				fprintf(out, ", %.0f ms", j->latency_ms);
			if (j->output_tokens >= 0)
				fprintf(out, ", %" PRId64 " tokens", j->output_tokens);
			fprintf(out, ", $%s", j->cost_known ? usd : "n/a");
		}
		fputs(" |\n", out);
	}
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
