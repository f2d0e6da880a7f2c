# `report` and `export` on a database built with the sqlite3 CLI: the JSON
# shapes scripts rely on, run references, exit codes and messages, a full
# disk, and a report taken while a writer holds the database.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
db="$WORK/novabatch.db"
sqlite3 -batch "$db" <"$NB_SOURCE_DIR/schemas/store.sql" >/dev/null
sqlite3 -batch "$db" <<'SQL'
INSERT INTO runs (id, name, status, started_at, finished_at, version, endpoint, region,
                  concurrency, job_files, command_line, prices) VALUES
 (1, 'nightly', 'done', '2026-11-25T02:11:05.123Z', '2026-11-25T02:12:05.123Z', '0.1.0',
  'https://bedrock-runtime.us-east-1.amazonaws.com', 'us-east-1', 32, '[]', '[]', NULL),
 (2, 'nightly', 'done', '2026-11-26T02:11:05.000Z', '2026-11-26T02:11:07.500Z', '0.1.0',
  'http://127.0.0.1:4010', 'us-east-1', 4, '["jobs.jsonl"]', '[]', NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line, attempts,
                  output_text, stop_reason, input_tokens, output_tokens, latency_ms, ttft_ms)
SELECT 2, 'job-' || i, 'us.amazon.nova-lite-v1:0', 'ok', 'jobs.jsonl', i, 1, 'answer ' || i,
       'end_turn', 100, 50, 11 - i, NULL FROM n;
INSERT INTO jobs (id, run_id, job_id, model_id, status, source_file, source_line, attempts,
                  error_type, error_message) VALUES
 (100, 2, 'slow', 'us.amazon.nova-lite-v1:0', 'failed', 'jobs.jsonl', 11, 2,
  'ThrottlingException', 'Too many requests'),
 (101, 2, 'jobs.jsonl:12', '', 'invalid', 'jobs.jsonl', 12, 0, 'InvalidJobLine',
  'jobs.jsonl:12: not valid JSON');
INSERT INTO attempts (job_rowid, number, started_at, http_status, error_type) VALUES
 (100, 1, 't', 429, 'ThrottlingException'), (100, 2, 't', 429, 'ThrottlingException');
INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line)
 VALUES (1, 'old', 'amazon.nova-pro-v1:0', 'pending', 'old.jsonl', 1);
SQL

# report --format json: the documented shape and the numbers.
run_nb report --db "$db" --format json
[ "$RC" -eq 0 ] || fail "report exited $RC: $(cat "$WORK/err")"
$PY - "$WORK/out" <<'PY' || fail "report json: $(cat "$WORK/out")"
import json, sys
doc = json.load(open(sys.argv[1]))
run = doc["run"]
assert {"id", "name", "status", "started_at", "finished_at"} <= run.keys(), run
assert (run["id"], run["name"], run["status"]) == (2, "nightly", "done"), run
assert run["duration_ms"] == 2500, run
models = doc["models"]
assert [m["model_id"] for m in models] == ["us.amazon.nova-lite-v1:0", ""], models
lite, none = models
want = {"jobs": 11, "ok": 10, "failed": 1, "invalid": 0, "attempts": 12, "throttled": 2,
        "input_tokens": 1000, "output_tokens": 500}
assert {k: lite[k] for k in want} == want, lite
# 1000 x 0.00006 / 1000 + 500 x 0.00024 / 1000 USD
assert lite["cost_usd"] == 0.00018, lite["cost_usd"]
assert lite["latency_ms"] == {"p50": 5, "p90": 9, "p99": 10, "max": 10}, lite["latency_ms"]
assert lite["ttft_ms"] == {"p50": None, "p90": None, "p99": None}, lite["ttft_ms"]
assert (none["invalid"], none["cost_usd"]) == (1, 0), none
assert doc["errors"] == [
    {"type": "InvalidJobLine", "count": 1, "example": "jobs.jsonl:12: not valid JSON",
     "example_job_id": "jobs.jsonl:12", "example_model_id": ""},
    {"type": "ThrottlingException", "count": 1, "example": "Too many requests",
     "example_job_id": "slow", "example_model_id": "us.amazon.nova-lite-v1:0"}], doc["errors"]
PY

# Run references: a name (its latest run), an id, last~N; the table format.
run_nb report --db "$db" --run nightly --format json
expect_eq "report --run nightly" 2 "$($PY -c 'import json,sys; print(json.load(sys.stdin)["run"]["id"])' <"$WORK/out")"
run_nb report --db "$db" --run last~1
expect_eq "report --run last~1 exit" 0 "$RC"
expect_grep "table header" '^run 1 "nightly": done$' "$WORK/out"
expect_grep "table row" '^amazon\.nova-pro-v1:0 +1 +0 +0 +0 +1 +0 +0$' "$WORK/out"
run_nb report --db "$db" --run 2 -o "$WORK/report.txt"
expect_eq "report -o exit" 0 "$RC"
expect_eq "report -o leaves stdout empty" "" "$(cat "$WORK/out")"
expect_grep "report -o file" '^\(none\) ' "$WORK/report.txt"

