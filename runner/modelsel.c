#include "modelsel.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* As many models as one line may name. */
#define MODELSEL_MAX_MODELS 16

static int modelsel_resolve(const struct modelsel *ms, const char *option, const char *name,
			    const char *region, char **id, struct nb_err *err)
{
	if (!*name)
		return err_set(err, "%s: a model name is empty", option);
	if (job_resolve_model(ms->catalog, region, name, id) == 0)
		return 0;
	char names[256];
	models_alias_names(ms->catalog, names, sizeof names);
	return err_set(err, "%s: '%s' is not a model alias (aliases: %s) nor a model id", option,
		       name, names);
}

int modelsel_init(struct modelsel *ms, const char *model, const char *models_csv,
		  const char *region, struct nb_err *err)
{
	memset(ms, 0, sizeof *ms);
	if (models_load_builtin(&ms->catalog, err) < 0)
		return -1;
	if (model && modelsel_resolve(ms, "--model", model, region, &ms->default_model, err) < 0)
		return -1;
	if (models_csv) {
		char *list = xstrdup(models_csv);
		char *rest = list;
		int rc = 0;
		for (char *name; rc == 0 && (name = strsep(&rest, ","));) {
			char *id;
			if (ms->noverride == MODELSEL_MAX_MODELS) {
				rc = err_set(err, "--models: more than %d models", MODELSEL_MAX_MODELS);
				break;
			}
			if (modelsel_resolve(ms, "--models", name, region, &id, err) < 0) {
				rc = -1;
				break;
			}
			for (size_t i = 0; i < ms->noverride; i++)
				if (strcmp(ms->override[i], id) == 0)
					rc = err_set(err, "--models: '%s' is listed twice", name);
			ms->override = xrealloc(ms->override,
						(ms->noverride + 1) * sizeof *ms->override);
			ms->override[ms->noverride++] = id;
		}
		free(list);
		if (rc < 0)
			return -1;
	}
	ms->jm = (struct job_models){
		.default_model = ms->default_model,
		.override = ms->override,
		.noverride = ms->noverride,
		.catalog = ms->catalog,
		.region = region,
	};
	return 0;
}

void modelsel_cleanup(struct modelsel *ms)
{
	models_free(ms->catalog);
	free(ms->default_model);
	for (size_t i = 0; i < ms->noverride; i++)
		free(ms->override[i]);
	free(ms->override);
	memset(ms, 0, sizeof *ms);
}
