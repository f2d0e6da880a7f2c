#!/usr/bin/env bash
# Benchmark of rate control: prints figures, decides nothing.
#   tests/bench/bench_rate.sh [BUILD_DIR] [JOBS]
# The mock holds a quota of 50 requests/s (3000 rpm, burst 50) and answers
# in 100 ms; JOBS jobs (default 1500) run at concurrency 64, once with
# --rpm 3000 (the quota known) and once without (adaptive discovery).
# Goodput is ok jobs per second, from the first attempt to the last answer,
# as a fraction of the quota; the mock's bucket starts full, so the first 50
# are free, and the figure is also given without them. The throttled share
# is of all attempts.
. "$(dirname "$0")/lib.sh"
jobs=${2:-1500}

for i in $(seq 1 "$jobs"); do
  printf '{"id":"r%d","modelId":"us.amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"text":"Prompt %d"}]}],"inferenceConfig":{"maxTokens":64}}\n' "$i" "$i"
done >"$work/jobs.jsonl"

measure() { # LABEL DB [run options]
  local label=$1 db=$2
  shift 2
  start_mock --rpm 3000 --burst 50 --latency-ms 100
  "$nb" run "$work/jobs.jsonl" --db "$db" --endpoint-url "$url" --concurrency 64 --no-progress "$@" \
    >/dev/null 2>&1 || true
  sqlite3 -batch -noheader "$db" "
    SELECT printf('%-30s %4d ok of %d in %4.1f s: goodput %5.1f%% of the quota (%5.1f%% without the free burst), %5.2f%% of %d attempts throttled',
      '$label',
      (SELECT count(*) FROM jobs WHERE status = 'ok'),
      (SELECT count(*) FROM jobs),
      s,
      100.0 * (SELECT count(*) FROM jobs WHERE status = 'ok') / s / 50.0,
      100.0 * ((SELECT count(*) FROM jobs WHERE status = 'ok') - 50) / s / 50.0,
      100.0 * (SELECT count(*) FROM attempts WHERE error_type = 'ThrottlingException') / (SELECT count(*) FROM attempts),
      (SELECT count(*) FROM attempts))
    FROM (SELECT (julianday(max(j.finished_at)) - julianday(min(a.started_at))) * 86400.0 AS s
          FROM jobs j, attempts a WHERE a.job_rowid = j.id);"
}

echo "quota 50 requests/s (3000 rpm, burst 50), 100 ms latency, $jobs jobs, concurrency 64"
measure "--rpm 3000 (quota known)" "$work/known.db" --rpm 3000
measure "adaptive (quota discovered)" "$work/adaptive.db"
measure "--no-adaptive (retries only)" "$work/none.db" --no-adaptive
