# ConverseStream end to end against the mock: the same answers as Converse,
# time to first token after the mock's latency, and every broken stream
# retried, never recorded ok.
. "$(dirname "$0")/lib.sh"

fast=(--backoff-base-ms 5 --throttle-base-ms 10 --backoff-cap-ms 50 --no-progress)
for i in $(seq 1 40); do
	printf '{"id":"s%d","modelId":"us.amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"text":"Give three titles for story number %d"}]}],"inferenceConfig":{"maxTokens":200}}\n' "$i" "$i"
done >"$WORK/jobs.jsonl"
results() { sql "$1" "SELECT job_id, output_text, stop_reason, input_tokens, output_tokens, content FROM jobs ORDER BY job_id"; }

# With and without --stream: identical text, stop reasons, tokens, content.
start_mock --chunks 5 --log "$WORK/mock.log"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/plain.db" --endpoint-url "$MOCK_URL" "${fast[@]}"
expect_eq "converse: exit" 0 "$RC"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/stream.db" --endpoint-url "$MOCK_URL" --stream "${fast[@]}"
expect_eq "stream: exit" 0 "$RC"
expect_eq "stream and converse agree" "$(results "$WORK/plain.db")" "$(results "$WORK/stream.db")"
expect_eq "the mock streamed 40 answers" 40 "$(grep -c '"stream":true' "$WORK/mock.log")"
expect_eq "streamed jobs have their timings" 40 "$(sql "$WORK/stream.db" "SELECT count(*) FROM jobs WHERE ttft_ms > 0 AND ttft_ms <= latency_ms AND output_tokens_per_s > 0 AND chunk_gap_max_ms >= chunk_gap_p50_ms AND chunk_gap_p50_ms >= 0")"
expect_eq "and their attempts too" 40 "$(sql "$WORK/stream.db" "SELECT count(*) FROM attempts WHERE ttft_ms > 0 AND output_tokens_per_s > 0")"
expect_eq "converse jobs have no stream timings" 0 "$(sql "$WORK/plain.db" "SELECT count(*) FROM jobs WHERE ttft_ms IS NOT NULL OR output_tokens_per_s IS NOT NULL OR chunk_gap_p50_ms IS NOT NULL")"
"$NOVABATCH" report --db "$WORK/stream.db" --format json >"$WORK/report.json"
"$NOVABATCH" export --db "$WORK/stream.db" >"$WORK/export.jsonl"
/usr/bin/python3 - "$WORK/report.json" "$WORK/export.jsonl" <<'PY' || fail "the report's TTFT is not the nearest rank of the exported values"
import json, math, sys
m = json.load(open(sys.argv[1]))["models"][0]
ttft = sorted(json.loads(l)["ttft_ms"] for l in open(sys.argv[2]))
assert len(ttft) == 40
for p in (50, 90, 99):
    want = ttft[max(1, math.ceil(p * len(ttft) / 100)) - 1]
    assert abs(m["ttft_ms"][f"p{p}"] - want) < 1e-6, (p, m["ttft_ms"], want)
PY

# A line may ask for a stream itself.
head -n 1 "$WORK/jobs.jsonl" | sed 's/"id":"s1",/"id":"own","stream":true,/' >"$WORK/own.jsonl"
run_nb run "$WORK/own.jsonl" --db "$WORK/own.db" --endpoint-url "$MOCK_URL" "${fast[@]}"
expect_eq "stream: true on a line: exit" 0 "$RC"
expect_eq "stream: true on a line: streamed" 1 "$(sql "$WORK/own.db" "SELECT count(*) FROM jobs WHERE ttft_ms > 0")"

# The mock waits L ms before the first frame: every TTFT is at least L and
# below the whole latency.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --latency-ms 150 --chunks 4 --chunk-delay-ms 20
head -n 8 "$WORK/jobs.jsonl" >"$WORK/eight.jsonl"
run_nb run "$WORK/eight.jsonl" --db "$WORK/slow.db" --endpoint-url "$MOCK_URL" --stream "${fast[@]}"
expect_eq "latency: exit" 0 "$RC"
expect_eq "latency: ttft >= 150 and < total" 8 "$(sql "$WORK/slow.db" "SELECT count(*) FROM jobs WHERE ttft_ms >= 150 AND ttft_ms < latency_ms")"
# Frames sent 20 ms apart may still arrive together, so the gaps have no
# lower bound; the whole answer does: its last frame left 150 + 3 x 20 ms in.
expect_eq "latency: the gaps are recorded, the whole answer took its delays" 8 \
	"$(sql "$WORK/slow.db" "SELECT count(*) FROM jobs WHERE chunk_gap_max_ms >= chunk_gap_p50_ms AND latency_ms >= 210")"

