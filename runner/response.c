#include "response.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* An error message kept from a body is cut at this many bytes. */
#define RESPONSE_MAX_MESSAGE 2048

static int64_t response_count(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

void response_read_usage(const void *usage, const void *metrics, struct response *out)
{
	out->input_tokens = response_count(usage, "inputTokens");
	out->output_tokens = response_count(usage, "outputTokens");
	out->total_tokens = response_count(usage, "totalTokens");
	out->cache_read_tokens = response_count(usage, "cacheReadInputTokens");
	out->cache_write_tokens = response_count(usage, "cacheWriteInputTokens");
	out->server_latency_ms = response_count(metrics, "latencyMs");
}

int response_parse_converse(const char *body, size_t len, struct response *out,
			    struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	int ret = -1;
	if (!json_is_object(root)) {
		err_set(err, "the answer is not a JSON object: %s",
			root ? "wrong type" : jerr.text);
		goto out;
	}
	const json_t *content =
		json_object_get(json_object_get(json_object_get(root, "output"), "message"),
				"content");
	if (!json_is_array(content)) {
		err_set(err, "the answer has no output.message.content");
		goto out;
	}
	struct buf text;
	buf_init(&text, 0);
	size_t i;
	const json_t *block;
	json_array_foreach(content, i, block) {
		const json_t *t = json_object_get(block, "text");
		if (json_is_string(t))
			buf_append(&text, json_string_value(t), json_string_length(t));
	}
	out->output_text = buf_steal(&text);
	out->content = json_dumps(content, JSON_COMPACT | JSON_PRESERVE_ORDER);
	const json_t *stop = json_object_get(root, "stopReason");
	if (json_is_string(stop))
		out->stop_reason = xstrdup(json_string_value(stop));
	response_read_usage(json_object_get(root, "usage"), json_object_get(root, "metrics"), out);
	out->additional_fields = response_json_text(json_object_get(root, "additionalModelResponseFields"));
	out->trace = response_json_text(json_object_get(root, "trace"));
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		response_cleanup(out);
	return ret;
}

char *response_json_text(const void *json_value)
{
	if (!json_value)
		return NULL;
	return json_dumps(json_value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

void response_cleanup(struct response *res)
{
	free(res->output_text);
	free(res->content);
	free(res->stop_reason);
	free(res->additional_fields);
	free(res->trace);
	memset(res, 0, sizeof *res);
}

/* Copies the name out of "Name:http://..." or "com.amazon...#Name". */
static void response_type_name(char *out, size_t size, const char *raw)
{
	const char *hash = strrchr(raw, '#');
	if (hash)
		raw = hash + 1;
	size_t n = strcspn(raw, ":");
	if (n >= size)
		n = size - 1;
	memcpy(out, raw, n);
	out[n] = '\0';
}

void response_parse_error(long http_status, const char *error_type_header, const char *body,
			  size_t len, struct response_error *out)
{
	memset(out, 0, sizeof *out);
	json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
	const json_t *type = json_object_get(root, "__type");
	if (error_type_header && *error_type_header)
		response_type_name(out->type, sizeof out->type, error_type_header);
	else if (json_is_string(type))
		response_type_name(out->type, sizeof out->type, json_string_value(type));
	if (!out->type[0])
		snprintf(out->type, sizeof out->type, "HTTP %ld", http_status);

	const json_t *msg = json_object_get(root, "message");
	if (!msg)
		msg = json_object_get(root, "Message");
	if (json_is_string(msg))
		out->message = xstrdup(json_string_value(msg));
	else if (len && !root)
		/* Not JSON (a proxy's page, say): keep the start of it. */
		out->message = xstrndup(body, len < RESPONSE_MAX_MESSAGE ? len : RESPONSE_MAX_MESSAGE);
	else
		out->message = xasprintf("HTTP %ld with no message", http_status);
	if (strlen(out->message) > RESPONSE_MAX_MESSAGE)
		out->message[RESPONSE_MAX_MESSAGE] = '\0';
	json_decref(root);
}

void response_error_cleanup(struct response_error *e)
{
	free(e->message);
	e->message = NULL;
}
