/*
 * The table writer of a report: aligned plain text for a terminal. Three
 * narrow tables (jobs, tokens and cost, latency) rather than one wide one,
 * then the errors, one line per type with an example.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Longest example message shown, in bytes. */
#define REPORT_TABLE_EXAMPLE_MAX 160

/* A grid of cells filled row by row. align[i] is 'l' or 'r' for column i;
 * a left-aligned last column is not padded. */
struct report_table {
	const char *align;
	size_t ncols;
	size_t ncells;
	char **cells;
};

static void report_table_init(struct report_table *t, const char *align)
{
	t->align = align;
	t->ncols = strlen(align);
	t->ncells = 0;
	t->cells = NULL;
}

__attribute__((format(printf, 2, 3))) static void
report_table_cell(struct report_table *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *cell = xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(cell, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	t->cells = xrealloc(t->cells, (t->ncells + 1) * sizeof *t->cells);
	t->cells[t->ncells++] = cell;
}

/* Prints the grid and frees its cells. */
static void report_table_flush(struct report_table *t, FILE *out)
{
	size_t *width = xcalloc(t->ncols, sizeof *width);
	for (size_t i = 0; i < t->ncells; i++)
		if (strlen(t->cells[i]) > width[i % t->ncols])
			width[i % t->ncols] = strlen(t->cells[i]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;
		bool last = col == t->ncols - 1;
		int w = t->align[col] == 'r' ? (int)width[col] : last ? 0 : -(int)width[col];
		fprintf(out, "%s%*s", col ? "  " : "", w, t->cells[i]);
		if (last)
			fputc('\n', out);
		free(t->cells[i]);
	}
	free(t->cells);
	free(width);
	report_table_init(t, t->align);
}

static const char *report_table_model(const struct report_model *m)
{
	return *m->model_id ? m->model_id : "(none)";
}

static void report_table_ms(struct report_table *t, const struct report_dist *d, double v)
{
	if (d->n)
		report_table_cell(t, "%.1f", v);
	else
		report_table_cell(t, "-");
}

static void report_table_cost(struct report_table *t, const struct report_counts *c)
{
	char usd[REPORT_USD_LEN];
	report_usd_text(c->cost_pusd, usd);
	report_table_cell(t, "%s", c->cost_known ? usd : "n/a");
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
	struct report_table t;
	report_table_init(&t, "lrrrrrrr");
	const char *head[] = {"model", "jobs", "ok", "failed", "invalid", "pending", "attempts",
			      "throttled"};
	for (size_t i = 0; i < 8; i++)
		report_table_cell(&t, "%s", head[i]);
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		report_table_cell(&t, "%s",
				  i < r->nmodels ? report_table_model(&r->models[i]) : "total");
		report_table_cell(&t, "%" PRId64, c->jobs);
		report_table_cell(&t, "%" PRId64, c->ok);
		report_table_cell(&t, "%" PRId64, c->failed);
		report_table_cell(&t, "%" PRId64, c->invalid);
		report_table_cell(&t, "%" PRId64, c->pending);
		report_table_cell(&t, "%" PRId64, c->attempts);
		report_table_cell(&t, "%" PRId64, c->throttled);
	}
	report_table_flush(&t, out);
}

static void report_table_tokens(const struct report *r, FILE *out)
{
	struct report_table t;
	report_table_init(&t, "lrrrrr");
	const char *head[] = {"model", "input tokens", "output tokens", "cache read",
			      "cache write", "cost USD"};
	for (size_t i = 0; i < 6; i++)
		report_table_cell(&t, "%s", head[i]);
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		report_table_cell(&t, "%s",
				  i < r->nmodels ? report_table_model(&r->models[i]) : "total");
		report_table_cell(&t, "%" PRId64, c->input_tokens);
		report_table_cell(&t, "%" PRId64, c->output_tokens);
		report_table_cell(&t, "%" PRId64, c->cache_read_tokens);
		report_table_cell(&t, "%" PRId64, c->cache_write_tokens);
		if (i < r->nmodels) {
			report_table_cost(&t, c);
		} else {
			/* The total of the priced models, marked when some are not. */
			char usd[REPORT_USD_LEN];
			report_usd_text(c->cost_pusd, usd);
			report_table_cell(&t, "%s%s", c->cost_known ? "" : "*", usd);
		}
	}
	report_table_flush(&t, out);
	if (!r->total.cost_known)
		fputs("n/a: the model is not in the price table; *: the total counts priced "
		      "models only\n",
		      out);
}

static void report_table_latency(const struct report *r, FILE *out)
{
	struct report_table t;
	report_table_init(&t, "lrrrrrrrrr");
	const char *head[] = {"latency ms", "p50", "p90", "p99", "max", "ttft p50", "ttft p90",
			      "ttft p99", "server p50", "tok/s p50"};
	for (size_t i = 0; i < 10; i++)
		report_table_cell(&t, "%s", head[i]);
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_model *m = &r->models[i];
		report_table_cell(&t, "%s", report_table_model(m));
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
	report_table_flush(&t, out);
}

/* A message on one line: control characters (a newline, a terminal escape)
 * become spaces, and a long one is cut at a character boundary. */
static void report_table_message(struct report_table *t, const char *s)
{
	size_t n = strlen(s);
	bool cut = n > REPORT_TABLE_EXAMPLE_MAX;
	if (cut) {
		n = REPORT_TABLE_EXAMPLE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	char *line = xstrndup(s, n);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	report_table_cell(t, "%s%s", line, cut ? "..." : "");
	free(line);
}

static void report_table_errors(const struct report *r, FILE *out)
{
	if (!r->nerrors) {
		fputs("errors: none\n", out);
		return;
	}
	struct report_table t;
	report_table_init(&t, "lrll");
	report_table_cell(&t, "error");
	report_table_cell(&t, "jobs");
	report_table_cell(&t, "first job");
	report_table_cell(&t, "message");
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct report_error *e = &r->errors[i];
		report_table_cell(&t, "%s", e->type);
		report_table_cell(&t, "%" PRId64, e->count);
		report_table_cell(&t, "%s (%s)", e->example_job,
				  *e->example_model ? e->example_model : "no model");
		report_table_message(&t, e->example ? e->example : "");
	}
	report_table_flush(&t, out);
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
	} else {
		fputs("no jobs recorded\n", out);
	}
	fputc('\n', out);
	report_table_errors(r, out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
