#!/usr/bin/env bash
# Installs what is missing, builds, starts the embedded mock, runs the jobs in
# jobs/examples against it and prints the report. Leaves demo.db behind for
# `build/novabatch report --db demo.db` and `export`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

# The mock checks signatures with the same (made-up) keys the runner signs with.
export AWS_ACCESS_KEY_ID=AKIDNOVABATCHDEMO
export AWS_SECRET_ACCESS_KEY=demoSecretKey/NotARealOne
unset AWS_SESSION_TOKEN

out=$(mktemp)
build/novabatch mock --port 0 --latency-ms 40 >"$out" &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 250); do
  grep -q '^LISTENING ' "$out" && break
  sleep 0.02
done
port=$(sed -n 's/^LISTENING //p' "$out")
[ -n "$port" ] || { echo "demo: the mock did not start" >&2; exit 1; }

rm -f demo.db demo.db-wal demo.db-shm
build/novabatch run jobs/examples/*.jsonl --db demo.db \
  --endpoint-url "http://127.0.0.1:$port" --run-name demo
build/novabatch report --db demo.db
build/novabatch compare --across-models demo --db demo.db
