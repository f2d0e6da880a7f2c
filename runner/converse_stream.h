/*
 * converse_stream: assembles a ConverseStream answer from its event frames.
 *
 * A pure core. Decoded frames (see eventstream.h) go in, in order; what comes
 * out is the same struct response the Converse path gives: text blocks
 * joined, the content array as Converse would have written it, the stop
 * reason, token usage and the server's latency. An exception or error frame
 * inside the stream becomes an error named as the non-stream API names it
 * (throttlingException -> ThrottlingException) with that error's HTTP
 * status, so the retry policy classifies both alike. It reads no clock: the
 * caller asks converse_stream_has_content after each frame and times the
 * first content itself. It does not decode bytes (eventstream does) and
 * decides nothing about retrying (retry does). converse_stream_encode.c
 * writes the frames of simple answers for the mock.
 */
#ifndef NB_CONVERSE_STREAM_H
#define NB_CONVERSE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "eventstream.h"
#include "response.h"

/* The error type of a stream that is garbled, cut short or over a cap: what
 * retry.h expects for a 200 whose body could not be read. */
#define CONVERSE_STREAM_MALFORMED "MalformedResponse"
/* Text, tool input and reasoning of one answer together stay below this. */
#define CONVERSE_STREAM_MAX_CONTENT (32u * 1024 * 1024)
/* Content blocks per answer; contentBlockIndex must be below this. */
#define CONVERSE_STREAM_MAX_BLOCKS 1024

struct converse_stream;

/* What ended a failed stream. */
struct converse_stream_error {
	/* "ThrottlingException" for an exception frame, the :error-code of an
	 * error frame, or CONVERSE_STREAM_MALFORMED. */
	char type[128];
	/* The status the service gives the same error outside a stream (429
	 * for ThrottlingException); 200 for CONVERSE_STREAM_MALFORMED. */
	long http_status;
	char *message; /* owned by the stream; never NULL */
};

struct converse_stream *converse_stream_new(void);
/* converse_stream_free(NULL) does nothing. */
void converse_stream_free(struct converse_stream *cs);

/*
 * Takes the next frame. Returns 0, or -1 when the stream failed: an
 * exception or error frame, a payload that is not what its event promises, a
 * cap passed. err then holds a sentence for the user and
 * converse_stream_error says what to classify. Once failed, every later feed
 * and finish fails the same way. Unknown event types, unknown message types
 * and unknown fields are ignored.
 */
int converse_stream_feed(struct converse_stream *cs, const struct eventstream_frame *frame,
			 struct nb_err *err);

/* True once a content delta (text, tool input or reasoning) has arrived:
 * the first feed after which this turns true marks the time to first token. */
bool converse_stream_has_content(const struct converse_stream *cs);

/*
 * Says the stream ended and fills out (which the caller cleans up with
 * response_cleanup). Returns 0, or -1 when the stream failed or is
 * incomplete: an answer is whole only after both messageStop and metadata.
 */
int converse_stream_finish(struct converse_stream *cs, struct response *out,
			   struct nb_err *err);

/* The error that failed the stream, or NULL; borrowed until the free. A cut
 * stream's error is set by converse_stream_finish. */
const struct converse_stream_error *converse_stream_error(const struct converse_stream *cs);

/* messageStop's additionalModelResponseFields as compact JSON, or NULL;
 * borrowed until the free. */
const char *converse_stream_additional_fields(const struct converse_stream *cs);

/* The bare service error name for a stream exception type, as the
 * non-stream API spells it: "throttlingException" -> "ThrottlingException". */
void converse_stream_error_name(char *out, size_t size, const char *exception_type);

/* What the mock answers. */
struct converse_stream_answer {
	const char *text;        /* UTF-8 */
	size_t chunks;           /* text deltas to split it into (at least 1) */
	const char *stop_reason; /* "end_turn" when NULL */
	int64_t input_tokens, output_tokens;
	int64_t latency_ms;
};

/* Appends the frames of a text answer to out: messageStart, the text split
 * into at most a.chunks contentBlockDelta at character boundaries,
 * contentBlockStop, messageStop, metadata. Returns 0, or -1 with err when
 * the text is not UTF-8 or out's cap would be passed. */
int converse_stream_encode_answer(const struct converse_stream_answer *a, struct buf *out,
				  struct nb_err *err);

/* Appends one exception frame: exception_type as the stream spells it
 * ("throttlingException") and a JSON payload {"message": message}. */
int converse_stream_encode_exception(const char *exception_type, const char *message,
				     struct buf *out, struct nb_err *err);

#endif
