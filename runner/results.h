/*
 * results: the per-job results of one run, loaded into memory for compare,
 * compare --across-models and the JUnit files.
 *
 * results_load reads one run's jobs (one row per job and model) in a single
 * read transaction and keeps, per row, what a comparison needs: status,
 * expectation verdict, an excerpt of the output and a SHA-256 of all of it
 * (so a changed output is found without holding every answer), latency,
 * tokens and cost (integer pico-USD, priced with the run's stored table, or
 * the built-in one for a run without). Rows are sorted by model id, then
 * job id, in byte order. Memory is about a kilobyte per row: this is for
 * regression suites, not for million-line batches. It only reads.
 */
#ifndef NB_RESULTS_H
#define NB_RESULTS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "err.h"

/* Bytes of output kept as an excerpt, at most. */
#define RESULTS_EXCERPT_MAX 400

struct results_job {
	char *job_id;
	char *model_id;        /* "" for an invalid line that names none */
	char *status;          /* pending, ok, failed or invalid */
	char *expect_status;   /* "passed", "failed" or NULL: no expectations */
	char *expect_failures; /* JSON array text, or NULL */
	char *excerpt;         /* the output's first bytes ("..." when cut); NULL: none */
	bool has_output;
	unsigned char output_hash[DIGEST_SHA256_LEN]; /* of the whole output */
	char *error;           /* "TYPE: message" of a failed or invalid job, else NULL */
	double latency_ms;     /* < 0: none */
	int64_t input_tokens, output_tokens; /* < 0: none */
	bool cost_known;
	int64_t cost_pusd;
};

struct results {
	int64_t run_id;
	char *run_name; /* NULL when the run has none */
	struct results_job *jobs;
	size_t n;
};

/* Loads run run_id. r needs no initialization; call results_cleanup after,
 * whatever the result. Returns 0, or -1 with err set. */
int results_load(sqlite3 *db, int64_t run_id, struct results *r, struct nb_err *err);
void results_cleanup(struct results *r);

/* "run 12" or "run 12 (nightly)", for messages and headings; the caller
 * frees it. */
char *results_label(const struct results *r);

/* A job's failed assertions (its expect_failures) as one line of text,
 * "expect.NAME: message; expect.NAME: message"; the caller frees it. */
char *results_failures_text(const struct results_job *j);

/* Whether a job's output changed from a to b: both have an output and
 * the outputs differ. */
bool results_output_changed(const struct results_job *a, const struct results_job *b);

#endif
