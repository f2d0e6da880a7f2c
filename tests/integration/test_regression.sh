# Regression runs against the mock: expectations judged per job and model,
# `run --junit`, `compare` of two runs (identical, two prompts changed, an
# expectation newly failing, each threshold), `compare --across-models`, and
# the JUnit files read by a real parser (Debian's python3-junitparser).
#
# The latency and cost thresholds are tested on a copy of the database whose
# new run was edited with sqlite3 (latencies tripled, output tokens times
# ten): the mock's latencies are too small and noisy to decide a verdict.
# The pass-rate threshold is tested with real runs: the new run adds a
# failing expectation to a job that had none.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
LITE=us.amazon.nova-lite-v1:0
MICRO=us.amazon.nova-micro-v1:0
db="$WORK/nb.db"
start_mock

# jobs PROMPT2 PROMPT3 EXPECT4 EXPECT1: four jobs on lite and micro. Every
# expectation holds on the mock ("Mock answer from MODEL to: PROMPT") unless
# EXPECT1 or EXPECT4 say otherwise.
jobs() {
	local file=$1 p2=$2 p3=$3 e4=$4 e1=$5
	: >"$file"
	for m in "$LITE" "$MICRO"; do
		cat >>"$file" <<EOF
{"id": "p1", "modelId": "$m", "messages": [{"role": "user", "content": [{"text": "Name a prime"}]}], "expect": $e1}
{"id": "p2", "modelId": "$m", "messages": [{"role": "user", "content": [{"text": "$p2"}]}], "expect": {"regex": "^Mock answer from [a-z.:0-9-]+ to: ", "stop_reason": "end_turn", "max_output_tokens": 50}}
{"id": "p3", "modelId": "$m", "messages": [{"role": "user", "content": [{"text": "$p3"}]}], "expect": {"not_contains": ["I cannot"]}}
{"id": "p4", "modelId": "$m", "messages": [{"role": "user", "content": [{"text": "Say hi"}]}]${e4:+, \"expect\": $e4}}
EOF
	done
}
good='{"contains": ["prime", "Mock answer"]}'

run() {
	run_nb run --db "$db" --endpoint-url "$MOCK_URL" --no-progress "$@"
}

# junit FILE TESTS FAILURES [PATTERN]: the file parses, with that many
# testcases and failures; PATTERN, when given, is in a failure's message.
junit() {
	$PY - "$@" <<'PY' || fail "JUnit file $1: $(cat "$1")"
import sys
from junitparser import JUnitXml, Failure
path, tests, failures = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pattern = sys.argv[4] if len(sys.argv) > 4 else None
xml = JUnitXml.fromfile(path)
cases = [c for s in xml for c in s]
failed = [r for c in cases for r in c.result if isinstance(r, Failure)]
assert len(cases) == tests, (len(cases), tests)
assert len(failed) == failures, [r.message for r in failed]
for s in xml:
    assert s.tests == len(list(s)), (s.name, s.tests)
    assert s.failures == sum(isinstance(r, Failure) for c in s for r in c.result), s.name
    assert all(c.classname == s.name for c in s), s.name
if pattern:
    assert any(pattern in r.message for r in failed), [r.message for r in failed]
PY
}

# A job whose expectation fails: run exits 1, says which, and its JUnit
# file fails that testcase, naming the assertion.
jobs "$WORK/fail.jsonl" "Two" "Three" '{"contains": ["Paris"]}' "$good"
run --run-name failing --junit "$WORK/fail.xml" "$WORK/fail.jsonl"
expect_eq "run with a failed expectation exits" 1 "$RC"
expect_grep "the failed assertion is told" "job 'p4' on $LITE: expect.contains failed: the output does not contain \"Paris\"" "$WORK/err"
expect_grep "the summary counts it" "2 of 8 jobs with expectations failed them" "$WORK/err"
expect_eq "jobs stay ok" 8 "$(sql "$db" "SELECT count(*) FROM jobs WHERE run_id = 1 AND status = 'ok'")"
expect_eq "verdicts" "failed|2
passed|6" "$(sql "$db" "SELECT expect_status, count(*) FROM jobs WHERE run_id = 1 GROUP BY 1")"
expect_eq "failures stored" '[{"assertion":"contains","message":"the output does not contain \"Paris\""}]' \
	"$(sql "$db" "SELECT expect_failures FROM jobs WHERE run_id = 1 AND job_id = 'p4' AND model_id = '$LITE'")"
junit "$WORK/fail.xml" 8 2 'expect.contains: the output does not contain "Paris"'

# report shows the pass rate per model.
run_nb report --db "$db" --run failing --format json
expect_eq "report exits" 0 "$RC"
$PY - "$WORK/out" <<'PY' || fail "report json: $(cat "$WORK/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
e = {m["model_id"]: m["expectations"] for m in doc["models"]}
assert e["us.amazon.nova-lite-v1:0"] == {"jobs": 4, "passed": 3, "failed": 1, "pass_rate": 75.0}, e
assert doc["totals"]["expectations"]["failed"] == 2, doc["totals"]
PY
run_nb report --db "$db" --run failing
expect_grep "report table" "^$LITE +4 +3 +1 +75\.0%$" "$WORK/out"

# Two identical runs: no regression, even with --fail-on-output-change.
jobs "$WORK/base.jsonl" "Two" "Three" "" "$good"
run --run-name base --junit "$WORK/run.xml" "$WORK/base.jsonl"
expect_eq "base run exits" 0 "$RC"
junit "$WORK/run.xml" 8 0
run --run-name same "$WORK/base.jsonl"
expect_eq "same run exits" 0 "$RC"
run_nb compare base same --db "$db" --fail-on-output-change --junit "$WORK/same.xml"
expect_eq "identical runs compare" 0 "$RC"
expect_grep "verdict" "^verdict: no regression$" "$WORK/out"
junit "$WORK/same.xml" 8 0

# Two prompts changed: compare lists exactly those jobs on each model, and
# fails with --fail-on-output-change only.
jobs "$WORK/changed.jsonl" "Two, changed" "Three, changed" "" "$good"
run --run-name changed "$WORK/changed.jsonl"
expect_eq "changed run exits" 0 "$RC"
run_nb compare base changed --db "$db" --format json
expect_eq "changed outputs alone are no regression" 0 "$RC"
$PY - "$WORK/out" <<'PY' || fail "compare json: $(cat "$WORK/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
got = sorted((j["model_id"], j["job_id"]) for j in doc["jobs"])
want = sorted((m, j) for m in ("us.amazon.nova-lite-v1:0", "us.amazon.nova-micro-v1:0")
              for j in ("p2", "p3"))
assert got == want, got
assert all(j["output_changed"] and not j["newly_failing"] for j in doc["jobs"]), doc["jobs"]
p2 = [j for j in doc["jobs"] if j["job_id"] == "p2"][0]
assert p2["base"]["output_excerpt"].endswith("to: Two"), p2
assert p2["new"]["output_excerpt"].endswith("to: Two, changed"), p2
assert [m["outputs_changed"] for m in doc["models"]] == [2, 2], doc["models"]
assert doc["regression"] is False and doc["breaches"] == [], doc
PY
run_nb compare base changed --db "$db" --fail-on-output-change --format md --junit "$WORK/changed.xml"
expect_eq "changed outputs with --fail-on-output-change" 1 "$RC"
expect_grep "md verdict" '^\*\*Regression\*\* \(2\):$' "$WORK/out"
expect_grep "md names the jobs" "fail-on-output-change: 2 outputs changed: p2, p3" "$WORK/out"
expect_grep "md shows both outputs" "^- new: Mock answer from us\.amazon\.nova-lite-v1:0 to: Two, changed$" "$WORK/out"
junit "$WORK/changed.xml" 8 4 "output changed (--fail-on-output-change)"

# An expectation newly failing is a regression with no flag at all.
jobs "$WORK/broken.jsonl" "Two" "Three" "" '{"contains": ["composite"]}'
run --run-name broken "$WORK/broken.jsonl"
expect_eq "broken run exits" 1 "$RC"
run_nb compare base broken --db "$db" --junit "$WORK/broken.xml"
expect_eq "newly failing" 1 "$RC"
expect_grep "table names it" "newly-failing: 1 job passed its expectations in the base run and fails them now: p1" "$WORK/out"
junit "$WORK/broken.xml" 8 2 'regression: expect.contains: the output does not contain "composite"'

# --max-pass-rate-drop: p4 gains an expectation that fails (3 of 3 passed,
# then 3 of 4: 25 points down, and no job newly failing).
jobs "$WORK/added.jsonl" "Two" "Three" '{"equals": "hi"}' "$good"
run --run-name added "$WORK/added.jsonl"
run_nb compare base added --db "$db"
expect_eq "a pass-rate drop alone" 0 "$RC"
run_nb compare base added --db "$db" --max-pass-rate-drop 30
expect_eq "a drop within the threshold" 0 "$RC"
run_nb compare base added --db "$db" --max-pass-rate-drop 10 --junit "$WORK/drop.xml"
expect_eq "a drop over the threshold" 1 "$RC"
expect_grep "names the threshold" "max-pass-rate-drop: pass rate 100\.0% -> 75\.0% \(25\.0 points down\)" "$WORK/out"
junit "$WORK/drop.xml" 10 2 "--max-pass-rate-drop: pass rate 100.0% -> 75.0%"

# Latency and cost: the same run, edited in a copy of the database.
cp "$db" "$WORK/edited.db"
new=$(sql "$WORK/edited.db" "SELECT id FROM runs WHERE name = 'same'")
sql "$WORK/edited.db" "UPDATE jobs SET latency_ms = latency_ms * 3 + 100,
	output_tokens = output_tokens * 10 WHERE run_id = $new"
run_nb compare base same --db "$WORK/edited.db" --max-latency-regression 1000000
expect_eq "latency within the threshold" 0 "$RC"
run_nb compare base same --db "$WORK/edited.db" --max-latency-regression 50
expect_eq "latency over the threshold" 1 "$RC"
expect_grep "latency breach" "max-latency-regression: p90 latency" "$WORK/out"
run_nb compare base same --db "$WORK/edited.db" --max-cost-regression 100000
expect_eq "cost within the threshold" 0 "$RC"
run_nb compare base same --db "$WORK/edited.db" --max-cost-regression 20 --format json
expect_eq "cost over the threshold" 1 "$RC"
$PY - "$WORK/out" <<'PY' || fail "compare json: $(cat "$WORK/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [b["threshold"] for b in doc["breaches"]] == ["max-cost-regression"] * 2, doc["breaches"]
assert all(m["change"]["cost_pct"] > 20 for m in doc["models"]), doc["models"]
PY

# --across-models: one row per job, a column per model.
run_nb compare --across-models failing --db "$db" --format json
expect_eq "across models exits" 0 "$RC"
$PY - "$WORK/out" <<'PY' || fail "across json: $(cat "$WORK/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [j["job_id"] for j in doc["jobs"]] == ["p1", "p2", "p3", "p4"], doc["jobs"]
p4 = doc["jobs"][3]["models"]
assert p4["us.amazon.nova-lite-v1:0"]["expect_status"] == "failed", p4
assert all(m["pass_rate"] == 75.0 for m in doc["models"]), doc["models"]
PY
run_nb compare --across-models failing --db "$db"
expect_grep "across table" "^p4 +FAIL" "$WORK/out"

# Usage errors exit 2 and write nothing.
run_nb compare base --db "$db"
expect_eq "one run" 2 "$RC"
expect_grep "one run message" "name two runs, BASE and NEW" "$WORK/err"
run_nb compare base nosuch --db "$db" --junit "$WORK/none.xml"
expect_eq "unknown run" 2 "$RC"
expect_grep "unknown run message" "no run named 'nosuch'" "$WORK/err"
[ ! -e "$WORK/none.xml" ] || fail "a failed compare wrote its JUnit file"
run_nb compare base same --db "$db" --max-cost-regression lots
expect_eq "bad percentage" 2 "$RC"
run_nb compare --across-models base --db "$db" --fail-on-output-change
expect_eq "thresholds with --across-models" 2 "$RC"
run_nb compare base same --db "$db" -o /dev/full
expect_eq "full disk" 2 "$RC"
expect_grep "full disk message" "cannot write /dev/full" "$WORK/err"
run --junit "$WORK/no/such/dir.xml" "$WORK/base.jsonl"
expect_eq "run --junit to a bad path" 2 "$RC"
expect_eq "nothing was run" 6 "$(sql "$db" "SELECT count(*) FROM runs")"

# The example file's expectations hold on the mock (the demo runs it).
run --run-name example "$NB_SOURCE_DIR/jobs/examples/regression.jsonl"
expect_eq "the example regression file passes on the mock" 0 "$RC"
expect_grep "all passed" "all 6 jobs with expectations passed them" "$WORK/err"
