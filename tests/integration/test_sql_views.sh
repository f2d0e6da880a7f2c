# The SQL views and the README's example queries: each query of the README's
# "Views" section runs with the sqlite3 shell on the database of a real run
# against the mock, and its answer is checked against sums made without the
# views: the JSON report, the exported rows and the mock's own log.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 50 --no-progress)

# Three models (one not in the price table), throttling, final errors of
# two kinds, a retried 500 and two invalid lines.
$PY - "$WORK/jobs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 41):
        model = ["us.amazon.nova-micro-v1:0", "amazon.nova-pro-v1:0",
                 "meta.llama3-70b-instruct-v1:0", "eu.amazon.nova-lite-v1:0"][i % 4]
        text = "question %d %s" % (i, "x " * (i % 7))
        f.write(json.dumps({"id": f"j{i}", "modelId": model,
                            "messages": [{"role": "user", "content": [{"text": text}]}]}) + "\n")
    f.write("not json\n")
    f.write("[1]\n")
PY
cat >"$WORK/plan.json" <<'PLAN'
{"j1": [429, 200], "j2": [429, 429, 200], "j3": [429, 404], "j4": [400], "j5": [500, 200],
 "j6": [400], "j8": [400], "j9": [429, 429, 429, 200], "j10": [424]}
PLAN
start_mock --plan "$WORK/plan.json" --log "$WORK/mock.log"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --run-name views "${fast[@]}"
expect_eq "run exit (some jobs fail)" 1 "$RC"
"$NOVABATCH" report --db "$WORK/nb.db" --format json >"$WORK/report.json"
"$NOVABATCH" export --db "$WORK/nb.db" --format jsonl >"$WORK/export.jsonl"

# The views exist and are idempotent: the schema applied again changes
# nothing.
expect_eq "views" "error_summary job_results model_summary run_prices" \
	"$(sql "$WORK/nb.db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name)")"
sqlite3 -batch "$WORK/nb.db" <"$NB_SOURCE_DIR/schemas/store.sql" >/dev/null

# The README's queries, in order, answered by the sqlite3 shell as JSON.
$PY - "$NB_SOURCE_DIR/README.md" "$WORK" <<'PY' || fail "the README's queries"
import json, re, subprocess, sys
readme, work = sys.argv[1], sys.argv[2]
text = open(readme, encoding="utf-8").read()
section = text[text.index("### Views"):]
block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
queries = [q.strip() + ";" for q in block.split(";\n") if q.strip()]
assert len(queries) == 5, queries

def run(q):
    # On standard input, as from a file: the shell would take a query
    # argument that starts with "--" for an option.
    p = subprocess.run(["sqlite3", "-batch", "-json", f"{work}/nb.db"], input=q,
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout) if p.stdout.strip() else []

rep = json.load(open(f"{work}/report.json"))
models = {m["model_id"]: m for m in rep["models"]}
rows = [json.loads(l) for l in open(f"{work}/export.jsonl", encoding="utf-8")]
log = [json.loads(l) for l in open(f"{work}/mock.log")]
z = lambda v: v or 0

# 1. Tokens and cost by model and day: per model, the days add up to the
# report (cost to the pico-dollar, within a double's rounding).
by_model = {}
for r in run(queries[0]):
    s = by_model.setdefault(r["model_id"], {"jobs": 0, "in": 0, "out": 0, "cost": None})
    s["jobs"] += r["jobs"]
    s["in"] += z(r["input_tokens"])
    s["out"] += z(r["output_tokens"])
    if r["cost_usd"] is not None:
        s["cost"] = z(s["cost"]) + r["cost_usd"]
assert by_model.keys() == models.keys(), (by_model.keys(), models.keys())
for mid, s in by_model.items():
    m = models[mid]
    assert (s["jobs"], s["in"], s["out"]) == (m["jobs"], m["input_tokens"],
                                              m["output_tokens"]), (mid, s, m)
    if m["cost_pusd"] is None:
        assert s["cost"] is None, (mid, s)
    else:
        assert abs(s["cost"] * 1e12 - m["cost_pusd"]) < 1, (mid, s, m)
