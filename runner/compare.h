/*
 * compare: a baseline run against a new one, and one run's models side by
 * side; computed once, then written by small writers (compare_table.c,
 * compare_json.c, compare_md.c, and junit.c for JUnit XML).
 *
 * A pure core over two loaded runs (results.h): no database, no I/O, no
 * clock. compare_compute joins the runs on (job id, model) and works per
 * model over the pairs present in both: pass rate of the expectations,
 * jobs newly failing (passed in BASE, failed in NEW) and newly fixed,
 * outputs changed, nearest-rank p50/p90 latency of the ok jobs, tokens and
 * cost. It then judges the thresholds: a job newly failing is always a
 * regression; --max-latency-regression (p90), --max-cost-regression,
 * --max-pass-rate-drop (percentage points) and --fail-on-output-change
 * are regressions when given and crossed. Pairs in one run only are
 * counted and listed, never judged.
 *
 * compare_across lays out one run per job: a row per job id, a cell per
 * model. Both borrow the results they were computed from: keep those alive
 * until the cleanup.
 */
#ifndef NB_COMPARE_H
#define NB_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "results.h"

/* Thresholds in percent; < 0 when not given. */
struct compare_thresholds {
	double max_latency_pct;   /* p90 latency may grow this much */
	double max_cost_pct;      /* cost may grow this much */
	double max_pass_drop_pct; /* pass rate may fall this many points */
	bool fail_on_output_change;
};

/* What happened to a pair, as bits. */
enum {
	COMPARE_NEWLY_FAILING = 1, /* expectations passed in BASE, fail in NEW */
	COMPARE_NEWLY_FIXED = 2,   /* expectations failed in BASE, pass in NEW */
	COMPARE_OUTPUT_CHANGED = 4,
	COMPARE_ONLY_BASE = 8,
	COMPARE_ONLY_NEW = 16,
};

struct compare_pair {
	const struct results_job *base, *new; /* borrowed; one may be NULL */
	unsigned flags;
};

/* Nearest-rank percentiles; valid when n > 0. */
struct compare_dist {
	int64_t n;
	double p50, p90;
};

/* One run's side of a model, over the pairs present in both runs. */
struct compare_side {
	int64_t ok;
	int64_t expect_jobs, expect_passed; /* jobs with expectations, and passed */
	struct compare_dist latency;
	int64_t input_tokens, output_tokens;
	bool cost_known;
	int64_t cost_pusd;
};

struct compare_model {
	const char *model_id; /* borrowed */
	struct compare_side base, new;
	int64_t matched, only_base, only_new;
	int64_t newly_failing, newly_fixed, outputs_changed;
	struct compare_pair *pairs; /* every pair of the model, by job id */
	size_t npairs;
};

/* A threshold crossed (or a newly failing job, which always is one). */
struct compare_breach {
	const char *model_id;  /* borrowed */
	const char *threshold; /* static: "newly-failing", "max-latency-regression",
				  "max-cost-regression", "max-pass-rate-drop",
				  "fail-on-output-change" */
	char *message;
};

struct compare {
	const struct results *base, *new; /* borrowed */
	struct compare_thresholds th;
	struct compare_model *models; /* by model id */
	size_t nmodels;
	struct compare_breach *breaches;
	size_t nbreaches; /* > 0: a regression, exit 1 */
};

/* Compares base with new. c needs no initialization; compare_cleanup
 * releases it. */
void compare_compute(const struct results *base, const struct results *new,
		     const struct compare_thresholds *th, struct compare *c);
void compare_cleanup(struct compare *c);

/* A job's expectation result for a cell: "pass", "FAIL", "-" for an
 * answer without expectations, or why there is no answer. */
const char *compare_result_text(const struct results_job *j);

/* A pass rate in percent, or < 0 when no job had expectations. */
double compare_pass_rate(const struct compare_side *s);
/* The change from a to b in percent of a; HUGE_VAL when a is 0 and b is
 * not, 0 when both are 0. */
double compare_change_pct(double a, double b);
/* A change in percent for a person: "+12.5%", "-3.0%", "new" (from 0),
 * or "n/a" when unknown (NAN). */
#define COMPARE_PCT_LEN 24
void compare_pct_text(double pct, char out[COMPARE_PCT_LEN]);
/* A short name for a model id, for narrow columns: the last part of an
 * ARN, without a geographic prefix, provider and version
 * ("us.amazon.nova-lite-v1:0" -> "nova-lite-v1"). */
#define COMPARE_SHORT_LEN 64
void compare_short_model(const char *model_id, char out[COMPARE_SHORT_LEN]);
/* The threshold a model crossed of the given name, or NULL. */
const struct compare_breach *compare_breach_for(const struct compare *c, const char *model_id,
						const char *threshold);

/* One run's jobs, a row per job id and a cell per model. */
struct compare_across_row {
	const char *job_id;                /* borrowed */
	const struct results_job **cells;  /* nmodels cells; NULL: no such row */
};

struct compare_across_model {
	const char *model_id; /* borrowed */
	int64_t jobs, ok, expect_jobs, expect_passed;
	struct compare_dist latency;
	int64_t output_tokens;
	bool cost_known;
	int64_t cost_pusd;
};

struct compare_across {
	const struct results *run; /* borrowed */
	struct compare_across_model *models;
	size_t nmodels;
	struct compare_across_row *rows; /* by job id */
	size_t nrows;
};

void compare_across_compute(const struct results *run, struct compare_across *a);
void compare_across_cleanup(struct compare_across *a);

/* The writers. Each returns 0, or -1 with err holding the cause of the
 * write failure (they flush out and check it; closing it is the caller's). */
int compare_write_table(const struct compare *c, FILE *out, struct nb_err *err);
int compare_write_json(const struct compare *c, FILE *out, struct nb_err *err);
int compare_write_md(const struct compare *c, FILE *out, struct nb_err *err);
int compare_across_write_table(const struct compare_across *a, FILE *out, struct nb_err *err);
int compare_across_write_json(const struct compare_across *a, FILE *out, struct nb_err *err);
int compare_across_write_md(const struct compare_across *a, FILE *out, struct nb_err *err);

#endif
