"""Cross-check novabatch's SigV4 signer against botocore's SigV4Auth.

Run by test_sigv4_botocore.sh with Debian's /usr/bin/python3 (python3-botocore).
For each case below, tests/tools/sigv4_sign_tool signs a Bedrock request and
botocore signs the same request; path, canonical request, string to sign,
signature and Authorization must agree byte for byte.

botocore's clock is pinned without patching: SigV4Auth.add_auth only stamps
request.context['timestamp'] and then calls the steps below, which exist
unchanged from botocore 1.29 to 1.43. botocore 1.29 predates bedrock-runtime,
so the path is built with botocore.utils.percent_encode, which is what its
REST serializer applies to a {modelId} label.

Usage: sigv4_botocore.py TOOL TESTDATA
"""

import difflib
import json
import os
import subprocess
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFq"
    "wAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2w"
    "UE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+x"
    "o0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3i"
    "SIlTJabIQwj2ICCR/oLxBA=="
)
BODY = (
    b'{"messages":[{"role":"user","content":[{"text":"Hello"}]}],'
    b'"inferenceConfig":{"maxTokens":64}}'
)
UTF8_BODY = json.dumps(
    {"messages": [{"role": "user", "content": [{"text": "Grüße, 世界 \u2603"}]}]},
    ensure_ascii=False,
).encode("utf-8")

PROFILE_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
)

# Each case: model (or path), and what differs from the defaults in case().
CASES = [
    {"name": "nova-lite converse", "model": "us.amazon.nova-lite-v1:0"},
    {
        "name": "nova-lite converse-stream",
        "model": "us.amazon.nova-lite-v1:0",
        "operation": "converse-stream",
    },
    {"name": "nova-pro with session token", "model": "amazon.nova-pro-v1:0", "token": TOKEN},
    {
        "name": "nova-micro eu, leap day, utf-8 body",
        "model": "eu.amazon.nova-micro-v1:0",
        "region": "eu-west-1",
        "time": "20240229T235959Z",
        "body": UTF8_BODY,
    },
    {"name": "inference profile ARN", "model": PROFILE_ARN},
    {
        "name": "inference profile ARN, stream, session token",
        "model": PROFILE_ARN,
        "operation": "converse-stream",
        "token": TOKEN,
    },
    {
        "name": "application inference profile ARN",
        "model": "arn:aws:bedrock:us-west-2:123456789012:"
        "application-inference-profile/a1b2c3d4e5f6",
        "region": "us-west-2",
        "token": "short-lived/token+with=chars",
    },
    {
        "name": "foundation model ARN (empty account)",
        "model": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
    },
    {
        "name": "provisioned model ARN, empty body",
        "model": "arn:aws:bedrock:ap-northeast-1:123456789012:provisioned-model/abcdef123456",
        "region": "ap-northeast-1",
        "body": b"",
    },
    {
        "name": "odd characters in the model id",
        "model": "model id+with ~odd/chars:\u00e4%41",
        "time": "20991231T000001Z",
    },
    {
        "name": "extra headers and a query",
        "path": "/model/x%3Ay/converse",
        "query": "b=2&a=%3A&a=1",
        "headers": ["Accept:application/json", "X-Custom:  a   b  "],
    },
]


def case(c):
    """Fills in the defaults."""
    d = {
        "operation": "converse",
        "region": "us-east-1",
        "time": "20150830T123600Z",
        "token": None,
        "body": BODY,
        "query": None,
        "headers": [],
    }
    d.update(c)
    d["host"] = "bedrock-runtime.%s.amazonaws.com" % d["region"]
    if "path" not in d:
        d["path"] = "/model/%s/%s" % (percent_encode(d["model"]), d["operation"])
    return d


def botocore_sign(c, service="bedrock"):
    url = "https://%s%s" % (c["host"], c["path"])
    if c["query"]:
        url += "?" + c["query"]
    headers = {"Content-Type": "application/json"}
    for h in c["headers"]:
        name, _, value = h.partition(":")
        headers[name] = value
    req = AWSRequest(method="POST", url=url, data=c["body"], headers=headers)
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, c["token"]), service, c["region"])
    # add_auth's steps, with the timestamp given instead of read from the clock.
    req.context["timestamp"] = c["time"]
    auth._modify_request_before_signing(req)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    sig = auth.signature(sts, req)
    auth._inject_signature_to_request(req, sig)
    return {
        "path": c["path"],
        "canonical_request": creq,
        "string_to_sign": sts,
        "signature": sig,
        "authorization": req.headers["Authorization"],
    }


def tool_sign(tool, c):
    argv = [
        tool,
        "--host", c["host"],
        "--region", c["region"],
        "--time", c["time"],
        "--access-key", ACCESS_KEY,
        "--secret-key", SECRET_KEY,
        "--header", "Content-Type:application/json",
    ]
    if "model" in c:
        argv += ["--model", c["model"], "--operation", c["operation"]]
    else:
        argv += ["--path", c["path"]]
    if c["token"]:
        argv += ["--session-token", c["token"]]
    if c["query"]:
        argv += ["--query", c["query"]]
    for h in c["headers"]:
        argv += ["--header", h]
    out = subprocess.run(argv, input=c["body"], stdout=subprocess.PIPE, check=True)
    return json.loads(out.stdout.decode("utf-8"))


def report(name, field, want, got):
    print("MISMATCH %s: %s" % (name, field))
    for line in difflib.unified_diff(
        want.splitlines(), got.splitlines(), "botocore", "novabatch", lineterm=""
    ):
        print("    " + line)


def compare(name, want, got):
    bad = 0
    for field in ("path", "canonical_request", "string_to_sign", "signature", "authorization"):
        if want[field] != got.get(field):
            report(name, field, want[field], got.get(field) or "")
            bad += 1
    return bad


def check_oracle(testdata):
    """botocore, driven as above, must reproduce the project's example."""
    d = os.path.join(testdata, "sigv4", "bedrock-converse-example", "converse")
    with open(os.path.join(d, "authorization.txt")) as f:
        want = f.read().rstrip("\n")
    got = botocore_sign(case({"model": "us.amazon.nova-lite-v1:0"}))["authorization"]
    if got != want:
        print("botocore does not reproduce %s:\n  want %s\n  got  %s" % (d, want, got))
        return 1
    return 0


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tool, testdata = sys.argv[1], sys.argv[2]
    import botocore

    print("botocore %s" % botocore.__version__)
    failures = check_oracle(testdata)
    for c in map(case, CASES):
        bad = compare(c["name"], botocore_sign(c), tool_sign(tool, c))
        print("%s %s" % ("FAIL" if bad else "ok  ", c["name"]))
        failures += bad
    if failures:
        print("%d difference(s) between novabatch and botocore" % failures)
        return 1
    print("%d cases agree with botocore" % len(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
