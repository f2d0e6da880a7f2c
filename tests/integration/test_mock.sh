#!/usr/bin/env bash
# test_mock: `novabatch mock` answers signed Converse requests, refuses bad
# signatures, missing auth and bad bodies in the service's shape, keeps the
# secret out of its output, and stops cleanly on SIGTERM.
#
# Requests are signed by botocore (Debian's python3-botocore, hence
# /usr/bin/python3): curl 7.88's --aws-sigv4 does not encode the path a
# second time, so it cannot sign a model id holding %3A the way every AWS
# SDK does. curl is still used once, on a path without escapes, as a second
# independent signer.
set -euo pipefail

: "${NOVABATCH:?NOVABATCH must name the novabatch binary}"
PY=/usr/bin/python3
AK=AKIDMOCKTEST
SK='mockSecret/With+Chars0123456789abcdefEXAMPLE'
TOKEN='FwoGZXIvYXdzEMockSessionToken//////////wEaDEXAMPLE='
LITE_PATH='/model/us.amazon.nova-lite-v1%3A0/converse'
HELLO='{"messages":[{"role":"user","content":[{"text":"Hello there"}]}],"inferenceConfig":{"maxTokens":64}}'

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# start_mock NAME [ENV=VALUE...] -- [mock options]: starts a mock with
# these variables (and no session token unless given), waits for its
# LISTENING line and sets PORT and LAST_PID.
start_mock() {
	local name=$1
	shift
	local envs=()
	while [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	env -u AWS_SESSION_TOKEN "${envs[@]}" "$NOVABATCH" mock --port 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	LAST_PID=$!
	for _ in $(seq 1 200); do
		if grep -q '^LISTENING [0-9][0-9]*$' "$WORK/$name.out"; then
			PORT=$(awk '/^LISTENING/ {print $2}' "$WORK/$name.out")
			return
		fi
		kill -0 "$LAST_PID" 2>/dev/null || fail "mock $name exited early: $(cat "$WORK/$name.err")"
		sleep 0.05
	done
	fail "mock $name printed no LISTENING line"
}

cat >"$WORK/send.py" <<'EOF'
# send.py PORT METHOD PATH BODY_FILE ACCESS_KEY SECRET TOKEN|- [unsigned]
# Prints {"status", "headers", "body"} for one request signed by botocore.
import json, sys, urllib.error, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

port, method, path, body_file, ak, sk, token = sys.argv[1:8]
with open(body_file, "rb") as f:
    body = f.read()
req = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body,
                 headers={"Content-Type": "application/json"})
if len(sys.argv) < 9:
    SigV4Auth(Credentials(ak, sk, None if token == "-" else token), "bedrock",
              "us-east-1").add_auth(req)
p = req.prepare()
r = urllib.request.Request(p.url, data=p.body if method != "GET" else None,
                           headers=dict(p.headers), method=method)
try:
    resp = urllib.request.urlopen(r, timeout=60)
except urllib.error.HTTPError as e:
    resp = e
data = resp.read()
print(json.dumps({"status": resp.status,
                  "headers": {k.lower(): v for k, v in resp.headers.items()},
                  "body": json.loads(data)}))
EOF

# send PORT METHOD PATH BODY [secret [token [unsigned]]]: prints the answer.
send() {
	printf '%s' "$4" >"$WORK/body"
	"$PY" "$WORK/send.py" "$1" "$2" "$3" "$WORK/body" "$AK" "${5:-$SK}" "${6:--}" ${7:+unsigned}
}

# expect ANSWER PYTHON-EXPR: the expression sees the answer as r.
expect() {
	"$PY" -c 'import json, sys
r = json.loads(sys.argv[1])
if not eval("(" + sys.argv[2] + ")"):
    sys.exit("FAIL: %s\n  answer: %s" % (sys.argv[2], sys.argv[1]))' "$1" "$2"
}

