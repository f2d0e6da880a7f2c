/*
 * eventstream: the application/vnd.amazon.eventstream frame codec.
 *
 * A pure core over bytes. The decoder takes a stream's bytes in pieces of
 * any size and hands each complete frame, with its prelude and message
 * checksums checked (zlib's CRC-32) and its typed headers parsed, to a
 * callback. The encoder appends one frame to a buffer. This module knows
 * nothing of what the frames mean (converse_stream does) and does no I/O.
 *
 * Frame layout, integers big-endian:
 *   total_len:u32 headers_len:u32 prelude_crc:u32 headers payload message_crc:u32
 * prelude_crc covers bytes [0, 8), message_crc bytes [0, total_len - 4).
 */
#ifndef NB_EVENTSTREAM_H
#define NB_EVENTSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define EVENTSTREAM_PRELUDE_LEN 12
/* A frame with no headers and no payload: prelude and message checksum. */
#define EVENTSTREAM_MIN_FRAME 16
/* The limits of the AWS SDKs: larger frames are refused, not buffered. */
#define EVENTSTREAM_MAX_FRAME (16u * 1024 * 1024)
#define EVENTSTREAM_MAX_HEADERS (128u * 1024)

/* Header value types, numbered as on the wire. */
enum eventstream_type {
	EVENTSTREAM_TRUE = 0,
	EVENTSTREAM_FALSE = 1,
	EVENTSTREAM_BYTE = 2,
	EVENTSTREAM_INT16 = 3,
	EVENTSTREAM_INT32 = 4,
	EVENTSTREAM_INT64 = 5,
	EVENTSTREAM_BYTES = 6,
	EVENTSTREAM_STRING = 7,
	EVENTSTREAM_TIMESTAMP = 8, /* milliseconds since the epoch */
	EVENTSTREAM_UUID = 9,
};

/*
 * One header. Names and values are byte ranges, not C strings: in a decoded
 * frame they point into the decoder's buffer.
 */
struct eventstream_header {
	const char *name;
	size_t name_len; /* at most 255 */
	enum eventstream_type type;
	/* TRUE and FALSE: 1 and 0; BYTE, INT16, INT32, INT64, TIMESTAMP: the value. */
	int64_t i;
	/* BYTES and STRING: len bytes (at most 65535); UUID: 16 bytes. */
	const unsigned char *data;
	size_t len;
};

struct eventstream_frame {
	uint32_t total_len, headers_len, prelude_crc, message_crc;
	const struct eventstream_header *headers;
	size_t nheaders;
	const unsigned char *payload;
	size_t payload_len;
};

/* The first header with this name, or NULL. */
const struct eventstream_header *eventstream_frame_header(const struct eventstream_frame *f,
							   const char *name);
/* True when the frame has a string header of this name and value. */
bool eventstream_frame_string_is(const struct eventstream_frame *f, const char *name,
				 const char *value);
/* A string header's value as a new C string (the caller frees it), or NULL
 * when the frame has no string header of that name. */
char *eventstream_frame_string_dup(const struct eventstream_frame *f, const char *name);

/* A string header from two C strings, borrowed; for the encoder. */
struct eventstream_header eventstream_header_string(const char *name, const char *value);

/*
 * The decoder. The caller owns the struct. After any error it stays failed:
 * every later feed returns -1 with the first error's message.
 */
struct eventstream_decoder {
	struct buf frame;                  /* the frame being gathered */
	uint32_t total_len;                /* 0 until the prelude is read */
	struct eventstream_header *headers; /* parsed headers of the last frame */
	size_t headers_alloc;
	bool failed;
	struct nb_err first_err;
};

/* Called with each complete frame; the frame and everything it points to are
 * borrowed until the callback returns. Returns 0, or -1 (with err set) to stop
 * the feed, which then fails the decoder. */
typedef int (*eventstream_frame_cb)(const struct eventstream_frame *frame, void *ctx,
				    struct nb_err *err);

void eventstream_decoder_init(struct eventstream_decoder *d);
void eventstream_decoder_cleanup(struct eventstream_decoder *d);

/* Takes len more bytes of the stream and calls cb for every frame they
 * complete, in order. Returns 0, or -1 with err naming the malformation
 * (checksum mismatch, frame too large or too small, a header past the header
 * section, an unknown header type, ...) or carrying the callback's message. */
int eventstream_decoder_feed(struct eventstream_decoder *d, const void *data, size_t len,
			     eventstream_frame_cb cb, void *ctx, struct nb_err *err);

/* True when bytes of an incomplete frame are held: the stream was cut inside
 * a frame if it ends now. */
bool eventstream_decoder_pending(const struct eventstream_decoder *d);

/* Says whether the stream may end here. Returns 0, or -1 when the decoder
 * failed or holds part of a frame ("the stream ended inside a frame ..."). */
int eventstream_decoder_finish(const struct eventstream_decoder *d, struct nb_err *err);

/*
 * Appends one frame to out. Returns 0, or -1 with err (out unchanged) when a
 * name or value is too long for its length field, the type is unknown, the
 * frame would pass EVENTSTREAM_MAX_FRAME, or out's cap would be passed.
 */
int eventstream_encode(const struct eventstream_header *headers, size_t nheaders,
		       const void *payload, size_t payload_len, struct buf *out,
		       struct nb_err *err);

#endif
