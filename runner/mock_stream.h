/*
 * mock_stream: the mock's ConverseStream answer, event-stream frames sent
 * with pauses between them.
 *
 * Owns the frames of a mock_reply (written by converse_stream_encode.c:
 * messageStart, the text in at most N contentBlockDelta events,
 * contentBlockStop, messageStop, metadata), the broken variants the stream
 * faults make of them, and the MHD response that sends them a frame at a
 * time. mock_stream_build is a pure core: no clock, no I/O. The response's
 * callback sleeps between frames in the connection's own thread (MHD runs
 * one per connection), so no other connection waits. What the answer says
 * comes from mock_reply, which fault to make from mock_fault; the status,
 * headers, latency before the first frame and the log belong to mock.c.
 *
 * With D deltas there are F = D + 4 frames. The answers:
 * - MOCK_FAULT_NONE: every frame, then the stream ends.
 * - MOCK_FAULT_STREAM_ERROR, MOCK_FAULT_STREAM_THROTTLE: messageStart and
 *   the first D / 2 deltas, then a modelStreamErrorException or
 *   throttlingException exception frame, then the stream ends.
 * - MOCK_FAULT_CORRUPT: every frame, but the last payload byte of frame
 *   number F / 2 (from 0: a delta, or contentBlockStop when D is 1) has its
 *   low bit flipped, so that frame's message CRC fails.
 * - MOCK_FAULT_CUT: the first F / 2 frames (never messageStop or
 *   metadata), then the connection closes between two frames.
 * - MOCK_FAULT_RESET: the first half of the bytes (at least one), then the
 *   connection closes, most often inside a frame.
 * A stream that ends does so with the last chunk of its chunked body; one
 * whose connection closes never sends that chunk, so clients see it cut.
 */
#ifndef NB_MOCK_STREAM_H
#define NB_MOCK_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "mock_fault.h"
#include "mock_reply.h"

/* Text deltas when --chunks is not given. */
#define MOCK_STREAM_DEFAULT_CHUNKS 4
/* The message of the modelStreamErrorException frame. */
#define MOCK_STREAM_ERROR_MESSAGE \
	"An error occurred while streaming the response. Retry your request."

/* A stream ready to send. The caller owns the struct; mock_stream_cleanup
 * frees what it holds. */
struct mock_stream {
	struct buf bytes; /* the frames, back to back */
	size_t *ends;     /* ends[i]: the offset just past frame i */
	size_t nframes;
	size_t stop;      /* how many bytes are sent: bytes.len unless dropped */
	bool dropped;     /* the connection closes at stop, the body unfinished */
};

/* Builds the frames of reply split into at most chunks deltas (at least
 * 1), as answer (MOCK_FAULT_NONE, MOCK_FAULT_RESET or a stream answer;
 * any other is taken as MOCK_FAULT_NONE) makes them, with latency_ms as
 * metrics.latencyMs. The same arguments give the same bytes. Returns 0,
 * or -1 with err when reply->text is not UTF-8. */
int mock_stream_build(const struct mock_reply *reply, size_t chunks, long latency_ms,
		      enum mock_fault_answer answer, struct mock_stream *out, struct nb_err *err);

void mock_stream_cleanup(struct mock_stream *s);

struct MHD_Response;

/* Makes the response that sends s's frames, pausing delay_ms before each
 * frame after the first and before a close between frames. Takes what s
 * holds, even when it fails (then it returns NULL); s is left empty. */
struct MHD_Response *mock_stream_response(struct mock_stream *s, long delay_ms);

#endif
