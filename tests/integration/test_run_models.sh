# Models by alias and the Pro/Lite/Micro matrix: "model", "models", --model
# and --models, resolved for the region, one job row per job and model.
. "$(dirname "$0")/lib.sh"

start_mock --log "$WORK/mock.log"
msg='"messages":[{"role":"user","content":[{"text":"hello"}]}]'
{
	printf '{"id":"alias",%s,"model":"lite"}\n' "$msg"
	printf '{"id":"list",%s,"models":["pro","micro"]}\n' "$msg"
	printf '{"id":"plain",%s,"modelId":"amazon.nova-lite-v1:0"}\n' "$msg"
	printf '{"id":"default",%s}\n' "$msg"
} >"$WORK/jobs.jsonl"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/a.db" --endpoint-url "$MOCK_URL" --no-progress --model micro
expect_eq "aliases: exit" 0 "$RC"
expect_eq "aliases: one row per job and model" "alias|us.amazon.nova-lite-v1:0|ok
default|us.amazon.nova-micro-v1:0|ok
list|us.amazon.nova-micro-v1:0|ok
list|us.amazon.nova-pro-v1:0|ok
plain|amazon.nova-lite-v1:0|ok" "$(sql "$WORK/a.db" "SELECT job_id, model_id, status FROM jobs ORDER BY job_id, model_id")"
expect_eq "the mock saw each model" "amazon.nova-lite-v1:0
us.amazon.nova-lite-v1:0
us.amazon.nova-micro-v1:0
us.amazon.nova-micro-v1:0
us.amazon.nova-pro-v1:0" "$(/usr/bin/python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["model_id"] for l in open(sys.argv[1]))))' "$WORK/mock.log")"

# --models: every line on each model, in place of its own; another region
# calls another profile.
run_nb run "$WORK/jobs.jsonl" --db "$WORK/b.db" --endpoint-url "$MOCK_URL" --no-progress \
	--region eu-west-1 --models pro,lite,micro
expect_eq "--models: exit" 0 "$RC"
expect_eq "--models: 4 lines x 3 models" "eu.amazon.nova-lite-v1:0|4
eu.amazon.nova-micro-v1:0|4
eu.amazon.nova-pro-v1:0|4" "$(sql "$WORK/b.db" "SELECT model_id, count(*) FROM jobs WHERE status = 'ok' GROUP BY model_id")"
"$NOVABATCH" report --db "$WORK/b.db" --format json >"$WORK/b.json"
expect_eq "--models: the report prices each profile" "3" "$(/usr/bin/python3 -c 'import json,sys; print(sum(1 for m in json.load(open(sys.argv[1]))["models"] if float(m["cost_usd"]) > 0))' "$WORK/b.json")"

# Wrong names: a usage error before anything is recorded.
run_nb run "$WORK/jobs.jsonl" --db "$WORK/c.db" --endpoint-url "$MOCK_URL" --models pro,mega
expect_eq "--models mega: exit" 2 "$RC"
expect_grep "--models mega: message" "--models: 'mega' is not a model alias \(aliases: micro, lite, pro, premier\) nor a model id" "$WORK/err"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/c.db" --endpoint-url "$MOCK_URL" --models pro,,lite
expect_eq "--models empty name: exit" 2 "$RC"
expect_grep "--models empty name: message" "--models: a model name is empty" "$WORK/err"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/c.db" --endpoint-url "$MOCK_URL" --model gigantic
expect_eq "--model unknown: exit" 2 "$RC"
[ ! -e "$WORK/c.db" ] || fail "a database was created for a refused command line"

# A line with an unknown alias is invalid; the others run.
printf '{"id":"bad",%s,"model":"mega"}\n' "$msg" >>"$WORK/jobs.jsonl"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/d.db" --endpoint-url "$MOCK_URL" --no-progress --model micro
expect_eq "unknown alias on a line: exit" 1 "$RC"
expect_eq "unknown alias on a line: recorded" "bad|invalid|jobs.jsonl:5: field 'model': 'mega' is not a model alias (aliases: micro, lite, pro, premier) nor a model id" \
	"$(sql "$WORK/d.db" "SELECT job_id, status, replace(error_message, '$WORK/', '') FROM jobs WHERE status != 'ok'")"
expect_eq "unknown alias on a line: the rest ran" 5 "$(sql "$WORK/d.db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"
