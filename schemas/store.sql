-- novabatch's SQLite schema. Compiled into the binary and applied when a
-- database is opened; every statement is idempotent. Times are UTC text
-- (ISO 8601 with milliseconds, "2026-11-25T02:11:05.123Z"); latencies are
-- milliseconds measured on a monotonic clock. Names here are relied on by
-- reports, scripts and users (DESIGN.md): add, never rename.

PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;

CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
-- A new database starts at the latest version; store.c migrates older ones.
INSERT INTO schema_version (version)
    SELECT 2 WHERE NOT EXISTS (SELECT 1 FROM schema_version);

-- One row per `novabatch run`. Options that matter are kept; secrets never.
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY,
    name         TEXT,
    -- Checks are written with OR, not IN: SQLite builds a temporary table
    -- for an IN list on every write, which costs more than the write.
    status       TEXT NOT NULL CHECK (status = 'running' OR status = 'done'
                                      OR status = 'interrupted' OR status = 'stopped'),
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    version      TEXT NOT NULL,
    endpoint     TEXT NOT NULL,   -- the endpoint URL (scheme, host, port)
    region       TEXT NOT NULL,
    concurrency  INTEGER NOT NULL,
    job_files    TEXT NOT NULL,   -- JSON array of the job file paths
    command_line TEXT NOT NULL,   -- JSON array of the arguments after `run`
    prices       TEXT,            -- JSON: the price table this run used
    sessions     INTEGER NOT NULL DEFAULT 1 -- 1, plus one for every --resume
);

-- One row per job and model in a run.
CREATE TABLE IF NOT EXISTS jobs (
    id                 INTEGER PRIMARY KEY,
    run_id             INTEGER NOT NULL REFERENCES runs (id),
    job_id             TEXT NOT NULL,
    model_id           TEXT NOT NULL,  -- '' when an invalid line names none
    status             TEXT NOT NULL CHECK (status = 'pending' OR status = 'ok'
                                            OR status = 'failed' OR status = 'invalid'),
    source_file        TEXT NOT NULL,
    source_line        INTEGER NOT NULL,
    request_hash       TEXT,           -- SHA-256 hex of model id and request body
    attempts           INTEGER NOT NULL DEFAULT 0,
    output_text        TEXT,           -- the text blocks of the answer, joined
    content            TEXT,           -- output.message.content as JSON
    stop_reason        TEXT,
    input_tokens       INTEGER,
    output_tokens      INTEGER,
    total_tokens       INTEGER,
    cache_read_tokens  INTEGER,
    cache_write_tokens INTEGER,
    latency_ms         REAL,           -- client latency of the final attempt
    server_latency_ms  INTEGER,        -- metrics.latencyMs of the answer
    ttft_ms            REAL,           -- streamed jobs only
    request_id         TEXT,           -- x-amzn-RequestId of the final attempt
    http_status        INTEGER,
    error_type         TEXT,
    error_message      TEXT,
    started_at         TEXT,
    finished_at        TEXT,
    session            INTEGER NOT NULL DEFAULT 1, -- the run session that last read its line
    UNIQUE (run_id, job_id, model_id)
);
CREATE INDEX IF NOT EXISTS jobs_by_run_model ON jobs (run_id, model_id, status);

-- One row per HTTP attempt.
CREATE TABLE IF NOT EXISTS attempts (
    id            INTEGER PRIMARY KEY,
    job_rowid     INTEGER NOT NULL REFERENCES jobs (id),
    number        INTEGER NOT NULL,  -- 1 for the first attempt
    started_at    TEXT NOT NULL,
    delay_ms      REAL NOT NULL DEFAULT 0, -- the wait that preceded it
    latency_ms    REAL,
    ttft_ms       REAL,
    http_status   INTEGER,           -- 0 when no answer came
    transport_error TEXT,            -- curl's message when the exchange failed
    error_type    TEXT,
    error_message TEXT,
    request_id    TEXT,
    UNIQUE (job_rowid, number)
);