# Broken streams are retried to success: exceptions inside a 200 stream,
# cut connections, corrupt frames, by plan for exact counts.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
cat >"$WORK/plan.json" <<'PLAN'
{"s1": ["stream-error", 200], "s2": ["stream-throttle", 200], "s3": ["cut", 200],
 "s4": ["corrupt", 200], "s5": ["cut", "corrupt", "stream-error", "stream-throttle"]}
PLAN
start_mock --plan "$WORK/plan.json" --log "$WORK/plan.log"
head -n 5 "$WORK/jobs.jsonl" >"$WORK/five.jsonl"
run_nb run "$WORK/five.jsonl" --db "$WORK/broken.db" --endpoint-url "$MOCK_URL" --stream --max-attempts 4 "${fast[@]}"
expect_eq "broken streams: exit (s5 ran out of attempts)" 1 "$RC"
expect_eq "broken streams: outcomes" "s1|ok|2
s2|ok|2
s3|ok|2
s4|ok|2
s5|failed|4" "$(sql "$WORK/broken.db" "SELECT job_id, status, attempts FROM jobs ORDER BY job_id")"
expect_eq "broken streams: the first attempts' errors" "s1|ModelStreamErrorException
s2|ThrottlingException
s3|ConnectionCutShort
s4|MalformedResponse" "$(sql "$WORK/broken.db" "SELECT j.job_id, a.error_type FROM attempts a JOIN jobs j ON j.id = a.job_rowid WHERE a.number = 1 AND j.job_id != 's5' ORDER BY j.job_id")"
expect_eq "a failed stream job keeps no answer" "|ThrottlingException" "$(sql "$WORK/broken.db" "SELECT coalesce(output_text, ''), error_type FROM jobs WHERE job_id = 's5'")"
expect_grep "a failed stream job says why" "job 's5' failed after 4 attempts: ThrottlingException" "$WORK/err"
expect_eq "every attempt reached the mock" 12 "$(wc -l <"$WORK/plan.log")"

# Random stream faults at a high rate: every job ends ok, and each attempt
# that broke is recorded as such.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --stream-error 0.15 --corrupt 0.15 --cut 0.15 --seed 3 --log "$WORK/storm.log"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/storm.db" --endpoint-url "$MOCK_URL" --stream --max-attempts 30 "${fast[@]}"
expect_eq "storm: exit" 0 "$RC"
expect_eq "storm: the answers are the calm run's" "$(results "$WORK/plain.db")" "$(results "$WORK/storm.db")"
broken=$(sql "$WORK/storm.db" "SELECT count(*) FROM attempts WHERE error_type IS NOT NULL")
[ "$broken" -gt 5 ] || fail "storm: only $broken broken attempts; the faults did not happen"
expect_eq "storm: one attempt row per request" "$(wc -l <"$WORK/storm.log")" "$(sql "$WORK/storm.db" "SELECT count(*) FROM attempts")"

# --idle-timeout: a stream that goes quiet fails its attempt, and is retried.
kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
start_mock --chunks 2 --chunk-delay-ms 3000
head -n 1 "$WORK/jobs.jsonl" >"$WORK/one.jsonl"
run_nb run "$WORK/one.jsonl" --db "$WORK/idle.db" --endpoint-url "$MOCK_URL" --stream --idle-timeout 1 --max-attempts 2 "${fast[@]}"
expect_eq "idle: exit" 1 "$RC"
expect_eq "idle: two attempts, both timed out" "2|2" "$(sql "$WORK/idle.db" "SELECT count(*), sum(error_type = 'Timeout' AND error_message LIKE '%no byte came for 1 s (the idle timeout)') FROM attempts")"
kill -KILL "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
