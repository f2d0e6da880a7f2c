# report --format html on a real run against the mock: one self-contained
# page (nothing it could fetch), text from the database escaped, the numbers
# of the JSON report, and a render by headless Chromium to a PNG of
# non-trivial size with every host name unresolvable, so a page that tried
# to fetch something could not. Chromium comes from Debian's chromium
# package (scripts/install-deps.sh); the test waits for it, however slowly
# it starts, and never judges by time.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "no chromium: run scripts/install-deps.sh"
fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 50 --no-progress)

# Two models, half of the jobs streamed; a job id with markup, which fails.
$PY - "$WORK/jobs.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 41):
        model = ["us.amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0"][i % 2]
        job = "<b>j3</b> & co" if i == 3 else f"j{i}"
        f.write(json.dumps({"id": job, "modelId": model, "stream": i % 4 < 2,
                            "messages": [{"role": "user",
                                          "content": [{"text": f"question {i} " * (i % 7 + 1)}]}]})
                + "\n")
    f.write("not json\n")
PY
cat >"$WORK/plan.json" <<'PLAN'
{"j1": [429, 200], "<b>j3</b> & co": [400], "j6": [500, 200]}
PLAN
start_mock --plan "$WORK/plan.json" --latency-ms 5
run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --run-name "html <run>" "${fast[@]}"
expect_eq "run exit (some jobs fail)" 1 "$RC"

run_nb report --db "$WORK/nb.db" --format html -o "$WORK/report.html"
expect_eq "report html" 0 "$RC"
run_nb report --db "$WORK/nb.db" --format json -o "$WORK/report.json"
expect_eq "report json" 0 "$RC"

$PY - "$WORK/report.html" "$WORK/report.json" <<'PY' || fail "the page"
import html.parser, json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
rep = json.load(open(sys.argv[2]))
low = page.lower()
for banned in ("http://", "https://", "<script", "<link", "<img", "<iframe", "<object",
               "<embed", "src=", "href=", "url(", "@import", "//"):
    assert banned not in low, banned
assert "default-src 'none'" in page

# Well formed enough for a parser: every element opened is closed.
class Check(html.parser.HTMLParser):
    void = {"meta", "br", "rect", "line"}
    def __init__(self):
        super().__init__()
        self.stack, self.svgs = [], 0
    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svgs += 1
        if tag not in self.void:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if tag in self.void:
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
c = Check()
c.feed(page)
c.close()
assert c.stack == [], c.stack
# Two latency histograms, TTFT for the streamed jobs of each model, tokens,
# cost, jobs per minute.
assert c.svgs == 7, c.svgs

assert "&lt;b&gt;j3&lt;/b&gt; &amp; co" in page and "<b>j3" not in page
assert "novabatch run %d &ldquo;html &lt;run&gt;&rdquo;: done" % rep["run"]["id"] in page
t = rep["totals"]
row = "<td>%d</td><td>%d</td><td>%d</td><td>%d</td>" % (t["jobs"], t["ok"], t["failed"], t["invalid"])
assert row in page, row
for m in rep["models"]:
    if m["latency_ms"]["p50"] is not None:
        assert "%s: client latency of %d ok jobs" % (m["model_id"], m["ok"]) in page, m
# Every histogram's bars add up to its jobs.
for model, n in re.findall(r"<title>([^<]+): client latency of (\d+) ok jobs</title>", page):
    start = page.index(model + ": client latency of")
    svg = page[start:page.index("</svg>", start)]
    bars = sum(int(v) for v in re.findall(r" ms: (\d+)</title>", svg))
    assert bars == int(n), (model, bars, n)
PY

# The render: Chromium as root needs --no-sandbox; its own profile folder;
# every host name unresolvable. Its exit status and chatter on stderr say
# nothing about the page: the PNG does.
timeout 280 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$WORK/chromium" --host-resolver-rules="MAP * ~NOTFOUND" \
	--screenshot="$WORK/report.png" --window-size=1200,2400 \
	"file://$WORK/report.html" >"$WORK/chromium.log" 2>&1 || true
[ -s "$WORK/report.png" ] || fail "chromium wrote no PNG: $(tail -c 2000 "$WORK/chromium.log")"
$PY - "$WORK/report.png" <<'PY' || fail "the PNG"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1200, 2400), (w, h)
# A blank page of this size compresses to a few kB; tables and charts do not.
assert len(data) > 20000, len(data)
PY
echo "ok: report html"
