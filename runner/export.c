#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "jtext.h"

/* The columns exported, in this order; their names are the keys. */
static const char export_sql[] =
	"SELECT run_id, job_id, model_id, status, attempts,"
	" (SELECT count(*) FROM attempts a WHERE a.job_rowid = jobs.id AND a.http_status = 429)"
	" AS throttled, output_text, content, stop_reason,"
	" input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens,"
	" latency_ms, server_latency_ms, ttft_ms, http_status, error_type, error_message,"
	" request_id, source_file, source_line, started_at, finished_at"
	" FROM jobs WHERE run_id = ?1 ORDER BY id";

/* The answer's content blocks are stored as JSON text and exported as JSON;
 * text that does not parse is exported as it is, as a string. */
static json_t *export_content(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	json_t *v = text ? json_loadb(text, len, JSON_DECODE_ANY, NULL) : NULL;
	return v ? v : jtext_new(text, len);
}

static json_t *export_value(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, col));
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(st, col);
		return isfinite(v) ? json_real(v) : json_null();
	}
	case SQLITE_NULL:
		return json_null();
	default:
		return jtext_new((const char *)sqlite3_column_text(st, col),
				 (size_t)sqlite3_column_bytes(st, col));
	}
}

static int export_db_fail(sqlite3 *db, struct nb_err *err)
{
	return err_set(err, "%s: %s", sqlite3_db_filename(db, "main"), sqlite3_errmsg(db));
}

static int export_write_fail(struct nb_err *err)
{
	err_set(err, "%s", strerror(errno ? errno : EIO));
	return EXPORT_WRITE_ERROR;
}

int export_jsonl(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, step;
	if (sqlite3_prepare_v2(db, export_sql, -1, &st, NULL) != SQLITE_OK) {
		rc = export_db_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	errno = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_object();
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *key = sqlite3_column_name(st, i);
			json_object_set_new(row, key, strcmp(key, "content") == 0
							      ? export_content(st, i)
							      : export_value(st, i));
		}
		/* Reals with 15 significant digits: a latency measured to the
		 * nanosecond prints as measured, without binary noise. */
		int dumped = json_dumpf(row, out, JSON_COMPACT | JSON_REAL_PRECISION(15));
		json_decref(row);
		if (dumped < 0 || fputc('\n', out) == EOF) {
			rc = export_write_fail(err);
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = export_db_fail(db, err);
		goto out;
	}
	if (fflush(out) != 0 || ferror(out)) {
		rc = export_write_fail(err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}
