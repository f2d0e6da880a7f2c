/*
 * report: what a run did, computed once from the database and written by
 * small writers (report_table.c, report_json.c, report_csv.c, report_md.c,
 * report_html.c).
 *
 * report_compute reads one run in a single read transaction, so a report of
 * a run that is still writing is a consistent snapshot. It owns the
 * struct report it fills: the run's header, one entry per model, totals and
 * the final errors grouped by type, and on request the charts' data
 * (report_series.c). Costs are integer pico-USD, priced with a table the
 * caller gives (`--pricing FILE`), else the table the run stored
 * (runs.prices), else the built-in one. Input tokens are priced apart from
 * cache reads and writes: Bedrock's inputTokens counts neither, and each has
 * its own rate. The writers do no computing and read no clock; they only
 * format, and each checks that its output was written. Nothing here prints
 * to the terminal by itself.
 *
 * Invalid job lines that name no model have model_id '' in the database.
 * They are grouped under model_id "" (so a report joins with the database and
 * the export), shown as "(none)" in a table; nothing was sent for them, so
 * their cost is known and zero.
 */
#ifndef NB_REPORT_H
#define NB_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#include "models.h"

/* Nearest-rank percentiles of a latency in milliseconds; all are valid only
 * when n > 0. */
struct report_dist {
	int64_t n; /* values counted */
	double p50, p90, p99, max;
};

/* A histogram of a latency: bin i counts the values in [i x width,
 * (i + 1) x width) milliseconds. The width is a round number (1, 2 or 5
 * times a power of ten) chosen so that about REPORT_HIST_BINS bins reach the
 * largest value. Empty (nbins 0) when there are no values. */
#define REPORT_HIST_BINS 20
struct report_hist {
	double width;
	size_t nbins;
	int64_t *counts;
};

/* Jobs that ended ok or failed per interval of step_s seconds since the run
 * started (jobs.finished_at): a minute, or more for a run so long that
 * minutes would make more than REPORT_TIMELINE_MAX intervals. */
#define REPORT_TIMELINE_MAX 240
struct report_timeline {
	int64_t step_s;
	size_t n;
	int64_t *ok;
	int64_t *failed;
};

struct report_counts {
	int64_t jobs, ok, failed, invalid, pending;
	int64_t attempts;  /* HTTP attempts (sum of jobs.attempts) */
	int64_t throttled; /* attempts answered 429 (throttled, model not ready) */
	int64_t input_tokens, output_tokens, cache_read_tokens, cache_write_tokens;
	int64_t expect_jobs;   /* jobs whose expectations were judged */
	int64_t expect_passed; /* of which passed (the others failed) */
	bool cost_known;   /* false when a model is missing from the price table */
	int64_t cost_pusd; /* pico-USD; for totals, the sum of the known costs */
};

struct report_model {
	char *model_id; /* "" for invalid lines that name no model */
	struct report_counts c;
	struct report_dist latency;        /* ok jobs' client latency */
	struct report_dist ttft;           /* ok streamed jobs */
	struct report_dist server_latency; /* ok jobs' metrics.latencyMs; p50 only */
	struct report_dist tokens_per_s;   /* ok streamed jobs' output tokens/s; p50 only */
	struct report_hist latency_hist;   /* with report_options.series */
	struct report_hist ttft_hist;      /* with report_options.series */
};

/* Final errors of failed and invalid jobs with the same error type. */
struct report_error {
	char *type;          /* "(none)" when the job recorded no type */
	int64_t count;
	char *example;       /* the message of its first job; may be NULL */
	char *example_job;   /* that job's id */
	char *example_model; /* and model */
};

/* Where the prices of a report came from. */
enum report_prices {
	REPORT_PRICES_BUILTIN, /* the table compiled in (the run stored none) */
	REPORT_PRICES_RUN,     /* the table the run stored */
	REPORT_PRICES_FILE,    /* a table the caller gave (`--pricing FILE`) */
};

