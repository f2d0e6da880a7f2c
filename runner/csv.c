#include "csv.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void csv_row_init(struct csv_row *row, FILE *out)
{
	row->out = out;
	row->started = false;
}

/* Whether RFC 4180 requires the field to be quoted. */
static bool csv_needs_quotes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

void csv_field(struct csv_row *row, const char *s, size_t len)
{
	if (row->started)
		fputc(',', row->out);
	row->started = true;
	if (!s || !len)
		return;
	if (!csv_needs_quotes(s, len)) {
		fwrite(s, 1, len, row->out);
		return;
	}
	fputc('"', row->out);
	/* Each run of bytes up to and including a quote, then the quote again. */
	const char *end = s + len;
	while (s < end) {
		const char *q = memchr(s, '"', (size_t)(end - s));
		size_t n = q ? (size_t)(q - s) + 1 : (size_t)(end - s);
		fwrite(s, 1, n, row->out);
		if (q)
			fputc('"', row->out);
		s += n;
	}
	fputc('"', row->out);
}

void csv_text(struct csv_row *row, const char *s)
{
	csv_field(row, s, s ? strlen(s) : 0);
}

void csv_int(struct csv_row *row, int64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof text, "%" PRId64, v);
	csv_field(row, text, (size_t)n);
}

void csv_real(struct csv_row *row, double v)
{
	if (!isfinite(v)) {
		csv_field(row, NULL, 0);
		return;
	}
	char text[32];
	int n = snprintf(text, sizeof text, "%.15g", v);
	csv_field(row, text, (size_t)n);
}

void csv_end(struct csv_row *row)
{
	fputs("\r\n", row->out);
	row->started = false;
}
