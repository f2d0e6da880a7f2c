/*
 * stream_read: reads one ConverseStream attempt as its bytes arrive.
 *
 * Owns the event-stream decoder and the answer assembler of one attempt,
 * and times it: when the first content delta came (time to first token)
 * and the gaps between content deltas. A pure core: the bytes and the time
 * they arrived come in as arguments (the pool's chunk callback), and the
 * end of the attempt is read by attempt.h. It decides nothing about
 * retrying.
 */
#ifndef NB_STREAM_READ_H
#define NB_STREAM_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "converse_stream.h"
#include "err.h"
#include "eventstream.h"

/* Gaps between deltas kept for their median; a longer answer's median is
 * that of its first deltas. */
#define STREAM_READ_MAX_GAPS 65536

struct stream_read {
	struct eventstream_decoder dec;
	struct converse_stream *cs;
	uint64_t now_ns;           /* when the bytes being fed arrived */
	uint64_t first_content_ns; /* 0 until the first content delta */
	uint64_t last_delta_ns;    /* 0 until a delta */
	double *gaps;              /* milliseconds between deltas */
	size_t ngaps, gaps_alloc;
	double gap_max_ms;
	long frames;               /* frames decoded */
	bool failed;
	struct nb_err err;         /* why, once failed */
};

void stream_read_init(struct stream_read *sr);
void stream_read_cleanup(struct stream_read *sr);

/* Takes bytes that arrived at now_ns. Returns 0, or -1 once the stream has
 * failed: garbled bytes, or an exception or error frame (see
 * stream_read_error). */
int stream_read_feed(struct stream_read *sr, const char *bytes, size_t len, uint64_t now_ns);

/* The stream ended with the exchange: fills out with the whole answer and
 * returns 0, or returns -1 when the stream failed or was cut short (an
 * answer is whole only after messageStop and metadata). */
int stream_read_finish(struct stream_read *sr, struct response *out);

/* After a failure: the error type as the retry policy knows it
 * ("ThrottlingException", "MalformedResponse"), the HTTP status the service
 * gives that error outside a stream, and a message for the user. */
void stream_read_error(const struct stream_read *sr, char type[128], long *http_status,
		       const char **message);

/* What the timings say, in milliseconds from start_ns; -1 when unknown. */
struct stream_read_timing {
	double ttft_ms;      /* the first content delta */
	double gap_p50_ms;   /* median gap between deltas (nearest rank) */
	double gap_max_ms;
};
void stream_read_timing(struct stream_read *sr, uint64_t start_ns, struct stream_read_timing *t);

/* Output tokens a second over the generation: (output_tokens - 1) over the
 * time from the first content to end_ns; -1 when it cannot be told. */
double stream_read_tokens_per_s(const struct stream_read *sr, int64_t output_tokens,
				uint64_t end_ns);

#endif
