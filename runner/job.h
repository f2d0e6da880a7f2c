/*
 * job: one job line, parsed and checked.
 *
 * A pure core: it turns the text of a line into a job (its id, its model and
 * the Converse request body to send) or into a message naming the file, line
 * and field that is wrong. Every request field is passed through untouched,
 * inline base64 media included; only novabatch's own keys (id, modelId,
 * stream, expect, tags) are taken out of the body; "expect" is parsed and
 * kept (expect.h), small, for judging the answer. It does not read files
 * or send anything.
 */
#ifndef NB_JOB_H
#define NB_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "expect.h"

struct job {
	char *id;       /* owned; the line's id, or "FILE:LINE" */
	char *model_id; /* owned; NULL when the line names none and no default */
	char *body;     /* owned; the Converse request: the line's own bytes
			   for every request field, novabatch's keys cut out */
	size_t body_len;
	bool stream;           /* "stream": true: ConverseStream */
	struct expect *expect; /* owned; the line's "expect", NULL when none */
	char request_hash[65]; /* SHA-256 hex of model id, NUL, body */
	double est_input_tokens;  /* input estimate (see job.c) */
	double max_output_tokens; /* inferenceConfig.maxTokens, or the model's default */
	const char *file;      /* borrowed from the caller */
	long line;
};

/* Parses one line. default_model (may be NULL) serves lines without
 * modelId. Returns 0, or -1 with err set to "FILE:LINE: field 'F': what is
 * wrong". On failure id (and model_id, when the line had one) are still
 * set, so the invalid job can be recorded; job_cleanup is needed either way. */
int job_parse(struct job *job, const char *text, size_t len, const char *file, long line,
	      const char *default_model, struct nb_err *err);

void job_cleanup(struct job *job);

/* What a token quota reserves for the request when it starts: the input
 * estimate plus maxTokens, as Bedrock reserves them. */
static inline double job_quota_tokens(const struct job *job)
{
	return job->est_input_tokens + job->max_output_tokens;
}

#endif
