#!/usr/bin/env bash
# test_mock_stream: `novabatch mock` serves ConverseStream: the frames of a
# converse-stream answer carry the text, stop reason and usage of the
# converse answer to the same request; --chunks sets the deltas;
# --latency-ms and --chunk-delay-ms pace the frames; errors before the
# stream are plain HTTP answers; --stream-error, --corrupt, --cut, --reset
# and the plan's stream answers break the stream as the help says; the
# request log says "stream": true and names the stream fault.
#
# Requests are signed by botocore and the frames decoded by its
# EventStreamBuffer (Debian's python3-botocore, hence /usr/bin/python3): an
# implementation independent of the runner's decoder. Timing decides
# nothing here but lower bounds the mock's sleeps guarantee.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import botocore.eventstream' || fail "/usr/bin/python3 lacks botocore (apt-get install python3-botocore)"

stop_mock() {
	kill "$MOCK_PID"
	wait "$MOCK_PID" || fail "the mock exited $? on SIGTERM"
	MOCK_PID=
}

cat >"$WORK/send.py" <<'EOF'
# send.py URL OPERATION COUNT [--job ID] [--body JSON] [--secret S]
# Sends COUNT signed requests to /model/us.amazon.nova-lite-v1%3A0/OPERATION
# one after the other, each on a new connection, and prints a JSON line per
# answer: status, content_type, request_id, error_type and message for an
# error; for a 200 the frames (":event-type" or ":exception-type" each),
# text (the deltas joined), stop_reason, usage, how the body ended ("whole",
# "cut": the connection closed before the last chunk, "checksum": a frame
# failed its CRC), and the milliseconds from sending to the first delta
# (first_delta_ms) and to the end (total_ms).
import argparse, http.client, json, os, time, urllib.parse
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("operation")
ap.add_argument("count", type=int)
ap.add_argument("--job")
ap.add_argument("--body", default='{"messages":[{"role":"user","content":[{"text":"Hello there"}]}],'
                                  '"inferenceConfig":{"maxTokens":64}}')
ap.add_argument("--secret", default=os.environ["AWS_SECRET_ACCESS_KEY"])
a = ap.parse_args()
port = int(a.url.rsplit(":", 1)[1])
path = "/model/us.amazon.nova-lite-v1%3A0/" + a.operation
body = a.body.encode()


def stream(resp, start, out):
    buf = EventStreamBuffer()
    out.update(frames=[], text="", stop_reason=None, usage=None, end="whole",
               first_delta_ms=None)
    while True:
        try:
            data = resp.read1(65536)
        except http.client.IncompleteRead:
            out["end"] = "cut"
            return
        if not data:
            return
        buf.add_data(data)
        try:
            for m in buf:
                h = m.headers
                kind = h.get(":event-type") or h.get(":exception-type")
                out["frames"].append(kind)
                payload = json.loads(m.payload)
                if kind == "contentBlockDelta":
                    out["text"] += payload["delta"]["text"]
                    if out["first_delta_ms"] is None:
                        out["first_delta_ms"] = (time.monotonic() - start) * 1000
                elif kind == "messageStop":
                    out["stop_reason"] = payload["stopReason"]
                elif kind == "metadata":
                    out["usage"] = payload["usage"]
                elif h.get(":message-type") == "exception":
                    out["message"] = payload["message"]
        except ChecksumMismatch:
            out["end"] = "checksum"
            resp.read()
            return


for _ in range(a.count):
    req = AWSRequest(method="POST", url=a.url + path, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"], a.secret), "bedrock",
              "us-east-1").add_auth(req)
    headers = dict(req.headers)
    if a.job is not None:
        headers["X-Novabatch-Job"] = urllib.parse.quote(a.job, safe="")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.monotonic()
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    out = {"status": resp.status, "content_type": resp.headers["Content-Type"],
           "request_id": resp.headers["x-amzn-RequestId"]}
    if resp.status != 200:
        out["error_type"] = resp.headers["x-amzn-ErrorType"].split(":")[0]
        out["message"] = json.loads(resp.read())["message"]
    elif a.operation == "converse-stream":
        stream(resp, start, out)
    else:
        try:
            answer = json.loads(resp.read())
            out.update(text=answer["output"]["message"]["content"][0]["text"],
                       stop_reason=answer["stopReason"], usage=answer["usage"], end="whole")
        except http.client.IncompleteRead:
            out["end"] = "cut"
    out["total_ms"] = (time.monotonic() - start) * 1000
    conn.close()
    print(json.dumps(out))
