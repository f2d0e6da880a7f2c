# Shared by the integration tests: a scratch folder, the mock, assertions.
# Tests run the real binary ($NOVABATCH) against `novabatch mock --port 0`,
# wait for conditions (never fixed sleeps) and end by killing what they
# started.
set -euo pipefail

: "${NOVABATCH:?set by ctest: the novabatch binary}"
: "${NB_SOURCE_DIR:?set by ctest: the source tree}"

export AWS_ACCESS_KEY_ID=AKIDNOVABATCHTEST
export AWS_SECRET_ACCESS_KEY=nbTestSecret/K7MDENG+bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_BEDROCK_RUNTIME \
	AWS_DEFAULT_REGION AWS_BEARER_TOKEN_BEDROCK AWS_CA_BUNDLE AWS_USE_FIPS_ENDPOINT \
	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
	AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
	AWS_EC2_METADATA_SERVICE_ENDPOINT
export AWS_REGION=us-east-1

WORK=$(mktemp -d)
# The machine's own AWS configuration is never read, and no test waits
# for an instance metadata service that is not there.
export HOME="$WORK/home"
mkdir -p "$HOME/.aws"
export AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
export AWS_CONFIG_FILE="$HOME/.aws/config"
export AWS_EC2_METADATA_DISABLED=true
MOCK_PID=
CREDS_PID=
# The secrets a test uses; `secret VALUE` adds one. When a test ends, every
# file it produced (databases, logs, outputs: all of $WORK) is searched for
# them, and one found fails the test. Files a test wrote with secrets on
# purpose, as inputs, are named *.secret, or are the shared credential files.
SECRETS=("$AWS_SECRET_ACCESS_KEY")
secret() {
	SECRETS+=("$1")
}
scan_secrets() {
	local patterns hits
	patterns=$(mktemp)
	printf '%s\n' "${SECRETS[@]}" >"$patterns"
	hits=$(grep -rlaF -f "$patterns" "$WORK" --exclude='*.secret' \
		--exclude="$(basename "$AWS_SHARED_CREDENTIALS_FILE")" \
		--exclude="$(basename "$AWS_CONFIG_FILE")" || true)
	rm -f "$patterns"
	if [ -n "$hits" ]; then
		echo "FAIL: a secret was written to: $hits" >&2
		return 1
	fi
}
cleanup() {
	local status=$?
	for pid in $MOCK_PID $CREDS_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	scan_secrets || status=1
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Starts the mock with the given options; sets MOCK_URL once it listens.
start_mock() {
	# The background shell truncates mock.out only when it gets to run: a
	# previous mock's port must not be read meanwhile.
	rm -f "$WORK/mock.out"
	"$NOVABATCH" mock --port 0 "$@" >"$WORK/mock.out" 2>"$WORK/mock.err" &
	MOCK_PID=$!
	local port=
	for _ in $(seq 1 500); do
		port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$WORK/mock.out" 2>/dev/null || true)
		[ -n "$port" ] && break
		kill -0 "$MOCK_PID" 2>/dev/null || fail "the mock exited: $(cat "$WORK/mock.err")"
		sleep 0.02
	done
	[ -n "$port" ] || fail "the mock did not print LISTENING"
	MOCK_URL="http://127.0.0.1:$port"
}

# sql DB QUERY: prints the result of a query on a database.
sql() {
	sqlite3 -batch -noheader "$1" "$2"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# expect_grep WHAT PATTERN FILE: the file holds a line matching the pattern.
expect_grep() {
	grep -qE -- "$2" "$3" || fail "$1: no line matching '$2' in $3:
$(head -c 3000 "$3")"
}

# Runs novabatch, keeping its exit code in RC and its output in files.
run_nb() {
	set +e
	"$NOVABATCH" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
}

# start_creds_server MODE [TOKEN]: the container or IMDS stand-in
# (creds_server.py); sets CREDS_URL once it listens. It hands out
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN as they are
# when it starts; its log of requests is $WORK/creds.log.
start_creds_server() {
	rm -f "$WORK/creds.out"
	/usr/bin/python3 "$NB_SOURCE_DIR/tests/integration/creds_server.py" "$@" \
		>"$WORK/creds.out" 2>"$WORK/creds.log" &
	CREDS_PID=$!
	local port=
	for _ in $(seq 1 500); do
		port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$WORK/creds.out" 2>/dev/null || true)
		[ -n "$port" ] && break
		kill -0 "$CREDS_PID" 2>/dev/null || fail "creds_server.py exited: $(cat "$WORK/creds.log")"
		sleep 0.02
	done
	[ -n "$port" ] || fail "creds_server.py did not print LISTENING"
	CREDS_URL="http://127.0.0.1:$port"
}

# keep_output NAME: keeps the last run's output as $WORK/NAME.out and .err,
# for expect_no_secrets.
keep_output() {
	cp "$WORK/out" "$WORK/$1.out"
	cp "$WORK/err" "$WORK/$1.err"
}

# expect_no_secrets SECRET...: none of them is in any database (dumped),
# output or log under $WORK; the configuration files that hold them on
# purpose (under $HOME, and *.secret files) are not looked at.
expect_no_secrets() {
	local f secret
	for f in "$WORK"/*.db; do
		[ -e "$f" ] && sqlite3 "$f" .dump >"$f.dump"
	done
	for f in "$WORK"/*; do
		[ -f "$f" ] || continue
		case "$f" in *.db | *.db-wal | *.db-shm | *.secret) continue ;; esac
		for secret in "$@"; do
			[ -n "$secret" ] || continue
			if grep -qF -- "$secret" "$f"; then
				fail "a secret appears in $f"
			fi
		done
	done
}
