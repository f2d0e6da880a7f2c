# TLS: against the mock behind a TLS front with a self-signed certificate,
# a run fails with a clear certificate error, succeeds with --ca-bundle (or
# AWS_CA_BUNDLE), and --insecure works with a loud warning.
. "$(dirname "$0")/lib.sh"

start_mock
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.secret" -out "$WORK/cert.pem" \
	2>/dev/null
mock_port=${MOCK_URL##*:}
/usr/bin/python3 "$NB_SOURCE_DIR/tests/integration/tls_forward.py" "$WORK/cert.pem" \
	"$WORK/key.secret" "$mock_port" >"$WORK/tls.out" 2>"$WORK/tls.err" &
CREDS_PID=$!
port=
for _ in $(seq 1 500); do
	port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$WORK/tls.out" 2>/dev/null || true)
	[ -n "$port" ] && break
	kill -0 "$CREDS_PID" 2>/dev/null || fail "tls_forward.py exited: $(cat "$WORK/tls.err")"
	sleep 0.02
done
[ -n "$port" ] || fail "tls_forward.py did not print LISTENING"
URL="https://127.0.0.1:$port"
printf '{"id":"j1","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"hi"}]}]}\n' >"$WORK/jobs.jsonl"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/untrusted.db" --endpoint-url "$URL" --no-progress
expect_eq "self-signed: exit code" 1 "$RC"
expect_grep "self-signed: a certificate error" "job 'j1' failed after 1 attempt: TLSError: .*certificate" "$WORK/err"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/bundle.db" --endpoint-url "$URL" --ca-bundle "$WORK/cert.pem" --no-progress
expect_eq "--ca-bundle: exit code ($(cat "$WORK/err"))" 0 "$RC"

AWS_CA_BUNDLE="$WORK/cert.pem" run_nb run "$WORK/jobs.jsonl" --db "$WORK/env.db" --endpoint-url "$URL" --no-progress
expect_eq "AWS_CA_BUNDLE: exit code ($(cat "$WORK/err"))" 0 "$RC"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/missing.db" --endpoint-url "$URL" --ca-bundle "$WORK/nope.pem"
expect_eq "missing bundle: exit code" 2 "$RC"
expect_grep "missing bundle: message" "error: --ca-bundle $WORK/nope.pem: No such file or directory" "$WORK/err"

run_nb run "$WORK/jobs.jsonl" --db "$WORK/insecure.db" --endpoint-url "$URL" --insecure --no-progress
expect_eq "--insecure: exit code" 0 "$RC"
expect_grep "--insecure: the warning" "warning: --insecure: THE ENDPOINT'S CERTIFICATE IS NOT VERIFIED" "$WORK/err"
echo "ok: TLS"
