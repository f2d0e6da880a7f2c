/*
 * mock_reply: the answer the mock endpoint gives to a Converse request.
 *
 * A pure core: no I/O, no clock, no globals. Given the model id (decoded)
 * and the parsed request body, it checks the request as the service would
 * and builds the Converse response body with its token usage, the same
 * bytes for the same request every time. It knows nothing of HTTP: routes,
 * status codes, headers, signatures and request ids belong to mock.c.
 *
 * The rule, so that tests can predict every number:
 * - Characters are Unicode code points; whitespace is space, \t, \n, \v,
 *   \f and \r; a word is a maximal run of non-whitespace.
 * - The prompt is the "text" blocks of the last message whose role is
 *   "user", joined by spaces, with every run of whitespace folded into one
 *   space and none kept at either end, then cut after its first 60
 *   characters (and a space left at the end of the cut dropped).
 * - The answer is "Mock answer from MODEL to: PROMPT" ("...to:" alone when
 *   the prompt is empty).
 * - outputTokens is the number of words in the answer. When
 *   inferenceConfig.maxTokens is smaller, the answer ends after its first
 *   maxTokens words, outputTokens is maxTokens and stopReason is
 *   "max_tokens"; otherwise stopReason is "end_turn".
 * - inputTokens is ceil(C / 4) + 3 * M, where C counts the characters of
 *   every "text" block directly in "system" and in each message's
 *   "content", and M is the number of messages (at least 1, so inputTokens
 *   is at least 3). Other blocks (image, document, video, toolUse,
 *   toolResult, ...) count nothing.
 * - totalTokens is their sum; metrics.latencyMs is the configured latency.
 */
#ifndef NB_MOCK_REPLY_H
#define NB_MOCK_REPLY_H

#include <jansson.h>

#include "err.h"

/* How many characters of the prompt the answer quotes. */
#define MOCK_REPLY_PROMPT_CHARS 60

struct mock_reply {
	char *body;              /* owned: the response body, compact JSON */
	char *text;              /* owned: the answer's text (UTF-8), as in body;
				    a ConverseStream answer streams it */
	long input_tokens;
	long output_tokens;
	const char *stop_reason; /* static: "end_turn" or "max_tokens" */
};

/* Builds the reply of model_id to request (the parsed body, any JSON value).
 * Returns 0, or -1 with err set to a ValidationException message worded as
 * the service words it (a body that is not an object, messages missing or
 * malformed, maxTokens below 1, a model id that is not UTF-8). On success
 * the caller owns out->body and out->text; mock_reply_cleanup releases
 * them. */
int mock_reply_build(const char *model_id, const json_t *request, long latency_ms,
		     struct mock_reply *out, struct nb_err *err);

void mock_reply_cleanup(struct mock_reply *reply);

#endif
