/*
 * report: what a run did, computed once from the database and written by
 * small writers (report_table.c, report_json.c, report_csv.c, report_md.c).
 *
 * report_compute reads one run in a single read transaction, so a report of
 * a run that is still writing is a consistent snapshot. It owns the
 * struct report it fills: the run's header, one entry per model, totals and
 * the final errors grouped by type. Costs are integer pico-USD, priced with
 * the table the run stored (runs.prices) or, for a run without one, the
 * built-in table. The writers do no computing and read no clock; they only
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

/* Nearest-rank percentiles of a latency in milliseconds; all are valid only
 * when n > 0. */
struct report_dist {
	int64_t n; /* values counted */
	double p50, p90, p99, max;
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
	struct report_dist ttft;           /* ok streamed jobs; no max kept */
	struct report_dist server_latency; /* ok jobs' metrics.latencyMs; p50 only */
};

/* Final errors of failed and invalid jobs with the same error type. */
struct report_error {
	char *type;          /* "(none)" when the job recorded no type */
	int64_t count;
	char *example;       /* the message of its first job; may be NULL */
	char *example_job;   /* that job's id */
	char *example_model; /* and model */
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
	bool prices_from_run; /* priced with runs.prices, else the built-in table */

	struct report_model *models; /* by model id, "" last */
	size_t nmodels;
	struct report_counts total; /* cost_known is false if any model's is */
	struct report_error *errors; /* most frequent first */
	size_t nerrors;
};

/* Fills r with the report of run run_id. r needs no initialization; call
 * report_cleanup after, whatever the result. Returns 0, or -1 with err
 * set. */
int report_compute(sqlite3 *db, int64_t run_id, struct report *r, struct nb_err *err);
void report_cleanup(struct report *r);

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

/* The writers. Each returns 0, or -1 with err holding the cause of the
 * write failure (they flush out and check it; closing it is the caller's). */
int report_write_table(const struct report *r, FILE *out, struct nb_err *err);
int report_write_json(const struct report *r, FILE *out, struct nb_err *err);
int report_write_csv(const struct report *r, FILE *out, struct nb_err *err);
int report_write_md(const struct report *r, FILE *out, struct nb_err *err);

#endif
