/*
 * csv: RFC 4180 fields and rows, for the report and the export.
 *
 * A field holding a comma, a double quote, CR or LF is written between
 * double quotes, its quotes doubled; any other field is written as it is.
 * Records end with CRLF, as RFC 4180 says (Python's csv module, pandas,
 * spreadsheets and sqlite3's .import all read it); a line break inside a
 * quoted field is kept as stored. Fields are written byte for byte: there is
 * no byte order mark and no re-encoding, and a field that a spreadsheet may
 * take for a formula ("=...") is not altered, so a CSV file reads back to
 * the stored values. NULL writes an empty field.
 *
 * It writes to the caller's stream and does not check it: stdio errors are
 * sticky, so a writer checks ferror/fflush once a row or once at the end.
 * It owns nothing.
 */
#ifndef NB_CSV_H
#define NB_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A record being written to out. */
struct csv_row {
	FILE *out;
	bool started; /* a field was written: the next one needs a comma */
};

void csv_row_init(struct csv_row *row, FILE *out);

/* Writes the len bytes at s as the next field (NULL: an empty field). */
void csv_field(struct csv_row *row, const char *s, size_t len);
/* The same for a NUL-terminated string or NULL. */
void csv_text(struct csv_row *row, const char *s);
/* An integer field. */
void csv_int(struct csv_row *row, int64_t v);
/* A number field with 15 significant digits ("1234.567891", "10"); an
 * empty field when v is not finite. */
void csv_real(struct csv_row *row, double v);
/* Ends the record with CRLF; the row can be used for the next record. */
void csv_end(struct csv_row *row);

#endif
