# Retries: exact attempt counts against the mock's fault injection and
# scripted plans. Small backoff bases keep the test short; the arithmetic of
# the delays is test_retry's.
. "$(dirname "$0")/lib.sh"

fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 100 --no-progress)
jobs() { # COUNT FILE
	for i in $(seq 1 "$1"); do
		printf '{"id":"j%d","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"question %d"}]}]}\n' "$i" "$i"
	done >"$2"
}

# --fail-first 3: the fourth attempt of every job gets through.
start_mock --fail-first 3 --log "$WORK/mock1.log"
jobs 20 "$WORK/twenty.jsonl"
run_nb run "$WORK/twenty.jsonl" --db "$WORK/a.db" --endpoint-url "$MOCK_URL" --max-attempts 4 "${fast[@]}"
expect_eq "fail-first 3, 4 attempts: exit" 0 "$RC"
expect_eq "every job ok with 4 attempts" "20|ok|4" "$(sql "$WORK/a.db" "SELECT count(*), status, attempts FROM jobs GROUP BY status, attempts")"
expect_eq "attempt rows" "20|1|ThrottlingException
20|2|ThrottlingException
20|3|ThrottlingException
20|4|" "$(sql "$WORK/a.db" "SELECT count(*), number, coalesce(error_type, '') FROM attempts GROUP BY number ORDER BY number")"
expect_eq "no delay before a first attempt" 0 "$(sql "$WORK/a.db" "SELECT count(*) FROM attempts WHERE number = 1 AND delay_ms != 0")"
expect_eq "a delay is recorded before retries" 0 "$(sql "$WORK/a.db" "SELECT count(*) FROM attempts WHERE number > 1 AND (delay_ms < 0 OR delay_ms > 100)")"
expect_eq "the mock saw 80 requests" 80 "$(wc -l <"$WORK/mock1.log")"
"$NOVABATCH" report --db "$WORK/a.db" --format json >"$WORK/report.json"
"$NOVABATCH" export --db "$WORK/a.db" >"$WORK/export.jsonl"
/usr/bin/python3 - "$WORK/report.json" "$WORK/export.jsonl" <<'PY' || fail "report and export do not count attempts and throttling"
import json, sys
m = json.load(open(sys.argv[1]))["models"][0]
assert (m["attempts"], m["throttled"], m["ok"]) == (80, 60, 20), m
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == 20 and all((r["attempts"], r["throttled"]) == (4, 3) for r in rows), rows[0]
PY

# The same with 3 attempts: every job fails, throttled, after 3 attempts.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --fail-first 3
run_nb run "$WORK/twenty.jsonl" --db "$WORK/b.db" --endpoint-url "$MOCK_URL" --max-attempts 3 "${fast[@]}"
expect_eq "fail-first 3, 3 attempts: exit" 1 "$RC"
expect_eq "every job failed after 3 throttled attempts" "20|failed|3|ThrottlingException|429" \
	"$(sql "$WORK/b.db" "SELECT count(*), status, attempts, error_type, http_status FROM jobs GROUP BY status")"
expect_grep "the message counts the attempts" "job 'j1' failed after 3 attempts: ThrottlingException" "$WORK/err"

# Scripted plans: a validation error is never retried; resets and 503s are.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
cat >"$WORK/plan.json" <<'PLAN'
{"j1": [400], "j2": ["reset", 503, 200], "j3": [500, 408, 200], "j4": [424], "j5": ["429-not-ready", 200]}
PLAN
start_mock --plan "$WORK/plan.json" --log "$WORK/mock3.log"
jobs 6 "$WORK/six.jsonl"
run_nb run "$WORK/six.jsonl" --db "$WORK/c.db" --endpoint-url "$MOCK_URL" "${fast[@]}"
expect_eq "plan: exit" 1 "$RC"
expect_eq "plan outcomes" "j1|failed|1|ValidationException
j2|ok|3|
j3|ok|3|
j4|failed|1|ModelErrorException
j5|ok|2|
j6|ok|1|" "$(sql "$WORK/c.db" "SELECT job_id, status, attempts, coalesce(error_type, '') FROM jobs ORDER BY job_id")"
expect_eq "j2's attempts" "1|ConnectionCutShort|0
2|ServiceUnavailableException|503
3||200" "$(sql "$WORK/c.db" "SELECT a.number, coalesce(a.error_type, ''), a.http_status FROM attempts a JOIN jobs j ON j.id = a.job_rowid WHERE j.job_id = 'j2' ORDER BY a.number")"
expect_eq "the mock saw each request once per attempt" 11 "$(wc -l <"$WORK/mock3.log")"

