#include "eventstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "xalloc.h"

/* A decoder that gathered a frame larger than this gives the memory back. */
#define EVENTSTREAM_KEEP_ALLOC (1024u * 1024)
/* Header names in messages are cut to this many bytes. */
#define EVENTSTREAM_NAME_SHOWN 64

static uint32_t eventstream_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t eventstream_be64(const unsigned char *p)
{
	return (uint64_t)eventstream_be32(p) << 32 | eventstream_be32(p + 4);
}

static void eventstream_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t eventstream_crc(const unsigned char *p, size_t len)
{
	/* zlib's crc32 takes a uInt length; frames are capped far below that. */
	return (uint32_t)crc32(0L, p, (uInt)len);
}

/* Writes a header name for a message: quoted, cut, bytes that are not
 * printable ASCII shown as '?'. */
static void eventstream_show_name(char *out, size_t size, const char *name, size_t len)
{
	size_t n = 0;
	out[n++] = '"';
	for (size_t i = 0; i < len && i < EVENTSTREAM_NAME_SHOWN && n + 5 < size; i++) {
		unsigned char c = (unsigned char)name[i];
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (len > EVENTSTREAM_NAME_SHOWN && n + 5 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n++] = '"';
	out[n] = '\0';
}

const struct eventstream_header *eventstream_frame_header(const struct eventstream_frame *f,
							   const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < f->nheaders; i++) {
		const struct eventstream_header *h = &f->headers[i];
		if (h->name_len == len && memcmp(h->name, name, len) == 0)
			return h;
	}
	return NULL;
}

bool eventstream_frame_string_is(const struct eventstream_frame *f, const char *name,
				 const char *value)
{
	const struct eventstream_header *h = eventstream_frame_header(f, name);
	size_t len = strlen(value);
	return h && h->type == EVENTSTREAM_STRING && h->len == len &&
	       memcmp(h->data, value, len) == 0;
}

char *eventstream_frame_string_dup(const struct eventstream_frame *f, const char *name)
{
	const struct eventstream_header *h = eventstream_frame_header(f, name);
	if (!h || h->type != EVENTSTREAM_STRING)
		return NULL;
	return xstrndup((const char *)h->data, h->len);
}

struct eventstream_header eventstream_header_string(const char *name, const char *value)
{
	struct eventstream_header h = {
		.name = name,
		.name_len = strlen(name),
		.type = EVENTSTREAM_STRING,
		.data = (const unsigned char *)value,
		.len = strlen(value),
	};
	return h;
}

void eventstream_decoder_init(struct eventstream_decoder *d)
{
	memset(d, 0, sizeof *d);
	buf_init(&d->frame, EVENTSTREAM_MAX_FRAME);
}

void eventstream_decoder_cleanup(struct eventstream_decoder *d)
{
	buf_cleanup(&d->frame);
	free(d->headers);
	memset(d, 0, sizeof *d);
}

/* Checks the 12 prelude bytes and learns the frame's length. */
static int eventstream_read_prelude(struct eventstream_decoder *d, struct nb_err *err)
{
	const unsigned char *b = (const unsigned char *)d->frame.data;
	uint32_t total = eventstream_be32(b);
	uint32_t hlen = eventstream_be32(b + 4);
	uint32_t said = eventstream_be32(b + 8);
	uint32_t got = eventstream_crc(b, 8);
	/* The checksum first: a corrupt length is reported as what it is. */
	if (said != got)
		return err_set(err, "event stream: prelude checksum mismatch (the frame says "
				    "0x%08x, its first 8 bytes give 0x%08x)", said, got);
	if (total < EVENTSTREAM_MIN_FRAME)
		return err_set(err, "event stream: a frame of %u bytes is too small (the minimum is %u)",
			       total, EVENTSTREAM_MIN_FRAME);
	if (total > EVENTSTREAM_MAX_FRAME)
		return err_set(err, "event stream: a frame of %u bytes is too large (the limit is %u)",
			       total, EVENTSTREAM_MAX_FRAME);
	if (hlen > total - EVENTSTREAM_MIN_FRAME)
		return err_set(err, "event stream: %u bytes of headers do not fit in a frame of %u bytes",
			       hlen, total);
	if (hlen > EVENTSTREAM_MAX_HEADERS)
		return err_set(err, "event stream: %u bytes of headers are too many (the limit is %u)",
			       hlen, EVENTSTREAM_MAX_HEADERS);
	d->total_len = total;
	return 0;
}

