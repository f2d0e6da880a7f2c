#!/usr/bin/env bash
# test_mock_faults: `novabatch mock`'s fault options give exactly the
# answers they promise: a plan per job id, fail-first per distinct request,
# answers cut short, per-model quotas, seeded random faults; the request
# log names the step behind each answer; bad options and plans exit 2 with
# a clear message.
#
# Requests are signed by botocore (/usr/bin/python3, as in test_mock.sh).
# The quota cases use rates so low that no token flows back while the test
# runs (one request a minute; tokens that take 10 s to return), so their
# counts do not depend on timing.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import botocore' || fail "/usr/bin/python3 lacks botocore (apt-get install python3-botocore)"

stop_mock() {
	kill "$MOCK_PID"
	wait "$MOCK_PID" || fail "the mock exited $? on SIGTERM"
	MOCK_PID=
}

cat >"$WORK/send.py" <<'EOF'
# send.py URL COUNT [--job ID] [--model ID] [--body JSON] [--secret S]
# Sends COUNT signed Converse requests one after the other, each on a new
# connection, and prints a line per answer: "STATUS ErrorType message",
# "200 ok" for a whole answer, "200 cut" for one that stopped short of its
# Content-Length.
import argparse, http.client, json, sys, urllib.parse
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import os

ap = argparse.ArgumentParser()
ap.add_argument("url")
ap.add_argument("count", type=int)
ap.add_argument("--job")
ap.add_argument("--model", default="us.amazon.nova-lite-v1:0")
ap.add_argument("--body", default='{"messages":[{"role":"user","content":[{"text":"Hello there"}]}],'
                                  '"inferenceConfig":{"maxTokens":64}}')
ap.add_argument("--secret", default=os.environ["AWS_SECRET_ACCESS_KEY"])
a = ap.parse_args()
port = int(a.url.rsplit(":", 1)[1])
path = "/model/" + urllib.parse.quote(a.model, safe="") + "/converse"
body = a.body.encode()
for _ in range(a.count):
    req = AWSRequest(method="POST", url=a.url + path, data=body,
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"], a.secret), "bedrock",
              "us-east-1").add_auth(req)
    headers = dict(req.headers)
    if a.job is not None:
        headers["X-Novabatch-Job"] = urllib.parse.quote(a.job, safe="")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    try:
        data = resp.read()
    except http.client.IncompleteRead as e:
        assert resp.status == 200 and 0 < len(e.partial) and e.expected > 0, (resp.status, e)
        print("200 cut")
        conn.close()
        continue
    conn.close()
    if resp.status == 200:
        answer = json.loads(data)
        assert answer["output"]["message"]["role"] == "assistant", answer
        assert resp.headers["Content-Length"] == str(len(data))
        print("200 ok")
    else:
        kind = resp.headers["x-amzn-ErrorType"]
        assert kind.split(":", 1)[1].startswith("http://internal.amazon.com/coral/com.amazon."), kind
        print(resp.status, kind.split(":")[0], json.loads(data)["message"])
EOF

