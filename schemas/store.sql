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
    SELECT 6 WHERE NOT EXISTS (SELECT 1 FROM schema_version);

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
    tags               TEXT,           -- the line's "tags" as a JSON array; NULL for none
    attempts           INTEGER NOT NULL DEFAULT 0,
    output_text        TEXT,           -- the text blocks of the answer, joined
    content            TEXT,           -- output.message.content as JSON
    additional_fields  TEXT,           -- additionalModelResponseFields as JSON
    trace              TEXT,           -- trace (guardrails, prompt router) as JSON
    stop_reason        TEXT,
    input_tokens       INTEGER,
    output_tokens      INTEGER,
    total_tokens       INTEGER,
    cache_read_tokens  INTEGER,
    cache_write_tokens INTEGER,
    latency_ms         REAL,           -- client latency of the final attempt
    server_latency_ms  INTEGER,        -- metrics.latencyMs of the answer
    ttft_ms            REAL,           -- streamed jobs only: the first content delta
    output_tokens_per_s REAL,          -- streamed: (output tokens - 1) / (latency - ttft)
    chunk_gap_p50_ms   REAL,           -- streamed: median time between content deltas
    chunk_gap_max_ms   REAL,           -- streamed: longest time between content deltas
    request_id         TEXT,           -- x-amzn-RequestId of the final attempt
    http_status        INTEGER,
    error_type         TEXT,
    error_message      TEXT,
    started_at         TEXT,
    finished_at        TEXT,
    session            INTEGER NOT NULL DEFAULT 1, -- the run session that last read its line
    -- The line's "expect" assertions, judged when the result was recorded:
    -- 'passed', 'failed', or NULL when the line has none (or no result yet).
    -- A failed expectation leaves status as it is.
    expect_status      TEXT CHECK (expect_status IS NULL OR expect_status = 'passed'
                                   OR expect_status = 'failed'),
    expect_failures    TEXT,           -- JSON array of {"assertion", "message"}
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
    output_tokens_per_s REAL,
    chunk_gap_p50_ms REAL,
    chunk_gap_max_ms REAL,
    http_status   INTEGER,           -- 0 when no answer came
    transport_error TEXT,            -- curl's message when the exchange failed
    error_type    TEXT,
    error_message TEXT,
    request_id    TEXT,
    UNIQUE (job_rowid, number)
);

-- Views for people who query the database with sqlite3, Datasette or
-- Grafana. They hold no data and change nothing; `novabatch run` creates
-- them. A changed view needs DROP VIEW before its CREATE (IF NOT EXISTS
-- keeps an old definition), which is always safe for a view.

-- The price table each run stored (runs.prices), one row per run and model,
-- in pico-USD per token (= micro-USD per million tokens, the integers the
-- report sums). Cache reads and writes default to the input price, as in
-- runner/models.c. A run without a stored table has no rows here.
CREATE VIEW IF NOT EXISTS run_prices AS
SELECT r.id AS run_id,
       json_extract(e.value, '$.id') AS model_id,
       CAST(round(json_extract(e.value, '$.input') * 1e9) AS INTEGER) AS input_pusd,
       CAST(round(json_extract(e.value, '$.output') * 1e9) AS INTEGER) AS output_pusd,
       CAST(round(coalesce(json_extract(e.value, '$.cache_read'),
                           json_extract(e.value, '$.input')) * 1e9) AS INTEGER)
           AS cache_read_pusd,
       CAST(round(coalesce(json_extract(e.value, '$.cache_write'),
                           json_extract(e.value, '$.input')) * 1e9) AS INTEGER)
           AS cache_write_pusd
FROM runs r,
     json_each(CASE WHEN json_valid(r.prices) THEN r.prices END, '$.models') e;

-- One row per job and model, with its run's name, the 429s among its
-- attempts and its cost. The cost is priced as the report prices it: the
-- run's stored table, an ARN by its last '/' part, the us., eu. and apac.
-- inference profiles as their model. cost_pusd is exact (integer
-- pico-USD); cost_usd is the same as a real. Both are NULL when the model is
-- not in the run's table or the run stored none; 0 for a line without a
-- model, which was never sent.
CREATE VIEW IF NOT EXISTS job_results AS
SELECT job_rowid, run_id, run_name, job_id, model_id, status, attempts, throttled,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms,
       server_latency_ms, ttft_ms, stop_reason, error_type, error_message, started_at,
       finished_at, cost_pusd, cost_pusd / 1e12 AS cost_usd
