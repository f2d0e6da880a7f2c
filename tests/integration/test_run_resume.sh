# Resume: a run continues in its own row, skips what it recorded, runs what
# it did not, re-runs what changed, and never pays twice for a result.
. "$(dirname "$0")/lib.sh"

model=us.amazon.nova-lite-v1:0
jobs() { # COUNT FILE
	for i in $(seq 1 "$1"); do
		printf '{"id":"j%d","modelId":"%s","messages":[{"role":"user","content":[{"text":"question %d"}]}],"inferenceConfig":{"maxTokens":50}}\n' "$i" "$model" "$i"
	done >"$2"
}
answered() { wc -l <"$WORK/mock.log"; }

# j5 fails for good the first time it is sent, and passes the second time.
echo '{"j5": [400, 200]}' >"$WORK/plan.json"
start_mock --plan "$WORK/plan.json" --log "$WORK/mock.log"
db="$WORK/r.db"
jobs 40 "$WORK/jobs.jsonl"
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --no-progress --run-name nightly
expect_eq "first session: exit (j5 failed)" 1 "$RC"
expect_eq "first session: statuses" "failed|1
ok|39" "$(sql "$db" "SELECT status, count(*) FROM jobs GROUP BY status")"
expect_eq "first session: requests" 40 "$(answered)"

# Resuming a finished run by name, without job files: the run's own files
# are read, every job is skipped, nothing is sent.
run_nb run --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume nightly
expect_eq "resume of a finished run: exit (j5 still failed)" 1 "$RC"
expect_grep "the summary counts the recorded jobs" "40 jobs \(40 recorded earlier\), 39 ok, 1 failed" "$WORK/err"
expect_eq "nothing sent again" 40 "$(answered)"
expect_eq "one run row, two sessions" "1|done|2" "$(sql "$db" "SELECT id, status, sessions FROM runs")"

# --retry-failed sends j5 again, and only j5; its attempts number on.
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume --retry-failed
expect_eq "retry-failed: exit" 0 "$RC"
expect_eq "retry-failed: one request" 41 "$(answered)"
expect_eq "j5 ok after its second attempt" "ok|2" "$(sql "$db" "SELECT status, attempts FROM jobs WHERE job_id = 'j5'")"
expect_eq "j5's attempts" "1|ValidationException
2|" "$(sql "$db" "SELECT a.number, coalesce(a.error_type, '') FROM attempts a JOIN jobs j ON j.id = a.job_rowid WHERE j.job_id = 'j5' ORDER BY a.number")"

# An edited line and an added one: both run, the rest is skipped, and the
# edit is reported.
sed -i 's/question 7"/question seven"/' "$WORK/jobs.jsonl"
printf '{"id":"j41","modelId":"%s","messages":[{"role":"user","content":[{"text":"question 41"}]}]}\n' "$model" >>"$WORK/jobs.jsonl"
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume=1
expect_eq "edited and added: exit" 0 "$RC"
expect_grep "the edit is reported" "jobs.jsonl:7: job 'j7' on $model is not the request this run recorded \(it was ok\); running it again" "$WORK/err"
expect_eq "edited and added: two requests" 43 "$(answered)"
expect_eq "j7 holds the edited answer" "1" "$(sql "$db" "SELECT count(*) FROM jobs WHERE job_id = 'j7' AND output_text LIKE '%question seven'")"
expect_eq "41 jobs, all ok, in one run" "1|41|41" "$(sql "$db" "SELECT count(DISTINCT run_id), count(*), sum(status = 'ok') FROM jobs")"
expect_eq "four sessions" 4 "$(sql "$db" "SELECT sessions FROM runs")"