# send COUNT [options]: the answers, a line each.
send() {
	"$PY" "$WORK/send.py" "$MOCK_URL" "$@"
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

THROTTLED='429 ThrottlingException Too many requests, please wait before trying again.'
OK='200 ok'

# Every option is in the help.
"$NOVABATCH" mock --help >"$WORK/help"
for option in plan fail-first rpm tpm burst throttle error500 error503 timeout408 reset seed; do
	grep -q -- "--$option " "$WORK/help" || fail "mock --help lacks --$option"
done

# Bad options and plans.
expect_usage "--throttle 1.5" "error: --throttle: '1.5' is not a probability from 0 to 1 (like 0.3)" \
	--throttle 1.5
expect_usage "--reset nan" "error: --reset: 'nan' is not a probability" --reset nan
expect_usage "sum over 1" "mock: --throttle, --error500, --error503, --timeout408, --reset, --stream-error, --corrupt and --cut add up to 1.1; their sum must be at most 1" \
	--throttle 0.6 --error500 0.3 --reset 0.2
expect_usage "sum over 1 with stream faults" "add up to 1.2; their sum must be at most 1" \
	--throttle 0.5 --stream-error 0.3 --corrupt 0.2 --cut 0.2
expect_usage "--burst alone" "mock: --burst sizes the --rpm bucket: give --rpm too" --burst 5
expect_usage "--rpm 0" "error: --rpm: '0' is not a whole number from 1 to 100000000" --rpm 0
expect_usage "--fail-first -1" "error: --fail-first: '-1' is not a whole number from 0 to 1000000" \
	--fail-first -1
expect_usage "missing plan" "mock: --plan: cannot read $WORK/none.json: No such file or directory" \
	--plan "$WORK/none.json"
printf '{"job-1": [429, 503, 200],\n "job-2": [429, 302]}\n' >"$WORK/bad-plan.json"
expect_usage "bad plan" "mock: --plan: $WORK/bad-plan.json: job \"job-2\", entry 2: 302 is not an answer the mock knows; use 200, 400, 403, 404, 408, 424, 429, 500, 503, \"reset\", \"429-not-ready\", \"403-expired\", \"stream-error\", \"stream-throttle\", \"corrupt\" or \"cut\"" \
	--plan "$WORK/bad-plan.json"
printf '{"job-1": [429,]}' >"$WORK/bad-plan.json"
expect_usage "plan not JSON" "mock: --plan: $WORK/bad-plan.json: line 1, column 16: unexpected token near ']'" \
	--plan "$WORK/bad-plan.json"

# The plan: the Nth request naming a job gets the Nth answer, then normal
# ones; a request naming no job, or another job, is not planned; a request
# whose signature is wrong is refused before the plan counts it.
cat >"$WORK/plan.json" <<'EOF'
{"job-1": [429, 503, 200],
 "suite/a b:1": ["reset", "429-not-ready", "403-expired"],
 "job-3": [400, 403, 404, 408, 424, 500]}
EOF
start_mock --plan "$WORK/plan.json" --log "$WORK/mock.log"
got=$(send 4 --job job-1)
expect_eq "plan for job-1" "$THROTTLED
503 ServiceUnavailableException Bedrock is unable to process your request.
$OK
$OK" "$got"
expect_eq "a wrong signature" "403 InvalidSignatureException" \
	"$(send 1 --job 'suite/a b:1' --secret wrongSecret | cut -d' ' -f1-2)"
got=$(send 4 --job 'suite/a b:1')
expect_eq "plan for a job id to percent-encode" "200 cut
429 ModelNotReadyException Model is not ready to serve inference requests. Try your request again later.
403 ExpiredTokenException The security token included in the request is expired
$OK" "$got"
got=$(send 7 --job job-3 | cut -d' ' -f1-2)
expect_eq "plan for job-3" "400 ValidationException
403 AccessDeniedException
404 ResourceNotFoundException
408 ModelTimeoutException
424 ModelErrorException
500 InternalServerException
$OK" "$got"
expect_eq "no job header" "$OK" "$(send 1)"
expect_eq "a job without a plan" "$OK" "$(send 1 --job job-4)"
stop_mock
expect_eq "log lines" 18 "$(wc -l <"$WORK/mock.log")"
expect_eq "planned answers logged" 12 "$(log_count 'l.get("fault") == "plan"')"
expect_eq "decoded job id logged" 5 "$(log_count 'l.get("job_id") == "suite/a b:1"')"
expect_eq "refused before the plan" 1 "$(log_count 'l.get("error_type") == "InvalidSignatureException" and "fault" not in l')"
expect_eq "cut answer logged" 1 "$(log_count 'l.get("reset") is True and l["status"] == 200 and l["fault"] == "plan" and l["input_tokens"] == 6')"
expect_eq "planned 200 logged" 1 "$(log_count 'l.get("job_id") == "job-1" and l["status"] == 200 and l.get("fault") == "plan"')"
expect_eq "unplanned answers logged" 5 "$(log_count '"fault" not in l and l["status"] == 200')"
expect_eq "no job, no job_id" 1 "$(log_count '"job_id" not in l')"
rm "$WORK/mock.log"

# fail-first: the first K attempts of each distinct request (model id and
# body bytes) are throttled.
start_mock --fail-first 2 --log "$WORK/mock.log"
expect_eq "fail-first" "$THROTTLED
$THROTTLED
$OK
$OK" "$(send 4)"
expect_eq "another model" "$THROTTLED" "$(send 1 --model us.amazon.nova-micro-v1:0)"
expect_eq "another body" "$THROTTLED" \
	"$(send 1 --body '{"messages":[{"role":"user","content":[{"text":"Hello again"}]}]}')"
stop_mock
expect_eq "fail-first logged" 4 "$(log_count 'l.get("fault") == "fail-first" and l["status"] == 429')"
rm "$WORK/mock.log"

# --reset 1: every answer is a 200 cut short.
start_mock --reset 1 --log "$WORK/mock.log"
expect_eq "reset" "200 cut
200 cut" "$(send 2)"
stop_mock
expect_eq "resets logged" 2 "$(log_count 'l.get("fault") == "random" and l.get("reset") is True')"
rm "$WORK/mock.log"

# --rpm 1 --burst 5: five requests pass at once, then none until a minute
# has refilled one; each model id has its own bucket. (With --latency-ms the
# throttles skip the wait; no verdict here rests on how long anything took.)
start_mock --rpm 1 --burst 5 --latency-ms 20 --log "$WORK/mock.log"
expect_eq "rpm" "$OK
$OK
$OK
$OK
$OK
$THROTTLED
$THROTTLED
$THROTTLED" "$(send 8)"
expect_eq "rpm, another model" "$OK" "$(send 1 --model us.amazon.nova-micro-v1:0)"
stop_mock
expect_eq "quota-rpm logged" 3 "$(log_count 'l.get("fault") == "quota-rpm" and l["error_type"] == "ThrottlingException"')"
rm "$WORK/mock.log"

# --tpm 55: a bucket of 55 tokens refilling 55 a minute. Each request
# reserves 4 input + 10 maxTokens = 14 and uses 4 + 6 = 10, giving 4 back:
# five pass (55, 45, 35, 25, 15 before each), then 5 remain. Without the
# give-back only three would pass; and the sixth would need 9 tokens, ten
# seconds of refill.
HI='{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":10}}'
start_mock --tpm 55 --log "$WORK/mock.log"
expect_eq "tpm" "$OK
$OK
$OK
$OK
$OK
429 ThrottlingException Too many tokens, please wait before trying again.
429 ThrottlingException Too many tokens, please wait before trying again." "$(send 7 --body "$HI")"
stop_mock
expect_eq "tpm answers' tokens" 5 "$(log_count 'l.get("input_tokens") == 4 and l.get("output_tokens") == 6')"
expect_eq "quota-tpm logged" 2 "$(log_count 'l.get("fault") == "quota-tpm"')"
rm "$WORK/mock.log"

# Random faults follow the seeded sequence: the Nth request to reach the
# draw gets splitmix64 value N of the seed against the cumulative odds.
start_mock --throttle 0.2 --error500 0.2 --error503 0.2 --timeout408 0.1 --reset 0.1 --seed 42 \
	--log "$WORK/mock.log"
send 40 | cut -d' ' -f1-2 >"$WORK/random.got"
stop_mock
"$PY" - >"$WORK/random.want" <<'EOF'
M = (1 << 64) - 1
def uniform(seed, n):
    z = (seed + (n + 1) * 0x9e3779b97f4a7c15) & M
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    z ^= z >> 31
    return (z >> 11) * 2.0 ** -53
steps = [(0.2, "429 ThrottlingException"), (0.2, "500 InternalServerException"),
         (0.2, "503 ServiceUnavailableException"), (0.1, "408 ModelTimeoutException"),
         (0.1, "200 cut")]
for n in range(40):
    u, below, answer = uniform(42, n), 0.0, "200 ok"
    for p, a in steps:
        below += p
        if u < below:
            answer = a
            break
    print(answer)
EOF
diff "$WORK/random.want" "$WORK/random.got" || fail "the random faults differ from the seeded sequence"
expect_eq "random faults logged" "$(grep -vc '200 ok' "$WORK/random.want")" \
	"$(log_count 'l.get("fault") == "random"')"
sort -u "$WORK/random.got" | wc -l | grep -qx 6 || fail "40 draws did not give all six answers: $(sort -u "$WORK/random.got")"
echo ok
