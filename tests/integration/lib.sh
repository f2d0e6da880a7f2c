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
cleanup() {
	if [ -n "$MOCK_PID" ]; then
		kill "$MOCK_PID" 2>/dev/null || true
		wait "$MOCK_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
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
