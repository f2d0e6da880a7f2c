/*
 * test_csv: RFC 4180 fields (which are quoted, how quotes are doubled),
 * numbers, empty and NULL fields, bytes past a NUL, and CRLF record ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

/* A memory stream a test writes records into. */
struct sink {
	char *text;
	size_t len;
	FILE *out;
	struct csv_row row;
};

static void sink_open(struct sink *s)
{
	s->text = NULL;
	s->len = 0;
	s->out = open_memstream(&s->text, &s->len);
	assert_non_null(s->out);
	csv_row_init(&s->row, s->out);
}

/* Closes the stream and checks its whole text; frees it. */
static void sink_expect(struct sink *s, const char *want, size_t want_len)
{
	assert_int_equal(fclose(s->out), 0);
	if (s->len != want_len || memcmp(s->text, want, want_len) != 0)
		fail_msg("wrote [%.*s], expected [%.*s]", (int)s->len, s->text, (int)want_len,
			 want);
	free(s->text);
}

#define EXPECT(s, lit) sink_expect((s), (lit), sizeof(lit) - 1)

/* One field alone in a record. */
static void assert_field(const char *in, const char *want)
{
	struct sink s;
	sink_open(&s);
	csv_text(&s.row, in);
	csv_end(&s.row);
	char *line = NULL;
	size_t n = (size_t)asprintf(&line, "%s\r\n", want);
	sink_expect(&s, line, n);
	free(line);
}

static void plain_fields_are_written_as_they_are(void **state)
{
	(void)state;
	assert_field("abc", "abc");
	assert_field("us.amazon.nova-lite-v1:0", "us.amazon.nova-lite-v1:0");
	assert_field(" leading and trailing spaces ", " leading and trailing spaces ");
	assert_field("it's; a \ttab", "it's; a \ttab");
	assert_field("=1+1", "=1+1");
	assert_field("Caf\xc3\xa9 \xe2\x98\x95", "Caf\xc3\xa9 \xe2\x98\x95");
}

static void fields_with_separators_quotes_or_breaks_are_quoted(void **state)
{
	(void)state;
	assert_field("a,b", "\"a,b\"");
	assert_field("say \"hi\"", "\"say \"\"hi\"\"\"");
	assert_field("\"", "\"\"\"\"");
	assert_field("\"\"", "\"\"\"\"\"\"");
	assert_field("line1\nline2", "\"line1\nline2\"");
	assert_field("cr\ronly", "\"cr\ronly\"");
	assert_field("crlf\r\n", "\"crlf\r\n\"");
	assert_field(",", "\",\"");
}

static void empty_and_null_fields_are_empty(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	csv_text(&s.row, NULL);
	csv_text(&s.row, "");
	csv_field(&s.row, NULL, 0);
	csv_end(&s.row);
	EXPECT(&s, ",,\r\n");
}

static void records_are_separated_by_commas_and_crlf(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	csv_text(&s.row, "job_id");
	csv_text(&s.row, "n");
	csv_end(&s.row);
	csv_text(&s.row, "a,1");
	csv_int(&s.row, -42);
	csv_end(&s.row);
	EXPECT(&s, "job_id,n\r\n\"a,1\",-42\r\n");
}

static void fields_are_bytes_with_their_length(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	csv_field(&s.row, "a\0b", 3);
	csv_field(&s.row, "x\"\0", 3);
	csv_field(&s.row, "cut here", 3);
	csv_end(&s.row);
	EXPECT(&s, "a\0b,\"x\"\"\0\",cut\r\n");
}

static void numbers_are_plain(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s);
	csv_int(&s.row, INT64_MAX);
	csv_int(&s.row, 0);
	csv_real(&s.row, 1234.567891);
	csv_real(&s.row, 10);
	csv_real(&s.row, 0.1);
	csv_real(&s.row, 1e300 * 1e300);
	csv_end(&s.row);
	EXPECT(&s, "9223372036854775807,0,1234.567891,10,0.1,\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_fields_are_written_as_they_are),
		cmocka_unit_test(fields_with_separators_quotes_or_breaks_are_quoted),
		cmocka_unit_test(empty_and_null_fields_are_empty),
		cmocka_unit_test(records_are_separated_by_commas_and_crlf),
		cmocka_unit_test(fields_are_bytes_with_their_length),
		cmocka_unit_test(numbers_are_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