# error_is ANSWER STATUS TYPE MESSAGE-START: an error in the service's shape.
error_is() {
	"$PY" -c 'import json, sys
r = json.loads(sys.argv[1])
status, kind, start = int(sys.argv[2]), sys.argv[3], sys.argv[4]
if not (r["status"] == status and r["headers"]["x-amzn-errortype"].split(":")[0] == kind
        and r["body"]["message"].startswith(start) and len(r["headers"]["x-amzn-requestid"]) == 36):
    sys.exit("FAIL: want %d %s %r\n  answer: %s" % (status, kind, start, sys.argv[1]))' "$@"
}

"$PY" -c 'import botocore' || fail "/usr/bin/python3 lacks botocore (apt-get install python3-botocore)"

# The command line: help, bad options, missing credentials.
# Through a file: grep -q stops reading at its match, and a help longer
# than a pipe's first write would then die of SIGPIPE under pipefail.
"$NOVABATCH" mock --help >"$WORK/help"
grep -q -- '--latency-ms' "$WORK/help" || fail "mock --help lacks --latency-ms"
set +e
"$NOVABATCH" mock --port 70000 2>"$WORK/usage.err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "--port 70000 exited $rc, not 2"
grep -q "error: --port: .* is not a whole number from 0 to 65535" "$WORK/usage.err" || fail "no --port message"
set +e
"$NOVABATCH" mock --bogus 2>"$WORK/usage.err"; rc=$?
set -e
[[ $rc == 2 ]] && grep -q "mock: unknown option --bogus" "$WORK/usage.err" || fail "--bogus: rc $rc"
set +e
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$NOVABATCH" mock --port 0 \
	>"$WORK/nocreds.out" 2>"$WORK/nocreds.err"; rc=$?
set -e
[[ $rc == 2 ]] || fail "mock without credentials exited $rc, not 2"
grep -q "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" "$WORK/nocreds.err" ||
	fail "no message for missing credentials: $(cat "$WORK/nocreds.err")"

start_mock plain AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK -- --latency-ms 5
PLAIN_PID=$LAST_PID

# A signed Converse request gets the deterministic answer (see mock_reply.h:
# 11 characters and 1 message give ceil(11 / 4) + 3 = 6 input tokens).
r=$(send "$PORT" POST "$LITE_PATH" "$HELLO")
expect "$r" "r['status'] == 200 and r['headers']['content-type'] == 'application/json'"
expect "$r" "len(r['headers']['x-amzn-requestid']) == 36 and 'x-amzn-errortype' not in r['headers']"
expect "$r" "r['body']['output']['message']['role'] == 'assistant'"
expect "$r" "r['body']['output']['message']['content'] == [{'text': 'Mock answer from us.amazon.nova-lite-v1:0 to: Hello there'}]"
expect "$r" "r['body']['stopReason'] == 'end_turn' and r['body']['metrics'] == {'latencyMs': 5}"
expect "$r" "r['body']['usage'] == {'inputTokens': 6, 'outputTokens': 7, 'totalTokens': 13}"

# An ARN (its '/' sent as %2F) is a model id too; maxTokens cuts the answer.
r=$(send "$PORT" POST '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0/converse' \
	'{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":4}}')
expect "$r" "r['status'] == 200 and r['body']['stopReason'] == 'max_tokens'"
expect "$r" "r['body']['output']['message']['content'][0]['text'] == 'Mock answer from arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0'"
expect "$r" "r['body']['usage']['outputTokens'] == 4"

# curl signs an unescaped path the same way botocore does.
out=$(curl -sS --aws-sigv4 "aws:amz:us-east-1:bedrock" --user "$AK:$SK" \
	-H 'Content-Type: application/json' -d "$HELLO" "http://127.0.0.1:$PORT/model/plain-model/converse")
expect "{\"body\": $out}" "r['body']['output']['message']['content'][0]['text'] == 'Mock answer from plain-model to: Hello there'"

# Refusals, each in the service's shape.
error_is "$(send "$PORT" POST "$LITE_PATH" "$HELLO" wrongSecretEXAMPLE)" 403 InvalidSignatureException \
	'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
error_is "$(send "$PORT" POST "$LITE_PATH" "$HELLO" "$SK" - unsigned)" 403 \
	MissingAuthenticationTokenException 'Missing Authentication Token'
