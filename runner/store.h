/*
 * store: the SQLite database, and the only writer to it.
 *
 * Owns the connection, the schema (schemas/store.sql, compiled in) and the
 * write batching: writes go into an open transaction that is committed when
 * it holds `batch_size` changes or when the caller says the interval has
 * passed (store_commit), so a kill -9 loses at most one batch. Statements are
 * prepared once. WAL mode lets readers (report, export) work while a run
 * writes. It does not know what a Converse response looks like: callers
 * hand it plain values.
 */
#ifndef NB_STORE_H
#define NB_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct store;

/* Opens (read_only: must exist) or creates the database at path and applies
 * the schema. Returns 0, or -1 with err naming the path and the cause. */
int store_open(const char *path, bool read_only, struct store **out, struct nb_err *err);
/* Commits what is pending and closes. NULL does nothing. */
void store_free(struct store *st);
/* The connection, borrowed, for read queries (report, export). */
sqlite3 *store_db(struct store *st);

/* The options of a run worth keeping. Secrets never. */
struct store_run_info {
	const char *name;         /* NULL for none */
	const char *version;
	const char *endpoint;
	const char *region;
	int concurrency;
	const char *job_files;    /* JSON array */
	const char *command_line; /* JSON array, secrets already removed */
	const char *prices;       /* JSON price table */
};

/* Inserts a `running` run (its session 1) and commits at once. */
int store_run_begin(struct store *st, const struct store_run_info *info, int64_t *run_id,
		    struct nb_err *err);
/* Sets a run `running` again for another session, and commits at once;
 * *session receives its number (2 for the first resume). */
int store_run_resume(struct store *st, int64_t run_id, int *session, struct nb_err *err);
/* Sets status and finished_at, and commits everything pending. */
int store_run_finish(struct store *st, int64_t run_id, const char *status, struct nb_err *err);

/* Where a job came from. */
struct store_job_key {
	int64_t run_id;
	const char *job_id;
	const char *model_id;
	const char *source_file;
	long source_line;
	int session; /* the run's session reading the line: 1, then 2, ... */
	const char *tags; /* JSON array, or NULL */
};

#define STORE_DUPLICATE 1
#define STORE_PRIOR 2

/* What an earlier session of the run recorded for a job. */
struct store_prior {
	int64_t rowid;
	char status[16];       /* "pending", "ok", "failed" or "invalid" */
	char request_hash[65]; /* "" when none was recorded (an invalid line) */
};

/* Records a job for this session. Returns 0 with the rowid of a new
 * `pending` row; STORE_PRIOR when an earlier session recorded (run, job id,
 * model): the row is now this session's, its rowid in *job_rowid and what
 * it holds in prior, untouched otherwise; STORE_DUPLICATE when this
 * session already has that row; or -1 with err set. */
int store_job_begin(struct store *st, const struct store_job_key *key, const char *request_hash,
		    int64_t *job_rowid, struct store_prior *prior, struct nb_err *err);

/* Makes a prior row `pending` again, its result emptied, for the line's
 * request as it is now. *last_attempt receives the number of the last
 * attempt recorded for the job (0 for none): new attempts number on. */
int store_job_restart(struct store *st, int64_t job_rowid, const struct store_job_key *key,
		      const char *request_hash, int *last_attempt, struct nb_err *err);

/* Records an invalid line: a row with status `invalid` and the message. A
 * row an earlier session left for the same job becomes this one.
 * STORE_DUPLICATE when this session already has a row for the job. */
int store_job_invalid(struct store *st, const struct store_job_key *key, const char *message,
		      struct nb_err *err);

/* How a streamed answer came; every value < 0 when not streamed or unknown. */
struct store_stream_timing {
	double tokens_per_s;
	double gap_p50_ms, gap_max_ms;
};

#define STORE_NOT_STREAMED ((struct store_stream_timing){-1, -1, -1})

/* One HTTP attempt, as measured. Strings may be NULL. */
struct store_attempt {
	int number;
	const char *started_at;
	double delay_ms;
	double latency_ms;
	double ttft_ms;          /* < 0 when not streamed */
	struct store_stream_timing stream;
	long http_status;        /* 0 when no answer came */
	const char *transport_error;
	const char *error_type;
	const char *error_message;
	const char *request_id;
};

int store_attempt_add(struct store *st, int64_t job_rowid, const struct store_attempt *a,
		      struct nb_err *err);

/* The final outcome of a job. Token counts < 0 mean "not reported". */
struct store_job_outcome {
	const char *status;      /* "ok" or "failed" */
	int attempts;
	const char *output_text;
	const char *content;     /* JSON */
	const char *additional_fields; /* JSON, or NULL */
	const char *trace;       /* JSON, or NULL */
	const char *stop_reason;
	int64_t input_tokens, output_tokens, total_tokens;
	int64_t cache_read_tokens, cache_write_tokens;
	double latency_ms;
	int64_t server_latency_ms; /* < 0 when absent */
	double ttft_ms;            /* < 0 when not streamed */
	struct store_stream_timing stream;
	const char *request_id;
	long http_status;
	const char *error_type;
	const char *error_message;
	const char *started_at;
	const char *finished_at;
	const char *expect_status;   /* "passed", "failed", or NULL: no expectations */
	const char *expect_failures; /* JSON array of {assertion, message}; NULL: none */
};

int store_job_finish(struct store *st, int64_t job_rowid, const struct store_job_outcome *o,
		     struct nb_err *err);

/* Commits the open batch, if any. Callers call it on their interval timer. */
int store_commit(struct store *st, struct nb_err *err);

/* Changes per transaction before an automatic commit (default 256). */
void store_set_batch_size(struct store *st, int n);

/* The embedded schema text (from schemas/store.sql). */
extern const char nb_store_sql[];

#endif
