# --max-cost stops sending before the spend could pass the limit (exit 3,
# run `stopped`); a resume with a higher limit goes on in the same run. Also
# the progress output: a redrawn line when forced, a log line without a
# terminal, nothing with --quiet.
. "$(dirname "$0")/lib.sh"

model=us.amazon.nova-pro-v1:0
for i in $(seq 1 200); do
	printf '{"id":"j%d","modelId":"%s","messages":[{"role":"user","content":[{"text":"question %d"}]}],"inferenceConfig":{"maxTokens":100}}\n' "$i" "$model" "$i"
done >"$WORK/jobs.jsonl"
start_mock --log "$WORK/mock.log"
db="$WORK/cost.db"

# Nova Pro: $0.0008 per 1k input and $0.0032 per 1k output tokens. A job
# reserves at most its input estimate (3 tokens) plus 100 output tokens,
# about $0.000322; $0.005 allows some jobs and not all 200.
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --concurrency 4 --no-progress --max-cost 0.005
expect_eq "over the limit: exit" 3 "$RC"
expect_grep "over the limit: why and how to go on" "run 1 stopped at its cost limit of \\\$0.005 \(--max-cost: .*\); to go on, resume it with a higher limit: novabatch run --db .* --resume=1 --max-cost USD" "$WORK/err"
expect_eq "over the limit: run stopped" "stopped" "$(sql "$db" "SELECT status FROM runs")"
"$NOVABATCH" report --db "$db" --format json >"$WORK/report.json"
/usr/bin/python3 - "$WORK/report.json" "$(wc -l <"$WORK/mock.log")" <<'PY' || fail "the spend passed the limit, or nothing was spent"
import json, sys
r = json.load(open(sys.argv[1]))
ok = sum(m["ok"] for m in r["models"])
cost = sum(float(m["cost_usd"]) for m in r["models"])
assert 0 < ok < 200 and 0 < cost <= 0.005, (ok, cost)
assert int(sys.argv[2]) == ok, (sys.argv[2], ok)
PY
expect_eq "no job failed" 0 "$(sql "$db" "SELECT count(*) FROM jobs WHERE status = 'failed'")"

# A resume with a higher limit finishes, in the same run.
run_nb run --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume --max-cost 1
expect_eq "higher limit: exit" 0 "$RC"
expect_eq "higher limit: one run, all ok" "1|done|200" "$(sql "$db" "SELECT count(*), max(status), (SELECT sum(status = 'ok') FROM jobs) FROM runs")"
expect_eq "every job sent once" 200 "$(wc -l <"$WORK/mock.log")"

# A model without a price cannot be bounded: nothing is sent.
printf '{"id":"x","modelId":"acme.unknown-v1","messages":[{"role":"user","content":[{"text":"hi"}]}]}\n' >"$WORK/unpriced.jsonl"
run_nb run "$WORK/unpriced.jsonl" --db "$WORK/unpriced.db" --endpoint-url "$MOCK_URL" --no-progress --max-cost 10
expect_eq "unpriced: exit" 3 "$RC"
expect_grep "unpriced: message" "model acme.unknown-v1 has no price in the price table" "$WORK/err"
expect_eq "unpriced: nothing sent" 200 "$(wc -l <"$WORK/mock.log")"

for bad in abc -1 1e3 0.1234567890123 5000000; do
	run_nb run "$WORK/jobs.jsonl" --db "$WORK/bad.db" --endpoint-url "$MOCK_URL" --max-cost "$bad"
	expect_eq "--max-cost $bad: exit" 2 "$RC"
	expect_grep "--max-cost $bad: message" "--max-cost: '$bad' is not an amount of USD" "$WORK/err"
done

# Progress, on a mock slow enough for the progress to show.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --latency-ms 30
head -n 80 "$WORK/jobs.jsonl" >"$WORK/eighty.jsonl"
slow=(--endpoint-url "$MOCK_URL" --concurrency 2)
# Forced on: the line is redrawn, with the total counted from the files.
run_nb run "$WORK/eighty.jsonl" --db "$WORK/p.db" "${slow[@]}" --progress
expect_eq "progress: exit" 0 "$RC"
grep -q $'\r\033\\[Knovabatch: [0-9]*/80 (' "$WORK/err" || fail "no redrawn progress line: $(head -c 600 "$WORK/err")"
expect_grep "progress: the final summary" "run 1 done in .* 80 jobs, 80 ok" "$WORK/err"
# With --models, the total counts every line on each model.
head -n 20 "$WORK/eighty.jsonl" >"$WORK/twenty.jsonl"
run_nb run "$WORK/twenty.jsonl" --db "$WORK/pm.db" "${slow[@]}" --progress --models lite,micro
expect_eq "progress with --models: exit" 0 "$RC"
grep -q $'\r\033\\[Knovabatch: [0-9]*/40 (' "$WORK/err" || fail "the progress total is not lines x models: $(head -c 600 "$WORK/err")"
# Without a terminal: a log line every --log-interval seconds, and the summary.
run_nb run "$WORK/eighty.jsonl" --db "$WORK/l.db" "${slow[@]}" --no-progress --log-interval 1
expect_grep "log line" "^novabatch: [0-9]+/80 \([0-9.]+%\) done, [0-9]+ in flight, .* req/s \| ok [0-9]+, failed 0, invalid 0 \| .* \| tokens .* \| \\\$[0-9.]+, ETA " "$WORK/err"
if grep -q $'\r' "$WORK/err"; then fail "a redrawn line without a terminal"; fi
# --quiet: nothing but errors.
run_nb run "$WORK/eighty.jsonl" --db "$WORK/q.db" --endpoint-url "$MOCK_URL" --concurrency 64 --quiet
expect_eq "quiet: exit" 0 "$RC"
expect_eq "quiet: silent" "" "$(cat "$WORK/err")"
