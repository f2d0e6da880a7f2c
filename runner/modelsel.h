/*
 * modelsel: the models a command line asks for.
 *
 * Resolves `--model ID|ALIAS` and `--models A,B,C` against the price
 * table's aliases for a region, once, so that a wrong name is a usage error
 * before anything is read or sent, and builds the job_models that job_parse
 * takes (the same for `run` and `validate`). Owns the table and the
 * resolved ids. It prints nothing.
 */
#ifndef NB_MODELSEL_H
#define NB_MODELSEL_H

#include <stddef.h>

#include "err.h"
#include "job.h"
#include "models.h"

struct modelsel {
	struct models *catalog;
	char *default_model; /* resolved --model, or NULL */
	char **override;     /* resolved --models */
	size_t noverride;
	struct job_models jm; /* borrows the above */
};

/* model and models_csv may be NULL. Returns 0, or -1 with err naming the
 * option and the name at fault; call modelsel_cleanup either way. */
int modelsel_init(struct modelsel *ms, const char *model, const char *models_csv,
		  const char *region, struct nb_err *err);
void modelsel_cleanup(struct modelsel *ms);

#endif