error_is "$(send "$PORT" POST "$LITE_PATH" "$HELLO" "$SK" "$TOKEN")" 403 \
	UnrecognizedClientException 'The security token included in the request is invalid.'
error_is "$(send "$PORT" POST "$LITE_PATH" '{"prompt":"Hello"}')" 400 ValidationException \
	"1 validation error detected: Value null at 'messages'"
error_is "$(send "$PORT" POST "$LITE_PATH" '{"messages": [')" 400 ValidationException \
	'Malformed input request'
error_is "$(send "$PORT" POST '/model/us.amazon.nova-lite-v1%3A0/invoke' "$HELLO")" 404 \
	UnknownOperationException 'The requested operation is not recognized'
error_is "$(send "$PORT" GET '/model/us.amazon.nova-lite-v1%3A0/converse-stream' '')" 404 \
	UnknownOperationException ''
error_is "$(send "$PORT" POST '/foundation-models' "$HELLO")" 404 UnknownOperationException ''
error_is "$(send "$PORT" GET "$LITE_PATH" '')" 404 UnknownOperationException ''
"$PY" -c 'import sys; sys.stdout.write("{\"messages\":[],\"pad\":\"" + "x" * (32 << 20) + "\"}")' >"$WORK/big"
big=$("$PY" "$WORK/send.py" "$PORT" POST "$LITE_PATH" "$WORK/big" "$AK" "$SK" -)
error_is "$big" 400 ValidationException 'The request body is larger than'

# 64 clients with a keep-alive connection each, 10 requests apiece: every
# answer is right and every request id distinct.
"$PY" - "$PORT" "$AK" "$SK" <<'EOF'
import http.client, json, sys
from concurrent.futures import ThreadPoolExecutor
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
port, ak, sk = sys.argv[1:4]
path = "/model/us.amazon.nova-micro-v1%3A0/converse"

def client(n):
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    ids = []
    for i in range(10):
        body = json.dumps({"messages": [{"role": "user", "content": [{"text": f"job {n} {i}"}]}]})
        req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}{path}", data=body.encode(),
                         headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(ak, sk), "bedrock", "us-east-1").add_auth(req)
        conn.request("POST", path, body=body.encode(), headers=dict(req.headers))
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        assert resp.status == 200, (resp.status, answer)
        text = answer["output"]["message"]["content"][0]["text"]
        assert text == f"Mock answer from us.amazon.nova-micro-v1:0 to: job {n} {i}", text
        ids.append(resp.headers["x-amzn-RequestId"])
    conn.close()
    return ids

with ThreadPoolExecutor(64) as pool:
    ids = [i for batch in pool.map(client, range(64)) for i in batch]
assert len(set(ids)) == 640, len(set(ids))
EOF

# SIGTERM stops it cleanly; the secret never appeared in its output.
kill -TERM "$PLAIN_PID"
set +e
wait "$PLAIN_PID"; rc=$?
set -e
[[ $rc == 0 ]] || fail "mock exited $rc on SIGTERM"
grep -q "^LISTENING $PORT$" "$WORK/plain.out" || fail "stdout is not the LISTENING line"
[[ $(wc -l <"$WORK/plain.out") == 1 ]] || fail "stdout holds more than the LISTENING line"

# With a session token configured, requests must carry it.
start_mock token AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_SESSION_TOKEN=$TOKEN --
error_is "$(send "$PORT" POST "$LITE_PATH" "$HELLO")" 403 UnrecognizedClientException \
	'The security token included in the request is invalid.'
expect "$(send "$PORT" POST "$LITE_PATH" "$HELLO" "$SK" "$TOKEN")" "r['status'] == 200"
kill -INT "$LAST_PID"
set +e
wait "$LAST_PID"; rc=$?
set -e
[[ $rc == 0 ]] || fail "mock exited $rc on SIGINT"

for f in "$WORK"/*.out "$WORK"/*.err; do
	if grep -qF -e "$SK" -e "$TOKEN" "$f"; then
		fail "a secret appears in $(basename "$f")"
	fi
done
echo "ok"
