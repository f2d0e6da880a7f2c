#include "stream_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percentile.h"
#include "xalloc.h"

void stream_read_init(struct stream_read *sr)
{
	memset(sr, 0, sizeof *sr);
	eventstream_decoder_init(&sr->dec);
	sr->cs = converse_stream_new();
}

void stream_read_cleanup(struct stream_read *sr)
{
	eventstream_decoder_cleanup(&sr->dec);
	converse_stream_free(sr->cs);
	free(sr->gaps);
	memset(sr, 0, sizeof *sr);
}

static double stream_read_ms(uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e6 : 0;
}

static void stream_read_note_delta(struct stream_read *sr)
{
	if (sr->last_delta_ns) {
		double gap = stream_read_ms(sr->last_delta_ns, sr->now_ns);
		if (gap > sr->gap_max_ms)
			sr->gap_max_ms = gap;
		if (sr->ngaps < STREAM_READ_MAX_GAPS) {
			if (sr->ngaps == sr->gaps_alloc) {
				sr->gaps_alloc = sr->gaps_alloc ? 2 * sr->gaps_alloc : 64;
				sr->gaps = xrealloc(sr->gaps, sr->gaps_alloc * sizeof *sr->gaps);
			}
			sr->gaps[sr->ngaps++] = gap;
		}
	}
	sr->last_delta_ns = sr->now_ns;
}

static int stream_read_frame_cb(const struct eventstream_frame *frame, void *ctx,
				struct nb_err *err)
{
	struct stream_read *sr = ctx;
	sr->frames++;
	if (converse_stream_feed(sr->cs, frame, err) < 0)
		return -1;
	if (!sr->first_content_ns && converse_stream_has_content(sr->cs))
		sr->first_content_ns = sr->now_ns;
	if (eventstream_frame_string_is(frame, ":event-type", "contentBlockDelta"))
		stream_read_note_delta(sr);
	return 0;
}

int stream_read_feed(struct stream_read *sr, const char *bytes, size_t len, uint64_t now_ns)
{
	if (sr->failed)
		return -1;
	sr->now_ns = now_ns;
	if (eventstream_decoder_feed(&sr->dec, bytes, len, stream_read_frame_cb, sr, &sr->err) < 0) {
		sr->failed = true;
		return -1;
	}
	return 0;
}

int stream_read_finish(struct stream_read *sr, struct response *out)
{
	memset(out, 0, sizeof *out);
	if (sr->failed)
		return -1;
	if (eventstream_decoder_finish(&sr->dec, &sr->err) < 0 ||
	    converse_stream_finish(sr->cs, out, &sr->err) < 0) {
		sr->failed = true;
		return -1;
	}
	return 0;
}

void stream_read_error(const struct stream_read *sr, char type[128], long *http_status,
		       const char **message)
{
	const struct converse_stream_error *e = converse_stream_error(sr->cs);
	if (e) {
		snprintf(type, 128, "%s", e->type);
		*http_status = e->http_status;
	} else {
		/* The decoder refused the bytes: a garbled 200. */
		snprintf(type, 128, "%s", CONVERSE_STREAM_MALFORMED);
		*http_status = 200;
	}
	*message = sr->err.msg;
}

void stream_read_timing(struct stream_read *sr, uint64_t start_ns, struct stream_read_timing *t)
{
	t->ttft_ms = sr->first_content_ns ? stream_read_ms(start_ns, sr->first_content_ns) : -1;
	t->gap_p50_ms = t->gap_max_ms = -1;
	if (sr->ngaps == 0)
		return;
	percentile_sort(sr->gaps, sr->ngaps);
	t->gap_p50_ms = percentile_of(sr->gaps, sr->ngaps, 50);
	t->gap_max_ms = sr->gap_max_ms;
}

double stream_read_tokens_per_s(const struct stream_read *sr, int64_t output_tokens,
				uint64_t end_ns)
{
	if (!sr->first_content_ns || output_tokens < 2 || end_ns <= sr->first_content_ns)
		return -1;
	return (double)(output_tokens - 1) / (stream_read_ms(sr->first_content_ns, end_ns) / 1000.0);
}