assert models["meta.llama3-70b-instruct-v1:0"]["cost_pusd"] is None
assert all(models[k]["cost_pusd"] > 0 for k in models if k.startswith(("us.", "eu.", "amazon.")))

# 2. The ten slowest answers: the exported ok rows sorted by latency.
slow = run(queries[1])
want = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: -r["latency_ms"])[:10]
assert [r["latency_ms"] for r in slow] == [r["latency_ms"] for r in want], (slow, want)
assert {r["job_id"] for r in slow} == {r["job_id"] for r in want} or \
    len({r["latency_ms"] for r in want}) < 10, (slow, want)

# 3. Throttling per hour: the hours add up to what the mock answered.
hours = run(queries[2])
assert sum(h["attempts"] for h in hours) == len(log) == rep["totals"]["attempts"], \
    (hours, len(log), rep["totals"])
throttled = sum(1 for l in log if l["status"] == 429)
assert throttled == 7, throttled
assert sum(h["throttled"] for h in hours) == throttled == rep["totals"]["throttled"], hours
for h in hours:
    assert h["throttled_pct"] == round(100.0 * h["throttled"] / h["attempts"], 1), h

# 4. What went wrong: the exported failed and invalid rows, grouped, with
# the first of each group as the example; the report's counts by type.
errs = run(queries[3])
groups = {}
for r in rows:
    if r["status"] in ("failed", "invalid"):
        key = (r["model_id"], r["error_type"] or "(none)")
        g = groups.setdefault(key, {"jobs": 0, "example": r["error_message"]})
        g["jobs"] += 1
got = {(e["model_id"], e["error_type"]): {"jobs": e["jobs"], "example": e["example_message"]}
       for e in errs}
assert got == groups, (got, groups)
assert [e["jobs"] for e in errs] == sorted((e["jobs"] for e in errs), reverse=True), errs
by_type = {}
for (mid, t), g in groups.items():
    by_type[t] = by_type.get(t, 0) + g["jobs"]
assert by_type == {e["type"]: e["count"] for e in rep["errors"]}, (by_type, rep["errors"])
assert by_type["ValidationException"] == 3 and by_type["InvalidJobLine"] == 2, by_type

# 5. The last run per model: the report's counts, tokens, cost and maximum
# latency; the average of the exported ok rows.
summary = run(queries[4])
assert [s["model_id"] for s in summary] == sorted(models), summary
for s in summary:
    m = models[s["model_id"]]
    for k in ("jobs", "ok", "failed", "invalid", "attempts", "throttled", "input_tokens",
              "output_tokens"):
        assert s[k] == m[k], (k, s, m)
    if m["cost_pusd"] is None:
        assert s["cost_usd"] is None, s
    else:
        assert abs(s["cost_usd"] * 1e12 - m["cost_pusd"]) < 1, (s, m)
    lat = [r["latency_ms"] for r in rows if r["model_id"] == s["model_id"] and r["status"] == "ok"]
    if lat:
        assert s["max_latency_ms"] == m["latency_ms"]["max"] == max(lat), (s, m)
        assert abs(s["avg_latency_ms"] - sum(lat) / len(lat)) <= 0.05 + 1e-9, (s, lat)
    else:
        assert s["avg_latency_ms"] is None and s["max_latency_ms"] is None, s
PY

# The exact cost: the sum of job_results.cost_pusd is the report's total,
# to the pico-dollar.
expect_eq "total cost_pusd" \
	"$($PY -c 'import json,sys; print(json.load(sys.stdin)["totals"]["cost_pusd"])' <"$WORK/report.json")" \
	"$(sql "$WORK/nb.db" "SELECT sum(cost_pusd) FROM job_results")"
echo "ok: views and the README's queries"
