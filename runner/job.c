#include "job.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "models.h"
#include "rawjson.h"
#include "xalloc.h"

/* Ids travel in a header and in every report: keep them short. */
#define JOB_MAX_ID 512

/* Keys of a job line that are novabatch's, not the Converse request's. */
static const char *const job_own_keys[] = {"id", "modelId", "model", "models", "stream",
					   "expect", "tags"};

/* Models one line may run on. */
#define JOB_MAX_MODELS 16

/* Converse request fields whose JSON type is checked here; any other field
 * passes through unchecked (the service judges it). */
static const struct {
	const char *name;
	json_type type;
} job_field_types[] = {
	{"system", JSON_ARRAY},
	{"inferenceConfig", JSON_OBJECT},
	{"toolConfig", JSON_OBJECT},
	{"guardrailConfig", JSON_OBJECT},
	{"additionalModelRequestFields", JSON_OBJECT},
	{"additionalModelResponseFieldPaths", JSON_ARRAY},
	{"promptVariables", JSON_OBJECT},
	{"requestMetadata", JSON_OBJECT},
	{"performanceConfig", JSON_OBJECT},
};

static const char *job_type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Sets err to "FILE:LINE: field 'F': MESSAGE" and returns -1. */
static int job_field_error(struct nb_err *err, const struct job *job, const char *field,
			   const char *what, const json_t *value)
{
	if (value)
		return err_set(err, "%s:%ld: field '%s': %s (found %s)", job->file, job->line,
			       field, what, job_type_name(json_typeof(value)));
	return err_set(err, "%s:%ld: field '%s': %s", job->file, job->line, field, what);
}

static int job_check_messages(const struct job *job, const json_t *messages, struct nb_err *err)
{
	if (!messages)
		return job_field_error(err, job, "messages", "missing; a job needs a messages array",
				       NULL);
	if (!json_is_array(messages))
		return job_field_error(err, job, "messages", "must be an array", messages);
	if (json_array_size(messages) == 0)
		return job_field_error(err, job, "messages", "must hold at least one message", NULL);
	size_t i;
	const json_t *msg;
	char field[64];
	json_array_foreach(messages, i, msg) {
		if (!json_is_object(msg)) {
			snprintf(field, sizeof field, "messages[%zu]", i);
			return job_field_error(err, job, field, "must be an object", msg);
		}
		const json_t *role = json_object_get(msg, "role");
		if (!json_is_string(role)) {
			snprintf(field, sizeof field, "messages[%zu].role", i);
			return job_field_error(err, job, field,
					       role ? "must be a string" : "missing", role);
		}
		const json_t *content = json_object_get(msg, "content");
		if (!json_is_array(content)) {
			snprintf(field, sizeof field, "messages[%zu].content", i);
			return job_field_error(err, job, field,
					       content ? "must be an array" : "missing", content);
		}
	}
	return 0;
}

int job_resolve_model(const struct models *catalog, const char *region, const char *name,
		      char **id)
{
	*id = catalog ? models_resolve(catalog, name, region) : NULL;
	if (*id)
		return 0;
	/* Not an alias: a model id, a profile id or an ARN has a '.' or ':'. */
	if (strchr(name, '.') || strchr(name, ':')) {
		*id = xstrdup(name);
		return 0;
	}
	return -1;
}

static void job_add_model(struct job *job, char *id)
{
	job->models = xrealloc(job->models, (job->nmodels + 1) * sizeof *job->models);
	job->models[job->nmodels++] = id;
}

/* Says which aliases there are, for a name that is none of them. */
static int job_unknown_alias(struct nb_err *err, const struct job *job, const char *field,
			     const struct job_models *jm, const char *name)
{
	char names[256] = "";
	if (jm->catalog)
		models_alias_names(jm->catalog, names, sizeof names);
	char what[512];
	snprintf(what, sizeof what, "'%s' is not a model alias (aliases: %s) nor a model id",
		 name, *names ? names : "none");
	return job_field_error(err, job, field, what, NULL);
}

/* The models of the line: --models, else its modelId, model or models,
 * else --model. */
