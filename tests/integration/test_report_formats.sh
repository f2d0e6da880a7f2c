# report --format csv|md and export --format csv on a real run against the
# mock: the CSV export is a rectangular table that holds what the JSON lines
# hold, the JSON report's totals are the sums over the exported rows, the CSV
# and Markdown reports carry the JSON report's numbers, and every format
# fails with exit 2 and the file's name on a full disk.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 50 --no-progress)

# Prompts with commas, quotes, a line break and a pipe: the mock's answer
# repeats the prompt (the line break as a space), so the CSV must quote.
# A job id with a comma and quotes.
$PY - "$WORK/jobs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 25):
        model = ["us.amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0",
                 "meta.llama3-70b-instruct-v1:0"][i % 3]
        text = f'question {i}, "quoted"\nsecond line | pipe'
        job = f'j{i}, "odd"' if i == 24 else f"j{i}"
        f.write(json.dumps({"id": job, "modelId": model,
                            "messages": [{"role": "user", "content": [{"text": text}]}]}) + "\n")
    f.write("not json\n")
    f.write('{"id": "no-messages", "modelId": "amazon.nova-lite-v1:0"}\n')
PY
cat >"$WORK/plan.json" <<'PLAN'
{"j1": [429, 200], "j2": [429, 429, 200], "j4": [400], "j5": [500, 200], "j7": [429, 400]}
PLAN
start_mock --plan "$WORK/plan.json"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --run-name formats "${fast[@]}"
expect_eq "run exit (some jobs fail)" 1 "$RC"

run_nb report --db "$WORK/nb.db" --format json -o "$WORK/report.json"
expect_eq "report json" 0 "$RC"
run_nb export --db "$WORK/nb.db" --format jsonl -o "$WORK/export.jsonl"
expect_eq "export jsonl" 0 "$RC"
run_nb export --db "$WORK/nb.db" --format csv -o "$WORK/export.csv"
expect_eq "export csv" 0 "$RC"
run_nb report --db "$WORK/nb.db" --format csv -o "$WORK/report.csv"
expect_eq "report csv" 0 "$RC"
run_nb report --db "$WORK/nb.db" --format md
expect_eq "report md" 0 "$RC"
cp "$WORK/out" "$WORK/report.md"

$PY - "$WORK" <<'PY' || fail "the formats disagree"
import csv, json, sys
work = sys.argv[1]
raw = open(f"{work}/export.csv", "rb").read()
assert raw.endswith(b"\r\n"), "records end with CRLF"
with open(f"{work}/export.csv", newline="", encoding="utf-8") as f:
    table = list(csv.reader(f, strict=True))
head, rows = table[0], table[1:]
lines = [json.loads(l) for l in open(f"{work}/export.jsonl", encoding="utf-8")]
# Rectangular, with the JSON lines' keys as its header, row for row.
assert all(len(r) == len(head) for r in rows), [len(r) for r in rows]
assert head == list(lines[0].keys()), (head, list(lines[0].keys()))
assert len(rows) == len(lines) == 26, (len(rows), len(lines))
for r, l in zip(rows, lines):
    for k, v in zip(head, r):
        want = l[k]
        if want is None:
            assert v == "", (k, v)
        elif k == "content":
            assert json.loads(v) == want, (k, v)
        elif isinstance(want, float):
            assert float(v) == want, (k, v, want)
        else:
            assert v == str(want), (k, v, want)
quoted = [r for r in rows if r[head.index("job_id")] == "j3"][0]
assert 'question 3, "quoted" second line | pipe' in quoted[head.index("output_text")], quoted
assert rows[23][head.index("job_id")] == 'j24, "odd"', rows[23]
assert b'\r\n1,"j24, ""odd""",' in raw, "the odd id is quoted"

