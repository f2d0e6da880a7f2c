#include "mock_stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "converse_stream.h"
#include "eventstream.h"
#include "xalloc.h"

/* How much the response's callback may be asked for at a time; a frame
 * larger than this goes out in several pieces, paused before the first. */
#define MOCK_STREAM_BLOCK 65536

/* Reads the total length in the prelude of the frame at p. */
static size_t mock_stream_frame_len(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | (size_t)u[3];
}

/* Fills s->ends and s->nframes from the frames in s->bytes, which the
 * encoder wrote: every prelude is whole and right. */
static void mock_stream_index(struct mock_stream *s)
{
	size_t at = 0, n = 0;

	while (at < s->bytes.len) {
		at += mock_stream_frame_len(s->bytes.data + at);
		n++;
	}
	s->ends = xmalloc((n ? n : 1) * sizeof *s->ends);
	s->nframes = n;
	at = 0;
	for (size_t i = 0; i < n; i++) {
		at += mock_stream_frame_len(s->bytes.data + at);
		s->ends[i] = at;
	}
}

/* Replaces the frames after messageStart and the first half of the deltas
 * (D = F - 4 of them) with an exception frame. */
static int mock_stream_break(struct mock_stream *s, enum mock_fault_answer answer,
			     struct nb_err *err)
{
	size_t deltas = s->nframes - 4;
	struct buf all = s->bytes;
	int rc;

	buf_init(&s->bytes, 0);
	buf_append(&s->bytes, all.data, s->ends[deltas / 2]);
	buf_cleanup(&all);
	free(s->ends);
	s->ends = NULL;
	if (answer == MOCK_FAULT_STREAM_THROTTLE)
		rc = converse_stream_encode_exception(
			"throttlingException", mock_fault_error(MOCK_FAULT_THROTTLED)->message,
			&s->bytes, err);
	else
		rc = converse_stream_encode_exception("modelStreamErrorException",
						      MOCK_STREAM_ERROR_MESSAGE, &s->bytes, err);
	mock_stream_index(s);
	return rc;
}

int mock_stream_build(const struct mock_reply *reply, size_t chunks, long latency_ms,
		      enum mock_fault_answer answer, struct mock_stream *out, struct nb_err *err)
{
	const struct converse_stream_answer a = {
		.text = reply->text,
		.chunks = chunks ? chunks : 1,
		.stop_reason = reply->stop_reason,
		.input_tokens = reply->input_tokens,
		.output_tokens = reply->output_tokens,
		.latency_ms = latency_ms,
	};
	size_t middle;

	/* Bounded without a cap: the text is a quoted prompt of a few
	 * characters, and a frame per delta. */
	memset(out, 0, sizeof *out);
	buf_init(&out->bytes, 0);
	if (converse_stream_encode_answer(&a, &out->bytes, err) < 0) {
		mock_stream_cleanup(out);
		return -1;
	}
	mock_stream_index(out);
	out->stop = out->bytes.len;
	middle = out->nframes / 2;
	switch (answer) {
	case MOCK_FAULT_STREAM_ERROR:
	case MOCK_FAULT_STREAM_THROTTLE:
		if (mock_stream_break(out, answer, err) < 0) {
			mock_stream_cleanup(out);
			return -1;
		}
		out->stop = out->bytes.len;
		break;
	case MOCK_FAULT_CORRUPT:
		/* The last payload byte: before it come the prelude and the
		 * headers, after it only the message CRC. */
		out->bytes.data[out->ends[middle] - 5] ^= 0x01;
		break;
	case MOCK_FAULT_CUT:
		out->stop = out->ends[middle - 1];
		out->dropped = true;
		break;
	case MOCK_FAULT_RESET:
		out->stop = out->bytes.len / 2 ? out->bytes.len / 2 : 1;
		out->dropped = true;
		break;
	default:
		break;
	}
	return 0;
}

void mock_stream_cleanup(struct mock_stream *s)
{
	buf_cleanup(&s->bytes);
	free(s->ends);
	s->ends = NULL;
	s->nframes = 0;
	s->stop = 0;
	s->dropped = false;
}

/* A stream being sent. */
struct mock_stream_send {
	struct mock_stream s;
	long delay_ms;
	size_t frame;  /* the frame that holds the next byte */
	size_t paused; /* the offset last paused at; 0 for none */
};

/* Sleeps ms milliseconds in the connection's thread. */
static void mock_stream_sleep(long ms)
{
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms <= 0)
		return;
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* MHD asks for the bytes from pos on. Each call gives at most the rest of
 * one frame, so that MHD sends a frame before it asks for the next: the
 * pause falls between frames on the wire too. */
static ssize_t mock_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct mock_stream_send *send = cls;
	const struct mock_stream *s = &send->s;
	size_t at = (size_t)pos, end, n;

	while (send->frame < s->nframes && s->ends[send->frame] <= at)
		send->frame++;
	/* At a boundary between frames, unless the stream ends here. */
	if (send->frame > 0 && at != send->paused && s->ends[send->frame - 1] == at &&
	    (at < s->stop || s->dropped)) {
		mock_stream_sleep(send->delay_ms);
		send->paused = at;
	}
	if (at >= s->stop)
		return s->dropped ? MHD_CONTENT_READER_END_WITH_ERROR
				  : MHD_CONTENT_READER_END_OF_STREAM;
	end = send->frame < s->nframes ? s->ends[send->frame] : s->stop;
	if (end > s->stop)
		end = s->stop;
	n = end - at < max ? end - at : max;
	memcpy(out, s->bytes.data + at, n);
	return (ssize_t)n;
}

static void mock_stream_send_free(void *cls)
{
	struct mock_stream_send *send = cls;

	mock_stream_cleanup(&send->s);
	free(send);
}

struct MHD_Response *mock_stream_response(struct mock_stream *s, long delay_ms)
{
	struct mock_stream_send *send = xcalloc(1, sizeof *send);
	struct MHD_Response *res;

	send->s = *s;
	memset(s, 0, sizeof *s);
	buf_init(&s->bytes, 0);
	send->delay_ms = delay_ms;
	/* Of unknown size: MHD sends a chunked body, as the service does, and
	 * a close before its last chunk is seen as a cut. */
	res = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, MOCK_STREAM_BLOCK,
						mock_stream_read, send, mock_stream_send_free);
	if (!res)
		mock_stream_send_free(send);
	return res;
}
