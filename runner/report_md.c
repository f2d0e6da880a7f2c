/*
 * The Markdown writer of a report, for a pull-request comment or a wiki
 * page (GitHub-flavoured tables): a heading and a list for the run, the
 * tables of the table writer (jobs, tokens and cost, latency, and the
 * expectations when a job had any) and the errors by type with an example.
 *
 * Text from the database (a run name, a model id, an error message) goes
 * through one escaping step: the characters Markdown acts on inline, the
 * table's '|' among them, are backslash-escaped, a line break becomes
 * <br>, other control characters become spaces, and an example message is
 * cut at a character boundary. So an odd message can neither break the
 * table nor turn into a link or markup.
 */
#include "report.h"
#include "utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Longest example message shown, in bytes. */
#define REPORT_MD_EXAMPLE_MAX 300

/* Characters with inline meaning in Markdown (GitHub's included: ~ for
 * strikethrough, $ for maths, | for tables). Every one is ASCII punctuation,
 * which CommonMark lets a backslash escape. */
static const char report_md_special[] = "\\`*_[]<>#|~&$";

void report_md_text(FILE *out, const char *s, size_t max)
{
	size_t len = strlen(s);
	bool cut = len > max;
	size_t n = utf8_cut(s, len, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue; /* CRLF is one line break */
		if (c == '\n' || c == '\r')
			fputs("<br>", out);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', out);
		else if (c && strchr(report_md_special, c))
			fprintf(out, "\\%c", c);
		else
			fputc(c, out);
	}
	if (cut)
		fputs("...", out);
}

static void report_md_model(FILE *out, const struct report *r, const struct report_model *m)
{
	report_md_text(out, report_group_name(r, m), SIZE_MAX);
}

static void report_md_header(const struct report *r, FILE *out)
{
	fprintf(out, "### novabatch run %" PRId64, r->run_id);
	if (r->name) {
		fputs(" \"", out);
		report_md_text(out, r->name, SIZE_MAX);
		fputc('"', out);
	}
	fputs(": ", out);
	report_md_text(out, r->status, SIZE_MAX);
	fputs("\n\n", out);
	fputs("- started: ", out);
	report_md_text(out, r->started_at, SIZE_MAX);
	fputc('\n', out);
	if (r->finished_at) {
		fputs("- finished: ", out);
		report_md_text(out, r->finished_at, SIZE_MAX);
		if (r->duration_ms >= 0) {
			char duration[REPORT_DURATION_LEN];
			report_duration_text(r->duration_ms, duration);
			fprintf(out, " (%s)", duration);
		}
		fputc('\n', out);
	}
	fputs("- endpoint: ", out);
	report_md_text(out, r->endpoint_host ? r->endpoint_host : "?", SIZE_MAX);
	fputs(" (", out);
	report_md_text(out, r->region, SIZE_MAX);
	fprintf(out, "), concurrency %d\n", r->concurrency);
	fputs("- version: ", out);
	report_md_text(out, r->version, SIZE_MAX);
	char *prices = report_prices_text(r);
	fputs("; prices: ", out);
	report_md_text(out, prices, SIZE_MAX);
	fputc('\n', out);
	free(prices);
}

void report_md_head(FILE *out, const char *const *head, const char *align)
{
	size_t n = strlen(align);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "| %s ", head[i]);
	fputs("|\n", out);
	for (size_t i = 0; i < n; i++)
		fputs(align[i] == 'r' ? "| ---: " : "| --- ", out);
	fputs("|\n", out);
}

static void report_md_jobs(const struct report *r, FILE *out)
{
	const char *const head[] = {report_group_label(r), "jobs", "ok", "failed", "invalid",
				    "pending", "attempts", "throttled"};
	report_md_head(out, head, "lrrrrrrr");
	for (size_t i = 0; i <= r->nmodels; i++) {
		const struct report_counts *c = i < r->nmodels ? &r->models[i].c : &r->total;
		fputs("| ", out);
		if (i < r->nmodels)
			report_md_model(out, r, &r->models[i]);
		else
			fputs("**total**", out);
		fprintf(out,
			" | %" PRId64 " | %" PRId64 " | %" PRId64 " | %" PRId64 " | %" PRId64
			" | %" PRId64 " | %" PRId64 " |\n",
			c->jobs, c->ok, c->failed, c->invalid, c->pending, c->attempts,
			c->throttled);
	}
}

