/*
 * The event-stream frame codec against the public vectors in
 * ../shared/testdata/eventstream (see its README) and frames built here.
 *
 * Every vector is fed whole, split in two at every byte, and one byte at a
 * time; each way must give the same frames, or the same error. Frames are
 * compared as JSON in aws-sdk-go's "decoded" layout, so its expectation
 * files are read as they are. Malformed frames built here carry correct
 * checksums, so that each header check is reached.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "buf.h"
#include "eventstream.h"
#include "xalloc.h"
#include "testdata.h"

#define ES_DATA NB_TESTDATA "/eventstream"

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j)
		fail_msg("%s: %s", path, jerr.text);
	return j;
}

static json_t *b64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	json_t *s = json_string(out);
	free(out);
	return s;
}

/* A frame in aws-sdk-go's decoded layout: CRCs as signed 32-bit numbers;
 * strings, bytes, uuids and the payload in base64. */
static json_t *frame_json(const struct eventstream_frame *f)
{
	json_t *headers = json_array();
	for (size_t i = 0; i < f->nheaders; i++) {
		const struct eventstream_header *h = &f->headers[i];
		json_t *v;
		switch (h->type) {
		case EVENTSTREAM_TRUE:
		case EVENTSTREAM_FALSE:
			v = json_boolean(h->i);
			break;
		case EVENTSTREAM_BYTES:
		case EVENTSTREAM_STRING:
		case EVENTSTREAM_UUID:
			v = b64(h->data, h->len);
			break;
		default:
			v = json_integer(h->i);
			break;
		}
		json_array_append_new(headers,
				      json_pack("{s:s%,s:i,s:o}", "name", h->name, h->name_len,
						"type", (int)h->type, "value", v));
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "total_length", (json_int_t)f->total_len,
			 "headers_length", (json_int_t)f->headers_len, "prelude_crc",
			 (json_int_t)(int32_t)f->prelude_crc, "message_crc",
			 (json_int_t)(int32_t)f->message_crc, "headers", headers, "payload",
			 b64(f->payload, f->payload_len));
}

static int collect(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	(void)err;
	json_array_append_new(ctx, frame_json(f));
	return 0;
}

/*
 * Feeds first bytes, then the rest in pieces of step bytes (all at once when
 * step is 0), then finishes. Returns the frames delivered; *rc is 0 when the
 * stream decoded whole, else -1 with err. A failed decoder must stay failed.
 */
static json_t *decode_pieces(const unsigned char *data, size_t len, size_t first, size_t step,
			     int *rc, struct nb_err *err)
{
	struct eventstream_decoder d;
	json_t *frames = json_array();
	eventstream_decoder_init(&d);
	*rc = eventstream_decoder_feed(&d, data, first, collect, frames, err);
	for (size_t at = first; *rc == 0 && at < len;) {
		size_t n = step && step < len - at ? step : len - at;
		*rc = eventstream_decoder_feed(&d, data + at, n, collect, frames, err);
		at += n;
	}
	if (*rc == 0) {
		*rc = eventstream_decoder_finish(&d, err);
	} else {
		struct nb_err again;
		assert_int_equal(eventstream_decoder_feed(&d, data, len, collect, frames, &again), -1);
		assert_string_equal(again.msg, err->msg);
		assert_int_equal(eventstream_decoder_finish(&d, &again), -1);
		assert_string_equal(again.msg, err->msg);
	}
	eventstream_decoder_cleanup(&d);
	return frames;
}

/*
 * Decodes data whole, split at every position, byte by byte and in chunks
 * of 2 to 11 bytes. Every way must agree with the whole feed. Returns the
 * frames of the whole feed; error gets its message ("" on success).
 */
