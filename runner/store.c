#include "store.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "xalloc.h"

#define STORE_DEFAULT_BATCH 256
#define STORE_BUSY_TIMEOUT_MS 10000

/* Migrations of an older database, by the version they lead to: entry i
 * takes version i + 1 to i + 2. A new database is created at the latest. */
static const char *const store_migrations[] = {
	/* 2: run sessions, for --resume. */
	"ALTER TABLE runs ADD COLUMN sessions INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE jobs ADD COLUMN session INTEGER NOT NULL DEFAULT 1;",
	/* 3: stream timings. */
	"ALTER TABLE jobs ADD COLUMN output_tokens_per_s REAL;"
	"ALTER TABLE jobs ADD COLUMN chunk_gap_p50_ms REAL;"
	"ALTER TABLE jobs ADD COLUMN chunk_gap_max_ms REAL;"
	"ALTER TABLE attempts ADD COLUMN output_tokens_per_s REAL;"
	"ALTER TABLE attempts ADD COLUMN chunk_gap_p50_ms REAL;"
	"ALTER TABLE attempts ADD COLUMN chunk_gap_max_ms REAL;",
	/* 4: what else an answer brings back. */
	"ALTER TABLE jobs ADD COLUMN additional_fields TEXT;"
	"ALTER TABLE jobs ADD COLUMN trace TEXT;",
	/* 5: expectations, for regression runs. */
	"ALTER TABLE jobs ADD COLUMN expect_status TEXT CHECK (expect_status IS NULL"
	" OR expect_status = 'passed' OR expect_status = 'failed');"
	"ALTER TABLE jobs ADD COLUMN expect_failures TEXT;",
	/* 6: tags, for reports by tag. */
	"ALTER TABLE jobs ADD COLUMN tags TEXT;",
};
#define STORE_VERSION (1 + (int)(sizeof store_migrations / sizeof store_migrations[0]))

/* The columns a result fills, emptied when a job runs again. */
#define STORE_NO_RESULT                                                                      \
	" output_text = NULL, content = NULL, stop_reason = NULL, input_tokens = NULL,"      \
	" output_tokens = NULL, total_tokens = NULL, cache_read_tokens = NULL,"              \
	" cache_write_tokens = NULL, latency_ms = NULL, server_latency_ms = NULL,"           \
	" ttft_ms = NULL, output_tokens_per_s = NULL, chunk_gap_p50_ms = NULL,"                \
	" chunk_gap_max_ms = NULL, additional_fields = NULL, trace = NULL, request_id = NULL,"  \
	" http_status = NULL, expect_status = NULL, expect_failures = NULL"

enum store_stmt {
	STMT_RUN_BEGIN,
	STMT_RUN_RESUME,
	STMT_RUN_FINISH,
	STMT_JOB_CLAIM,
	STMT_JOB_BEGIN,
	STMT_JOB_RESTART,
	STMT_JOB_LAST_ATTEMPT,
	STMT_JOB_INVALID_AGAIN,
	STMT_JOB_INVALID,
	STMT_ATTEMPT,
	STMT_JOB_FINISH,
	STMT_COUNT
};

