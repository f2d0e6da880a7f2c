/* libFuzzer target for the event-stream decoder and the ConverseStream
 * assembler. Beyond not crashing: the input fed whole and fed in pieces
 * (sizes drawn from the input's own CRC, so seeds are plain streams) gives
 * the same frames or the same error, and every frame re-encodes to exactly
 * the bytes it came from. Random bytes rarely pass both checksums, so each
 * input is also tried with its checksums made right, which lets the fuzzer
 * reach the header parser and the assembler. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "converse_stream.h"
#include "eventstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	struct buf frames; /* the frames, re-encoded back to back */
	struct converse_stream *cs;
};

static int fuzz_frame(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	struct seen *s = ctx;
	if (eventstream_encode(f->headers, f->nheaders, f->payload, f->payload_len, &s->frames,
			       err) < 0)
		abort(); /* whatever decodes can be encoded */
	if (s->cs)
		converse_stream_feed(s->cs, f, NULL);
	return 0;
}

static int fuzz_decode(const uint8_t *data, size_t size, uint32_t seed, struct seen *s,
		       struct nb_err *err)
{
	struct eventstream_decoder d;
	eventstream_decoder_init(&d);
	int rc = 0;
	size_t at = 0;
	while (rc == 0 && at < size) {
		size_t n = size - at;
		if (seed) {
			seed ^= seed << 13; /* xorshift32 */
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % 67;
			if (n > size - at)
				n = size - at;
		}
		rc = eventstream_decoder_feed(&d, data + at, n, fuzz_frame, s, err);
		at += n;
	}
	if (rc == 0)
		rc = eventstream_decoder_finish(&d, err);
	eventstream_decoder_cleanup(&d);
	return rc;
}

static void fuzz_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Rewrites the checksums of every frame whose length fits what is left. */
static void fuzz_fix_crcs(uint8_t *p, size_t size)
{
	size_t at = 0;
	while (size - at >= EVENTSTREAM_MIN_FRAME) {
		uint8_t *f = p + at;
		uint32_t total = (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 |
				 (uint32_t)f[2] << 8 | f[3];
		if (total < EVENTSTREAM_MIN_FRAME || total > size - at)
			return;
		fuzz_put32(f + 8, (uint32_t)crc32(0, f, 8));
		fuzz_put32(f + total - 4, (uint32_t)crc32(0, f, total - 4));
		at += total;
	}
}

static void fuzz_one(const uint8_t *data, size_t size)
{
	struct seen whole = { .cs = converse_stream_new() }, split = { 0 };
	struct nb_err e1, e2;
	buf_init(&whole.frames, 0);
	buf_init(&split.frames, 0);
	int rc1 = fuzz_decode(data, size, 0, &whole, &e1);
	int rc2 = fuzz_decode(data, size, (uint32_t)crc32(0, data, (uInt)size) | 1, &split, &e2);
	if (rc1 != rc2 || (rc1 && strcmp(e1.msg, e2.msg) != 0))
		abort();
	if (whole.frames.len != split.frames.len ||
	    (whole.frames.len && memcmp(whole.frames.data, split.frames.data, whole.frames.len)))
		abort();
	/* The frames delivered are a prefix of the input, byte for byte. */
	if (whole.frames.len > size ||
	    (whole.frames.len && memcmp(whole.frames.data, data, whole.frames.len)))
		abort();
	struct response r;
	if (converse_stream_finish(whole.cs, &r, NULL) == 0) {
		if (!r.output_text || !r.content)
			abort();
		response_cleanup(&r);
	} else if (!converse_stream_error(whole.cs)) {
		abort();
	}
	converse_stream_free(whole.cs);
	buf_cleanup(&whole.frames);
	buf_cleanup(&split.frames);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size);
	uint8_t *fixed = malloc(size ? size : 1);
	if (!fixed)
		abort();
	memcpy(fixed, data, size);
	fuzz_fix_crcs(fixed, size);
	fuzz_one(fixed, size);
	free(fixed);
	return 0;
}
