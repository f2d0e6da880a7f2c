/*
 * test_export: the JSON lines and the CSV rows of a run's jobs, in job
 * order, with NULLs, content blocks and odd bytes, and a write failure
 * reported as one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "export.h"
#include "jtext.h"
#include "db_fixture.h"
#include "store.h"

static const char fixture_sql[] =
	"INSERT INTO runs (id, status, started_at, version, endpoint, region, concurrency,"
	" job_files, command_line) VALUES"
	" (1, 'done', 't', '0.1.0', 'http://x', 'us-east-1', 1, '[]', '[]'),"
	" (2, 'done', 't', '0.1.0', 'http://x', 'us-east-1', 1, '[]', '[]'),"
	" (3, 'done', 't', '0.1.0', 'http://x', 'us-east-1', 1, '[]', '[]');"
	"INSERT INTO jobs (id, run_id, job_id, model_id, status, source_file, source_line,"
	" attempts, output_text, content, stop_reason, input_tokens, output_tokens,"
	" cache_read_tokens, cache_write_tokens, latency_ms, ttft_ms, request_id,"
	" error_type, error_message) VALUES"
	" (10, 1, 'b', 'us.amazon.nova-lite-v1:0', 'ok', 'jobs.jsonl', 2, 2,"
	"  'Caf\xc3\xa9 \xe2\x98\x95', '[{\"text\":\"Caf\xc3\xa9 \xe2\x98\x95\"}]', 'end_turn',"
	"  12, 34, 5, 6, 1234.567891, 98.5, 'req-1', NULL, NULL),"
	" (20, 2, 'other-run', 'm', 'ok', 'jobs.jsonl', 1, 1, 'x', NULL, NULL,"
	"  1, 1, NULL, NULL, 1, NULL, NULL, NULL, NULL),"
	" (30, 1, 'a', '', 'invalid', CAST(X'6A6FFF622E6A736F6E6C' AS TEXT), 1, 0,"
	"  NULL, 'not json', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
	"  'InvalidJobLine', 'jobs.jsonl:1: not valid JSON');";

static int fixture_setup(void **state)
{
	*state = db_fixture_new(fixture_sql);
	return 0;
}

static int fixture_teardown(void **state)
{
	db_fixture_free(*state);
	return 0;
}

typedef int (*export_fn)(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err);

static char *export_with(void **state, int64_t run_id, export_fn write)
{
	struct db_fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct nb_err err;
	if (write(store_db(f->st), run_id, out, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(fclose(out), 0);
	return text;
}

static char *export_text(void **state, int64_t run_id)
{
	return export_with(state, run_id, export_jsonl);
}

static void writes_one_line_per_job_in_job_order(void **state)
{
	char *text = export_text(state, 1);
	char *second = strchr(text, '\n') + 1;
	assert_string_equal(strchr(second, '\n'), "\n");

	json_error_t jerr;
	json_t *a = json_loadb(text, (size_t)(second - text), 0, &jerr);
	json_t *b = json_loads(second, 0, &jerr);
	assert_non_null(a);
	assert_non_null(b);
	/* Row 10 before row 30, whatever the job ids. */
	assert_string_equal(json_string_value(json_object_get(a, "job_id")), "b");
	assert_string_equal(json_string_value(json_object_get(b, "job_id")), "a");

	assert_int_equal(json_integer_value(json_object_get(a, "run_id")), 1);
	assert_string_equal(json_string_value(json_object_get(a, "model_id")),
			    "us.amazon.nova-lite-v1:0");
	assert_string_equal(json_string_value(json_object_get(a, "status")), "ok");
	assert_int_equal(json_integer_value(json_object_get(a, "attempts")), 2);
	assert_string_equal(json_string_value(json_object_get(a, "output_text")),
			    "Caf\xc3\xa9 \xe2\x98\x95");
	assert_string_equal(json_string_value(json_object_get(a, "stop_reason")), "end_turn");
	assert_int_equal(json_integer_value(json_object_get(a, "input_tokens")), 12);
	assert_int_equal(json_integer_value(json_object_get(a, "output_tokens")), 34);
	assert_int_equal(json_integer_value(json_object_get(a, "cache_read_tokens")), 5);
	assert_int_equal(json_integer_value(json_object_get(a, "cache_write_tokens")), 6);
	assert_true(json_real_value(json_object_get(a, "latency_ms")) == 1234.567891);
	assert_true(json_real_value(json_object_get(a, "ttft_ms")) == 98.5);
	assert_string_equal(json_string_value(json_object_get(a, "request_id")), "req-1");
	assert_string_equal(json_string_value(json_object_get(a, "source_file")), "jobs.jsonl");
	assert_int_equal(json_integer_value(json_object_get(a, "source_line")), 2);
	assert_true(json_is_null(json_object_get(a, "error_type")));
	assert_true(json_is_null(json_object_get(a, "error_message")));
	/* Content blocks come out as JSON, not as a string holding JSON. */
	json_t *content = json_object_get(a, "content");
	assert_true(json_is_array(content));
	assert_string_equal(json_string_value(json_object_get(json_array_get(content, 0), "text")),
			    "Caf\xc3\xa9 \xe2\x98\x95");
	/* A latency prints as measured. */
	assert_non_null(strstr(text, "\"latency_ms\":1234.567891,"));

	assert_string_equal(json_string_value(json_object_get(b, "model_id")), "");
	assert_string_equal(json_string_value(json_object_get(b, "status")), "invalid");
	assert_string_equal(json_string_value(json_object_get(b, "error_type")), "InvalidJobLine");
	assert_string_equal(json_string_value(json_object_get(b, "error_message")),
			    "jobs.jsonl:1: not valid JSON");
	assert_true(json_is_null(json_object_get(b, "input_tokens")));
	assert_true(json_is_null(json_object_get(b, "latency_ms")));
	/* Text that is not JSON stays text; a byte that is not UTF-8 becomes
	 * U+FFFD rather than costing the row. */
	assert_string_equal(json_string_value(json_object_get(b, "content")), "not json");
	assert_string_equal(json_string_value(json_object_get(b, "source_file")),
			    "jo\xef\xbf\xbd" "b.jsonl");
	json_decref(a);
	json_decref(b);
	free(text);
}

