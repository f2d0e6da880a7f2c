"""A stand-in endpoint that keeps what it receives.

Started by integration tests that check the exact bytes novabatch sends:
it saves each request's path, headers and body as DIR/N.json and answers
with a valid Converse response that uses the whole answer surface: a tool
call, cache token counts, additional model response fields and a trace. It prints "LISTENING <port>" once it
accepts connections. Not a Bedrock mock: no signature check, no faults.

usage: capture_server.py DIR
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = json.dumps({
    "output": {"message": {"role": "assistant", "content": [
        {"text": "captured"},
        {"toolUse": {"toolUseId": "tooluse_9", "name": "get_weather", "input": {"city": "Paris"}}},
    ]}},
    "stopReason": "tool_use",
    "usage": {"inputTokens": 10, "outputTokens": 4, "totalTokens": 30,
              "cacheReadInputTokens": 12, "cacheWriteInputTokens": 4},
    "metrics": {"latencyMs": 1},
    "additionalModelResponseFields": {"stop_sequence": None, "router": {"model": "lite"}},
    "trace": {"guardrail": {"action": "NONE"}},
}).encode()


class Handler(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Handler.count += 1
        record = {"path": self.path, "headers": dict(self.headers.items()),
                  "body": body.decode("utf-8")}
        with open(os.path.join(sys.argv[1], f"{Handler.count}.json"), "w") as f:
            json.dump(record, f)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"LISTENING {server.server_address[1]}", flush=True)
server.serve_forever()