static int job_take_models(struct job *job, json_t *root, const struct job_models *jm,
			   struct nb_err *err)
{
	for (size_t i = 0; i < jm->noverride; i++)
		job_add_model(job, xstrdup(jm->override[i]));
	const json_t *model_id = json_object_get(root, "modelId");
	const json_t *alias = json_object_get(root, "model");
	const json_t *list = json_object_get(root, "models");
	if ((model_id != NULL) + (alias != NULL) + (list != NULL) > 1)
		return job_field_error(err, job, model_id ? "modelId" : "model",
				       "give one of modelId, model and models", NULL);
	if (model_id && !(json_is_string(model_id) && json_string_length(model_id) > 0))
		return job_field_error(err, job, "modelId", "must be a non-empty string", model_id);
	if (alias && !(json_is_string(alias) && json_string_length(alias) > 0))
		return job_field_error(err, job, "model", "must be a non-empty string", alias);
	if (list && !(json_is_array(list) && json_array_size(list) > 0))
		return job_field_error(err, job, "models", "must be a non-empty array of names",
				       json_is_array(list) ? NULL : list);
	if (jm->noverride)
		return 0;
	if (model_id) {
		job_add_model(job, xstrdup(json_string_value(model_id)));
	} else if (alias) {
		char *id = jm->catalog ? models_resolve(jm->catalog, json_string_value(alias),
							jm->region)
				       : NULL;
		if (!id)
			return job_unknown_alias(err, job, "model", jm, json_string_value(alias));
		job_add_model(job, id);
	} else if (list) {
		if (json_array_size(list) > JOB_MAX_MODELS) {
			char what[64];
			snprintf(what, sizeof what, "more than %d models", JOB_MAX_MODELS);
			return job_field_error(err, job, "models", what, NULL);
		}
		size_t i;
		const json_t *name;
		json_array_foreach(list, i, name) {
			char field[32];
			snprintf(field, sizeof field, "models[%zu]", i);
			char *id;
			if (!json_is_string(name) || json_string_length(name) == 0)
				return job_field_error(err, job, field, "must be a non-empty string",
						       name);
			if (job_resolve_model(jm->catalog, jm->region, json_string_value(name),
					      &id) < 0)
				return job_unknown_alias(err, job, field, jm, json_string_value(name));
			for (size_t j = 0; j < job->nmodels; j++) {
				if (strcmp(job->models[j], id) == 0) {
					free(id);
					return job_field_error(err, job, field,
							       "names a model already listed", NULL);
				}
			}
			job_add_model(job, id);
		}
	} else if (jm->default_model) {
		job_add_model(job, xstrdup(jm->default_model));
	}
	return 0;
}

/* Takes id and the models off the line; both stay set on failure, so an
 * invalid line is recorded under its own id and model. */
static int job_take_identity(struct job *job, json_t *root, const struct job_models *jm,
			     struct nb_err *err)
{
	const json_t *id = json_object_get(root, "id");
	bool id_ok = !id || (json_is_string(id) && json_string_length(id) > 0 &&
			     json_string_length(id) <= JOB_MAX_ID);
	if (id_ok && id) {
		free(job->id);
		job->id = xstrdup(json_string_value(id));
	}
	int models_rc = job_take_models(job, root, jm, err);
	if (job->nmodels > 0)
		job->model_id = xstrdup(job->models[0]);
	if (!id_ok && json_is_string(id) && json_string_length(id) > JOB_MAX_ID) {
		char what[64];
		snprintf(what, sizeof what, "longer than %d bytes", JOB_MAX_ID);
		return job_field_error(err, job, "id", what, NULL);
	}
	if (!id_ok)
		return job_field_error(err, job, "id", "must be a non-empty string", id);
	if (models_rc < 0)
		return -1;
	if (!job->model_id)
		return job_field_error(err, job, "modelId",
				       "missing; name a model (modelId, model or models) on the "
				       "line or give --model",
				       NULL);
	return 0;
}

