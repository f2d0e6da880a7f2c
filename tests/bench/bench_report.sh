#!/usr/bin/env bash
# Benchmark of the readers: prints figures, decides nothing.
#   tests/bench/bench_report.sh [BUILD_DIR] [JOBS]
# A real run of 1,000 jobs against the mock is grown in SQL to JOBS job rows
# (default 1,000,000) over three models, with varied latencies, tokens,
# stream timings and a few failures; then each report format and each
# export format is timed, with its peak RSS (memory must stay flat).
. "$(dirname "$0")/lib.sh"
jobs=${2:-1000000}
start_mock

for i in $(seq 1 1000); do
  printf '{"id":"seed-%d","model":"lite","messages":[{"role":"user","content":[{"text":"Prompt %d"}]}],"inferenceConfig":{"maxTokens":64}}\n' "$i" "$i"
done >"$work/jobs.jsonl"
"$nb" run "$work/jobs.jsonl" --db "$work/big.db" --endpoint-url "$url" --quiet --no-progress

t0=$(date +%s.%N)
sqlite3 "$work/big.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs - 1000)
INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line, request_hash,
                  attempts, output_text, content, stop_reason, input_tokens, output_tokens,
                  total_tokens, cache_read_tokens, cache_write_tokens, latency_ms,
                  server_latency_ms, ttft_ms, output_tokens_per_s, request_id, http_status,
                  error_type, error_message, started_at, finished_at)
SELECT 1, 'grown-' || i,
       CASE i % 3 WHEN 0 THEN 'us.amazon.nova-micro-v1:0' WHEN 1 THEN 'us.amazon.nova-lite-v1:0'
                  ELSE 'us.amazon.nova-pro-v1:0' END,
       CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'ok' END, 'grown.jsonl', i, hex(randomblob(32)),
       1 + (i % 5 = 0), 'Mock answer number ' || i, '[{"text":"Mock answer"}]', 'end_turn',
       20 + i % 300, 10 + i % 200, 30 + i % 500, i % 7, 0,
       50 + (i * 7919) % 4000, 40 + i % 3000,
       CASE WHEN i % 2 = 0 THEN 20 + (i * 104729) % 900 END,
       CASE WHEN i % 2 = 0 THEN 30 + i % 120 END,
       'req-' || i, CASE WHEN i % 97 = 0 THEN 500 ELSE 200 END,
       CASE WHEN i % 97 = 0 THEN 'InternalServerException' END,
       CASE WHEN i % 97 = 0 THEN 'Internal server error' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25', '+' || (i / 100) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2026-11-25', '+' || (i / 100 + 1) || ' seconds')
FROM n;
SQL
t1=$(date +%s.%N)
rows=$(sqlite3 "$work/big.db" "SELECT count(*) FROM jobs")
size=$(stat -c %s "$work/big.db")
awk -v r="$rows" -v s="$size" -v t0="$t0" -v t1="$t1" 'BEGIN {
  printf "database: %d job rows, %.0f MB (grown in %.1f s)\n", r, s / 1048576, t1 - t0
}'

bench() { # LABEL COMMAND...
  local label=$1
  shift
  read -r wall user sys rss rc < <(measure "$nb" "$@")
  awk -v l="$label" -v w="$wall" -v r="$rss" -v rc="$rc" 'BEGIN {
    printf "  %-22s %6.2f s   peak RSS %6.1f MB   exit %d\n", l, w, r / 1024, rc
  }'
}
bench "report table" report --db "$work/big.db" -o "$work/r.txt"
bench "report json" report --db "$work/big.db" --format json -o "$work/r.json"
bench "report html" report --db "$work/big.db" --format html -o "$work/r.html"
bench "export jsonl" export --db "$work/big.db" -o "$work/e.jsonl"
bench "export csv" export --db "$work/big.db" --format csv -o "$work/e.csv"
