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
#include "job_media.h"

struct models;

/* How a line's models are found. */
struct job_models {
	const char *default_model;     /* --model, an id (already resolved); may be NULL */
	char *const *override;         /* --models, ids (already resolved), in place of
					  the line's own; noverride 0 for none */
	size_t noverride;
	const struct models *catalog;  /* aliases for "model" and "models"; may be NULL */
	const char *region;            /* which inference profile an alias calls */
};

struct job {
	char *id;       /* owned; the line's id, or "FILE:LINE" */
	char *model_id; /* owned; the (first) model; NULL when the line names none */
	char **models;  /* owned; every model the line runs on (job_for_model) */
	size_t nmodels;
	char *body;     /* owned; the Converse request: the line's own bytes
			   for every request field, novabatch's keys cut out */
	size_t body_len;
	struct job_media media; /* file sources, read when the request is built */
	bool stream;           /* "stream": true: ConverseStream */
	struct expect *expect; /* owned; the line's "expect", NULL when none */
	char *tags;            /* owned; the line's "tags" as a JSON array, NULL when none */
	char request_hash[65]; /* SHA-256 hex of model id, NUL, body, and the size
				  and modification time of each media file */
	double est_input_tokens;  /* input estimate (see job.c) */
	double max_output_tokens; /* inferenceConfig.maxTokens, or the model's default */
	const char *file;      /* borrowed from the caller */
	long line;
};

/* Parses one line. Its models are --models (jm->override) when given,
 * else the line's modelId, model (an alias) or models (aliases or ids),
 * else --model (jm may be NULL: only the line's). Returns 0, or -1 with
 * err set to "FILE:LINE: field 'F':
 * what is wrong". On failure id (and model_id, when the line had one) are
 * still set, so the invalid job can be recorded; job_cleanup is needed
 * either way. */
int job_parse(struct job *job, const char *text, size_t len, const char *file, long line,
	      const struct job_models *jm, struct nb_err *err);

/* The job of a parsed line on its i-th model (line->models[i]), with its
 * own copy of the body and its own request hash. */
void job_for_model(const struct job *line, size_t i, struct job *out);

/* Resolves a model name from the command line or a models list: an alias
 * of catalog (for region), else a name with a '.' or ':' taken as a model
 * id, profile id or ARN. Returns 0 with *id (the caller frees it), or -1
 * when the name is neither. */
int job_resolve_model(const struct models *catalog, const char *region, const char *name,
		      char **id);

void job_cleanup(struct job *job);

/* What a token quota reserves for the request when it starts: the input
 * estimate plus maxTokens, as Bedrock reserves them. */
static inline double job_quota_tokens(const struct job *job)
{
	return job->est_input_tokens + job->max_output_tokens;
}

#endif
