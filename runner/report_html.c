/*
 * The HTML writer of a report: one self-contained page to open in a browser
 * or attach to a CI run. The run's header, the table writer's three tables
 * (jobs, tokens and cost, latency), the errors, and charts drawn as inline
 * SVG (svg.c): client latency and time to first token per model as
 * histograms, tokens and cost per model as bars, jobs ended per minute over
 * the run.
 *
 * Self-contained means the page fetches nothing: the style is inline, the
 * charts are inline SVG, there is no script, image, font or link, and a
 * Content-Security-Policy of default-src 'none' tells the browser to refuse
 * any request all the same. Every text from the database goes through
 * svg_text, so a model id or an error message cannot add markup.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "xalloc.h"

/* Longest example message shown, in bytes. */
#define REPORT_HTML_EXAMPLE_MAX 300

static const char report_html_style[] =
	"body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:24px auto;max-width:1100px;"
	"padding:0 16px}"
	"h1{font-size:21px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px}"
	"h3{font-size:14px;margin:16px 0 4px}"
	"dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}"
	"dt{color:#666}dd{margin:0}"
	"table{border-collapse:collapse;margin:4px 0 12px}"
	"th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right;"
	"vertical-align:top}"
	"th{background:#f4f4f4}th.l,td.l{text-align:left}tr.total td{font-weight:bold}"
	"td.msg{max-width:520px;overflow-wrap:anywhere}"
	"p.note{color:#666;margin:4px 0}svg{display:block;margin:8px 0 18px}";

static void report_html_text(FILE *out, const char *s)
{
	svg_text(out, s ? s : "", SIZE_MAX);
}

static const char *report_html_model(const struct report_model *m)
{
	return *m->model_id ? m->model_id : "(none)";
}