EOF

# send OPERATION COUNT [options]: a JSON line per answer.
send() {
	"$PY" "$WORK/send.py" "$MOCK_URL" "$@"
}

# expect WHAT ANSWER PYTHON-EXPR: the expression sees the answer as r.
expect() {
	"$PY" -c 'import json, sys
r = json.loads(sys.argv[2])
if not eval("(" + sys.argv[3] + ")"):
    sys.exit("FAIL: %s: %s\n  answer: %s" % (sys.argv[1], sys.argv[3], sys.argv[2]))' "$@"
}

# log_count FILTER: how many lines of the request log satisfy a Python
# expression over the line as l.
log_count() {
	"$PY" -c 'import json, sys
print(sum(1 for line in open(sys.argv[1]) if eval(sys.argv[2], {"l": json.loads(line)})))' \
		"$WORK/mock.log" "$1"
}

# expect_usage WHAT MESSAGE [mock options]: the mock refuses to start, exit 2.
expect_usage() {
	local what=$1 message=$2
	shift 2
	run_nb mock --port 0 "$@"
	expect_eq "$what: exit code" 2 "$RC"
	grep -qF -- "$message" "$WORK/err" || fail "$what: no '$message' in: $(cat "$WORK/err")"
}

WHOLE="['messageStart'] + ['contentBlockDelta'] * 4 + ['contentBlockStop', 'messageStop', 'metadata']"
EVENTSTREAM="r['status'] == 200 and r['content_type'] == 'application/vnd.amazon.eventstream' and len(r['request_id']) == 36"

# The options are in the help, and refused when out of range.
"$NOVABATCH" mock --help >"$WORK/help"
for option in chunks chunk-delay-ms stream-error corrupt cut; do
	grep -q -- "--$option " "$WORK/help" || fail "mock --help lacks --$option"
done
grep -q 'stream_fault' "$WORK/help" || fail "mock --help does not describe the stream log fields"
expect_usage "--chunks 0" "error: --chunks: '0' is not a whole number from 1 to 100000" --chunks 0
expect_usage "--chunk-delay-ms -1" "error: --chunk-delay-ms: '-1' is not a whole number from 0 to 600000" \
	--chunk-delay-ms -1
expect_usage "--cut 2" "error: --cut: '2' is not a probability from 0 to 1" --cut 2
expect_usage "--corrupt x" "error: --corrupt: 'x' is not a probability" --corrupt x
expect_usage "--stream-error -0.1" "error: --stream-error: '-0.1' is not a probability" --stream-error -0.1

# The whole stream says what the converse answer to the same request says.
start_mock --latency-ms 5 --log "$WORK/mock.log"
converse=$(send converse 1)
r=$(send converse-stream 1)
expect "stream" "$r" "$EVENTSTREAM and r['end'] == 'whole' and r['frames'] == $WHOLE"
expect "stream text" "$r" "r['text'] == 'Mock answer from us.amazon.nova-lite-v1:0 to: Hello there'"
"$PY" -c 'import json, sys
c, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for k in ("text", "stop_reason", "usage"):
    assert c[k] == s[k], (k, c[k], s[k])
assert s["usage"] == {"inputTokens": 6, "outputTokens": 7, "totalTokens": 13}, s' "$converse" "$r" ||
	fail "the stream and the converse answer differ"
# maxTokens cuts both the same way.
SHORT='{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":4}}'
c=$(send converse 1 --body "$SHORT")
r=$(send converse-stream 1 --body "$SHORT")
expect "max_tokens" "$r" "r['stop_reason'] == 'max_tokens' and r['usage']['outputTokens'] == 4"
expect "max_tokens, same as converse" "$r" "r['text'] == $("$PY" -c 'import json, sys; print(repr(json.loads(sys.argv[1])["text"]))' "$c")"
# Errors before the stream are plain HTTP answers.
r=$(send converse-stream 1 --secret wrongSecret)
expect "bad signature" "$r" "r['status'] == 403 and r['error_type'] == 'InvalidSignatureException' and r['content_type'] == 'application/json'"
r=$(send converse-stream 1 --body '{"messages": []}')
expect "bad body" "$r" "r['status'] == 400 and r['error_type'] == 'ValidationException' and r['message'].startswith('A conversation must start')"
stop_mock
expect_eq "stream answers logged" 2 "$(log_count 'l.get("stream") is True and l["status"] == 200 and "fault" not in l and "stream_fault" not in l')"
expect_eq "stream tokens logged" 1 "$(log_count 'l.get("stream") is True and l.get("input_tokens") == 6 and l.get("output_tokens") == 7')"
expect_eq "stream error logged" 1 "$(log_count 'l.get("stream") is True and l["status"] == 400')"
# A signature is checked before the route, like the model id.
expect_eq "refused before the route" 1 "$(log_count '"stream" not in l and "model_id" not in l and l["status"] == 403')"
expect_eq "converse not logged as stream" 3 "$(log_count '"stream" not in l')"
rm "$WORK/mock.log"