# --retry-model-error makes 424 transient; --no-retry-model-timeout makes 408 final.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --plan "$WORK/plan.json"
run_nb run "$WORK/six.jsonl" --db "$WORK/d.db" --endpoint-url "$MOCK_URL" --retry-model-error --no-retry-model-timeout "${fast[@]}"
expect_eq "configured: j3 ends at the 408, j4 is retried" "j3|failed|2|ModelTimeoutException
j4|ok|2|" "$(sql "$WORK/d.db" "SELECT job_id, status, attempts, coalesce(error_type, '') FROM jobs WHERE job_id IN ('j3', 'j4') ORDER BY job_id")"

# A seeded storm: 30% throttling, 5% of 500 and of 503, 2% resets. Every
# job finishes ok (20 attempts leave a job a 1e-7 chance to fail).
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --throttle 0.3 --error500 0.05 --error503 0.05 --reset 0.02 --seed 7 --log "$WORK/storm.log"
jobs 400 "$WORK/storm.jsonl"
run_nb run "$WORK/storm.jsonl" --db "$WORK/e.db" --endpoint-url "$MOCK_URL" --concurrency 32 --max-attempts 20 "${fast[@]}"
expect_eq "storm: exit" 0 "$RC"
expect_eq "storm: all ok" "400|ok" "$(sql "$WORK/e.db" "SELECT count(*), status FROM jobs GROUP BY status")"
retried=$(sql "$WORK/e.db" "SELECT count(*) FROM attempts WHERE error_type IS NOT NULL")
[ "$retried" -gt 100 ] || fail "storm: only $retried failed attempts; the faults did not happen"
expect_eq "storm: one attempt row per request the mock saw" "$(wc -l <"$WORK/storm.log")" \
	"$(sql "$WORK/e.db" "SELECT count(*) FROM attempts")"
# Fail fast: five attempts in a row on a model end in ResourceNotFoundException;
# its other jobs are failed unsent, the other model's jobs run.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
/usr/bin/python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
plan = {f"gone-{i}": [404] for i in range(1, 21)}
json.dump(plan, open(f"{work}/gone-plan.json", "w"))
with open(f"{work}/gone.jsonl", "w") as f:
    for i in range(1, 21):
        for model, name in (("us.amazon.nova-gone-v1:0", "gone"), ("us.amazon.nova-micro-v1:0", "fine")):
            f.write(json.dumps({"id": f"{name}-{i}", "modelId": model,
                                "messages": [{"role": "user", "content": [{"text": "hi"}]}]}) + "\n")
PY
start_mock --plan "$WORK/gone-plan.json" --log "$WORK/gone.log"
run_nb run "$WORK/gone.jsonl" --db "$WORK/f.db" --endpoint-url "$MOCK_URL" --concurrency 1 "${fast[@]}"
expect_eq "fail fast: exit" 1 "$RC"
expect_eq "fail fast: outcomes" "us.amazon.nova-gone-v1:0|failed|1|5
us.amazon.nova-gone-v1:0|failed|0|15
us.amazon.nova-micro-v1:0|ok|1|20" "$(sql "$WORK/f.db" "SELECT model_id, status, attempts, count(*) FROM jobs GROUP BY model_id, status, attempts ORDER BY model_id, attempts DESC")"
expect_eq "fail fast: the mock saw 5 requests for the model" 5 "$(grep -c '"status":404' "$WORK/gone.log")"
expect_eq "fail fast: the unsent jobs say why" 15 "$(sql "$WORK/f.db" "SELECT count(*) FROM jobs WHERE attempts = 0 AND error_type = 'ResourceNotFoundException' AND error_message LIKE 'not sent: the last 5 attempts on model us.amazon.nova-gone-v1:0 all failed with ResourceNotFoundException%'")"
expect_grep "fail fast: stderr says so" "model us.amazon.nova-gone-v1:0: 5 attempts in a row failed with ResourceNotFoundException" "$WORK/err"
# --rpm paces the sends: 30 jobs at 10/s with a burst of 5 cannot start
# within less than 2.5 s, and a mock with twice that quota throttles none.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --rpm 1200 --burst 20
jobs 30 "$WORK/thirty.jsonl"
run_nb run "$WORK/thirty.jsonl" --db "$WORK/g.db" --endpoint-url "$MOCK_URL" --rpm 600 --burst 5 "${fast[@]}"
expect_eq "rpm: exit" 0 "$RC"
expect_eq "rpm: nothing throttled" "30|30" "$(sql "$WORK/g.db" "SELECT count(*), sum(http_status = 200) FROM attempts")"
span=$(sql "$WORK/g.db" "SELECT CAST((julianday(max(started_at)) - julianday(min(started_at))) * 86400000 AS INTEGER) FROM attempts")
[ "$span" -ge 2400 ] || fail "rpm: 30 attempts started within $span ms; --rpm 600 --burst 5 allows no less than 2500"
echo "ok: retries"