/* The size of a fixed-size value, or -1 for BYTES and STRING, or -2 for a
 * type that does not exist. */
static int eventstream_value_size(unsigned type)
{
	switch (type) {
	case EVENTSTREAM_TRUE:
	case EVENTSTREAM_FALSE:
		return 0;
	case EVENTSTREAM_BYTE:
		return 1;
	case EVENTSTREAM_INT16:
		return 2;
	case EVENTSTREAM_INT32:
		return 4;
	case EVENTSTREAM_INT64:
	case EVENTSTREAM_TIMESTAMP:
		return 8;
	case EVENTSTREAM_UUID:
		return 16;
	case EVENTSTREAM_BYTES:
	case EVENTSTREAM_STRING:
		return -1;
	}
	return -2;
}

/* Reads one header at *pos, which is before end. */
static int eventstream_read_header(const unsigned char *b, size_t *pos, size_t end, size_t nth,
				   struct eventstream_header *h, struct nb_err *err)
{
	size_t p = *pos;
	char shown[EVENTSTREAM_NAME_SHOWN + 8];
	memset(h, 0, sizeof *h);
	h->name_len = b[p++];
	if (h->name_len > end - p)
		return err_set(err, "event stream: the name of header %zu (%zu bytes) runs past "
				    "the end of the header section", nth, h->name_len);
	h->name = (const char *)b + p;
	p += h->name_len;
	eventstream_show_name(shown, sizeof shown, h->name, h->name_len);
	if (p == end)
		return err_set(err, "event stream: header %s has no type: it runs past the end "
				    "of the header section", shown);
	unsigned type = b[p++];
	int size = eventstream_value_size(type);
	if (size == -2)
		return err_set(err, "event stream: header %s has unknown type %u", shown, type);
	h->type = (enum eventstream_type)type;
	if (size == -1) {
		if (end - p < 2)
			return err_set(err, "event stream: the value length of header %s runs past "
					    "the end of the header section", shown);
		h->len = (size_t)b[p] << 8 | b[p + 1];
		p += 2;
		if (h->len > end - p)
			return err_set(err, "event stream: header %s declares a %zu-byte value that "
					    "runs past the end of the header section", shown, h->len);
		h->data = b + p;
		p += h->len;
		*pos = p;
		return 0;
	}
	if ((size_t)size > end - p)
		return err_set(err, "event stream: the value of header %s runs past the end of "
				    "the header section", shown);
	const unsigned char *v = b + p;
	switch (h->type) {
	case EVENTSTREAM_TRUE:
		h->i = 1;
		break;
	case EVENTSTREAM_FALSE:
		h->i = 0;
		break;
	case EVENTSTREAM_BYTE:
		h->i = (int8_t)v[0];
		break;
	case EVENTSTREAM_INT16:
		h->i = (int16_t)(uint16_t)(v[0] << 8 | v[1]);
		break;
	case EVENTSTREAM_INT32:
		h->i = (int32_t)eventstream_be32(v);
		break;
	case EVENTSTREAM_INT64:
	case EVENTSTREAM_TIMESTAMP:
		h->i = (int64_t)eventstream_be64(v);
		break;
	case EVENTSTREAM_UUID:
		h->data = v;
		h->len = 16;
		break;
	case EVENTSTREAM_BYTES:
	case EVENTSTREAM_STRING:
		break; /* read above */
	}
	*pos = p + (size_t)size;
	return 0;
}