static void writes_nothing_for_a_run_without_jobs(void **state)
{
	char *text = export_text(state, 3);
	assert_string_equal(text, "");
	free(text);
}

#define CSV_HEAD                                                                            \
	"run_id,job_id,model_id,status,attempts,throttled,output_text,content,stop_reason,"  \
	"input_tokens,output_tokens,total_tokens,cache_read_tokens,cache_write_tokens,"      \
	"latency_ms,server_latency_ms,ttft_ms,http_status,error_type,error_message,"         \
	"request_id,source_file,source_line,started_at,finished_at,tags\r\n"

static void csv_has_the_same_columns_as_the_json_lines(void **state)
{
	char *text = export_with(state, 1, export_csv);
	/* Row 10 before row 30; NULL is empty; text is written as stored, the
	 * byte that is not UTF-8 included; the content is its JSON text. */
	assert_string_equal(text,
			    CSV_HEAD
			    "1,b,us.amazon.nova-lite-v1:0,ok,2,0,Caf\xc3\xa9 \xe2\x98\x95,"
			    "\"[{\"\"text\"\":\"\"Caf\xc3\xa9 \xe2\x98\x95\"\"}]\",end_turn,"
			    "12,34,,5,6,1234.567891,,98.5,,,,req-1,jobs.jsonl,2,,,\r\n"
			    "1,a,,invalid,0,0,,not json,,,,,,,,,,,InvalidJobLine,"
			    "jobs.jsonl:1: not valid JSON,,jo\xff" "b.jsonl,1,,,\r\n");
	free(text);

	/* The columns are the JSON lines' keys, in the same order. */
	char *lines = export_text(state, 1);
	json_t *row = json_loadb(lines, (size_t)(strchr(lines, '\n') - lines), 0, NULL);
	assert_non_null(row);
	char head[1024] = "";
	const char *key;
	json_t *v;
	json_object_foreach(row, key, v) {
		strcat(head, *head ? "," : "");
		strcat(head, key);
	}
	strcat(head, "\r\n");
	assert_string_equal(head, CSV_HEAD);
	json_decref(row);
	free(lines);

	text = export_with(state, 3, export_csv);
	assert_string_equal(text, CSV_HEAD);
	free(text);
}

static void reports_a_write_failure_as_one(void **state)
{
	struct db_fixture *f = *state;
	const export_fn writers[] = {export_jsonl, export_csv};
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		FILE *out = fopen("/dev/full", "w");
		assert_non_null(out);
		struct nb_err err;
		assert_int_equal(writers[i](store_db(f->st), 1, out, &err), EXPORT_WRITE_ERROR);
		assert_string_equal(err.msg, "No space left on device");
		fclose(out);
	}
}

static void assert_text(const char *in, size_t len, const char *want)
{
	json_t *v = jtext_new(in, len);
	assert_string_equal(json_string_value(v), want);
	json_decref(v);
}

static void jtext_replaces_each_byte_that_is_not_utf8(void **state)
{
	(void)state;
	assert_text("ok \xf0\x9f\x98\x80", 7, "ok \xf0\x9f\x98\x80");
	assert_text("a\xffz", 3, "a\xef\xbf\xbdz");
	/* Overlong "/", a surrogate, past U+10FFFF, a cut sequence. */
	assert_text("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_text("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_text("\xf4\x90\x80\x80!", 5,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
	assert_text("x\xe2\x98", 3, "x\xef\xbf\xbd\xef\xbf\xbd");
	assert_text("\xe2\x98\x95\xed\x9f\xbf", 6, "\xe2\x98\x95\xed\x9f\xbf");
	json_t *v = jtext_new(NULL, 0);
	assert_true(json_is_null(v));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writes_one_line_per_job_in_job_order),
		cmocka_unit_test(writes_nothing_for_a_run_without_jobs),
		cmocka_unit_test(csv_has_the_same_columns_as_the_json_lines),
		cmocka_unit_test(reports_a_write_failure_as_one),
		cmocka_unit_test(jtext_replaces_each_byte_that_is_not_utf8),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