static json_t *decode_every_way(const unsigned char *data, size_t len, char *error, size_t size)
{
	int rc;
	struct nb_err err;
	json_t *whole = decode_pieces(data, len, len, 0, &rc, &err);
	snprintf(error, size, "%s", rc == 0 ? "" : err.msg);
	for (size_t split = 0; split <= len + 11; split++) {
		/* Positions 0..len split in two; then 1..11-byte chunks. */
		size_t first = split <= len ? split : split - len;
		size_t step = split <= len ? 0 : first;
		int rc2;
		struct nb_err err2;
		json_t *frames = decode_pieces(data, len, first, step, &rc2, &err2);
		if (rc2 != rc || (rc && strcmp(err2.msg, err.msg) != 0) ||
		    (!rc && !json_equal(frames, whole)))
			fail_msg("fed as %zu bytes then %zu-byte pieces (0: the rest), the "
				 "%zu-byte stream decodes otherwise: rc %d, %s",
				 first, step, len, rc2, rc2 ? err2.msg : "frames differ");
		json_decref(frames);
	}
	return whole;
}

static const char *const aws_positive[] = { "all_headers", "empty_message", "int32_header",
					    "payload_no_headers", "payload_one_str_header" };

static void aws_sdk_go_positive_vectors_decode_to_their_expectations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof aws_positive / sizeof aws_positive[0]; i++) {
		char path[512], error[NB_ERR_MAX];
		size_t len;
		snprintf(path, sizeof path, ES_DATA "/aws-sdk-go/encoded/positive/%s", aws_positive[i]);
		unsigned char *data = testdata_need(path, &len);
		json_t *frames = decode_every_way(data, len, error, sizeof error);
		if (error[0])
			fail_msg("%s: %s", aws_positive[i], error);
		snprintf(path, sizeof path, ES_DATA "/aws-sdk-go/decoded/positive/%s", aws_positive[i]);
		json_t *want = load_json(path);
		assert_int_equal(json_array_size(frames), 1);
		if (!json_equal(json_array_get(frames, 0), want)) {
			char *got = json_dumps(json_array_get(frames, 0), JSON_COMPACT);
			fail_msg("%s decodes to %s", aws_positive[i], got);
		}
		json_decref(want);
		json_decref(frames);
		free(data);
	}
}

static const char *const aws_negative[] = { "corrupted_header_len", "corrupted_headers",
					    "corrupted_length", "corrupted_payload" };

/* The Go decoder's message ("Prelude checksum mismatch") is part of ours. */
static void aws_sdk_go_negative_vectors_are_rejected_with_their_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof aws_negative / sizeof aws_negative[0]; i++) {
		char path[512], error[NB_ERR_MAX];
		size_t len, wlen;
		snprintf(path, sizeof path, ES_DATA "/aws-sdk-go/encoded/negative/%s", aws_negative[i]);
		unsigned char *data = testdata_need(path, &len);
		json_t *frames = decode_every_way(data, len, error, sizeof error);
		assert_int_equal(json_array_size(frames), 0);
		snprintf(path, sizeof path, ES_DATA "/aws-sdk-go/decoded/negative/%s", aws_negative[i]);
		char *want = (char *)testdata_need(path, &wlen);
		while (wlen && (want[wlen - 1] == '\n' || want[wlen - 1] == '\r'))
			want[--wlen] = '\0';
		if (!strcasestr(error, want))
			fail_msg("%s: wanted \"%s\", got \"%s\"", aws_negative[i], want, error);
		free(want);
		json_decref(frames);
		free(data);
	}
}

static json_t *header(const char *name, int type, json_t *value)
{
	return json_pack("{s:s,s:i,s:o}", "name", name, "type", type, "value", value);
}

static json_t *b64s(const char *s)
{
	return b64(s, strlen(s));
}

