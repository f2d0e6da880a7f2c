# --pricing FILE on run and report: the run stores the file's table, a
# report prices with the stored table unless --pricing names another, and
# the cost equals an independent computation from the list prices (Python's
# Decimal, USD per 1,000 tokens) with cache reads and writes at their own
# rates and input tokens, which exclude the cached ones, at the input rate.
# Bad files and misuse fail with exit 2 and a message naming the file and
# the entry.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 50 --no-progress)

cat >"$WORK/prices.json" <<'JSON'
{"effective_date": "2031-01-01", "currency": "USD", "unit": "per 1000 tokens",
 "models": [
  {"id": "amazon.nova-micro-v1:0", "input": 0.001, "output": 0.003, "cache_read": 0.0001,
   "cache_write": 0.00125},
  {"id": "amazon.nova-lite-v1:0", "input": 0.002, "output": 0.005, "cache_read": 0.0002,
   "cache_write": 0.0025}]}
JSON
$PY - "$WORK/jobs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 13):
        model = ["us.amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"][i % 3]
        f.write(json.dumps({"id": f"j{i}", "modelId": model,
                            "messages": [{"role": "user", "content": [{"text": f"q {i} " * i}]}]})
                + "\n")
PY
start_mock
run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --pricing "$WORK/prices.json" "${fast[@]}"
expect_eq "run --pricing" 0 "$RC"
expect_eq "the run stored the file's table" 2031-01-01 "$(sql "$WORK/nb.db" "SELECT json_extract(prices, '\$.effective_date') FROM runs")"

# The mock reports no cache tokens: give some jobs usage as Bedrock reports
# it with prompt caching (inputTokens without the cached tokens).
sql "$WORK/nb.db" "UPDATE jobs SET cache_read_tokens = 1000 + 7 * id, cache_write_tokens = 3 * id WHERE id % 2 = 0"

run_nb report --db "$WORK/nb.db" --format json -o "$WORK/stored.json"
expect_eq "report with the stored prices" 0 "$RC"
run_nb report --db "$WORK/nb.db" --format json --pricing "$NB_SOURCE_DIR/schemas/models.json" -o "$WORK/builtin.json"
expect_eq "report --pricing" 0 "$RC"
run_nb export --db "$WORK/nb.db" --format jsonl -o "$WORK/export.jsonl"
expect_eq "export" 0 "$RC"

$PY - "$WORK" "$NB_SOURCE_DIR/schemas/models.json" <<'PY' || fail "costs disagree"
import json, sys
from decimal import Decimal
work, builtin = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{work}/export.jsonl")]
assert any(r["cache_read_tokens"] for r in rows), rows[0]

def table(path):
    doc = json.load(open(path), parse_float=Decimal)
    return {m["id"]: m for m in doc["models"]}, doc.get("effective_date")

def expected(prices):
    # USD per 1,000 tokens; a missing cache price is the input price.
    cost = {}
    for r in rows:
        key = r["model_id"].split("/")[-1]
        for p in ("us.", "eu.", "apac."):
            if key.startswith(p) and key not in prices:
                key = key[len(p):]
        m = prices.get(key)
        if m is None:
            cost[r["model_id"]] = None
            continue
        n = lambda k: Decimal(r[k] or 0)
        usd = (n("input_tokens") * m["input"] + n("output_tokens") * m["output"]
               + n("cache_read_tokens") * m.get("cache_read", m["input"])
               + n("cache_write_tokens") * m.get("cache_write", m["input"])) / 1000
        if cost.get(r["model_id"], 0) is not None:
            cost[r["model_id"]] = cost.get(r["model_id"], 0) + usd
    return cost

for name, path, kind in (("stored", f"{work}/prices.json", "run"),
                         ("builtin", builtin, "file")):
    prices, date = table(path)
    rep = json.load(open(f"{work}/{name}.json"))
    assert rep["run"]["prices"] == kind, rep["run"]
    assert rep["run"]["prices_effective_date"] == date, rep["run"]
    want = expected(prices)
    for m in rep["models"]:
        w = want[m["model_id"]]
        if w is None:
            assert m["cost_pusd"] is None, (name, m)
        else:
            assert Decimal(m["cost_pusd"]) == w * 10**12, (name, m["model_id"], m["cost_pusd"], w)
            assert m["cache_read_tokens"] > 0, m
    print(name, {k: str(v) for k, v in want.items()})
PY

# The header says where the prices came from.
run_nb report --db "$WORK/nb.db"
expect_grep "stored prices header" "; prices: stored with the run \(effective 2031-01-01\)$" "$WORK/out"
run_nb report --db "$WORK/nb.db" --format md --pricing "$NB_SOURCE_DIR/schemas/models.json"
expect_grep "file prices header" "; prices: from .*models\.json \(effective [0-9-]{10}\)$" "$WORK/out"

# Bad files: exit 2, the file and the entry named, nothing written.
printf '{"models": [{"id": "a", "input": 1, "output": 1}, {"id": "b", "input": 1, "output": "x"}]}' >"$WORK/bad.json"
run_nb report --db "$WORK/nb.db" --pricing "$WORK/bad.json" -o "$WORK/never.txt"
expect_eq "report --pricing bad" 2 "$RC"
expect_grep "bad entry message" "^novabatch: error: report: --pricing: $WORK/bad.json: models\[1\] \(\"b\"\): \"output\" must be a price in USD per 1000 tokens" "$WORK/err"
[ ! -e "$WORK/never.txt" ] || fail "report wrote its output after a bad --pricing"
printf '{"effective_date": "soon", "models": []}' >"$WORK/date.json"
run_nb report --db "$WORK/nb.db" --pricing "$WORK/date.json"
expect_eq "report --pricing bad date" 2 "$RC"
expect_grep "bad date message" "$WORK/date.json: \"effective_date\" must be a date as YYYY-MM-DD" "$WORK/err"
run_nb report --db "$WORK/nb.db" --pricing "$WORK/missing.json"
expect_eq "report --pricing missing" 2 "$RC"
expect_grep "missing file message" "error: report: --pricing: .*$WORK/missing.json.*No such file or directory" "$WORK/err"
printf '{"models": [\n{"id": "a",}]}' >"$WORK/syntax.json"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/new.db" --endpoint-url "$MOCK_URL" --pricing "$WORK/syntax.json" "${fast[@]}"
expect_eq "run --pricing bad" 2 "$RC"
expect_grep "run syntax message" "^novabatch: error: --pricing: $WORK/syntax.json: line 2, column" "$WORK/err"
[ ! -e "$WORK/new.db" ] || fail "a bad --pricing created the database"
run_nb run --db "$WORK/nb.db" --resume --pricing "$WORK/prices.json" --endpoint-url "$MOCK_URL" "${fast[@]}"
expect_eq "run --resume --pricing" 2 "$RC"
expect_grep "resume message" "error: --pricing: a resumed run keeps the price table it started with" "$WORK/err"
echo "ok: report pricing"
