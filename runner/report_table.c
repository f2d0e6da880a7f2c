/*
 * The table writer of a report: aligned plain text for a terminal. Three
 * narrow tables (jobs, tokens and cost, latency) rather than one wide one,
 * the expectations' pass rate when a job had any, then the errors, one line
 * per type with an example.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "texttable.h"
#include "xalloc.h"

/* Longest example message shown, in bytes. */
#define REPORT_TABLE_EXAMPLE_MAX 160

static void report_table_ms(struct texttable *t, const struct report_dist *d, double v)
{
	if (d->n)
		texttable_cell(t, "%.1f", v);
	else
		texttable_cell(t, "-");
}

static void report_table_cost(struct texttable *t, const struct report_counts *c)
{
	char usd[REPORT_USD_LEN];
	report_usd_text(c->cost_pusd, usd);
	texttable_cell(t, "%s", c->cost_known ? usd : "n/a");
}

static void report_table_header(const struct report *r, FILE *out)
{
	fprintf(out, "run %" PRId64, r->run_id);
	if (r->name)
		fprintf(out, " \"%s\"", r->name);
	fprintf(out, ": %s\n", r->status);
	fprintf(out, "  started   %s\n", r->started_at);
	if (r->finished_at) {
		fprintf(out, "  finished  %s", r->finished_at);
		if (r->duration_ms >= 0) {
			char duration[REPORT_DURATION_LEN];
			report_duration_text(r->duration_ms, duration);
			fprintf(out, " (%s)", duration);
		}
		fputc('\n', out);
	}
	fprintf(out, "  endpoint  %s (%s), concurrency %d\n",
		r->endpoint_host ? r->endpoint_host : "?", r->region, r->concurrency);
	char *prices = report_prices_text(r);
	fprintf(out, "  version   %s; prices: %s\n", r->version, prices);
	free(prices);
}

static void report_table_jobs(const struct report *r, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrrr");
	const char *head[] = {report_group_label(r), "jobs", "ok", "failed", "invalid", "pending", "attempts",
			      "throttled"};
	for (size_t i = 0; i < 8; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		texttable_cell(&t, "%s",
				  i < r->nmodels ? report_group_name(r, &r->models[i]) : "total");
		texttable_cell(&t, "%" PRId64, c->jobs);
		texttable_cell(&t, "%" PRId64, c->ok);
		texttable_cell(&t, "%" PRId64, c->failed);
		texttable_cell(&t, "%" PRId64, c->invalid);
		texttable_cell(&t, "%" PRId64, c->pending);
		texttable_cell(&t, "%" PRId64, c->attempts);
		texttable_cell(&t, "%" PRId64, c->throttled);
	}
	texttable_flush(&t, out);
}

static void report_table_tokens(const struct report *r, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrr");
	const char *head[] = {report_group_label(r), "input tokens", "output tokens", "cache read",
			      "cache write", "cost USD"};
	for (size_t i = 0; i < 6; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		texttable_cell(&t, "%s",
				  i < r->nmodels ? report_group_name(r, &r->models[i]) : "total");
		texttable_cell(&t, "%" PRId64, c->input_tokens);
		texttable_cell(&t, "%" PRId64, c->output_tokens);
		texttable_cell(&t, "%" PRId64, c->cache_read_tokens);
		texttable_cell(&t, "%" PRId64, c->cache_write_tokens);
		if (i < r->nmodels) {
			report_table_cost(&t, c);
		} else {
			/* The total of the priced models, marked when some are not. */
			char usd[REPORT_USD_LEN];
			report_usd_text(c->cost_pusd, usd);
			texttable_cell(&t, "%s%s", c->cost_known ? "" : "*", usd);
		}
	}
	texttable_flush(&t, out);
	if (!r->total.cost_known)
		fputs("n/a: the model is not in the price table; *: the total counts priced "
		      "models only\n",
		      out);
}

static void report_table_latency(const struct report *r, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrrrrrrr");
	const char *head[] = {"latency ms", "p50", "p90", "p99", "max", "ttft p50", "ttft p90",
			      "ttft p99", "server p50", "tok/s p50"};
	for (size_t i = 0; i < 10; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_model *m = &r->models[i];
		texttable_cell(&t, "%s", report_group_name(r, m));
		report_table_ms(&t, &m->latency, m->latency.p50);
		report_table_ms(&t, &m->latency, m->latency.p90);
		report_table_ms(&t, &m->latency, m->latency.p99);
		report_table_ms(&t, &m->latency, m->latency.max);
		report_table_ms(&t, &m->ttft, m->ttft.p50);
		report_table_ms(&t, &m->ttft, m->ttft.p90);
		report_table_ms(&t, &m->ttft, m->ttft.p99);
		report_table_ms(&t, &m->server_latency, m->server_latency.p50);
		report_table_ms(&t, &m->tokens_per_s, m->tokens_per_s.p50);
	}
	texttable_flush(&t, out);
}

static void report_table_expect(const struct report *r, FILE *out)
{
	struct texttable t;
	texttable_init(&t, "lrrrr");
	const char *head[] = {"expectations", "jobs", "passed", "failed", "pass rate"};
	for (size_t i = 0; i < 5; i++)
		texttable_cell(&t, "%s", head[i]);
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		texttable_cell(&t, "%s",
				  i < r->nmodels ? report_group_name(r, &r->models[i]) : "total");
		texttable_cell(&t, "%" PRId64, c->expect_jobs);
		texttable_cell(&t, "%" PRId64, c->expect_passed);
		texttable_cell(&t, "%" PRId64, c->expect_jobs - c->expect_passed);
		if (c->expect_jobs)
			texttable_cell(&t, "%.1f%%", report_pass_rate(c));
		else
			texttable_cell(&t, "-");
	}
	texttable_flush(&t, out);
}

static void report_table_errors(const struct report *r, FILE *out)
{
	if (!r->nerrors) {
		fputs("errors: none\n", out);
		return;
	}
	struct texttable t;
	texttable_init(&t, "lrll");
	texttable_cell(&t, "error");
	texttable_cell(&t, "jobs");
	texttable_cell(&t, "first job");
	texttable_cell(&t, "message");
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct report_error *e = &r->errors[i];
		texttable_cell(&t, "%s", e->type);
		texttable_cell(&t, "%" PRId64, e->count);
		texttable_cell(&t, "%s (%s)", e->example_job,
				  *e->example_model ? e->example_model : "no model");
		texttable_cell_line(&t, e->example ? e->example : "", REPORT_TABLE_EXAMPLE_MAX);
	}
	texttable_flush(&t, out);
}

int report_write_table(const struct report *r, FILE *out, struct nb_err *err)
{
	errno = 0;
	report_table_header(r, out);
	fputc('\n', out);
	if (r->nmodels) {
		report_table_jobs(r, out);
		fputc('\n', out);
		report_table_tokens(r, out);
		fputc('\n', out);
		report_table_latency(r, out);
		if (r->total.expect_jobs) {
			fputc('\n', out);
			report_table_expect(r, out);
		}
	} else {
		fputs("no jobs recorded\n", out);
	}
	fputc('\n', out);
	report_table_errors(r, out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