# The JSON report's totals are the sums over the exported rows.
rep = json.load(open(f"{work}/report.json"))
recs = [dict(zip(head, r)) for r in rows]
num = lambda v: int(v) if v else 0
sums = {
    "jobs": len(recs),
    "ok": sum(r["status"] == "ok" for r in recs),
    "failed": sum(r["status"] == "failed" for r in recs),
    "invalid": sum(r["status"] == "invalid" for r in recs),
    "attempts": sum(num(r["attempts"]) for r in recs),
    "throttled": sum(num(r["throttled"]) for r in recs),
    "input_tokens": sum(num(r["input_tokens"]) for r in recs),
    "output_tokens": sum(num(r["output_tokens"]) for r in recs),
}
t = rep["totals"]
assert {k: t[k] for k in sums} == sums, (t, sums)
assert sums["throttled"] == 4 and sums["failed"] == 2 and sums["invalid"] == 2, sums
for m in rep["models"]:
    mine = [r for r in recs if r["model_id"] == m["model_id"]]
    assert m["jobs"] == len(mine), m
    assert m["output_tokens"] == sum(num(r["output_tokens"]) for r in mine), m
    lat = sorted(float(r["latency_ms"]) for r in mine if r["status"] == "ok")
    if lat:
        assert m["latency_ms"]["max"] == lat[-1], (m, lat)

# The CSV report: the JSON report's numbers, one row per model and a total.
with open(f"{work}/report.csv", newline="", encoding="utf-8") as f:
    rtab = list(csv.DictReader(f, strict=True))
assert [r["kind"] for r in rtab] == ["model"] * len(rep["models"]) + ["total"], rtab
for r, m in zip(rtab, rep["models"] + [dict(t, model_id="")]):
    assert r["model_id"] == m["model_id"], (r, m)
    for k in sums:
        assert int(r[k]) == m[k], (k, r, m)
    if m["cost_pusd"] is None:
        assert r["cost_usd"] == "" and r["cost_complete"] == "false", r
    else:
        assert round(float(r["cost_usd"]) * 1e12) == m["cost_pusd"], (r, m)
    if "latency_ms" in m and m["latency_ms"]["p50"] is not None:
        for p in ("p50", "p90", "p99", "max"):
            assert float(r[f"latency_{p}_ms"]) == m["latency_ms"][p], (p, r, m)
assert rtab[-1]["cost_complete"] == "false", rtab[-1]  # llama has no price

# The Markdown report: the run, the totals row, the errors, escaped text.
md = open(f"{work}/report.md", encoding="utf-8").read()
run = rep["run"]
assert md.startswith(f'### novabatch run {run["id"]} "formats": done\n'), md[:200]
assert f"concurrency {run['concurrency']}" in md and f"- version: {run['version']}" in md, md
total = (f"| **total** | {t['jobs']} | {t['ok']} | {t['failed']} | {t['invalid']} | "
         f"{t['pending']} | {t['attempts']} | {t['throttled']} |\n")
assert total in md, (total, md)
tok = f"| **total** | {t['input_tokens']} | {t['output_tokens']} | "
assert tok in md, md
for e in rep["errors"]:
    assert f"| {e['type']} | {e['count']} | " in md, (e, md)
for line in md.splitlines():
    if line.startswith("| "):
        assert line.endswith(" |"), line
PY

# A full disk: every format exits 2 and names the file.
for f in table json csv md html; do
	run_nb report --db "$WORK/nb.db" --format "$f" -o /dev/full
	expect_eq "report --format $f to a full disk" 2 "$RC"
	expect_grep "report --format $f full disk message" "^novabatch: error: report: cannot write /dev/full: No space left on device$" "$WORK/err"
done
for f in jsonl csv; do
	run_nb export --db "$WORK/nb.db" --format "$f" -o /dev/full
	expect_eq "export --format $f to a full disk" 2 "$RC"
	expect_grep "export --format $f full disk message" "^novabatch: error: export: cannot write /dev/full: No space left on device$" "$WORK/err"
done
echo "ok: report and export formats"