static int job_check_fields(const struct job *job, json_t *root, struct nb_err *err)
{
	const json_t *stream = json_object_get(root, "stream");
	if (stream && !json_is_boolean(stream))
		return job_field_error(err, job, "stream", "must be true or false", stream);
	for (size_t i = 0; i < sizeof job_field_types / sizeof job_field_types[0]; i++) {
		const json_t *v = json_object_get(root, job_field_types[i].name);
		if (v && json_typeof(v) != job_field_types[i].type) {
			char what[64];
			snprintf(what, sizeof what, "must be %s",
				 job_type_name(job_field_types[i].type));
			return job_field_error(err, job, job_field_types[i].name, what, v);
		}
	}
	return job_check_messages(job, json_object_get(root, "messages"), err);
}

static bool job_is_own_key(const char *s, size_t key, size_t key_end)
{
	for (size_t i = 0; i < sizeof job_own_keys / sizeof job_own_keys[0]; i++)
		if (rawjson_key_is(s, key, key_end, job_own_keys[i]))
			return true;
	return false;
}

/* Copies the object in text without novabatch's own members: the values
 * are kept byte for byte (0.1 stays 0.1, not 0.10000000000000001). */
static char *job_strip_own_keys(const char *s, size_t n, size_t *out_len)
{
	struct buf out;
	buf_init(&out, 0);
	buf_append(&out, "{", 1);
	struct rawjson_iter it;
	size_t key, key_end, value, value_end;
	bool first = true;
	rawjson_iter_init(&it, s, n, rawjson_skip_ws(s, 0, n));
	while (rawjson_iter_next(&it, &key, &key_end, &value, &value_end)) {
		if (job_is_own_key(s, key, key_end))
			continue;
		if (!first)
			buf_append(&out, ",", 1);
		buf_append(&out, s + key, key_end - key);
		buf_append(&out, ":", 1);
		buf_append(&out, s + value, value_end - value);
		first = false;
	}
	buf_append(&out, "}", 1);
	*out_len = out.len;
	return buf_steal(&out);
}

/* Token estimates for quota reservations. Bedrock reserves input tokens
 * plus maxTokens when a request starts; the input is estimated at four
 * bytes of text a token, and a flat amount for each media block. */
#define JOB_BYTES_PER_TOKEN 4
#define JOB_MEDIA_BLOCK_TOKENS 1000
/* What a request without inferenceConfig.maxTokens may produce (Nova). */
#define JOB_DEFAULT_MAX_TOKENS 5000
/* More than any model's output limit. */
#define JOB_MAX_OUTPUT_TOKENS 10000000.0

static double job_text_tokens(const json_t *blocks)
{
	double bytes = 0, media = 0;
	size_t i;
	const json_t *block;
	json_array_foreach(blocks, i, block) {
		const json_t *text = json_object_get(block, "text");
		if (json_is_string(text))
			bytes += (double)json_string_length(text);
		else if (json_object_get(block, "image") || json_object_get(block, "video") ||
			 json_object_get(block, "document"))
			media += JOB_MEDIA_BLOCK_TOKENS;
	}
	return bytes / JOB_BYTES_PER_TOKEN + media;
}

static void job_estimate_tokens(struct job *job, const json_t *root)
{
	double tokens = job_text_tokens(json_object_get(root, "system"));
	size_t i;
	const json_t *msg;
	json_array_foreach(json_object_get(root, "messages"), i, msg)
		tokens += job_text_tokens(json_object_get(msg, "content"));
	job->est_input_tokens = tokens;
	const json_t *max = json_object_get(json_object_get(root, "inferenceConfig"), "maxTokens");
	job->max_output_tokens = json_is_integer(max) && json_integer_value(max) > 0
					 ? (double)json_integer_value(max)
					 : JOB_DEFAULT_MAX_TOKENS;
	/* No model writes more; the cap keeps the cost arithmetic in range
	 * whatever a line asks (the service refuses such a request anyway). */
	if (job->max_output_tokens > JOB_MAX_OUTPUT_TOKENS)
		job->max_output_tokens = JOB_MAX_OUTPUT_TOKENS;
}

static void job_hash(struct job *job)
{
	/* A media file is known by its size and modification time: reading
	 * it whole here would hold what the request builder reads later. */
	struct buf files;
	buf_init(&files, 0);
	for (size_t i = 0; i < job->media.nfiles; i++)
		buf_appendf(&files, "%s\n%lld\n%lld\n", job->media.files[i].path,
			    (long long)job->media.files[i].size,
			    (long long)job->media.files[i].mtime_ns);
	const struct digest_part parts[] = {
		{job->model_id, strlen(job->model_id) + 1},
		{job->body, job->body_len},
		{buf_str(&files), files.len},
	};
	unsigned char md[DIGEST_SHA256_LEN];
	digest_sha256(parts, 3, md);
	digest_hex(md, sizeof md, job->request_hash);
	buf_cleanup(&files);
}