FROM (
    -- The price of the key itself (e), else of the key without its profile
    -- prefix (b). Joins, not subqueries: SQLite then reads the price
    -- tables once per query rather than once per job.
    SELECT k.*,
           CASE WHEN k.model_id = '' THEN 0 ELSE
               coalesce(k.input_tokens, 0) * coalesce(e.input_pusd, b.input_pusd)
               + coalesce(k.output_tokens, 0) * coalesce(e.output_pusd, b.output_pusd)
               + coalesce(k.cache_read_tokens, 0)
                 * coalesce(e.cache_read_pusd, b.cache_read_pusd)
               + coalesce(k.cache_write_tokens, 0)
                 * coalesce(e.cache_write_pusd, b.cache_write_pusd)
           END AS cost_pusd
    FROM (
        SELECT j.id AS job_rowid, j.run_id, r.name AS run_name, j.job_id, j.model_id,
               j.status, j.attempts,
               (SELECT count(*) FROM attempts a
                WHERE a.job_rowid = j.id AND a.http_status = 429) AS throttled,
               j.input_tokens, j.output_tokens, j.cache_read_tokens, j.cache_write_tokens,
               j.latency_ms, j.server_latency_ms, j.ttft_ms, j.stop_reason, j.error_type,
               j.error_message, j.started_at, j.finished_at,
               -- What follows the last '/' (rtrim drops every character but
               -- '/' from the right, leaving the prefix through the last one).
               substr(j.model_id,
                      length(rtrim(j.model_id, replace(j.model_id, '/', ''))) + 1)
                   AS price_key
        FROM jobs j JOIN runs r ON r.id = j.run_id
    ) k
    LEFT JOIN run_prices e ON e.run_id = k.run_id AND e.model_id = k.price_key
    LEFT JOIN run_prices b
        ON b.run_id = k.run_id
       AND b.model_id = CASE
           WHEN substr(k.price_key, 1, 3) IN ('us.', 'eu.') THEN substr(k.price_key, 4)
           WHEN substr(k.price_key, 1, 5) = 'apac.' THEN substr(k.price_key, 6)
       END
);

-- Per run and model: what the report's tables show but the percentiles
-- (SQL has no percentile function): job counts by status, attempts, 429s,
-- tokens, cost (NULL when the model is not priced) and the average and
-- largest latency of the ok jobs.
CREATE VIEW IF NOT EXISTS model_summary AS
SELECT run_id, run_name, model_id,
       count(*) AS jobs,
       sum(status = 'ok') AS ok,
       sum(status = 'failed') AS failed,
       sum(status = 'invalid') AS invalid,
       sum(status = 'pending') AS pending,
       sum(attempts) AS attempts,
       sum(throttled) AS throttled,
       coalesce(sum(input_tokens), 0) AS input_tokens,
       coalesce(sum(output_tokens), 0) AS output_tokens,
       coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
       coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
       sum(cost_pusd) AS cost_pusd,
       sum(cost_pusd) / 1e12 AS cost_usd,
       avg(CASE WHEN status = 'ok' THEN latency_ms END) AS avg_latency_ms,
       max(CASE WHEN status = 'ok' THEN latency_ms END) AS max_latency_ms
FROM job_results
GROUP BY run_id, model_id;

-- Per run, model and error type: how many jobs ended failed or invalid with
-- it ('(none)' when the job recorded no type, as in the report), and the
-- first such job as an example. Errors that a retry overcame are in the
-- attempts table, not here.
CREATE VIEW IF NOT EXISTS error_summary AS
SELECT g.run_id, r.name AS run_name, g.model_id, g.error_type, g.jobs,
       e.job_id AS example_job_id, e.error_message AS example_message
FROM (
    SELECT run_id, model_id, coalesce(nullif(error_type, ''), '(none)') AS error_type,
           count(*) AS jobs, min(id) AS first_rowid
    FROM jobs
    WHERE status = 'failed' OR status = 'invalid'
    GROUP BY run_id, model_id, 3
) g
JOIN jobs e ON e.id = g.first_rowid
JOIN runs r ON r.id = g.run_id;
