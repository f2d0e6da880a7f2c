/*
 * validate: checks job files without sending anything.
 *
 * Reads every line with the reader and the parser `run` uses (jobfile.h,
 * job.h), so a line valid here is valid there, and adds what only a whole
 * file shows: ids used twice for the same model. It counts, per model, the
 * jobs, the estimated input tokens, the maxTokens reserved and the most the
 * jobs could cost at list price (spend.h's worst case). Problems go to a
 * callback as they are found; it prints nothing itself.
 */
#ifndef NB_VALIDATE_H
#define NB_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "job.h"
#include "models.h"

struct validate_model {
	char *model_id;
	long jobs;
	double input_tokens;      /* estimated */
	double max_output_tokens; /* maxTokens, or the default, summed */
	bool priced;              /* the price table knows the model */
	int64_t max_cost_pusd;    /* input estimate + maxTokens at list price */
};

struct validate_result {
	long lines;   /* non-blank lines read */
	long jobs;    /* valid jobs: one per line and model */
	long invalid; /* lines (or jobs, for a duplicate id) with a problem */
	struct validate_model *models; /* in order of first use */
	size_t nmodels;
};

typedef void (*validate_problem_fn)(const char *message, void *data);

/* Checks the files in order. Returns 0 with out filled (problems or not),
 * or -1 with err when a file cannot be read. Call validate_result_cleanup
 * either way. */
int validate_files(char *const *files, int nfiles, const struct job_models *jm,
		   const struct models *prices, validate_problem_fn problem, void *data,
		   struct validate_result *out, struct nb_err *err);
void validate_result_cleanup(struct validate_result *r);

#endif
