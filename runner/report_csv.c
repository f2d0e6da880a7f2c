/*
 * The CSV writer of a report: one table for spreadsheets and scripts, one
 * header row, one row per model and a total row, with every number the
 * table writer shows (csv.h: RFC 4180, CRLF line ends).
 *
 * kind is "model" or "total"; model_id is "" for the invalid lines that name
 * no model and for the total row, so kind tells them apart. Numbers are
 * plain: counts as integers, cost_usd as the exact decimal, latencies in
 * milliseconds and output tokens/s as stored (15 significant digits). An empty field is a value
 * that does not exist: the cost of a model missing from the price table, a
 * percentile of no values. The total's cost_usd sums the priced models, and
 * cost_complete says whether that was all of them. expect_pass_rate is in
 * percent, empty when no job had expectations. The errors by type are
 * left to the other formats: a CSV file holds one table.
 */
#include "report.h"

#include <errno.h>
#include <string.h>

#include "csv.h"

static const char *const report_csv_head[] = {
	"run_id", "kind", "model_id", "jobs", "ok", "failed", "invalid", "pending", "attempts",
	"throttled", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
	"cost_usd", "cost_complete", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
	"latency_max_ms", "server_latency_p50_ms", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms",
	"output_tokens_per_s_p50",
	"expect_jobs", "expect_passed", "expect_failed", "expect_pass_rate",
};

static void report_csv_ms(struct csv_row *row, const struct report_dist *d, double v)
{
	if (d->n)
		csv_real(row, v);
	else
		csv_text(row, NULL);
}

/* One row: m is NULL for the total. */
static void report_csv_row(const struct report *r, const struct report_model *m, FILE *out)
{
	const struct report_counts *c = m ? &m->c : &r->total;
	struct csv_row row;
	csv_row_init(&row, out);
	csv_int(&row, r->run_id);
	csv_text(&row, m ? report_group_label(r) : "total");
	csv_text(&row, m ? m->model_id : "");
	const int64_t counts[] = {c->jobs, c->ok, c->failed, c->invalid, c->pending,
				  c->attempts, c->throttled, c->input_tokens, c->output_tokens,
				  c->cache_read_tokens, c->cache_write_tokens};
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		csv_int(&row, counts[i]);
	char usd[REPORT_USD_LEN];
	report_usd_text(c->cost_pusd, usd);
	/* A model's unknown cost is empty; the total is the priced part. */
	csv_text(&row, c->cost_known || !m ? usd : NULL);
	csv_text(&row, c->cost_known ? "true" : "false");
	if (m) {
		report_csv_ms(&row, &m->latency, m->latency.p50);
		report_csv_ms(&row, &m->latency, m->latency.p90);
		report_csv_ms(&row, &m->latency, m->latency.p99);
		report_csv_ms(&row, &m->latency, m->latency.max);
		report_csv_ms(&row, &m->server_latency, m->server_latency.p50);
		report_csv_ms(&row, &m->ttft, m->ttft.p50);
		report_csv_ms(&row, &m->ttft, m->ttft.p90);
		report_csv_ms(&row, &m->ttft, m->ttft.p99);
		report_csv_ms(&row, &m->tokens_per_s, m->tokens_per_s.p50);
	} else {
		/* Percentiles do not add up across models: none for the total. */
		for (int i = 0; i < 9; i++)
			csv_text(&row, NULL);
	}
	csv_int(&row, c->expect_jobs);
	csv_int(&row, c->expect_passed);
	csv_int(&row, c->expect_jobs - c->expect_passed);
	if (c->expect_jobs)
		csv_real(&row, report_pass_rate(c));
	else
		csv_text(&row, NULL);
	csv_end(&row);
}

int report_write_csv(const struct report *r, FILE *out, struct nb_err *err)
{
	errno = 0;
	struct csv_row row;
	csv_row_init(&row, out);
	for (size_t i = 0; i < sizeof report_csv_head / sizeof report_csv_head[0]; i++)
		csv_text(&row, i == 2 && r->by_tag ? "tag" : report_csv_head[i]);
	csv_end(&row);
	for (size_t i = 0; i < r->nmodels; i++)
		report_csv_row(r, &r->models[i], out);
	report_csv_row(r, NULL, out);
	if (fflush(out) != 0 || ferror(out))
		return err_set(err, "%s", strerror(errno ? errno : EIO));
	return 0;
}
