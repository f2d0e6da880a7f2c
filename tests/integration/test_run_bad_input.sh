# Bad lines become invalid rows naming file, line and field; the other lines
# run; exit 1. Errors found before anything is sent exit 2.
. "$(dirname "$0")/lib.sh"

start_mock
good='"messages":[{"role":"user","content":[{"text":"hi"}]}]'
cat >"$WORK/mixed.jsonl" <<JOBS
{"id":"good-1","modelId":"us.amazon.nova-lite-v1:0",$good}
this is not json
{"id":"no-messages","modelId":"us.amazon.nova-lite-v1:0"}

{"id":"wrong-type","modelId":"us.amazon.nova-lite-v1:0","messages":"hello"}
{"id":"no-model",$good}
{"id":"good-2","modelId":"us.amazon.nova-micro-v1:0",$good,"inferenceConfig":{"maxTokens":5}}
{"id":"good-1","modelId":"us.amazon.nova-lite-v1:0",$good}
JOBS

run_nb run "$WORK/mixed.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --no-progress
expect_eq "exit code" 1 "$RC"
db="$WORK/nb.db"
f="$WORK/mixed.jsonl"
expect_eq "ok rows" "good-1
good-2" "$(sql "$db" "SELECT job_id FROM jobs WHERE status = 'ok' ORDER BY job_id")"
expect_eq "invalid rows" "$f:2|2|$f:2: not valid JSON: '[' or '{' expected near 'this' (column 4)
$f:8|8|$f:8: field 'id': 'good-1' is already used by an earlier line for model us.amazon.nova-lite-v1:0; ids must be unique in a run
no-messages|3|$f:3: field 'messages': missing; a job needs a messages array
no-model|6|$f:6: field 'modelId': missing; name a model (modelId, model or models) on the line or give --model
wrong-type|5|$f:5: field 'messages': must be an array (found a string)" \
	"$(sql "$db" "SELECT job_id, source_line, error_message FROM jobs WHERE status = 'invalid' ORDER BY job_id")"
expect_eq "no request for invalid lines" 2 "$(sql "$db" "SELECT count(*) FROM attempts")"
expect_grep "stderr names the line" "error: $f:3: field 'messages': missing" "$WORK/err"
expect_grep "summary" "7 jobs, 2 ok, 0 failed, 5 invalid" "$WORK/err"

# --model serves lines without one.
run_nb run "$WORK/mixed.jsonl" --db "$WORK/nb2.db" --endpoint-url "$MOCK_URL" --model amazon.nova-pro-v1:0 --no-progress
expect_eq "exit code with --model" 1 "$RC"
expect_eq "no-model ran on --model" "ok|amazon.nova-pro-v1:0" \
	"$(sql "$WORK/nb2.db" "SELECT status, model_id FROM jobs WHERE job_id = 'no-model'")"

# Errors before anything is sent: exit 2, nothing recorded.
run_nb run "$WORK/missing.jsonl" --db "$WORK/nb3.db" --endpoint-url "$MOCK_URL"
expect_eq "missing job file" 2 "$RC"
expect_grep "missing job file message" "error: job file $WORK/missing.jsonl: No such file or directory" "$WORK/err"
[ ! -e "$WORK/nb3.db" ] || fail "a database was created for a run that never started"

run_nb run "$f" --concurrency 0 --endpoint-url "$MOCK_URL"
expect_eq "bad option value" 2 "$RC"
expect_grep "bad option message" "error: --concurrency: '0' is not a whole number from 1 to 4096" "$WORK/err"

run_nb run "$f" --bogus
expect_eq "unknown option" 2 "$RC"
expect_grep "unknown option message" "unknown option --bogus" "$WORK/err"

run_nb run --db "$WORK/nb4.db"
expect_eq "no job file" 2 "$RC"
expect_grep "no job file message" "error: run: no job file given" "$WORK/err"

run_nb run "$f" --db "$WORK/no/such/dir/nb.db" --endpoint-url "$MOCK_URL"
expect_eq "unwritable database" 2 "$RC"
expect_grep "unwritable database message" "error: cannot open database $WORK/no/such/dir/nb.db" "$WORK/err"

run_nb run "$f" --db "$WORK/nb5.db" --endpoint-url "ftp://127.0.0.1/"
expect_eq "bad endpoint" 2 "$RC"
expect_grep "bad endpoint message" "must start with http:// or https://" "$WORK/err"

(unset AWS_SECRET_ACCESS_KEY; run_nb run "$f" --db "$WORK/nb6.db" --endpoint-url "$MOCK_URL"; expect_eq "no credentials" 2 "$RC")
expect_grep "no credentials message" "error: credentials: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" "$WORK/err"

run_nb run --help
expect_eq "help" 0 "$RC"
expect_grep "help text" "^usage: novabatch run" "$WORK/out"
echo "ok: bad input"