static void report_md_tokens(const struct report *r, FILE *out)
{
	const char *const head[] = {report_group_label(r), "input tokens", "output tokens", "cache read",
				    "cache write", "cost USD"};
	report_md_head(out, head, "lrrrrr");
	for (size_t i = 0; i <= r->nmodels; i++) {
		bool total = i == r->nmodels;
		const struct report_counts *c = total ? &r->total : &r->models[i].c;
		char usd[REPORT_USD_LEN];
		report_usd_text(c->cost_pusd, usd);
		fputs("| ", out);
		if (total)
			fputs("**total**", out);
		else
			report_md_model(out, r, &r->models[i]);
		fprintf(out, " | %" PRId64 " | %" PRId64 " | %" PRId64 " | %" PRId64 " | ",
			c->input_tokens, c->output_tokens, c->cache_read_tokens,
			c->cache_write_tokens);
		/* As in the table: n/a for an unpriced model, and a total that
		 * counts the priced models only is marked. */
		if (total)
			fprintf(out, "%s%s", usd, c->cost_known ? "" : "\\*");
		else
			fputs(c->cost_known ? usd : "n/a", out);
		fputs(" |\n", out);
	}
	if (!r->total.cost_known)
		fputs("\nn/a: the model is not in the price table; \\*: the total counts priced "
		      "models only\n",
		      out);
}

static void report_md_ms(FILE *out, const struct report_dist *d, double v)
{
	if (d->n)
		fprintf(out, " %.1f |", v);
	else
		fputs(" - |", out);
}

static void report_md_latency(const struct report *r, FILE *out)
{
	const char *const head[] = {"latency ms", "p50", "p90", "p99", "max",
				    "ttft p50", "ttft p90", "ttft p99", "server p50", "tok/s p50"};
	report_md_head(out, head, "lrrrrrrrrr");
	for (size_t i = 0; i < r->nmodels; i++) {
		const struct report_model *m = &r->models[i];
		fputs("| ", out);
		report_md_model(out, r, m);
		fputs(" |", out);
		report_md_ms(out, &m->latency, m->latency.p50);
		report_md_ms(out, &m->latency, m->latency.p90);
		report_md_ms(out, &m->latency, m->latency.p99);
		report_md_ms(out, &m->latency, m->latency.max);
		report_md_ms(out, &m->ttft, m->ttft.p50);
		report_md_ms(out, &m->ttft, m->ttft.p90);
		report_md_ms(out, &m->ttft, m->ttft.p99);
		report_md_ms(out, &m->server_latency, m->server_latency.p50);
		report_md_ms(out, &m->tokens_per_s, m->tokens_per_s.p50);
		fputc('\n', out);
	}
}

static void report_md_expect(const struct report *r, FILE *out)
{
	const char *const head[] = {report_group_label(r), "jobs with expectations", "passed", "failed",
				    "pass rate"};
	report_md_head(out, head, "lrrrr");
	for (size_t i = 0; i <= r->nmodels; i++) {
		bool total = i == r->nmodels;
		const struct report_counts *c = total ? &r->total : &r->models[i].c;
		fputs("| ", out);
		if (total)
			fputs("**total**", out);
		else
			report_md_model(out, r, &r->models[i]);
		fprintf(out, " | %" PRId64 " | %" PRId64 " | %" PRId64 " | ", c->expect_jobs,
			c->expect_passed, c->expect_jobs - c->expect_passed);
		if (c->expect_jobs)
			fprintf(out, "%.1f%%", report_pass_rate(c));
		else
			fputs("-", out);
		fputs(" |\n", out);
	}
}

static void report_md_errors(const struct report *r, FILE *out)
{
	if (!r->nerrors) {
		fputs("No errors.\n", out);
		return;
	}
	const char *const head[] = {"error", "jobs", "first job", "message"};
	report_md_head(out, head, "lrll");
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct report_error *e = &r->errors[i];
		fputs("| ", out);
		report_md_text(out, e->type, SIZE_MAX);
		fprintf(out, " | %" PRId64 " | ", e->count);
		report_md_text(out, e->example_job ? e->example_job : "", SIZE_MAX);
		fputs(" (", out);
		report_md_text(out, e->example_model && *e->example_model ? e->example_model
									 : "no model",
			       SIZE_MAX);
		fputs(") | ", out);
		report_md_text(out, e->example ? e->example : "", REPORT_MD_EXAMPLE_MAX);
		fputs(" |\n", out);
	}
}

int report_write_md(const struct report *r, FILE *out, struct nb_err *err)
{
	errno = 0;
	report_md_header(r, out);
	if (r->nmodels) {
		fputs("\n#### Jobs\n\n", out);
		report_md_jobs(r, out);
		fputs("\n#### Tokens and cost\n\n", out);
		report_md_tokens(r, out);
		fputs("\n#### Latency\n\n", out);
		report_md_latency(r, out);
		if (r->total.expect_jobs) {
			fputs("\n#### Expectations\n\n", out);
			report_md_expect(r, out);
		}
	} else {
		fputs("\nNo jobs recorded.\n", out);
	}
	fputs("\n#### Errors\n\n", out);
	report_md_errors(r, out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