struct report {
	int64_t run_id;
	char *name;         /* NULL when the run has none */
	char *status;
	char *started_at;
	char *finished_at;  /* NULL while running */
	int64_t duration_ms; /* < 0 while running */
	char *version;
	char *region;
	char *endpoint_host; /* host[:port] of the endpoint, never its path */
	int concurrency;
	enum report_prices prices;
	char *prices_file;      /* REPORT_PRICES_FILE: the file's name */
	char *prices_effective; /* the table's effective_date; NULL when it has none */

	bool by_tag;                 /* models[] are groups by tag: model_id is the tag */
	struct report_model *models; /* by model id (or tag), "" last */
	size_t nmodels;
	struct report_counts total; /* cost_known is false if any model's is */
	struct report_error *errors; /* most frequent first */
	size_t nerrors;
	struct report_timeline timeline; /* with report_options.series */
};

struct report_options {
	const struct models *prices; /* borrowed; NULL: the run's own table */
	const char *prices_file;     /* the name of that table's file */
	bool series;                 /* also compute the charts' data */
	bool by_tag;                 /* groups by tag, not by model (no series) */
};

/* Fills r with the report of run run_id. r needs no initialization; call
 * report_cleanup after, whatever the result. opt may be NULL (the run's
 * prices, no series). Returns 0, or -1 with err set. */
int report_compute_with(sqlite3 *db, int64_t run_id, const struct report_options *opt,
			struct report *r, struct nb_err *err);
/* report_compute_with without options. */
int report_compute(sqlite3 *db, int64_t run_id, struct report *r, struct nb_err *err);
void report_cleanup(struct report *r);

/* "model", or "tag" for a report by tag: what the groups are. */
const char *report_group_label(const struct report *r);
/* A group's name for a person: its model id or tag, "(none)" for invalid
 * lines without a model, "(no tag)" for jobs without tags. */
const char *report_group_name(const struct report *r, const struct report_model *m);

/* Writes pico-USD as an exact decimal number of USD with at least two
 * decimals and no trailing zeros beyond ("3.20", "0.00000875"). */
#define REPORT_USD_LEN 32
void report_usd_text(int64_t pusd, char out[REPORT_USD_LEN]);

/* Writes a duration for a person: "4.2s", "4m 01s", "1h 01m 02s". */
#define REPORT_DURATION_LEN 32
void report_duration_text(int64_t ms, char out[REPORT_DURATION_LEN]);

/* The pass rate of the expectations in percent, or < 0 when no job had
 * any. */
double report_pass_rate(const struct report_counts *c);

/* Writes at most max bytes of s (SIZE_MAX: all) as inline Markdown text:
 * what Markdown acts on is escaped, a line break becomes <br>, other
 * control characters spaces, and a cut is marked "...". */
void report_md_text(FILE *out, const char *s, size_t max);

/* Writes a Markdown table's head row and its alignment row: align[i] is
 * 'l' or 'r' for column i, one letter a column. */
void report_md_head(FILE *out, const char *const *head, const char *align);

/* The writers. Each returns 0, or -1 with err holding the cause of the
 * write failure (they flush out and check it; closing it is the caller's). */
int report_write_table(const struct report *r, FILE *out, struct nb_err *err);
int report_write_json(const struct report *r, FILE *out, struct nb_err *err);
int report_write_csv(const struct report *r, FILE *out, struct nb_err *err);
int report_write_md(const struct report *r, FILE *out, struct nb_err *err);
/* One self-contained HTML page (inline CSS and SVG, nothing fetched); the
 * charts need a report computed with series. */
int report_write_html(const struct report *r, FILE *out, struct nb_err *err);

/* Where the prices came from, for a header: "built-in table of 2025-04-01",
 * "stored with the run (effective 2025-04-01)", "from FILE". Returns a
 * string the caller frees. */
char *report_prices_text(const struct report *r);

#endif