/* Checks a gathered frame's message checksum and parses its headers. */
static int eventstream_parse(struct eventstream_decoder *d, struct eventstream_frame *f,
			     struct nb_err *err)
{
	const unsigned char *b = (const unsigned char *)d->frame.data;
	memset(f, 0, sizeof *f);
	f->total_len = d->total_len;
	f->headers_len = eventstream_be32(b + 4);
	f->prelude_crc = eventstream_be32(b + 8);
	f->message_crc = eventstream_be32(b + f->total_len - 4);
	uint32_t got = eventstream_crc(b, f->total_len - 4);
	if (got != f->message_crc)
		return err_set(err, "event stream: message checksum mismatch (the frame says "
				    "0x%08x, its bytes give 0x%08x)", f->message_crc, got);

	size_t pos = EVENTSTREAM_PRELUDE_LEN;
	size_t end = pos + f->headers_len;
	size_t n = 0;
	while (pos < end) {
		if (n == d->headers_alloc) {
			d->headers_alloc = d->headers_alloc ? 2 * d->headers_alloc : 8;
			d->headers = xrealloc(d->headers, d->headers_alloc * sizeof *d->headers);
		}
		if (eventstream_read_header(b, &pos, end, n + 1, &d->headers[n], err) < 0)
			return -1;
		n++;
	}
	f->headers = d->headers;
	f->nheaders = n;
	f->payload = b + end;
	f->payload_len = f->total_len - f->headers_len - EVENTSTREAM_MIN_FRAME;
	return 0;
}

static void eventstream_next_frame(struct eventstream_decoder *d)
{
	d->total_len = 0;
	if (d->frame.alloc > EVENTSTREAM_KEEP_ALLOC)
		buf_cleanup(&d->frame);
	else
		buf_reset(&d->frame);
}

int eventstream_decoder_feed(struct eventstream_decoder *d, const void *data, size_t len,
			     eventstream_frame_cb cb, void *ctx, struct nb_err *err)
{
	const unsigned char *p = data;
	if (d->failed)
		goto fail;
	while (len > 0) {
		size_t need = d->total_len ? d->total_len : EVENTSTREAM_PRELUDE_LEN;
		size_t n = need - d->frame.len;
		if (n > len)
			n = len;
		/* Cannot pass the cap: need is checked against it first. */
		buf_append(&d->frame, p, n);
		p += n;
		len -= n;
		if (d->frame.len < need)
			break;
		if (!d->total_len) {
			if (eventstream_read_prelude(d, &d->first_err) < 0)
				goto failed;
			continue;
		}
		struct eventstream_frame f;
		if (eventstream_parse(d, &f, &d->first_err) < 0)
			goto failed;
		if (cb(&f, ctx, &d->first_err) < 0)
			goto failed;
		eventstream_next_frame(d);
	}
	return 0;
failed:
	d->failed = true;
fail:
	if (err)
		*err = d->first_err;
	return -1;
}

bool eventstream_decoder_pending(const struct eventstream_decoder *d)
{
	return d->frame.len > 0;
}

int eventstream_decoder_finish(const struct eventstream_decoder *d, struct nb_err *err)
{
	if (d->failed)
		return err_set(err, "%s", d->first_err.msg);
	if (d->total_len)
		return err_set(err, "event stream: the stream ended inside a frame (%zu of its %u "
				    "bytes arrived)", d->frame.len, d->total_len);
	if (d->frame.len)
		return err_set(err, "event stream: the stream ended inside a frame (%zu of the %d "
				    "prelude bytes arrived)", d->frame.len, EVENTSTREAM_PRELUDE_LEN);
	return 0;
}