/* The smithy-rs valid messages, as its frame.rs tests state them. */
static void smithy_valid_messages_decode(void **state)
{
	(void)state;
	static const unsigned char uuid[16] = { 0xb7, 0x9b, 0xc9, 0x14, 0xde, 0x21, 0x4e, 0x13,
						0xb8, 0xb2, 0xbc, 0x47, 0xe8, 0x5b, 0x7f, 0x0b };
	struct {
		const char *file;
		json_t *headers;
		const char *payload;
	} cases[] = {
		{ "valid_with_all_headers_and_payload",
		  json_pack("[o,o,o,o,o,o,o,o,o,o]", header("true", 0, json_true()),
			    header("false", 1, json_false()), header("byte", 2, json_integer(50)),
			    header("short", 3, json_integer(20000)),
			    header("int", 4, json_integer(500000)),
			    header("long", 5, json_integer(50000000000)),
			    header("bytes", 6, b64s("some bytes")), header("str", 7, b64s("some str")),
			    header("time", 8, json_integer(5000000000)),
			    header("uuid", 9, b64(uuid, sizeof uuid))),
		  "some payload" },
		{ "valid_empty_payload", json_pack("[o]", header("some-header", 3, json_integer(500))),
		  "" },
		{ "valid_no_headers", json_array(), "another test payload" },
	};
	struct buf all;
	buf_init(&all, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[512], error[NB_ERR_MAX];
		size_t len;
		snprintf(path, sizeof path, ES_DATA "/smithy-rs/%s", cases[i].file);
		unsigned char *data = testdata_need(path, &len);
		buf_append(&all, data, len);
		json_t *frames = decode_every_way(data, len, error, sizeof error);
		if (error[0])
			fail_msg("%s: %s", cases[i].file, error);
		assert_int_equal(json_array_size(frames), 1);
		json_t *f = json_array_get(frames, 0);
		assert_true(json_equal(json_object_get(f, "headers"), cases[i].headers));
		json_t *payload = b64s(cases[i].payload);
		assert_true(json_equal(json_object_get(f, "payload"), payload));
		assert_int_equal(json_integer_value(json_object_get(f, "total_length")), len);
		json_decref(payload);
		json_decref(cases[i].headers);
		json_decref(frames);
		free(data);
	}
	/* The Rust streaming test: the three back to back, in small chunks. */
	char error[NB_ERR_MAX];
	json_t *frames = decode_every_way((unsigned char *)all.data, all.len, error, sizeof error);
	assert_string_equal(error, "");
	assert_int_equal(json_array_size(frames), 3);
	json_decref(frames);
	buf_cleanup(&all);
}

/*
 * The smithy-rs invalid messages. The header-error files also carry a wrong
 * message checksum, which is checked first (README), so they report that.
 */
