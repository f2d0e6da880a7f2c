#include "export.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "csv.h"
#include "jtext.h"
#include "xalloc.h"

/* The columns exported, in this order; their names are the keys. The
 * last, tags, is read as %s: a database made before tags (opened read-only,
 * so not migrated) has none. */
static const char export_sql[] =
	"SELECT run_id, job_id, model_id, status, attempts,"
	" (SELECT count(*) FROM attempts a WHERE a.job_rowid = jobs.id AND a.http_status = 429)"
	" AS throttled, output_text, content, stop_reason,"
	" input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens,"
	" latency_ms, server_latency_ms, ttft_ms, http_status, error_type, error_message,"
	" request_id, source_file, source_line, started_at, finished_at, %s AS tags"
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

/* Writes the current row as one JSON line; returns -1 when out fails. */
static int export_jsonl_row(sqlite3_stmt *st, FILE *out)
{
	json_t *row = json_object();
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *key = sqlite3_column_name(st, i);
		bool json = strcmp(key, "content") == 0 || strcmp(key, "tags") == 0;
		json_object_set_new(row, key, json ? export_content(st, i) : export_value(st, i));
	}
	/* Reals with 15 significant digits: a latency measured to the
	 * nanosecond prints as measured, without binary noise. */
	int dumped = json_dumpf(row, out, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(row);
	return dumped < 0 || fputc('\n', out) == EOF ? -1 : 0;
}

/* The header row of the CSV format: the column names. */
static int export_csv_head(sqlite3_stmt *st, FILE *out)
{
	struct csv_row row;
	csv_row_init(&row, out);
	for (int i = 0; i < sqlite3_column_count(st); i++)
		csv_text(&row, sqlite3_column_name(st, i));
	csv_end(&row);
	return ferror(out) ? -1 : 0;
}

/* The current row as one CSV record; text is written as stored. */
static int export_csv_row(sqlite3_stmt *st, FILE *out)
{
	struct csv_row row;
	csv_row_init(&row, out);
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			csv_int(&row, sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			csv_real(&row, sqlite3_column_double(st, i));
			break;
		case SQLITE_NULL:
			csv_field(&row, NULL, 0);
			break;
		default:
			csv_field(&row, (const char *)sqlite3_column_text(st, i),
				  (size_t)sqlite3_column_bytes(st, i));
		}
	}
	csv_end(&row);
	return ferror(out) ? -1 : 0;
}

/* How a format writes: an optional header, then each row. */
struct export_format {
	int (*head)(sqlite3_stmt *st, FILE *out);
	int (*row)(sqlite3_stmt *st, FILE *out);
};

static int export_rows(sqlite3 *db, int64_t run_id, const struct export_format *f, FILE *out,
		       struct nb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, step;
	sqlite3_stmt *probe = NULL;
	bool has_tags = sqlite3_prepare_v2(db, "SELECT tags FROM jobs LIMIT 0", -1, &probe,
					   NULL) == SQLITE_OK;
	sqlite3_finalize(probe);
	char *sql = xasprintf(export_sql, has_tags ? "tags" : "NULL");
	int prepared = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	free(sql);
	if (prepared != SQLITE_OK) {
		rc = export_db_fail(db, err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	errno = 0;
	if (f->head && f->head(st, out) < 0) {
		rc = export_write_fail(err);
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (f->row(st, out) < 0) {
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

int export_jsonl(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err)
{
	static const struct export_format jsonl = {NULL, export_jsonl_row};
	return export_rows(db, run_id, &jsonl, out, err);
}

int export_csv(sqlite3 *db, int64_t run_id, FILE *out, struct nb_err *err)
{
	static const struct export_format csv = {export_csv_head, export_csv_row};
	return export_rows(db, run_id, &csv, out, err);
}