/* The encoded size of one header's value, or -1 with err set. */
static int eventstream_encoded_size(const struct eventstream_header *h, size_t *size,
				    struct nb_err *err)
{
	char shown[EVENTSTREAM_NAME_SHOWN + 8];
	eventstream_show_name(shown, sizeof shown, h->name, h->name_len);
	if (h->name_len > 255)
		return err_set(err, "event stream: header name %s is %zu bytes long (the limit "
				    "is 255)", shown, h->name_len);
	int vsize = eventstream_value_size((unsigned)h->type);
	if (vsize == -2)
		return err_set(err, "event stream: header %s has unknown type %u", shown,
			       (unsigned)h->type);
	if (vsize == -1 && h->len > 0xffff)
		return err_set(err, "event stream: the value of header %s is %zu bytes long "
				    "(the limit is 65535)", shown, h->len);
	if (h->type == EVENTSTREAM_UUID && h->len != 16)
		return err_set(err, "event stream: header %s is a uuid of %zu bytes, not 16",
			       shown, h->len);
	*size = 2 + h->name_len + (vsize == -1 ? 2 + h->len : (size_t)vsize);
	return 0;
}

static void eventstream_put_value(struct buf *out, const struct eventstream_header *h)
{
	unsigned char v[8];
	int size = eventstream_value_size((unsigned)h->type);
	uint64_t u = (uint64_t)h->i;
	if (size == -1) {
		v[0] = (unsigned char)(h->len >> 8);
		v[1] = (unsigned char)h->len;
		buf_append(out, v, 2);
		buf_append(out, h->data, h->len);
	} else if (h->type == EVENTSTREAM_UUID) {
		buf_append(out, h->data, 16);
	} else {
		for (int k = 0; k < size; k++)
			v[k] = (unsigned char)(u >> (8 * (size - 1 - k)));
		buf_append(out, v, (size_t)size);
	}
}

int eventstream_encode(const struct eventstream_header *headers, size_t nheaders,
		       const void *payload, size_t payload_len, struct buf *out,
		       struct nb_err *err)
{
	size_t hlen = 0;
	for (size_t i = 0; i < nheaders; i++) {
		/* Set on success; gcc -O2 cannot see that err_set returns -1. */
		size_t size = 0;
		if (eventstream_encoded_size(&headers[i], &size, err) < 0)
			return -1;
		hlen += size;
		if (hlen > EVENTSTREAM_MAX_HEADERS)
			return err_set(err, "event stream: the headers take more than %u bytes",
				       EVENTSTREAM_MAX_HEADERS);
	}
	if (payload_len > EVENTSTREAM_MAX_FRAME - EVENTSTREAM_MIN_FRAME - hlen)
		return err_set(err, "event stream: a frame with a %zu-byte payload would be too "
				    "large (the limit is %u)", payload_len, EVENTSTREAM_MAX_FRAME);
	size_t total = EVENTSTREAM_MIN_FRAME + hlen + payload_len;
	if (out->cap && total > out->cap - out->len)
		return err_set(err, "event stream: a frame of %zu bytes does not fit in the output "
				    "buffer", total);

	size_t start = out->len;
	unsigned char prelude[EVENTSTREAM_PRELUDE_LEN];
	eventstream_put32(prelude, (uint32_t)total);
	eventstream_put32(prelude + 4, (uint32_t)hlen);
	eventstream_put32(prelude + 8, eventstream_crc(prelude, 8));
	buf_append(out, prelude, sizeof prelude);
	for (size_t i = 0; i < nheaders; i++) {
		const struct eventstream_header *h = &headers[i];
		unsigned char c = (unsigned char)h->name_len;
		buf_append(out, &c, 1);
		buf_append(out, h->name, h->name_len);
		c = (unsigned char)h->type;
		buf_append(out, &c, 1);
		eventstream_put_value(out, h);
	}
	buf_append(out, payload, payload_len);
	unsigned char crc[4];
	eventstream_put32(crc, eventstream_crc((const unsigned char *)out->data + start, total - 4));
	buf_append(out, crc, sizeof crc);
	return 0;
}