static void smithy_invalid_messages_are_rejected(void **state)
{
	(void)state;
	static const struct {
		const char *file, *error;
	} cases[] = {
		{ "invalid_prelude_checksum",
		  "event stream: prelude checksum mismatch (the frame says 0xdeadbeef, its first "
		  "8 bytes give 0x8bb495fb)" },
		{ "invalid_message_checksum",
		  "event stream: message checksum mismatch (the frame says 0xdeadbeef, its bytes "
		  "give 0x01a05860)" },
		{ "invalid_headers_length",
		  "event stream: 77 bytes of headers do not fit in a frame of 89 bytes" },
		{ "invalid_header_name_length", "event stream: message checksum mismatch" },
		{ "invalid_header_name_length_too_long", "event stream: message checksum mismatch" },
		{ "invalid_header_string_length_cut_off", "event stream: message checksum mismatch" },
		{ "invalid_header_string_value_length", "event stream: message checksum mismatch" },
		{ "invalid_header_value_type", "event stream: message checksum mismatch" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[512], error[NB_ERR_MAX];
		size_t len;
		snprintf(path, sizeof path, ES_DATA "/smithy-rs/%s", cases[i].file);
		unsigned char *data = testdata_need(path, &len);
		json_t *frames = decode_every_way(data, len, error, sizeof error);
		assert_int_equal(json_array_size(frames), 0);
		if (strncmp(error, cases[i].error, strlen(cases[i].error)) != 0)
			fail_msg("%s: wanted \"%s\", got \"%s\"", cases[i].file, cases[i].error, error);
		json_decref(frames);
		free(data);
	}
}

/* The Bedrock-shaped streams: every frame's layout, headers and payload. */
static void bedrock_streams_decode_to_their_expectations(void **state)
{
	(void)state;
	static const char *const names[] = { "text", "tool-use", "throttling-exception",
					     "model-stream-error", "unmodeled-error" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512], error[NB_ERR_MAX];
		size_t len;
		snprintf(path, sizeof path, ES_DATA "/bedrock-synthetic/converse-stream-%s.bin",
			 names[i]);
		unsigned char *data = testdata_need(path, &len);
		json_t *frames = decode_every_way(data, len, error, sizeof error);
		if (error[0])
			fail_msg("%s: %s", names[i], error);
		snprintf(path, sizeof path, ES_DATA "/bedrock-synthetic/converse-stream-%s.json",
			 names[i]);
		json_t *root = load_json(path);
		json_t *want = json_object_get(root, "messages");
		assert_int_equal(json_array_size(frames), json_array_size(want));
		size_t offset = 0, k;
		json_t *w;
		json_array_foreach(want, k, w) {
			json_t *f = json_array_get(frames, k);
			char crc[16];
			assert_int_equal(json_integer_value(json_object_get(w, "offset")), offset);
			json_int_t total = json_integer_value(json_object_get(f, "total_length"));
			assert_int_equal(json_integer_value(json_object_get(w, "total_length")), total);
			assert_int_equal(json_integer_value(json_object_get(w, "headers_length")),
					 json_integer_value(json_object_get(f, "headers_length")));
			snprintf(crc, sizeof crc, "0x%08x",
				 (uint32_t)json_integer_value(json_object_get(f, "prelude_crc")));
			assert_string_equal(json_string_value(json_object_get(w, "prelude_crc")), crc);
			snprintf(crc, sizeof crc, "0x%08x",
				 (uint32_t)json_integer_value(json_object_get(f, "message_crc")));
			assert_string_equal(json_string_value(json_object_get(w, "message_crc")), crc);
			/* Their headers are all strings, shown as plain text. */
			json_t *headers = json_array();
			size_t j;
			json_t *h;
			json_array_foreach(json_object_get(w, "headers"), j, h) {
				json_array_append_new(
					headers,
					header(json_string_value(json_object_get(h, "name")),
					       (int)json_integer_value(json_object_get(h, "type")),
					       b64s(json_string_value(json_object_get(h, "value")))));
			}
			assert_true(json_equal(headers, json_object_get(f, "headers")));
			json_t *payload = b64s(json_string_value(json_object_get(w, "payload_utf8")));
			assert_true(json_equal(payload, json_object_get(f, "payload")));
			json_decref(payload);
			json_decref(headers);
			offset += (size_t)total;
		}
		assert_int_equal(offset, len);
		json_decref(root);
		json_decref(frames);
		free(data);
	}
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (unsigned char)(v >> (24 - 8 * k));
}

/* Writes a prelude with a correct checksum, whatever the lengths say. */
static void set_prelude(unsigned char *out, uint32_t total, uint32_t hlen)
{
	put32(out, total);
	put32(out + 4, hlen);
	put32(out + 8, (uint32_t)crc32(0, out, 8));
}

/* Builds a frame around raw header bytes, with correct checksums. */
static size_t raw_frame(unsigned char *out, const void *headers, size_t hlen, const char *payload)
{
	size_t plen = strlen(payload);
	uint32_t total = (uint32_t)(16 + hlen + plen);
	set_prelude(out, total, (uint32_t)hlen);
	memcpy(out + 12, headers, hlen);
	memcpy(out + 12 + hlen, payload, plen);
	put32(out + total - 4, (uint32_t)crc32(0, out, total - 4));
	return total;
}

static void assert_rejected(const unsigned char *data, size_t len, const char *want)
{
	char error[NB_ERR_MAX];
	json_t *frames = decode_every_way(data, len, error, sizeof error);
	assert_string_equal(error, want);
	assert_int_equal(json_array_size(frames), 0);
	json_decref(frames);
}

