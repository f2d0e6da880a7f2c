# 1,000 jobs at concurrency 64 against the mock: every job is recorded ok
# exactly once, with the tokens the mock sent.
. "$(dirname "$0")/lib.sh"

start_mock --log "$WORK/mock.log"
for i in $(seq 1 1000); do
	printf '{"id":"job-%d","modelId":"us.amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"text":"Question number %d: how many days are in a week?"}]}],"inferenceConfig":{"maxTokens":50}}\n' "$i" "$i"
done >"$WORK/jobs.jsonl"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --concurrency 64 --no-progress
[ "$RC" -eq 0 ] || fail "run exited $RC: $(cat "$WORK/err")"

db="$WORK/nb.db"
expect_eq "job rows" 1000 "$(sql "$db" "SELECT count(*) FROM jobs")"
expect_eq "distinct job ids" 1000 "$(sql "$db" "SELECT count(DISTINCT job_id) FROM jobs")"
expect_eq "ok jobs" 1000 "$(sql "$db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"
expect_eq "one attempt each" 1000 "$(sql "$db" "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_rowid WHERE a.number = 1 AND a.http_status = 200")"
expect_eq "run status" done "$(sql "$db" "SELECT status FROM runs")"
expect_eq "every answer has text and a request id" 0 \
	"$(sql "$db" "SELECT count(*) FROM jobs WHERE output_text IS NULL OR output_text = '' OR request_id IS NULL OR latency_ms IS NULL")"

# The tokens recorded are the tokens the mock sent, answer by answer: the
# mock's request log and the database agree on every request id.
/usr/bin/python3 - "$WORK/mock.log" "$db" <<'PY' || fail "tokens differ from the mock's"
import json, sqlite3, sys
sent = {}
for line in open(sys.argv[1]):
    a = json.loads(line)
    sent[a["request_id"]] = (a["status"], a["input_tokens"], a["output_tokens"])
rows = sqlite3.connect(sys.argv[2]).execute(
    "SELECT request_id, http_status, input_tokens, output_tokens FROM jobs").fetchall()
assert len(sent) == 1000, f"the mock answered {len(sent)} requests"
bad = [r for r in rows if sent.get(r[0]) != tuple(r[1:])]
assert not bad, f"{len(bad)} jobs differ, e.g. {bad[0]} vs {sent.get(bad[0][0])}"
PY
expect_eq "total tokens" 0 "$(sql "$db" "SELECT count(*) FROM jobs WHERE input_tokens + output_tokens != total_tokens")"
expect_grep "summary" "1000 jobs, 1000 ok, 0 failed, 0 invalid" "$WORK/err"
echo "ok: 1000 jobs recorded once each"
