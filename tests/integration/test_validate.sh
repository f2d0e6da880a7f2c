# validate: the example job files pass; a bad file gets one message per
# problem, the same ones `run` records; every example line also follows
# schemas/job.schema.json.
. "$(dirname "$0")/lib.sh"

examples=("$NB_SOURCE_DIR"/jobs/examples/*.jsonl)
for f in "${examples[@]}"; do
	run_nb validate "$f"
	expect_eq "validate $(basename "$f"): exit" 0 "$RC"
	expect_grep "validate $(basename "$f"): counts" "^[0-9]+ lines?: [0-9]+ jobs? to run, 0 invalid$" "$WORK/out"
done
/usr/bin/python3 - "$NB_SOURCE_DIR/schemas/job.schema.json" "${examples[@]}" <<'PY' || fail "an example line does not follow the schema"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for path in sys.argv[2:]:
    for n, line in enumerate(open(path), 1):
        if line.strip():
            errors = list(v.iter_errors(json.loads(line)))
            assert not errors, f"{path}:{n}: {errors[0].message}"
PY

# A file with problems: each is named; the valid lines are counted and priced.
msg='"messages":[{"role":"user","content":[{"text":"0123456789abcdef"}]}]'
{
	printf '{"id":"a","model":"lite",%s,"inferenceConfig":{"maxTokens":100}}\n' "$msg"
	printf 'not json\n'
	printf '{"id":"a","model":"lite",%s}\n' "$msg"
	printf '{"id":"b","models":["pro","micro"],%s,"inferenceConfig":{"maxTokens":100}}\n' "$msg"
	printf '{"id":"c","model":"mega",%s}\n' "$msg"
	printf '{"id":"d","modelId":"us.amazon.nova-lite-v1:0","messages":"hi"}\n'
} >"$WORK/bad.jsonl"
run_nb validate "$WORK/bad.jsonl"
expect_eq "bad file: exit" 1 "$RC"
sed "s|$WORK/||" "$WORK/out" >"$WORK/out.rel"
expect_eq "bad file: the problems, in order" "bad.jsonl:2: not valid JSON: '[' or '{' expected near 'not' (column 3)
bad.jsonl:3: field 'id': 'a' is already used by an earlier line for model us.amazon.nova-lite-v1:0; ids must be unique in a run
bad.jsonl:5: field 'model': 'mega' is not a model alias (aliases: micro, lite, pro, premier) nor a model id
bad.jsonl:6: field 'messages': must be an array (found a string)" "$(grep '^bad.jsonl:' "$WORK/out.rel")"
expect_grep "bad file: totals" "^6 lines: 3 jobs to run, 4 invalid$" "$WORK/out"
# Each job reserves 4 input tokens (16 bytes) and 100 output tokens: Pro
# 4 x 0.0008/1k + 100 x 0.0032/1k = 0.0003232 USD.
expect_grep "bad file: Pro's worst case" "^us.amazon.nova-pro-v1:0 +1 +4 +100 +0.0003232$" "$WORK/out"
expect_grep "bad file: Lite's" "^us.amazon.nova-lite-v1:0 +1 +4 +100 +0.00002424$" "$WORK/out"

# The same problems as run records (one implementation).
start_mock
run_nb run "$WORK/bad.jsonl" --db "$WORK/bad.db" --endpoint-url "$MOCK_URL" --no-progress
expect_eq "run of the bad file: exit" 1 "$RC"
expect_eq "run records the problems validate found" \
	"$(grep '^bad.jsonl:' "$WORK/out.rel" | sort)" \
	"$(sql "$WORK/bad.db" "SELECT replace(error_message, '$WORK/', '') FROM jobs WHERE status = 'invalid'" | sort)"
expect_eq "run ran what validate counted" 3 "$(sql "$WORK/bad.db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"

# --models and --region as for run; usage errors.
run_nb validate "${examples[0]}" --models pro,lite --region eu-central-1
expect_eq "--models: exit" 0 "$RC"
expect_grep "--models: eu profiles" "^eu.amazon.nova-pro-v1:0 " "$WORK/out"
# The region comes from the profile when nothing else names it, as for run.
printf '[default]\nregion = ap-southeast-2\n' >"$AWS_CONFIG_FILE"
AWS_REGION= run_nb validate "${examples[0]}" --models lite
expect_grep "profile region: apac profile" "^apac.amazon.nova-lite-v1:0 " "$WORK/out"
AWS_REGION= run_nb validate "${examples[0]}" --models lite --profile nosuch
expect_eq "unknown profile: exit" 2 "$RC"
run_nb validate "$WORK/none.jsonl"
expect_eq "missing file: exit" 2 "$RC"
expect_grep "missing file: message" "cannot open job file .*none.jsonl" "$WORK/err"
run_nb validate
expect_eq "no file: exit" 2 "$RC"
run_nb validate --models mega "${examples[0]}"
expect_eq "bad --models: exit" 2 "$RC"