/* Tags a line may carry, and how long each may be. */
#define JOB_MAX_TAGS 32
#define JOB_MAX_TAG 128

/* Keeps "tags" (free labels reports group by) as compact JSON. */
static int job_take_tags(struct job *job, const json_t *tags, struct nb_err *err)
{
	if (!tags)
		return 0;
	if (!json_is_array(tags))
		return job_field_error(err, job, "tags", "must be an array of strings", tags);
	if (json_array_size(tags) > JOB_MAX_TAGS) {
		char what[64];
		snprintf(what, sizeof what, "more than %d tags", JOB_MAX_TAGS);
		return job_field_error(err, job, "tags", what, NULL);
	}
	size_t i;
	const json_t *tag;
	json_array_foreach(tags, i, tag) {
		char field[32], what[64];
		snprintf(field, sizeof field, "tags[%zu]", i);
		if (!json_is_string(tag) || json_string_length(tag) == 0)
			return job_field_error(err, job, field, "must be a non-empty string", tag);
		if (json_string_length(tag) > JOB_MAX_TAG) {
			snprintf(what, sizeof what, "longer than %d bytes", JOB_MAX_TAG);
			return job_field_error(err, job, field, what, NULL);
		}
		/* A job counts once under each of its tags. */
		for (size_t j = 0; j < i; j++)
			if (json_equal(tag, json_array_get(tags, j)))
				return job_field_error(err, job, field, "names a tag already listed",
						       NULL);
	}
	if (json_array_size(tags) > 0)
		job->tags = json_dumps(tags, JSON_COMPACT);
	return 0;
}

int job_parse(struct job *job, const char *text, size_t len, const char *file, long line,
	      const struct job_models *jm, struct nb_err *err)
{
	static const struct job_models no_models;
	if (!jm)
		jm = &no_models;
	memset(job, 0, sizeof *job);
	job->file = file;
	job->line = line;
	job->id = xasprintf("%s:%ld", file, line);

	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int ret = -1;
	if (!root) {
		err_set(err, "%s:%ld: not valid JSON: %s (column %d)", file, line, jerr.text,
			jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		err_set(err, "%s:%ld: a job line must be a JSON object (found %s)", file, line,
			job_type_name(json_typeof(root)));
		goto out;
	}
	if (job_take_identity(job, root, jm, err) < 0 ||
	    job_check_fields(job, root, err) < 0)
		goto out;
	const json_t *expect = json_object_get(root, "expect");
	if (expect && expect_parse(expect, file, line, &job->expect, err) < 0)
		goto out;
	if (job_take_tags(job, json_object_get(root, "tags"), err) < 0)
		goto out;
	job->body = job_strip_own_keys(text, len, &job->body_len);
	if (job_media_check(job->body, job->body_len, file, line, &job->media, err) < 0)
		goto out;
	job->stream = json_is_true(json_object_get(root, "stream"));
	job_estimate_tokens(job, root);
	job_hash(job);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

void job_for_model(const struct job *line, size_t i, struct job *out)
{
	*out = *line;
	out->id = xstrdup(line->id);
	out->model_id = xstrdup(line->models[i]);
	out->models = NULL;
	out->nmodels = 0;
	out->body = xstrndup(line->body, line->body_len);
	job_media_copy(&line->media, &out->media);
	out->expect = expect_ref(line->expect);
	out->tags = line->tags ? xstrdup(line->tags) : NULL;
	job_hash(out);
}

void job_cleanup(struct job *job)
{
	free(job->id);
	free(job->model_id);
	for (size_t i = 0; i < job->nmodels; i++)
		free(job->models[i]);
	free(job->models);
	free(job->body);
	job_media_cleanup(&job->media);
	expect_free(job->expect);
	free(job->tags);
	memset(job, 0, sizeof *job);
}