/* A table's head row: align[i] is 'l' or 'r' for column i. */
static void report_html_head(FILE *out, const char *const *head, const char *align)
{
	fputs("<table><tr>", out);
	for (size_t i = 0; align[i]; i++) {
		fputs(align[i] == 'l' ? "<th class=\"l\">" : "<th>", out);
		report_html_text(out, head[i]);
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
}

/* A row's first cell: a model's id, or "total" in a bold row. */
static void report_html_row(FILE *out, const struct report_model *m)
{
	fputs(m ? "<tr><td class=\"l\">" : "<tr class=\"total\"><td class=\"l\">", out);
	report_html_text(out, m ? report_html_model(m) : "total");
	fputs("</td>", out);
}

static void report_html_int(FILE *out, int64_t v)
{
	fprintf(out, "<td>%" PRId64 "</td>", v);
}

static void report_html_ms(FILE *out, const struct report_dist *d, double v)
{
	if (d->n)
		fprintf(out, "<td>%.1f</td>", v);
	else
		fputs("<td>-</td>", out);
}

static void report_html_header(const struct report *r, FILE *out)
{
	fprintf(out, "<h1>novabatch run %" PRId64, r->run_id);
	if (r->name) {
		fputs(" &ldquo;", out);
		report_html_text(out, r->name);
		fputs("&rdquo;", out);
	}
	fputs(": ", out);
	report_html_text(out, r->status);
	fputs("</h1>\n<dl>\n<dt>started</dt><dd>", out);
	report_html_text(out, r->started_at);
	fputs("</dd>\n", out);
	if (r->finished_at) {
		fputs("<dt>finished</dt><dd>", out);
		report_html_text(out, r->finished_at);
		if (r->duration_ms >= 0) {
			char duration[REPORT_DURATION_LEN];
			report_duration_text(r->duration_ms, duration);
			fprintf(out, " (%s)", duration);
		}
		fputs("</dd>\n", out);
	}
	fputs("<dt>endpoint</dt><dd>", out);
	report_html_text(out, r->endpoint_host ? r->endpoint_host : "?");
	fputs(" (", out);
	report_html_text(out, r->region);
	fprintf(out, "), concurrency %d</dd>\n<dt>version</dt><dd>", r->concurrency);
	report_html_text(out, r->version);
	fputs("</dd>\n<dt>prices</dt><dd>", out);
	char *prices = report_prices_text(r);
	report_html_text(out, prices);
	free(prices);
	fputs("</dd>\n</dl>\n", out);
}

static void report_html_jobs(const struct report *r, FILE *out)
{
	static const char *const head[] = {"model", "jobs", "ok", "failed", "invalid",
					   "pending", "attempts", "throttled"};
	fputs("<h2>Jobs</h2>\n", out);
	report_html_head(out, head, "lrrrrrrr");
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_model *m = i < r->nmodels ? &r->models[i] : NULL;
		const struct report_counts *c = m ? &m->c : &r->total;
		report_html_row(out, m);
		const int64_t v[] = {c->jobs,    c->ok,       c->failed,   c->invalid,
				     c->pending, c->attempts, c->throttled};
		for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
			report_html_int(out, v[k]);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void report_html_tokens(const struct report *r, FILE *out)
{
	static const char *const head[] = {"model",      "input tokens", "output tokens",
					   "cache read", "cache write",  "cost USD"};
	fputs("<h2>Tokens and cost</h2>\n", out);
	report_html_head(out, head, "lrrrrr");
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_model *m = i < r->nmodels ? &r->models[i] : NULL;
		const struct report_counts *c = m ? &m->c : &r->total;
		report_html_row(out, m);
		report_html_int(out, c->input_tokens);
		report_html_int(out, c->output_tokens);
		report_html_int(out, c->cache_read_tokens);
		report_html_int(out, c->cache_write_tokens);
		char usd[REPORT_USD_LEN];
		report_usd_text(c->cost_pusd, usd);
		/* As in the table: n/a for an unpriced model, and a total that
		 * counts the priced models only is marked. */
		if (m)
			fprintf(out, "<td>%s</td></tr>\n", c->cost_known ? usd : "n/a");
		else
			fprintf(out, "<td>%s%s</td></tr>\n", usd, c->cost_known ? "" : "*");
	}
	fputs("</table>\n", out);
	if (!r->total.cost_known)
		fputs("<p class=\"note\">n/a: the model is not in the price table; *: the total "
		      "counts priced models only</p>\n",
		      out);
}

static void report_html_latency(const struct report *r, FILE *out)
{
	static const char *const head[] = {"latency ms", "p50",      "p90",      "p99",
					   "max",        "ttft p50", "ttft p90", "ttft p99",
					   "server p50", "tok/s p50"};
	fputs("<h2>Latency</h2>\n", out);
	report_html_head(out, head, "lrrrrrrrrr");
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_model *m = &r->models[i];
		report_html_row(out, m);
		report_html_ms(out, &m->latency, m->latency.p50);
		report_html_ms(out, &m->latency, m->latency.p90);
		report_html_ms(out, &m->latency, m->latency.p99);
		report_html_ms(out, &m->latency, m->latency.max);
		report_html_ms(out, &m->ttft, m->ttft.p50);
		report_html_ms(out, &m->ttft, m->ttft.p90);
		report_html_ms(out, &m->ttft, m->ttft.p99);
		report_html_ms(out, &m->server_latency, m->server_latency.p50);
		report_html_ms(out, &m->tokens_per_s, m->tokens_per_s.p50);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n<p class=\"note\">Percentiles of the ok jobs by nearest rank; ttft and "
	      "tok/s (output tokens per second) of streamed jobs.</p>\n",
	      out);
}

static void report_html_errors(const struct report *r, FILE *out)
{
	fputs("<h2>Errors</h2>\n", out);
	if (!r->nerrors) {
		fputs("<p>No errors.</p>\n", out);
		return;
	}
	static const char *const head[] = {"error", "jobs", "first job", "message"};
	report_html_head(out, head, "lrll");
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct report_error *e = &r->errors[i];
		fputs("<tr><td class=\"l\">", out);
		report_html_text(out, e->type);
		fprintf(out, "</td><td>%" PRId64 "</td><td class=\"l\">", e->count);
		report_html_text(out, e->example_job);
		fputs(" (", out);
		report_html_text(out, e->example_model && *e->example_model ? e->example_model
									   : "no model");
		fputs(")</td><td class=\"l msg\">", out);
		svg_text(out, e->example ? e->example : "", REPORT_HTML_EXAMPLE_MAX);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

/* One histogram a model that has one; a note when none has. */
static void report_html_hists(const struct report *r, FILE *out, bool ttft)
{
	size_t drawn = 0;
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_model *m = &r->models[i];
		const struct report_hist *h = ttft ? &m->ttft_hist : &m->latency_hist;
		if (!h->nbins)
			continue;
		char *title = xasprintf("%s: %s of %" PRId64 " ok jobs", report_html_model(m),
					ttft ? "time to first token" : "client latency",
					ttft ? m->ttft.n : m->latency.n);
		struct svg_columns c = {
			.title = title,
			.x_unit = "ms",
			.dx = h->width,
			.n = h->nbins,
			.a = h->counts,
		};
		svg_columns(out, &c);
		free(title);
		drawn++;
	}
	if (!drawn)
		fprintf(out, "<p class=\"note\">%s</p>\n",
			ttft ? "No streamed jobs ended ok." : "No jobs ended ok.");
}