# The default database is ./novabatch.db.
(cd "$WORK" && "$NOVABATCH" report --format json >"$WORK/out2")
expect_eq "default --db" 2 "$($PY -c 'import json,sys; print(json.load(sys.stdin)["run"]["id"])' <"$WORK/out2")"

# export --format jsonl: one object per job, in row order.
run_nb export --db "$db" --format jsonl
[ "$RC" -eq 0 ] || fail "export exited $RC: $(cat "$WORK/err")"
$PY - "$WORK/out" <<'PY' || fail "export jsonl: $(head -c 2000 "$WORK/out")"
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 12, len(rows)
keys = {"job_id", "model_id", "status", "attempts", "output_text", "stop_reason",
        "input_tokens", "output_tokens", "latency_ms", "ttft_ms", "error_type",
        "error_message", "cache_read_tokens", "cache_write_tokens", "request_id",
        "source_file", "source_line"}
for r in rows:
    assert keys <= r.keys(), keys - r.keys()
assert [r["job_id"] for r in rows[:2]] == ["job-1", "job-2"], rows[:2]
assert rows[0]["output_text"] == "answer 1" and rows[0]["latency_ms"] == 10, rows[0]
assert rows[0]["ttft_ms"] is None, rows[0]
assert rows[10]["error_type"] == "ThrottlingException", rows[10]
assert rows[11]["status"] == "invalid" and rows[11]["model_id"] == "", rows[11]
PY
run_nb export --db "$db" --run 1 -o "$WORK/old.jsonl"
expect_eq "export -o exit" 0 "$RC"
expect_eq "export -o lines" 1 "$(wc -l <"$WORK/old.jsonl")"

# Errors: exit 2 with a message a person can act on.
run_nb report --db "$db" -o /dev/full
expect_eq "report to a full disk" 2 "$RC"
expect_grep "report full disk message" "error: report: cannot write /dev/full: No space left on device" "$WORK/err"
run_nb export --db "$db" -o /dev/full
expect_eq "export to a full disk" 2 "$RC"
expect_grep "export full disk message" "error: export: cannot write /dev/full: No space left on device" "$WORK/err"
run_nb report --db "$db" -o "$WORK/no/such/dir/r.txt"
expect_eq "report to a missing folder" 2 "$RC"
expect_grep "missing folder message" "cannot write $WORK/no/such/dir/r.txt: No such file or directory" "$WORK/err"

run_nb report --db "$db" --run nope
expect_eq "unknown run" 2 "$RC"
expect_grep "unknown run message" "error: no run named 'nope' in .*novabatch.db$" "$WORK/err"
run_nb export --db "$db" --run 7
expect_eq "unknown run id" 2 "$RC"
expect_grep "unknown run id message" "error: no run with id 7 in " "$WORK/err"
run_nb report --db "$db" --run last~2
expect_eq "last~2 of two runs" 2 "$RC"
expect_grep "last~2 message" "error: no run 'last~2' in .*: it holds fewer runs" "$WORK/err"
run_nb report --db "$WORK/missing.db"
expect_eq "missing database" 2 "$RC"
expect_grep "missing database message" "error: cannot open database $WORK/missing.db" "$WORK/err"
[ ! -e "$WORK/missing.db" ] || fail "report created a database"

run_nb report --db "$db" --format xml
expect_eq "report --format xml" 2 "$RC"
expect_grep "report format message" "error: report: unknown format 'xml' \(use table, json, csv, md or html\)" "$WORK/err"
run_nb export --db "$db" --format xml
expect_eq "export --format xml" 2 "$RC"
expect_grep "export format message" "error: export: unknown format 'xml' \(use jsonl or csv\)" "$WORK/err"
run_nb report --db "$db" --bogus
expect_eq "unknown option" 2 "$RC"
expect_grep "unknown option message" "error: report: unknown option --bogus" "$WORK/err"
run_nb export --db
expect_eq "option without value" 2 "$RC"
expect_grep "option without value message" "error: export: option needs a value or is unknown: --db" "$WORK/err"
run_nb report --db "$db" 2
expect_eq "stray argument" 2 "$RC"
expect_grep "stray argument message" "error: report: unexpected argument '2' \(name the run with --run\)" "$WORK/err"

for cmd in report export; do
	run_nb "$cmd" --help
	expect_eq "$cmd --help" 0 "$RC"
	expect_grep "$cmd --help text" "^usage: novabatch $cmd \[options\]" "$WORK/out"
done

# A report works while a writer holds the database (WAL) and sees only what
# was committed.
$PY - "$db" "$NOVABATCH" <<'PY' || fail "report during a write"
import json, sqlite3, subprocess, sys
db, nb = sys.argv[1], sys.argv[2]
w = sqlite3.connect(db, isolation_level=None)
w.execute("BEGIN IMMEDIATE")
w.execute("INSERT INTO jobs (run_id, job_id, model_id, status, source_file, source_line)"
          " VALUES (2, 'uncommitted', 'us.amazon.nova-lite-v1:0', 'pending', 'j', 99)")
p = subprocess.run([nb, "report", "--db", db, "--format", "json"], capture_output=True,
                   text=True, timeout=60)
assert p.returncode == 0, p.stderr
assert json.loads(p.stdout)["models"][0]["jobs"] == 11, p.stdout
w.execute("ROLLBACK")
PY
echo "ok: report and export"