static const char *const store_stmt_sql[STMT_COUNT] = {
	[STMT_RUN_BEGIN] =
		"INSERT INTO runs (name, status, started_at, version, endpoint, region,"
		" concurrency, job_files, command_line, prices)"
		" VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[STMT_RUN_RESUME] =
		"UPDATE runs SET status = 'running', finished_at = NULL, sessions = sessions + 1"
		" WHERE id = ?1 RETURNING sessions",
	[STMT_RUN_FINISH] = "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1",
	/* A row an earlier session of the run left: this session takes it. */
	[STMT_JOB_CLAIM] =
		"UPDATE jobs SET session = ?6 WHERE run_id = ?1 AND job_id = ?2 AND model_id = ?3"
		" AND session <> ?6 RETURNING id, status, request_hash",
	[STMT_JOB_BEGIN] =
		"INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line,"
		" session, request_hash, started_at, tags)"
		" VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT (run_id, job_id, model_id) DO NOTHING",
	[STMT_JOB_RESTART] =
		"UPDATE jobs SET status = 'pending', source_file = ?2, source_line = ?3,"
		" request_hash = ?4, tags = ?5, error_type = NULL, error_message = NULL,"
		" finished_at = NULL,"
		STORE_NO_RESULT " WHERE id = ?1",
	[STMT_JOB_LAST_ATTEMPT] =
		"SELECT coalesce(max(number), 0) FROM attempts WHERE job_rowid = ?1",
	[STMT_JOB_INVALID_AGAIN] =
		"UPDATE jobs SET session = ?6, status = 'invalid', source_file = ?4,"
		" source_line = ?5, request_hash = NULL, error_type = 'InvalidJobLine',"
		" error_message = ?7, started_at = ?8," STORE_NO_RESULT ", finished_at = ?8"
		" WHERE run_id = ?1 AND job_id = ?2 AND model_id = ?3 AND session <> ?6",
	[STMT_JOB_INVALID] =
		"INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line,"
		" session, error_type, error_message, started_at, finished_at)"
		" VALUES (?1, ?2, ?3, 'invalid', ?4, ?5, ?6, 'InvalidJobLine', ?7, ?8, ?8)"
		" ON CONFLICT (run_id, job_id, model_id) DO NOTHING",
	[STMT_ATTEMPT] =
		"INSERT INTO attempts (job_rowid, number, started_at, delay_ms, latency_ms,"
		" ttft_ms, http_status, transport_error, error_type, error_message, request_id,"
		" output_tokens_per_s, chunk_gap_p50_ms, chunk_gap_max_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[STMT_JOB_FINISH] =
		"UPDATE jobs SET status = ?2, attempts = ?3, output_text = ?4, content = ?5,"
		" stop_reason = ?6, input_tokens = ?7, output_tokens = ?8, total_tokens = ?9,"
		" cache_read_tokens = ?10, cache_write_tokens = ?11, latency_ms = ?12,"
		" server_latency_ms = ?13, ttft_ms = ?14, request_id = ?15, http_status = ?16,"
		" error_type = ?17, error_message = ?18, started_at = ?19, finished_at = ?20,"
		" output_tokens_per_s = ?21, chunk_gap_p50_ms = ?22, chunk_gap_max_ms = ?23,"
		" additional_fields = ?24, trace = ?25, expect_status = ?26, expect_failures = ?27"
		" WHERE id = ?1",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	bool in_txn;
	int pending;    /* changes in the open transaction */
	int batch_size;
};

static int store_fail(struct store *st, struct nb_err *err, const char *what)
{
	return err_set(err, "database: %s: %s", what, sqlite3_errmsg(st->db));
}