# --chunks N gives N deltas, fewer when the text is shorter.
start_mock --chunks 3
expect "--chunks 3" "$(send converse-stream 1)" "r['end'] == 'whole' and r['frames'].count('contentBlockDelta') == 3 and r['text'].endswith('Hello there')"
stop_mock
start_mock --chunks 100000
expect "--chunks past the text" "$(send converse-stream 1)" "r['end'] == 'whole' and r['frames'].count('contentBlockDelta') == len(r['text']) == 57"
stop_mock

# --latency-ms before the first frame, --chunk-delay-ms before each other:
# 3 deltas make 7 frames, 6 pauses. Lower bounds only.
start_mock --chunks 3 --latency-ms 200 --chunk-delay-ms 50
r=$(send converse-stream 1)
expect "paced stream" "$r" "r['end'] == 'whole' and r['frames'].count('contentBlockDelta') == 3 and r['usage']['totalTokens'] == 13"
expect "latency before the first delta" "$r" "r['first_delta_ms'] >= 200 + 50"
expect "pauses between frames" "$r" "r['total_ms'] >= 200 + 6 * 50"
stop_mock

# The stream faults, each with probability 1.
start_mock --stream-error 1 --log "$WORK/mock.log"
r=$(send converse-stream 1)
expect "--stream-error" "$r" "$EVENTSTREAM and r['end'] == 'whole' and r['frames'] == ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'modelStreamErrorException']"
expect "--stream-error message" "$r" "r['message'].startswith('An error occurred while streaming') and r['usage'] is None"
# Two of the four deltas of 57 characters: 14 + 14.
expect "--stream-error text" "$r" "r['text'] == 'Mock answer from us.amazon.n'"
expect "--stream-error, plain converse" "$(send converse 1)" "r['status'] == 200 and r['end'] == 'whole' and r['text'].endswith('Hello there')"
stop_mock
expect_eq "--stream-error logged" 1 "$(log_count 'l.get("stream") is True and l["fault"] == "random" and l["stream_fault"] == "stream-error"')"
expect_eq "a stream fault drawn by converse logged as none" 1 "$(log_count '"stream" not in l and "fault" not in l and l["status"] == 200')"
rm "$WORK/mock.log"

start_mock --corrupt 1 --log "$WORK/mock.log"
r=$(send converse-stream 1)
expect "--corrupt" "$r" "$EVENTSTREAM and r['end'] == 'checksum' and r['frames'] == ['messageStart'] + ['contentBlockDelta'] * 3"
stop_mock
expect_eq "--corrupt logged" 1 "$(log_count 'l.get("stream") is True and l["fault"] == "random" and l["stream_fault"] == "corrupt"')"
rm "$WORK/mock.log"

start_mock --cut 1 --chunk-delay-ms 10 --log "$WORK/mock.log"
r=$(send converse-stream 1)
expect "--cut" "$r" "$EVENTSTREAM and r['end'] == 'cut' and r['frames'] == ['messageStart'] + ['contentBlockDelta'] * 3 and r['usage'] is None"
expect "--cut, plain converse" "$(send converse 1)" "r['status'] == 200 and r['end'] == 'whole'"
stop_mock
expect_eq "--cut logged" 1 "$(log_count 'l.get("stream") is True and l["fault"] == "random" and l["stream_fault"] == "cut"')"
rm "$WORK/mock.log"

start_mock --reset 1 --log "$WORK/mock.log"
r=$(send converse-stream 1)
expect "--reset" "$r" "$EVENTSTREAM and r['end'] == 'cut' and 'messageStop' not in r['frames']"
stop_mock
expect_eq "--reset logged" 1 "$(log_count 'l.get("stream") is True and l["fault"] == "random" and l.get("reset") is True and "stream_fault" not in l')"
rm "$WORK/mock.log"

