#include "job.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "xalloc.h"

/* Ids travel in a header and in every report: keep them short. */
#define JOB_MAX_ID 512

/* Keys of a job line that are novabatch's, not the Converse request's. */
static const char *const job_own_keys[] = {"id", "modelId", "stream", "expect", "tags"};

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

/* Takes id and modelId off the line; both stay set on failure. */
static int job_take_identity(struct job *job, json_t *root, const char *default_model,
			     struct nb_err *err)
{
	const json_t *id = json_object_get(root, "id");
	const json_t *model = json_object_get(root, "modelId");
	if (json_is_string(model) && json_string_length(model) > 0)
		job->model_id = xstrdup(json_string_value(model));
	else if (!model && default_model)
		job->model_id = xstrdup(default_model);
	if (json_is_string(id) && json_string_length(id) > JOB_MAX_ID) {
		char what[64];
		snprintf(what, sizeof what, "longer than %d bytes", JOB_MAX_ID);
		return job_field_error(err, job, "id", what, NULL);
	} else if (json_is_string(id) && json_string_length(id) > 0) {
		free(job->id);
		job->id = xstrdup(json_string_value(id));
	} else if (id) {
		return job_field_error(err, job, "id", "must be a non-empty string", id);
	}
	if (model && !job->model_id)
		return job_field_error(err, job, "modelId", "must be a non-empty string", model);
	if (!job->model_id)
		return job_field_error(err, job, "modelId",
				       "missing; name a model on the line or give --model", NULL);
	return 0;
}

static int job_check_fields(const struct job *job, json_t *root, struct nb_err *err)
{
	if (json_object_get(root, "model") || json_object_get(root, "models"))
		return job_field_error(err, job, json_object_get(root, "model") ? "model" : "models",
				       "model aliases are not supported yet; give modelId", NULL);
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

/* Raw-text scanning of a line that jansson has already accepted as a JSON
 * object: the values are kept byte for byte (0.1 stays 0.1, not
 * 0.10000000000000001), only novabatch's own members are cut out. */
static size_t job_skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* i is at an opening quote; returns the index after the closing one. */
static size_t job_skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

static size_t job_skip_value(const char *s, size_t i, size_t n)
{
	if (s[i] == '"')
		return job_skip_string(s, i, n);
	int depth = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			i = job_skip_string(s, i, n) - 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' ||
					  c == '\r')) {
			return i;
		}
	}
	return i;
}

static bool job_is_own_key(const char *key, size_t len)
{
	char *decoded = NULL;
	if (memchr(key, '\\', len)) {
		/* An escaped key ("\u0069d") is compared by its meaning. */
		json_t *k = json_loadb(key - 1, len + 2, JSON_DECODE_ANY, NULL);
		decoded = xstrdup(json_string_value(k));
		json_decref(k);
		key = decoded;
		len = strlen(decoded);
	}
	bool own = false;
	for (size_t i = 0; i < sizeof job_own_keys / sizeof job_own_keys[0] && !own; i++)
		own = strlen(job_own_keys[i]) == len && memcmp(job_own_keys[i], key, len) == 0;
	free(decoded);
	return own;
}

/* Copies the object in text without novabatch's own members. */
static char *job_strip_own_keys(const char *s, size_t n, size_t *out_len)
{
	struct buf out;
	buf_init(&out, 0);
	buf_append(&out, "{", 1);
	size_t i = job_skip_ws(s, 0, n) + 1;
	bool first = true;
	for (;;) {
		i = job_skip_ws(s, i, n);
		if (i >= n || s[i] == '}')
			break;
		size_t key = i;
		size_t key_end = job_skip_string(s, i, n);
		i = job_skip_ws(s, key_end, n) + 1; /* past ':' */
		size_t value = job_skip_ws(s, i, n);
		size_t value_end = job_skip_value(s, value, n);
		if (!job_is_own_key(s + key + 1, key_end - key - 2)) {
			if (!first)
				buf_append(&out, ",", 1);
			buf_append(&out, s + key, key_end - key);
			buf_append(&out, ":", 1);
			buf_append(&out, s + value, value_end - value);
			first = false;
		}
		i = job_skip_ws(s, value_end, n);
		if (i < n && s[i] == ',')
			i++;
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
}

static void job_hash(struct job *job)
{
	const struct digest_part parts[] = {
		{job->model_id, strlen(job->model_id) + 1},
		{job->body, job->body_len},
	};
	unsigned char md[DIGEST_SHA256_LEN];
	digest_sha256(parts, 2, md);
	digest_hex(md, sizeof md, job->request_hash);
}

int job_parse(struct job *job, const char *text, size_t len, const char *file, long line,
	      const char *default_model, struct nb_err *err)
{
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
	if (job_take_identity(job, root, default_model, err) < 0 ||
	    job_check_fields(job, root, err) < 0)
		goto out;
	const json_t *expect = json_object_get(root, "expect");
	if (expect && expect_parse(expect, file, line, &job->expect, err) < 0)
		goto out;
	job->body = job_strip_own_keys(text, len, &job->body_len);
	job->stream = json_is_true(json_object_get(root, "stream"));
	job_estimate_tokens(job, root);
	job_hash(job);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

void job_cleanup(struct job *job)
{
	free(job->id);
	free(job->model_id);
	free(job->body);
	expect_free(job->expect);
	memset(job, 0, sizeof *job);
}