/* Brings a database made by an older novabatch to the current version. */
static int store_migrate(struct store *st, const char *path, struct nb_err *err)
{
	sqlite3_stmt *q;
	int version = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			version = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	if (version > STORE_VERSION)
		return err_set(err, "database %s has schema version %d; this novabatch knows up to %d: "
				    "use a newer novabatch", path, version, STORE_VERSION);
	if (version < 1)
		return err_set(err, "database %s: cannot read its schema version", path);
	for (; version < STORE_VERSION; version++) {
		char *sql = sqlite3_mprintf("BEGIN IMMEDIATE; %s UPDATE schema_version SET version = %d;"
					    " COMMIT;", store_migrations[version - 1], version + 1);
		char *msg = NULL;
		int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
		sqlite3_free(sql);
		if (rc != SQLITE_OK) {
			err_set(err, "cannot migrate database %s to version %d: %s", path, version + 1,
				msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

int store_open(const char *path, bool read_only, struct store **out, struct nb_err *err)
{
	struct store *st = xcalloc(1, sizeof *st);
	st->batch_size = STORE_DEFAULT_BATCH;
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, "cannot open database %s: %s", path,
			st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (read_only) {
		/* A reader checks that this is a novabatch database at all. */
		rc = sqlite3_exec(st->db, "SELECT 1 FROM runs LIMIT 1", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			err_set(err, "cannot read database %s: %s", path, sqlite3_errmsg(st->db));
			goto fail;
		}
		*out = st;
		return 0;
	}
	char *msg = NULL;
	rc = sqlite3_exec(st->db, nb_store_sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		err_set(err, "cannot set up database %s: %s", path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	if (store_migrate(st, path, err) < 0)
		goto fail;
	/* WAL with NORMAL sync: a commit survives a process crash; only a power
	 * loss can take back the last commits. */
	sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	for (int i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			err_set(err, "cannot prepare statements on %s: %s", path,
				sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	*out = st;
	return 0;
fail:
	store_free(st);
	return -1;
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

void store_set_batch_size(struct store *st, int n)
{
	st->batch_size = n > 0 ? n : 1;
}

int store_commit(struct store *st, struct nb_err *err)
{
	if (!st->in_txn)
		return 0;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, err, "commit");
	st->in_txn = false;
	st->pending = 0;
	return 0;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	if (st->in_txn)
		store_commit(st, NULL);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Opens the batch transaction if none is open. */
static int store_begin_write(struct store *st, struct nb_err *err)
{
	if (st->in_txn)
		return 0;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, err, "begin");
	st->in_txn = true;
	return 0;
}

/* Counts one change and commits when the batch is full. */
static int store_end_write(struct store *st, struct nb_err *err)
{
	if (++st->pending >= st->batch_size)
		return store_commit(st, err);
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void bind_count(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static void bind_ms(sqlite3_stmt *s, int i, double v)
{
	if (v >= 0)
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* Steps a statement to completion and resets it. */
static int store_step(struct store *st, sqlite3_stmt *s, const char *what, struct nb_err *err)
{
	int rc = sqlite3_step(s);
	int ret = rc == SQLITE_DONE ? 0 : store_fail(st, err, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

int store_run_begin(struct store *st, const struct store_run_info *info, int64_t *run_id,
		    struct nb_err *err)
{
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	sqlite3_stmt *s = st->stmt[STMT_RUN_BEGIN];
	bind_text(s, 1, info->name);
	bind_text(s, 2, now);
	bind_text(s, 3, info->version);
	bind_text(s, 4, info->endpoint);
	bind_text(s, 5, info->region);
	sqlite3_bind_int(s, 6, info->concurrency);
	bind_text(s, 7, info->job_files);
	bind_text(s, 8, info->command_line);
	bind_text(s, 9, info->prices);
	if (store_begin_write(st, err) < 0 || store_step(st, s, "start run", err) < 0)
		return -1;
	*run_id = sqlite3_last_insert_rowid(st->db);
	return store_commit(st, err);
}

int store_run_resume(struct store *st, int64_t run_id, int *session, struct nb_err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_RUN_RESUME];
	sqlite3_bind_int64(s, 1, run_id);
	if (store_begin_write(st, err) < 0)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*session = sqlite3_column_int(s, 0);
		rc = sqlite3_step(s);
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_NOTFOUND;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_NOTFOUND)
		return err_set(err, "database: run %lld does not exist", (long long)run_id);
	if (rc != SQLITE_DONE)
		return store_fail(st, err, "resume run");
	return store_commit(st, err);
}

int store_run_finish(struct store *st, int64_t run_id, const char *status, struct nb_err *err)
{
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	sqlite3_stmt *s = st->stmt[STMT_RUN_FINISH];
	sqlite3_bind_int64(s, 1, run_id);
	bind_text(s, 2, status);
	bind_text(s, 3, now);
	if (store_begin_write(st, err) < 0 || store_step(st, s, "finish run", err) < 0)
		return -1;
	return store_commit(st, err);
}

static void bind_key(sqlite3_stmt *s, const struct store_job_key *key)
{
	sqlite3_bind_int64(s, 1, key->run_id);
	bind_text(s, 2, key->job_id);
	bind_text(s, 3, key->model_id ? key->model_id : "");
	bind_text(s, 4, key->source_file);
	sqlite3_bind_int64(s, 5, key->source_line);
	sqlite3_bind_int(s, 6, key->session > 0 ? key->session : 1);
}

/* Takes the row an earlier session left for key, if any: returns 1 with
 * prior filled, 0 when there is none to take. */
static int store_job_claim(struct store *st, const struct store_job_key *key,
			   struct store_prior *prior, struct nb_err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_JOB_CLAIM];
	bind_key(s, key);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		prior->rowid = sqlite3_column_int64(s, 0);
		const char *status = (const char *)sqlite3_column_text(s, 1);
		const char *hash = (const char *)sqlite3_column_text(s, 2);
		snprintf(prior->status, sizeof prior->status, "%s", status ? status : "");
		snprintf(prior->request_hash, sizeof prior->request_hash, "%s", hash ? hash : "");
		rc = sqlite3_step(s);
	}
	int found = sqlite3_changes(st->db) > 0;
	int ret = rc == SQLITE_DONE ? found : store_fail(st, err, "claim job");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

int store_job_begin(struct store *st, const struct store_job_key *key, const char *request_hash,
		    int64_t *job_rowid, struct store_prior *prior, struct nb_err *err)
{
	if (store_begin_write(st, err) < 0)
		return -1;
	if (key->session > 1) {
		int found = store_job_claim(st, key, prior, err);
		if (found < 0)
			return -1;
		if (found) {
			*job_rowid = prior->rowid;
			return store_end_write(st, err) < 0 ? -1 : STORE_PRIOR;
		}
	}
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	sqlite3_stmt *s = st->stmt[STMT_JOB_BEGIN];
	bind_key(s, key);
	bind_text(s, 7, request_hash);
	bind_text(s, 8, now);
	bind_text(s, 9, key->tags);
	if (store_step(st, s, "add job", err) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return STORE_DUPLICATE;
	*job_rowid = sqlite3_last_insert_rowid(st->db);
	return store_end_write(st, err);
}

int store_job_restart(struct store *st, int64_t job_rowid, const struct store_job_key *key,
		      const char *request_hash, int *last_attempt, struct nb_err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_JOB_RESTART];
	sqlite3_bind_int64(s, 1, job_rowid);
	bind_text(s, 2, key->source_file);
	sqlite3_bind_int64(s, 3, key->source_line);
	bind_text(s, 4, request_hash);
	bind_text(s, 5, key->tags);
	if (store_begin_write(st, err) < 0 || store_step(st, s, "restart job", err) < 0)
		return -1;
	s = st->stmt[STMT_JOB_LAST_ATTEMPT];
	sqlite3_bind_int64(s, 1, job_rowid);
	int rc = sqlite3_step(s);
	*last_attempt = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, err, "count attempts");
	return store_end_write(st, err);
}

int store_job_invalid(struct store *st, const struct store_job_key *key, const char *message,
		      struct nb_err *err)
{
	char now[CLOCK_ISO_LEN];
	clock_utc_iso(now);
	if (store_begin_write(st, err) < 0)
		return -1;
	if (key->session > 1) {
		/* A row an earlier session left becomes what the line is now. */
		sqlite3_stmt *s = st->stmt[STMT_JOB_INVALID_AGAIN];
		bind_key(s, key);
		bind_text(s, 7, message);
		bind_text(s, 8, now);
		if (store_step(st, s, "record invalid job", err) < 0)
			return -1;
		if (sqlite3_changes(st->db) > 0)
			return store_end_write(st, err);
	}
	sqlite3_stmt *s = st->stmt[STMT_JOB_INVALID];
	bind_key(s, key);
	bind_text(s, 7, message);
	bind_text(s, 8, now);
	if (store_step(st, s, "add invalid job", err) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return STORE_DUPLICATE;
	return store_end_write(st, err);
}

int store_attempt_add(struct store *st, int64_t job_rowid, const struct store_attempt *a,
		      struct nb_err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_ATTEMPT];
	sqlite3_bind_int64(s, 1, job_rowid);
	sqlite3_bind_int(s, 2, a->number);
	bind_text(s, 3, a->started_at);
	sqlite3_bind_double(s, 4, a->delay_ms);
	bind_ms(s, 5, a->latency_ms);
	bind_ms(s, 6, a->ttft_ms);
	sqlite3_bind_int64(s, 7, a->http_status);
	bind_text(s, 8, a->transport_error);
	bind_text(s, 9, a->error_type);
	bind_text(s, 10, a->error_message);
	bind_text(s, 11, a->request_id);
	bind_ms(s, 12, a->stream.tokens_per_s);
	bind_ms(s, 13, a->stream.gap_p50_ms);
	bind_ms(s, 14, a->stream.gap_max_ms);
	if (store_begin_write(st, err) < 0 || store_step(st, s, "add attempt", err) < 0)
		return -1;
	return store_end_write(st, err);
}

int store_job_finish(struct store *st, int64_t job_rowid, const struct store_job_outcome *o,
		     struct nb_err *err)
{
	sqlite3_stmt *s = st->stmt[STMT_JOB_FINISH];
	sqlite3_bind_int64(s, 1, job_rowid);
	bind_text(s, 2, o->status);
	sqlite3_bind_int(s, 3, o->attempts);
	bind_text(s, 4, o->output_text);
	bind_text(s, 5, o->content);
	bind_text(s, 6, o->stop_reason);
	bind_count(s, 7, o->input_tokens);
	bind_count(s, 8, o->output_tokens);
	bind_count(s, 9, o->total_tokens);
	bind_count(s, 10, o->cache_read_tokens);
	bind_count(s, 11, o->cache_write_tokens);
	bind_ms(s, 12, o->latency_ms);
	bind_count(s, 13, o->server_latency_ms);
	bind_ms(s, 14, o->ttft_ms);
	bind_text(s, 15, o->request_id);
	sqlite3_bind_int64(s, 16, o->http_status);
	bind_text(s, 17, o->error_type);
	bind_text(s, 18, o->error_message);
	bind_text(s, 19, o->started_at);
	bind_text(s, 20, o->finished_at);
	bind_ms(s, 21, o->stream.tokens_per_s);
	bind_ms(s, 22, o->stream.gap_p50_ms);
	bind_ms(s, 23, o->stream.gap_max_ms);
	bind_text(s, 24, o->additional_fields);
	bind_text(s, 25, o->trace);
	bind_text(s, 26, o->expect_status);
	bind_text(s, 27, o->expect_failures);
	if (store_begin_write(st, err) < 0 || store_step(st, s, "finish job", err) < 0)
		return -1;
	return store_end_write(st, err);
}