# The plan's stream answers; to a plain converse request they are the
# normal answer, and its errors are plain HTTP answers to a stream.
cat >"$WORK/plan.json" <<'EOF'
{"s": ["stream-error", "stream-throttle", "corrupt", "cut", "reset", 200, 429],
 "c": ["stream-error", "stream-throttle", "corrupt", "cut"]}
EOF
start_mock --plan "$WORK/plan.json" --log "$WORK/mock.log"
send converse-stream 7 --job s >"$WORK/plan.got"
mapfile -t got <"$WORK/plan.got"
expect "plan stream-error" "${got[0]}" "r['frames'][-1] == 'modelStreamErrorException' and r['end'] == 'whole'"
expect "plan stream-throttle" "${got[1]}" "$EVENTSTREAM and r['frames'] == ['messageStart', 'contentBlockDelta', 'contentBlockDelta', 'throttlingException'] and r['message'] == 'Too many requests, please wait before trying again.'"
expect "plan corrupt" "${got[2]}" "r['end'] == 'checksum'"
expect "plan cut" "${got[3]}" "r['end'] == 'cut' and len(r['frames']) == 4"
expect "plan reset" "${got[4]}" "r['end'] == 'cut' and 'metadata' not in r['frames']"
expect "plan 200" "${got[5]}" "r['end'] == 'whole' and r['frames'] == $WHOLE"
expect "plan 429" "${got[6]}" "r['status'] == 429 and r['error_type'] == 'ThrottlingException' and r['content_type'] == 'application/json'"
send converse 4 --job c >"$WORK/plan-converse.got"
while read -r line; do
	expect "plan stream answer to converse" "$line" "r['status'] == 200 and r['end'] == 'whole' and r['text'].endswith('Hello there')"
done <"$WORK/plan-converse.got"
stop_mock
expect_eq "plan stream faults logged" 4 "$(log_count 'l.get("job_id") == "s" and l["fault"] == "plan" and l.get("stream_fault") in ("stream-error", "stream-throttle", "corrupt", "cut")')"
expect_eq "plan error to a stream logged" 1 "$(log_count 'l.get("job_id") == "s" and l["status"] == 429 and l.get("stream") is True')"
expect_eq "plan stream answers to converse logged" 4 "$(log_count 'l.get("job_id") == "c" and l["fault"] == "plan" and "stream_fault" not in l and "stream" not in l')"
rm "$WORK/mock.log"

# The stream faults take part in the one seeded draw, after --reset.
start_mock --throttle 0.1 --reset 0.1 --stream-error 0.2 --corrupt 0.2 --cut 0.2 --seed 7 \
	--log "$WORK/mock.log"
send converse-stream 40 | "$PY" -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["status"] != 200:
        print(r["status"], r["error_type"])
    elif r["frames"][-1] == "modelStreamErrorException":
        print("200 stream-error")
    elif r["end"] == "checksum":
        print("200 corrupt")
    elif r["end"] == "cut":
        print("200 cut" if len(r["frames"]) == 4 and r["frames"][-1] == "contentBlockDelta" else "200 reset")
    else:
        print("200 ok")' >"$WORK/random.got"
stop_mock
"$PY" - >"$WORK/random.want" <<'EOF'
M = (1 << 64) - 1
def uniform(seed, n):
    z = (seed + (n + 1) * 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    z ^= z >> 31
    return (z >> 11) * 2.0 ** -53
steps = [(0.1, "429 ThrottlingException"), (0, "500"), (0, "503"), (0, "408"),
         (0.1, "200 reset"), (0.2, "200 stream-error"), (0.2, "200 corrupt"), (0.2, "200 cut")]
for n in range(40):
    u, below, answer = uniform(7, n), 0.0, "200 ok"
    for p, a in steps:
        below += p
        if u < below:
            answer = a
            break
    print(answer)
EOF
diff "$WORK/random.want" "$WORK/random.got" || fail "the stream faults differ from the seeded sequence"
sort -u "$WORK/random.got" | wc -l | grep -qx 6 || fail "40 draws did not give all six answers: $(sort -u "$WORK/random.got")"
expect_eq "random stream faults logged" "$(grep -c -e stream-error -e corrupt -e ' cut' "$WORK/random.want")" \
	"$(log_count 'l.get("fault") == "random" and "stream_fault" in l')"
echo ok