static void report_html_bars(const struct report *r, FILE *out)
{
	if (!r->nmodels)
		return;
	struct svg_row *rows = xcalloc(r->nmodels, sizeof *rows);
	char **texts = xcalloc(r->nmodels, sizeof *texts);
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_counts *c = &r->models[i].c;
		int64_t sum = c->input_tokens + c->output_tokens + c->cache_read_tokens +
			      c->cache_write_tokens;
		texts[i] = xasprintf("%" PRId64, sum);
		rows[i] = (struct svg_row){
			.label = report_html_model(&r->models[i]),
			.values = {(double)c->input_tokens, (double)c->output_tokens,
				   (double)c->cache_read_tokens, (double)c->cache_write_tokens},
			.value_text = texts[i],
		};
	}
	struct svg_hbars tokens = {
		.title = "Tokens per model",
		.nseries = 4,
		.series = {"input", "output", "cache read", "cache write"},
		.n = r->nmodels,
		.rows = rows,
	};
	svg_hbars(out, &tokens);
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_counts *c = &r->models[i].c;
		char usd[REPORT_USD_LEN];
		report_usd_text(c->cost_pusd, usd);
		free(texts[i]);
		texts[i] = c->cost_known ? xasprintf("%s USD", usd) : xstrdup("n/a");
		rows[i].values[0] = c->cost_known ? (double)c->cost_pusd / 1e12 : 0;
		rows[i].value_text = texts[i];
	}
	struct svg_hbars cost = {
		.title = "Cost per model (USD)",
		.nseries = 1,
		.series = {"cost USD"},
		.n = r->nmodels,
		.rows = rows,
	};
	svg_hbars(out, &cost);
	for (size_t i = 0; i < r->nmodels; i++)
		free(texts[i]);
	free(texts);
	free(rows);
}

static void report_html_timeline(const struct report *r, FILE *out)
{
	const struct report_timeline *t = &r->timeline;
	if (!t->n) {
		fputs("<p class=\"note\">No job has ended yet.</p>\n", out);
		return;
	}
	char *title = t->step_s == 60
			      ? xstrdup("Jobs ended per minute")
			      : xasprintf("Jobs ended per %" PRId64 " minutes", t->step_s / 60);
	struct svg_columns c = {
		.title = title,
		.x_unit = "minutes since the start",
		.dx = (double)t->step_s / 60,
		.n = t->n,
		.a = t->ok,
		.b = t->failed,
		.a_name = "ok",
		.b_name = "failed",
	};
	svg_columns(out, &c);
	free(title);
}

static void report_html_charts(const struct report *r, FILE *out)
{
	fputs("<h2>Charts</h2>\n<h3>Client latency per model</h3>\n", out);
	report_html_hists(r, out, false);
	fputs("<h3>Time to first token per model (streamed jobs)</h3>\n", out);
	report_html_hists(r, out, true);
	fputs("<h3>Tokens and cost per model</h3>\n", out);
	report_html_bars(r, out);
	fputs("<h3>Jobs ended over the run</h3>\n", out);
	report_html_timeline(r, out);
}

int report_write_html(const struct report *r, FILE *out, struct nb_err *err)
{
	errno = 0;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
	      out);
	fprintf(out, "<title>novabatch run %" PRId64, r->run_id);
	if (r->name) {
		fputc(' ', out);
		report_html_text(out, r->name);
	}
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", report_html_style);
	report_html_header(r, out);
	if (r->nmodels) {
		report_html_jobs(r, out);
		report_html_tokens(r, out);
		report_html_latency(r, out);
	} else {
		fputs("<p>No jobs recorded.</p>\n", out);
	}
	report_html_errors(r, out);
	if (r->nmodels)
		report_html_charts(r, out);
	fputs("</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
