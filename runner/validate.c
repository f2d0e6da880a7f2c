#include "validate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "jobfile.h"
#include "spend.h"
#include "xalloc.h"

static struct validate_model *validate_model_for(struct validate_result *r,
						 const struct models *prices, const char *id)
{
	for (size_t i = 0; i < r->nmodels; i++)
		if (strcmp(r->models[i].model_id, id) == 0)
			return &r->models[i];
	r->models = xrealloc(r->models, (r->nmodels + 1) * sizeof *r->models);
	struct validate_model *m = &r->models[r->nmodels++];
	memset(m, 0, sizeof *m);
	m->model_id = xstrdup(id);
	struct models_price price;
	m->priced = prices && models_price_for(prices, id, &price);
	return m;
}

/* Counts one valid job; false when its id is taken for its model. */
static bool validate_job(struct validate_result *r, json_t *seen, const struct models *prices,
			 const struct job *job, validate_problem_fn problem, void *data)
{
	/* (id, model) as one key: a unit separator cannot be in a model id. */
	char *key = xasprintf("%s\x1f%s", job->id, job->model_id);
	bool taken = json_object_get(seen, key) != NULL;
	if (!taken)
		json_object_set_new(seen, key, json_true());
	free(key);
	if (taken) {
		char *msg = xasprintf("%s:%ld: field 'id': '%s' is already used by an earlier line "
				      "for model %s; ids must be unique in a run",
				      job->file, job->line, job->id, job->model_id);
		problem(msg, data);
		free(msg);
		r->invalid++;
		return false;
	}
	struct validate_model *m = validate_model_for(r, prices, job->model_id);
	m->jobs++;
	m->input_tokens += job->est_input_tokens;
	m->max_output_tokens += job->max_output_tokens;
	struct models_price price;
	if (m->priced && models_price_for(prices, job->model_id, &price))
		m->max_cost_pusd += spend_worst_case_pusd(&price, job->est_input_tokens,
							  job->max_output_tokens);
	r->jobs++;
	return true;
}

static int validate_file(const char *path, const struct job_models *jm,
			 const struct models *prices, json_t *seen, validate_problem_fn problem,
			 void *data, struct validate_result *r, struct nb_err *err)
{
	struct jobfile jf;
	if (jobfile_open(&jf, path, err) < 0)
		return -1;
	const char *text;
	size_t len;
	enum jobfile_status st;
	while ((st = jobfile_next(&jf, &text, &len, err)) != JOBFILE_END) {
		if (st == JOBFILE_ERROR)
			break;
		r->lines++;
		if (st == JOBFILE_TOO_LONG) {
			char *msg = xasprintf("%s:%ld: the line is longer than %u MiB", path, jf.line,
					      JOBFILE_MAX_LINE / (1024 * 1024));
			problem(msg, data);
			free(msg);
			r->invalid++;
			continue;
		}
		struct job job;
		struct nb_err perr;
		if (job_parse(&job, text, len, path, jf.line, jm, &perr) < 0) {
			problem(perr.msg, data);
			r->invalid++;
		} else {
			for (size_t i = 0; i < job.nmodels; i++) {
				struct job one;
				job_for_model(&job, i, &one);
				validate_job(r, seen, prices, &one, problem, data);
				job_cleanup(&one);
			}
		}
		job_cleanup(&job);
	}
	jobfile_close(&jf);
	return st == JOBFILE_ERROR ? -1 : 0;
}

int validate_files(char *const *files, int nfiles, const struct job_models *jm,
		   const struct models *prices, validate_problem_fn problem, void *data,
		   struct validate_result *out, struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	/* The (id, model) keys seen so far: the one thing that grows with the
	 * files, as `run` keeps it in its database. */
	json_t *seen = json_object();
	int rc = 0;
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = validate_file(files[i], jm, prices, seen, problem, data, out, err);
	json_decref(seen);
	return rc;
}

void validate_result_cleanup(struct validate_result *r)
{
	for (size_t i = 0; i < r->nmodels; i++)
		free(r->models[i].model_id);
	free(r->models);
	memset(r, 0, sizeof *r);
}
