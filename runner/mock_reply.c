#include "mock_reply.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

static bool mock_reply_is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A byte that starts a character, as opposed to continuing one (UTF-8). */
static bool mock_reply_starts_char(char c)
{
	return ((unsigned char)c & 0xC0) != 0x80;
}

static int mock_reply_null(struct nb_err *err, const char *path)
{
	return err_set(err, "1 validation error detected: Value null at '%s' failed to satisfy "
			    "constraint: Member must not be null", path);
}

static int mock_reply_malformed(struct nb_err *err, const char *what)
{
	return err_set(err, "Malformed input request: %s, please reformat your input and try again.",
		       what);
}

static int mock_reply_check_message(const json_t *message, size_t number, struct nb_err *err)
{
	char path[64];
	const json_t *role = json_object_get(message, "role");
	const char *name = json_string_value(role);

	snprintf(path, sizeof path, "messages.%zu.member.role", number);
	if (!role || json_is_null(role))
		return mock_reply_null(err, path);
	if (!name || (strcmp(name, "user") != 0 && strcmp(name, "assistant") != 0))
		return err_set(err, "1 validation error detected: Value '%s' at '%s' failed to satisfy "
				    "constraint: Member must satisfy enum value set: [user, assistant]",
			       name ? name : "(not a string)", path);
	snprintf(path, sizeof path, "messages.%zu.member.content", number);
	if (!json_is_array(json_object_get(message, "content")))
		return mock_reply_null(err, path);
	return 0;
}

/* Checks what the reply reads and sets *max_tokens (LLONG_MAX for none). */
static int mock_reply_check(const json_t *request, long long *max_tokens, struct nb_err *err)
{
	const json_t *messages = json_object_get(request, "messages");
	const json_t *limit = json_object_get(json_object_get(request, "inferenceConfig"), "maxTokens");
	const json_t *message;
	size_t i;

	if (!json_is_object(request))
		return mock_reply_malformed(err, "the request body must be a JSON object");
	if (!messages || json_is_null(messages))
		return mock_reply_null(err, "messages");
	if (!json_is_array(messages))
		return mock_reply_malformed(err, "messages must be a list");
	if (json_array_size(messages) == 0)
		return err_set(err, "A conversation must start with a user message. Try again with a "
				    "conversation that starts with a user message.");
	json_array_foreach(messages, i, message)
		if (mock_reply_check_message(message, i + 1, err) < 0)
			return -1;
	*max_tokens = LLONG_MAX;
	if (!limit || json_is_null(limit))
		return 0;
	if (!json_is_integer(limit))
		return mock_reply_malformed(err, "inferenceConfig.maxTokens must be an integer");
	if (json_integer_value(limit) < 1)
		return err_set(err, "1 validation error detected: Value '%" JSON_INTEGER_FORMAT
				    "' at 'inferenceConfig.maxTokens' failed to satisfy constraint: "
				    "Member must have value greater than or equal to 1",
			       json_integer_value(limit));
	*max_tokens = json_integer_value(limit);
	return 0;
}

/* Counts the characters of the "text" blocks directly in blocks. */
static size_t mock_reply_text_chars(const json_t *blocks)
{
	const json_t *block;
	size_t i, chars = 0;

	json_array_foreach(blocks, i, block) {
		const json_t *text = json_object_get(block, "text");
		const char *s = json_string_value(text);
		size_t len = json_string_length(text);
		for (size_t k = 0; k < len; k++)
			chars += mock_reply_starts_char(s[k]);
	}
	return chars;
}

/* Appends " PROMPT" to out for message (NULL: no prompt), as the header
 * defines the prompt. The prompt comes from parsed JSON, so it is UTF-8,
 * and it is cut between characters, so it stays UTF-8. */
static void mock_reply_add_prompt(struct buf *out, const json_t *message)
{
	const json_t *block;
	size_t i, chars = 0;
	bool gap = false;

	json_array_foreach(json_object_get(message, "content"), i, block) {
		const json_t *text = json_object_get(block, "text");
		const char *s = json_string_value(text);
		size_t len = json_string_length(text);
		for (size_t k = 0; k < len; k++) {
			if (mock_reply_is_space(s[k])) {
				gap = true;
				continue;
			}
			if (mock_reply_starts_char(s[k])) {
				bool space = gap && chars > 0;
				if (chars + space >= MOCK_REPLY_PROMPT_CHARS)
					return;
				if (space || chars == 0)
					buf_append(out, " ", 1);
				chars += space + 1;
				gap = false;
			}
			buf_append(out, s + k, 1);
		}
		gap = true;
	}
}

/* Returns the number of words in s[0, len) and sets *cut to the end of word
 * number max (left alone when there are fewer words). */
static long mock_reply_words(const char *s, size_t len, long long max, size_t *cut)
{
	long words = 0;

	for (size_t i = 0; i < len; i++) {
		if (mock_reply_is_space(s[i]) || (i + 1 < len && !mock_reply_is_space(s[i + 1])))
			continue;
		if (++words == max)
			*cut = i + 1;
	}
	return words;
}

int mock_reply_build(const char *model_id, const json_t *request, long latency_ms,
		     struct mock_reply *out, struct nb_err *err)
{
	const json_t *message, *last_user = NULL, *messages;
	struct buf text;
	json_t *body = NULL;
	size_t i, chars, cut;
	long long max_tokens;
	long words;
	int rc = -1;

	/* Bounded without a cap: the model id fits in a request line and the
	 * prompt is cut to a few characters. */
	buf_init(&text, 0);
	out->body = NULL;
	out->text = NULL;
	if (mock_reply_check(request, &max_tokens, err) < 0)
		goto out;
	messages = json_object_get(request, "messages");
	chars = mock_reply_text_chars(json_object_get(request, "system"));
	json_array_foreach(messages, i, message) {
		chars += mock_reply_text_chars(json_object_get(message, "content"));
		if (strcmp(json_string_value(json_object_get(message, "role")), "user") == 0)
			last_user = message;
	}
	buf_appendf(&text, "Mock answer from %s to:", model_id);
	mock_reply_add_prompt(&text, last_user);
	cut = text.len;
	words = mock_reply_words(text.data, text.len, max_tokens, &cut);
	out->stop_reason = "end_turn";
	if (words > max_tokens) {
		words = (long)max_tokens;
		out->stop_reason = "max_tokens";
	}
	out->input_tokens = (long)((chars + 3) / 4) + 3 * (long)json_array_size(messages);
	out->output_tokens = words;
	body = json_pack("{s:{s:{s:s,s:[{s:s%}]}},s:s,s:{s:I,s:I,s:I},s:{s:I}}",
			 "output", "message", "role", "assistant", "content", "text", text.data, cut,
			 "stopReason", out->stop_reason,
			 "usage", "inputTokens", (json_int_t)out->input_tokens,
			 "outputTokens", (json_int_t)out->output_tokens,
			 "totalTokens", (json_int_t)(out->input_tokens + out->output_tokens),
			 "metrics", "latencyMs", (json_int_t)latency_ms);
	/* The prompt is UTF-8 (see mock_reply_add_prompt): only the model id,
	 * decoded from the path, can make the text invalid. */
	if (!body) {
		err_set(err, "The provided model identifier is invalid.");
		goto out;
	}
	out->body = json_dumps(body, JSON_COMPACT);
	out->text = xstrndup(text.data, cut);
	rc = 0;
out:
	json_decref(body);
	buf_cleanup(&text);
	return rc;
}

void mock_reply_cleanup(struct mock_reply *reply)
{
	free(reply->body);
	free(reply->text);
	reply->body = NULL;
	reply->text = NULL;
}
