# Graceful shutdown: SIGINT or SIGTERM lets the requests in flight end and
# marks the run interrupted (exit 130); a second signal, or the end of
# --grace, aborts them, recorded as Interrupted and not as failures. Reports
# read the database while a run writes it. A resume finishes the job.
. "$(dirname "$0")/lib.sh"

jobs() { # COUNT FILE
	for i in $(seq 1 "$1"); do
		printf '{"id":"j%d","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"question %d"}]}]}\n' "$i" "$i"
	done >"$2"
}
jobs 60 "$WORK/jobs.jsonl"

# start_run DB [OPTIONS]: starts a run in the background, in PID.
start_run() {
	local db=$1
	shift
	"$NOVABATCH" run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --concurrency 4 \
		--commit-interval-ms 20 --no-progress "$@" >"$WORK/run.out" 2>"$WORK/run.err" &
	PID=$!
}
# wait_for WHAT COMMAND...: waits until the command succeeds.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 1 1500); do
		"$@" && return 0
		kill -0 "$PID" 2>/dev/null || fail "the run ended while waiting for $what"
		sleep 0.02
	done
	fail "waited 30 s for $what"
}
rows_at_least() { [ "$(sql "$1" "SELECT count(*) FROM jobs WHERE status = '$2'" 2>/dev/null || echo 0)" -ge "$3" ]; }
# A mock that still sleeps on answers would take that long to shut down.
stop_mock() {
	kill -KILL "$MOCK_PID"
	wait "$MOCK_PID" 2>/dev/null || true
}
finish_run() {
	set +e
	wait "$PID"
	RC=$?
	set -e
}

# One SIGINT: what is in flight ends and is recorded; exit 130.
start_mock --latency-ms 100
db="$WORK/int.db"
start_run "$db"
wait_for "8 ok jobs" rows_at_least "$db" ok 8
# A report and an export work while the run writes.
"$NOVABATCH" report --db "$db" --format json >"$WORK/live.json" || fail "report during a run"
"$NOVABATCH" export --db "$db" >"$WORK/live.jsonl" || fail "export during a run"
expect_grep "the live report sees the run running" '"status": ?"running"' "$WORK/live.json"
kill -INT "$PID"
finish_run
expect_eq "SIGINT: exit" 130 "$RC"
expect_grep "SIGINT: said" "SIGINT: no new requests; waiting up to 30 s" "$WORK/run.err"
expect_grep "SIGINT: how to go on" "run 1 interrupted by SIGINT; to go on: novabatch run --db .* --resume=1" "$WORK/run.err"
expect_eq "SIGINT: run interrupted" "interrupted" "$(sql "$db" "SELECT status FROM runs")"
expect_eq "SIGINT: no attempt aborted" 0 "$(sql "$db" "SELECT count(*) FROM attempts WHERE error_type = 'Interrupted'")"
expect_eq "SIGINT: no job failed" 0 "$(sql "$db" "SELECT count(*) FROM jobs WHERE status = 'failed'")"
[ "$(sql "$db" "SELECT count(*) FROM jobs WHERE status = 'ok'")" -lt 60 ] || fail "SIGINT came after the end"
run_nb run --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume
expect_eq "SIGINT, resumed: exit" 0 "$RC"
expect_eq "SIGINT, resumed: all ok" "60|60|done" "$(sql "$db" "SELECT count(*), sum(status = 'ok'), (SELECT status FROM runs) FROM jobs")"

# Two SIGINTs: the second aborts what is in flight. The answers take 30 s,
# so only an abort ends this run soon.
stop_mock
start_mock --latency-ms 30000
db="$WORK/abort.db"
start_run "$db"
wait_for "jobs recorded" rows_at_least "$db" pending 4
kill -INT "$PID"
wait_for "the first signal to be heard" grep -q "SIGINT: no new requests" "$WORK/run.err"
kill -INT "$PID"
finish_run
expect_eq "two signals: exit" 130 "$RC"
expect_grep "two signals: said" "aborting the requests in flight" "$WORK/run.err"
expect_eq "two signals: run interrupted" "interrupted" "$(sql "$db" "SELECT status FROM runs")"
expect_eq "two signals: 4 attempts recorded as interrupted" "4|4" "$(sql "$db" "SELECT count(*), sum(error_type = 'Interrupted' AND transport_error LIKE 'aborted%') FROM attempts")"
expect_eq "two signals: every job pending, none failed" "pending" "$(sql "$db" "SELECT group_concat(DISTINCT status) FROM jobs")"

# The resume sends the aborted jobs again; their attempts number on.
stop_mock
start_mock
run_nb run --db "$db" --endpoint-url "$MOCK_URL" --no-progress --resume
expect_eq "aborted, resumed: exit" 0 "$RC"
expect_eq "aborted, resumed: all ok" "60|60" "$(sql "$db" "SELECT count(*), sum(status = 'ok') FROM jobs")"
expect_eq "aborted jobs: two attempts each" 4 "$(sql "$db" "SELECT count(*) FROM jobs WHERE attempts = 2")"

# --grace, after SIGTERM: once it runs out, the requests in flight are aborted.
stop_mock
start_mock --latency-ms 30000
db="$WORK/grace.db"
start_run "$db" --grace 1
wait_for "jobs recorded" rows_at_least "$db" pending 4
kill -TERM "$PID"
finish_run
expect_eq "grace: exit" 130 "$RC"
expect_grep "grace: SIGTERM heard" "SIGTERM: no new requests" "$WORK/run.err"
expect_grep "grace: said" "waiting up to 1 s for the 4 in flight" "$WORK/run.err"
expect_eq "grace: 4 attempts interrupted" 4 "$(sql "$db" "SELECT count(*) FROM attempts WHERE error_type = 'Interrupted'")"
stop_mock