static void malformed_headers_are_named(void **state)
{
	(void)state;
	static const struct {
		const char *headers;
		size_t len;
		const char *error;
	} cases[] = {
		{ "\x06short", 6,
		  "event stream: the name of header 1 (6 bytes) runs past the end of the header "
		  "section" },
		{ "\x03" "abc", 4,
		  "event stream: header \"abc\" has no type: it runs past the end of the header "
		  "section" },
		{ "\x03" "abc\x0a", 5, "event stream: header \"abc\" has unknown type 10" },
		{ "\x03" "abc\x60", 5, "event stream: header \"abc\" has unknown type 96" },
		{ "\x01" "a\x04\x00\x00", 5,
		  "event stream: the value of header \"a\" runs past the end of the header "
		  "section" },
		{ "\x01" "a\x07\x00", 4,
		  "event stream: the value length of header \"a\" runs past the end of the "
		  "header section" },
		{ "\x03str\x07\xff\x00" "abc", 10,
		  "event stream: header \"str\" declares a 65280-byte value that runs past the "
		  "end of the header section" },
		/* Unprintable name bytes are shown as '?'. */
		{ "\x02\x01z\x06\x00\x05" "abcd", 10,
		  "event stream: header \"?z\" declares a 5-byte value that runs past the end "
		  "of the header section" },
		{ "\x02\x01\xff\x07\x00\x00\x01" "a\x09" "0123456789abcde", 24,
		  "event stream: the value of header \"a\" runs past the end of the header "
		  "section" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char frame[128];
		size_t len = raw_frame(frame, cases[i].headers, cases[i].len, "{}");
		char error[NB_ERR_MAX];
		json_t *frames = decode_every_way(frame, len, error, sizeof error);
		if (strcmp(error, cases[i].error) != 0)
			fail_msg("case %zu: wanted \"%s\", got \"%s\"", i, cases[i].error, error);
		json_decref(frames);
	}
}

static void prelude_limits_are_enforced(void **state)
{
	(void)state;
	unsigned char frame[16] = { 0 };
	/* Right checksums over lengths that are wrong. */
	set_prelude(frame, 15, 0);
	assert_rejected(frame, 16,
			"event stream: a frame of 15 bytes is too small (the minimum is 16)");

	/* Past 16 MiB: refused on the prelude, before any buffering. */
	set_prelude(frame, EVENTSTREAM_MAX_FRAME + 1, 0);
	assert_rejected(frame, 12,
			"event stream: a frame of 16777217 bytes is too large (the limit is "
			"16777216)");

	set_prelude(frame, 100, 85);
	assert_rejected(frame, 12, "event stream: 85 bytes of headers do not fit in a frame of "
				   "100 bytes");

	/* 200 KiB of headers in a frame that could hold them. */
	set_prelude(frame, 1024 * 1024, 200 * 1024);
	assert_rejected(frame, 12,
			"event stream: 204800 bytes of headers are too many (the limit is 131072)");
}

static void a_cut_stream_is_pending(void **state)
{
	(void)state;
	size_t len;
	unsigned char *data = testdata_need(ES_DATA "/smithy-rs/valid_no_headers", &len);
	struct eventstream_decoder d;
	struct nb_err err;
	json_t *frames = json_array();
	eventstream_decoder_init(&d);
	assert_false(eventstream_decoder_pending(&d));
	assert_int_equal(eventstream_decoder_finish(&d, &err), 0);
	assert_int_equal(eventstream_decoder_feed(&d, data, 5, collect, frames, &err), 0);
	assert_true(eventstream_decoder_pending(&d));
	assert_int_equal(eventstream_decoder_finish(&d, &err), -1);
	assert_string_equal(err.msg, "event stream: the stream ended inside a frame (5 of the 12 "
				     "prelude bytes arrived)");
	assert_int_equal(eventstream_decoder_feed(&d, data + 5, len - 6, collect, frames, &err), 0);
	assert_int_equal(eventstream_decoder_finish(&d, &err), -1);
	assert_string_equal(err.msg,
			    "event stream: the stream ended inside a frame (35 of its 36 bytes arrived)");
	assert_int_equal(json_array_size(frames), 0);
	assert_int_equal(eventstream_decoder_feed(&d, data + len - 1, 1, collect, frames, &err), 0);
	assert_false(eventstream_decoder_pending(&d));
	assert_int_equal(eventstream_decoder_finish(&d, &err), 0);
	assert_int_equal(json_array_size(frames), 1);
	json_decref(frames);
	eventstream_decoder_cleanup(&d);
	free(data);
}

static int refuse_second(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	(void)f;
	int *seen = ctx;
	if (++*seen == 2)
		return err_set(err, "the caller refuses frame %d", *seen);
	return 0;
}

static void a_callback_error_stops_and_fails_the_decoder(void **state)
{
	(void)state;
	struct buf b;
	struct nb_err err;
	buf_init(&b, 0);
	struct eventstream_header h = eventstream_header_string(":event-type", "x");
	for (int i = 0; i < 3; i++)
		assert_int_equal(eventstream_encode(&h, 1, "{}", 2, &b, &err), 0);
	struct eventstream_decoder d;
	int seen = 0;
	eventstream_decoder_init(&d);
	assert_int_equal(eventstream_decoder_feed(&d, b.data, b.len, refuse_second, &seen, &err), -1);
	assert_string_equal(err.msg, "the caller refuses frame 2");
	assert_int_equal(seen, 2);
	assert_int_equal(eventstream_decoder_feed(&d, b.data, b.len, refuse_second, &seen, &err), -1);
	assert_string_equal(err.msg, "the caller refuses frame 2");
	assert_int_equal(seen, 2);
	eventstream_decoder_cleanup(&d);
	buf_cleanup(&b);
}

/* Headers back from a decoded frame, for the encoder. */
static int reencode(const struct eventstream_frame *f, void *ctx, struct nb_err *err)
{
	return eventstream_encode(f->headers, f->nheaders, f->payload, f->payload_len, ctx, err);
}

/* encode(decode(x)) == x for every valid vector: all ten types. */
static void the_encoder_reproduces_every_valid_vector(void **state)
{
	(void)state;
	static const char *const files[] = {
		"aws-sdk-go/encoded/positive/all_headers",
		"aws-sdk-go/encoded/positive/empty_message",
		"aws-sdk-go/encoded/positive/int32_header",
		"aws-sdk-go/encoded/positive/payload_no_headers",
		"aws-sdk-go/encoded/positive/payload_one_str_header",
		"smithy-rs/valid_with_all_headers_and_payload",
		"smithy-rs/valid_empty_payload",
		"smithy-rs/valid_no_headers",
		"bedrock-synthetic/converse-stream-text.bin",
		"bedrock-synthetic/converse-stream-tool-use.bin",
		"bedrock-synthetic/converse-stream-unmodeled-error.bin",
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[512];
		size_t len;
		snprintf(path, sizeof path, ES_DATA "/%s", files[i]);
		unsigned char *data = testdata_need(path, &len);
		struct eventstream_decoder d;
		struct nb_err err;
		struct buf out;
		buf_init(&out, 0);
		eventstream_decoder_init(&d);
		if (eventstream_decoder_feed(&d, data, len, reencode, &out, &err) < 0)
			fail_msg("%s: %s", files[i], err.msg);
		assert_int_equal(out.len, len);
		assert_memory_equal(out.data, data, len);
		eventstream_decoder_cleanup(&d);
		buf_cleanup(&out);
		free(data);
	}
}

static void the_encoder_refuses_what_the_wire_cannot_say(void **state)
{
	(void)state;
	struct buf out;
	struct nb_err err;
	char name[300];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	buf_init(&out, 0);
	struct eventstream_header h = eventstream_header_string(name, "v");
	assert_int_equal(eventstream_encode(&h, 1, NULL, 0, &out, &err), -1);
	assert_non_null(strstr(err.msg, "is 299 bytes long (the limit is 255)"));

	char *big = xcalloc(70000, 1);
	memset(big, 'v', 69999);
	h = eventstream_header_string("big", big);
	assert_int_equal(eventstream_encode(&h, 1, NULL, 0, &out, &err), -1);
	assert_string_equal(err.msg, "event stream: the value of header \"big\" is 69999 bytes "
				     "long (the limit is 65535)");
	free(big);

	h = (struct eventstream_header){ .name = "id", .name_len = 2, .type = EVENTSTREAM_UUID,
					 .data = (const unsigned char *)"short", .len = 5 };
	assert_int_equal(eventstream_encode(&h, 1, NULL, 0, &out, &err), -1);
	assert_string_equal(err.msg, "event stream: header \"id\" is a uuid of 5 bytes, not 16");

	h.type = (enum eventstream_type)12;
	assert_int_equal(eventstream_encode(&h, 1, NULL, 0, &out, &err), -1);
	assert_string_equal(err.msg, "event stream: header \"id\" has unknown type 12");

	assert_int_equal(eventstream_encode(NULL, 0, "x", EVENTSTREAM_MAX_FRAME, &out, &err), -1);
	assert_string_equal(err.msg, "event stream: a frame with a 16777216-byte payload would be "
				     "too large (the limit is 16777216)");
	assert_int_equal(out.len, 0);

	/* The output's cap: nothing is written. */
	struct buf capped;
	buf_init(&capped, 20);
	assert_int_equal(eventstream_encode(NULL, 0, "0123", 4, &capped, &err), 0);
	assert_int_equal(capped.len, 20);
	assert_int_equal(eventstream_encode(NULL, 0, "", 0, &capped, &err), -1);
	assert_string_equal(err.msg, "event stream: a frame of 16 bytes does not fit in the "
				     "output buffer");
	assert_int_equal(capped.len, 20);
	buf_cleanup(&capped);
	buf_cleanup(&out);
}

static void header_lookups_read_strings(void **state)
{
	(void)state;
	struct eventstream_header hs[2] = {
		eventstream_header_string(":message-type", "event"),
		{ .name = "n", .name_len = 1, .type = EVENTSTREAM_INT32, .i = -7 },
	};
	struct eventstream_frame f = { .headers = hs, .nheaders = 2 };
	assert_ptr_equal(eventstream_frame_header(&f, "n"), &hs[1]);
	assert_null(eventstream_frame_header(&f, ":event-type"));
	assert_true(eventstream_frame_string_is(&f, ":message-type", "event"));
	assert_false(eventstream_frame_string_is(&f, ":message-type", "even"));
	assert_false(eventstream_frame_string_is(&f, "n", "-7"));
	char *s = eventstream_frame_string_dup(&f, ":message-type");
	assert_string_equal(s, "event");
	free(s);
	assert_null(eventstream_frame_string_dup(&f, "n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aws_sdk_go_positive_vectors_decode_to_their_expectations),
		cmocka_unit_test(aws_sdk_go_negative_vectors_are_rejected_with_their_message),
		cmocka_unit_test(smithy_valid_messages_decode),
		cmocka_unit_test(smithy_invalid_messages_are_rejected),
		cmocka_unit_test(bedrock_streams_decode_to_their_expectations),
		cmocka_unit_test(malformed_headers_are_named),
		cmocka_unit_test(prelude_limits_are_enforced),
		cmocka_unit_test(a_cut_stream_is_pending),
		cmocka_unit_test(a_callback_error_stops_and_fails_the_decoder),
		cmocka_unit_test(the_encoder_reproduces_every_valid_vector),
		cmocka_unit_test(the_encoder_refuses_what_the_wire_cannot_say),
		cmocka_unit_test(header_lookups_read_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