# Invalid lines and duplicate ids keep their rows across a resume.
{
	printf '{"id":"d1","modelId":"%s","messages":[{"role":"user","content":[{"text":"one"}]}]}\n' "$model"
	printf '{"id":"d1","modelId":"%s","messages":[{"role":"user","content":[{"text":"two"}]}]}\n' "$model"
	printf '{"id":"bad","modelId":"%s","messages":"not a list"}\n' "$model"
} >"$WORK/dup.jsonl"
db2="$WORK/dup.db"
run_nb run "$WORK/dup.jsonl" --db "$db2" --endpoint-url "$MOCK_URL" --no-progress
expect_eq "duplicates: exit" 1 "$RC"
before=$(answered)
rows="$(sql "$db2" "SELECT job_id, status FROM jobs ORDER BY id")"
run_nb run --db "$db2" --endpoint-url "$MOCK_URL" --no-progress --resume
expect_eq "duplicates, resumed: exit" 1 "$RC"
expect_eq "duplicates, resumed: the same rows" "$rows" "$(sql "$db2" "SELECT job_id, status FROM jobs ORDER BY id")"
expect_eq "duplicates, resumed: nothing sent" "$before" "$(answered)"
# The invalid line, fixed, runs.
sed -i 's/"messages":"not a list"/"messages":[{"role":"user","content":[{"text":"fixed"}]}]/' "$WORK/dup.jsonl"
run_nb run --db "$db2" --endpoint-url "$MOCK_URL" --no-progress --resume
expect_eq "fixed line: ok" "ok" "$(sql "$db2" "SELECT status FROM jobs WHERE job_id = 'bad'")"
expect_eq "fixed line: one request" "$((before + 1))" "$(answered)"

# Bad uses of --resume.
run_nb run --db "$WORK/none.db" --endpoint-url "$MOCK_URL" --resume
expect_eq "no database: exit" 2 "$RC"
expect_grep "no database: message" "no database .*none.db to resume a run from" "$WORK/err"
[ ! -e "$WORK/none.db" ] || fail "a database was created by a failed --resume"
run_nb run --db "$db" --endpoint-url "$MOCK_URL" --resume=nosuch
expect_eq "no such run: exit" 2 "$RC"
expect_grep "no such run: message" "no run named 'nosuch'" "$WORK/err"
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --retry-failed
expect_eq "--retry-failed alone: exit" 2 "$RC"
expect_grep "--retry-failed alone: message" "only with --resume" "$WORK/err"
expect_eq "no new run row for a refused command" 1 "$(sql "$db" "SELECT count(*) FROM runs")"

# Crash safety: 1,500 jobs, killed with SIGKILL at three moments and resumed
# each time. Every job ends ok exactly once, in one run, with its own answer,
# and the requests sent again stay within the documented bound: per crash,
# the window in flight plus one uncommitted batch.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
rm -f "$WORK/mock.log"
start_mock --latency-ms 10 --log "$WORK/mock.log"
jobs 1500 "$WORK/big.jsonl"
big="$WORK/big.db"
conc=16 batch=64
opts=(--db "$big" --endpoint-url "$MOCK_URL" --concurrency "$conc" --batch-size "$batch" --no-progress --quiet)
ok_rows() { sql "$big" "SELECT count(*) FROM jobs WHERE status = 'ok'" 2>/dev/null || echo 0; }
resume=()
for stage in 0 1 2; do
	target=$((stage * 450 + 50 + RANDOM % 350))
	"$NOVABATCH" run "$WORK/big.jsonl" "${resume[@]}" "${opts[@]}" 2>>"$WORK/big.err" &
	pid=$!
	while [ "$(ok_rows)" -lt "$target" ]; do
		kill -0 "$pid" 2>/dev/null || fail "the run ended before $target jobs were recorded"
		sleep 0.01
	done
	# Then a random number of answers more, to land anywhere in a batch.
	more=$(($(answered) + RANDOM % 60))
	while [ "$(answered)" -lt "$more" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.005; done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	resume=(--resume)
done
run_nb run "$WORK/big.jsonl" --resume "${opts[@]}"
expect_eq "after three kills: exit" 0 "$RC"
expect_eq "after three kills: one run" "1|done|4" "$(sql "$big" "SELECT count(*), max(status), max(sessions) FROM runs")"
expect_eq "after three kills: 1500 rows, all ok" "1500|1500" "$(sql "$big" "SELECT count(*), sum(status = 'ok') FROM jobs")"
expect_eq "every answer is its own job's" 0 "$(sql "$big" "SELECT count(*) FROM jobs WHERE output_text NOT LIKE '%to: question ' || substr(job_id, 2)")"
sent=$(answered)
bound=$((1500 + 3 * (conc + batch)))
[ "$sent" -ge 1500 ] && [ "$sent" -le "$bound" ] || fail "the mock answered $sent requests; the bound is $bound"
echo "crash test: $sent requests for 1500 jobs (bound $bound)"
