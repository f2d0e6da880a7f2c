/*
 * response: reads what Bedrock's Converse operation answers.
 *
 * A pure core over bytes already received: a 200 body becomes the joined
 * text of its text blocks, the full content JSON, the stop reason, token
 * usage and the server's latency; an error answer becomes an error type and
 * a message, taken from the x-amzn-ErrorType header or the body's __type,
 * and its "message" (or "Message"). It does not decide what to do about an
 * error (the retry policy will) and does no I/O.
 */
#ifndef NB_RESPONSE_H
#define NB_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct response {
	char *output_text; /* owned: text blocks joined, "" when none */
	char *content;     /* owned: output.message.content as compact JSON */
	char *stop_reason; /* owned; NULL when absent */
	/* Token counts; -1 when the answer does not report them. */
	int64_t input_tokens, output_tokens, total_tokens;
	int64_t cache_read_tokens, cache_write_tokens;
	int64_t server_latency_ms; /* metrics.latencyMs, -1 when absent */
	char *additional_fields;   /* owned: additionalModelResponseFields as JSON, or NULL */
	char *trace;               /* owned: trace (guardrails, prompt router) as JSON, or NULL */
};

/* Reads a Converse "usage" object and "metrics" object (json_t *, either
 * may be NULL) into out's token counts and server latency; what they do
 * not report is -1. The stream assembler reads its metadata event so too. */
void response_read_usage(const void *usage, const void *metrics, struct response *out);

/* value as compact JSON, owned; NULL for NULL. */
char *response_json_text(const void *json_value);

/* Parses a 200 Converse body. Returns 0, or -1 with err saying what is
 * missing (an answer without output.message is not a success). */
int response_parse_converse(const char *body, size_t len, struct response *out,
			    struct nb_err *err);
void response_cleanup(struct response *res);

struct response_error {
	char type[128]; /* "ThrottlingException", or "HTTP 502" when unnamed */
	char *message;  /* owned; never NULL */
};

/* Reads an error answer. error_type_header is x-amzn-ErrorType (may be
 * NULL); its ":..." suffix and a body __type's "...#" prefix are dropped. */
void response_parse_error(long http_status, const char *error_type_header, const char *body,
			  size_t len, struct response_error *out);
void response_error_cleanup(struct response_error *e);

#endif
