# Tags: a line's "tags" are stored with its jobs, exported, and reported on
# with `report --by tag`, where each job counts under each of its tags.
. "$(dirname "$0")/lib.sh"

start_mock --latency-ms 5
msg() { printf '"messages":[{"role":"user","content":[{"text":"question %s"}]}]' "$1"; }
{
	for i in $(seq 1 12); do
		case $((i % 4)) in
		0) tags='"tags":["qa","en"],' ;;
		1) tags='"tags":["qa"],' ;;
		2) tags='"tags":["en"],' ;;
		*) tags='' ;;
		esac
		printf '{"id":"t%d",%s"models":["lite","micro"],%s}\n' "$i" "$tags" "$(msg "$i")"
	done
	printf '{"id":"bad","tags":"qa","model":"lite",%s}\n' "$(msg x)"
	printf '{"id":"twice","tags":["qa","qa"],"model":"lite",%s}\n' "$(msg z)"
	printf '{"id":"long","tags":["%s"],"model":"lite",%s}\n' "$(printf 'x%.0s' $(seq 1 129))" "$(msg y)"
} >"$WORK/jobs.jsonl"
db="$WORK/t.db"
run_nb run "$WORK/jobs.jsonl" --db "$db" --endpoint-url "$MOCK_URL" --no-progress
expect_eq "tags: exit (three bad lines)" 1 "$RC"
expect_eq "bad tags are named" "bad|field 'tags': must be an array of strings (found a string)
long|field 'tags[0]': longer than 128 bytes
twice|field 'tags[1]': names a tag already listed" \
	"$(sql "$db" "SELECT job_id, substr(error_message, instr(error_message, 'field')) FROM jobs WHERE status = 'invalid' ORDER BY 1")"
expect_eq "tags stored on every model's job" '6|
6|["en"]
6|["qa","en"]
6|["qa"]' "$(sql "$db" "SELECT count(*), coalesce(tags, '') FROM jobs WHERE status = 'ok' GROUP BY tags ORDER BY coalesce(tags, '')")"

"$NOVABATCH" report --db "$db" --by tag --format json -o "$WORK/tags.json" || fail "report --by tag"
"$NOVABATCH" report --db "$db" --format json -o "$WORK/models.json" || fail "report"
"$NOVABATCH" export --db "$db" -o "$WORK/export.jsonl" || fail "export"
/usr/bin/python3 - "$WORK/tags.json" "$WORK/models.json" "$WORK/export.jsonl" "$NB_SOURCE_DIR/schemas/models.json" <<'PY' || fail "the report by tag disagrees with the exported rows"
import json, math, sys
from decimal import Decimal
by_tag, by_model = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rows = [json.loads(l) for l in open(sys.argv[3])]
prices = {m["id"]: m for m in json.load(open(sys.argv[4]))["models"]}
assert [t["tag"] for t in by_tag["tags"]] == ["en", "qa", ""], [t["tag"] for t in by_tag["tags"]]
assert by_tag["totals"] == by_model["totals"], "the totals are the run's"
def cost(r):
    p = prices[r["model_id"].split(".", 1)[1]]
    return Decimal(str(p["input"])) * r["input_tokens"] / 1000 + Decimal(str(p["output"])) * r["output_tokens"] / 1000
for t in by_tag["tags"]:
    mine = [r for r in rows if t["tag"] in (r["tags"] or [""])]
    ok = [r for r in mine if r["status"] == "ok"]
    assert t["jobs"] == len(mine) and t["ok"] == len(ok), (t["tag"], t["jobs"], len(mine))
    assert t["input_tokens"] == sum(r["input_tokens"] for r in ok)
    assert abs(Decimal(str(t["cost_usd"])) - sum(cost(r) for r in ok)) < Decimal("1e-12"), t["tag"]
    lat = sorted(r["latency_ms"] for r in ok)
    for p in (50, 90, 99):
        want = lat[max(1, math.ceil(p * len(lat) / 100)) - 1]
        assert abs(t["latency_ms"][f"p{p}"] - want) < 1e-6, (t["tag"], p)
PY
run_nb report --db "$db" --by tag
expect_eq "table by tag: exit" 0 "$RC"
expect_grep "table by tag: a tag column" "^tag +jobs +ok" "$WORK/out"
expect_grep "table by tag: untagged jobs" "^\(no tag\) +9 " "$WORK/out"
run_nb report --db "$db" --by tag --format csv
expect_grep "csv by tag: header" "^run_id,kind,tag,jobs," "$WORK/out"
expect_grep "csv by tag: a row" "^1,tag,qa,12,12," "$WORK/out"
run_nb report --db "$db" --by tag --format html
expect_eq "--by tag with html: exit" 2 "$RC"
expect_grep "--by tag with html: message" "--by tag is not drawn as html" "$WORK/err"
run_nb report --db "$db" --by flavour
expect_eq "--by flavour: exit" 2 "$RC"
