#!/usr/bin/python3
"""A loopback stand-in for the container credentials endpoint and the EC2
instance metadata service (IMDSv2), for the integration tests.

  creds_server.py container TOKEN   GET any path with "Authorization: TOKEN"
  creds_server.py imds              PUT /latest/api/token, then GET
                                    /latest/meta-data/iam/security-credentials/
                                    and .../ROLE with the session token

Both answer with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN from the environment, expiring in an hour. Prints
"LISTENING <port>" once it listens on 127.0.0.1 (port 0: any free one) and
logs "METHOD PATH STATUS" per request on stderr.
"""
import datetime
import http.server
import json
import os
import sys

ROLE = "novabatch-test-role"
IMDS_TOKEN = "imds-session-token-for-tests"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


def credentials(code):
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    doc = {
        "AccessKeyId": os.environ["AWS_ACCESS_KEY_ID"],
        "SecretAccessKey": os.environ["AWS_SECRET_ACCESS_KEY"],
        "Token": os.environ["AWS_SESSION_TOKEN"],
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if code:
        doc["Code"] = "Success"
        doc["Type"] = "AWS-HMAC"
    return json.dumps(doc)


class Handler(http.server.BaseHTTPRequestHandler):
    mode = None
    token = None

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        sys.stderr.write("%s %s %d\n" % (self.command, self.path, status))
        sys.stderr.flush()

    def do_GET(self):
        if self.mode == "container":
            if self.headers.get("Authorization") != self.token:
                return self.answer(401, "unauthorized")
            return self.answer(200, credentials(False))
        if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
            return self.answer(401, "")
        if self.path == CREDS_PATH:
            return self.answer(200, ROLE)
        if self.path == CREDS_PATH + ROLE:
            return self.answer(200, credentials(True))
        return self.answer(404, "")

    def do_PUT(self):
        if self.mode != "imds" or self.path != "/latest/api/token":
            return self.answer(404, "")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(400, "")
        return self.answer(200, IMDS_TOKEN)

    def log_message(self, *args):
        pass


def main():
    Handler.mode = sys.argv[1]
    Handler.token = sys.argv[2] if len(sys.argv) > 2 else None
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print("LISTENING %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
