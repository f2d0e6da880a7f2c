#!/usr/bin/env bash
# Benchmark: prints figures, decides nothing.
#   tests/bench/bench_run.sh [BUILD_DIR] [JOBS]
# 1. JOBS jobs (default 20000) against the mock with no latency at
#    concurrency 64: requests/s, CPU milliseconds per 1,000 requests and
#    peak RSS of the runner.
# 2. A 100,000-line job file: peak RSS (memory must not grow with the file).
# 3. --resume of that finished run: every line is read, parsed and skipped;
#    lines/s and peak RSS (a skipped job must cost no memory).
. "$(dirname "$0")/lib.sh"
jobs=${2:-20000}
start_mock

make_jobs() { # COUNT FILE
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"bench-{i}", "modelId": "us.amazon.nova-micro-v1:0",
                            "messages": [{"role": "user", "content": [{"text": f"Prompt {i}: name three rivers."}]}],
                            "inferenceConfig": {"maxTokens": 64}}) + "\n")
PY
}

make_jobs "$jobs" "$work/jobs.jsonl"
read -r wall user sys rss rc < <(measure "$nb" run "$work/jobs.jsonl" --db "$work/a.db" \
  --endpoint-url "$url" --concurrency 64 --no-progress)
ok=$(sqlite3 "$work/a.db" "SELECT count(*) FROM jobs WHERE status = 'ok'")
awk -v n="$jobs" -v ok="$ok" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v rc="$rc" 'BEGIN {
  printf "run: %d jobs (%d ok, exit %d) at concurrency 64 in %.2f s\n", n, ok, rc, w
  printf "  requests/s             %.0f\n", n / w
  printf "  CPU ms per 1000 req    %.1f (user %.2f s, sys %.2f s)\n", (u + s) * 1000000 / n, u, s
  printf "  CPU us per request     %.1f\n", (u + s) * 1000000 / n
  printf "  peak RSS               %.1f MB\n", r / 1024
}'

make_jobs 100000 "$work/big.jsonl"
read -r wall user sys rss rc < <(measure "$nb" run "$work/big.jsonl" --db "$work/b.db" \
  --endpoint-url "$url" --concurrency 64 --no-progress)
awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v rc="$rc" -v sz="$(stat -c %s "$work/big.jsonl")" 'BEGIN {
  printf "100,000-line file (%.1f MB): exit %d in %.2f s, %.0f requests/s\n", sz / 1048576, rc, w, 100000 / w
  printf "  peak RSS               %.1f MB\n", r / 1024
  printf "  CPU us per request     %.1f\n", (u + s) * 1000000 / 100000
}'

read -r wall user sys rss rc < <(measure "$nb" run --resume --db "$work/b.db" \
  --endpoint-url "$url" --concurrency 64 --no-progress)
sent=$(sqlite3 "$work/b.db" "SELECT count(*) FROM attempts")
awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v rc="$rc" -v sent="$sent" 'BEGIN {
  printf "resume of that run (every job recorded): exit %d in %.2f s, %d attempts in all\n", rc, w, sent
  printf "  lines skipped/s        %.0f\n", 100000 / w
  printf "  peak RSS               %.1f MB\n", r / 1024
}'
