# One run per credential source against the mock: session token, bearer
# token, [default] in the credentials file, AWS_PROFILE, --profile (which
# skips the environment), credential_process, container credentials and
# IMDSv2 (creds_server.py stands in for the last two). Each run must end
# with every job ok, say which source it used, and leave no secret in any
# database, output or log.
. "$(dirname "$0")/lib.sh"

SECRET=$AWS_SECRET_ACCESS_KEY
KEY=$AWS_ACCESS_KEY_ID
TOKEN="nbSessionToken/IQoJb3JpZ2luX2VjEXAMPLE+Token=="
BEARER="ABSKbmJCZWFyZXJUb2tlbkZvclRlc3RzMTIzNDU2Nzg5"
CTOKEN="container-auth-token-0123456789"
secret "$TOKEN"
secret "$BEARER"
secret "$CTOKEN"

start_mock --session-token "$TOKEN" --bearer "$BEARER" --log "$WORK/mock.log"
for i in 1 2 3 4 5; do
	printf '{"id":"j%d","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"hi %d"}]}]}\n' "$i" "$i"
done >"$WORK/jobs.jsonl"

# run_case NAME [option...]: a run that must end with the 5 jobs ok.
run_case() {
	local name=$1
	shift
	run_nb run "$WORK/jobs.jsonl" --db "$WORK/$name.db" --endpoint-url "$MOCK_URL" \
		--no-progress "$@"
	keep_output "$name"
	expect_eq "$name: exit code ($(cat "$WORK/err"))" 0 "$RC"
	expect_eq "$name: jobs ok" 5 "$(sql "$WORK/$name.db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"
}

# The environment's keys with a session token; without it the mock refuses.
AWS_SESSION_TOKEN="$TOKEN" run_case env_token
expect_grep "env: the source" "credentials: environment \(AWS_ACCESS_KEY_ID\)$" "$WORK/err"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/no_token.db" --endpoint-url "$MOCK_URL" --no-progress
keep_output no_token
expect_eq "no token: exit code" 1 "$RC"
expect_eq "no token: refused" "5|UnrecognizedClientException" \
	"$(sql "$WORK/no_token.db" "SELECT count(*), error_type FROM jobs WHERE status = 'failed'")"

# From here on the environment holds no keys.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# A Bedrock API key: a bearer token, no signature.
AWS_BEARER_TOKEN_BEDROCK="$BEARER" run_case bearer
expect_grep "bearer: the source" "credentials: environment \(AWS_BEARER_TOKEN_BEDROCK\)$" "$WORK/err"
AWS_BEARER_TOKEN_BEDROCK="ABSKwrong" run_nb run "$WORK/jobs.jsonl" --db "$WORK/bad_bearer.db" \
	--endpoint-url "$MOCK_URL" --no-progress
keep_output bad_bearer
expect_eq "wrong bearer: exit code" 1 "$RC"

# [default] in the credentials file; the region from [default] in config.
cat >"$AWS_SHARED_CREDENTIALS_FILE" <<INI
# test keys
[default]
aws_access_key_id = $KEY
aws_secret_access_key = $SECRET
aws_session_token = $TOKEN

[dev]
aws_access_key_id=$KEY
aws_secret_access_key=$SECRET
aws_session_token=$TOKEN
INI
cat >"$AWS_CONFIG_FILE" <<INI
[default]
region = us-west-2
[profile dev]
region = eu-west-3
[profile proc]
credential_process = sh $WORK/process.secret
INI
(
	unset AWS_REGION
	run_case default_file
	expect_grep "default: the source" "credentials: profile 'default' in $AWS_SHARED_CREDENTIALS_FILE$" "$WORK/err"
	expect_grep "default: the region" "region us-west-2 \(profile 'default', $AWS_CONFIG_FILE:2\)" "$WORK/err"
	expect_eq "default: the region recorded" us-west-2 "$(sql "$WORK/default_file.db" "SELECT region FROM runs")"
)

# AWS_PROFILE names the profile; its region comes along.
(
	unset AWS_REGION
	AWS_PROFILE=dev run_case aws_profile
	expect_grep "AWS_PROFILE: the source" "credentials: profile 'dev' in $AWS_SHARED_CREDENTIALS_FILE$" "$WORK/err"
	expect_grep "AWS_PROFILE: the region" "region eu-west-3 \(profile 'dev'" "$WORK/err"
)

# --profile wins over keys in the environment, which are then not used.
AWS_ACCESS_KEY_ID=AKIDWRONG AWS_SECRET_ACCESS_KEY=wrong run_case profile_option --profile dev
expect_grep "--profile: the source" "credentials: profile 'dev' in " "$WORK/err"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/no_profile.db" --endpoint-url "$MOCK_URL" --profile nope
keep_output no_profile
expect_eq "--profile nope: exit code" 2 "$RC"
expect_grep "--profile nope: message" "error: credentials: profile 'nope' \(from --profile\) is in neither $AWS_SHARED_CREDENTIALS_FILE nor $AWS_CONFIG_FILE" "$WORK/err"

# credential_process, run by the shell, printing Version 1 JSON.
cat >"$WORK/process.secret" <<SH
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s"}\n' \
	"$KEY" "$SECRET" "$TOKEN"
SH
run_case process --profile proc
expect_grep "process: the source" "credentials: credential_process of profile 'proc' \($AWS_CONFIG_FILE:6\)$" "$WORK/err"
printf 'echo "no such account" >&2; exit 3\n' >"$WORK/failing.secret"
cat >>"$AWS_CONFIG_FILE" <<INI
[profile failing]
credential_process = sh $WORK/failing.secret
INI
run_nb run "$WORK/jobs.jsonl" --db "$WORK/failing.db" --endpoint-url "$MOCK_URL" --profile failing
keep_output failing
expect_eq "failing process: exit code" 2 "$RC"
expect_grep "failing process: message" "error: credentials: credential_process of profile 'failing' \(.*\) exited with status 3: no such account" "$WORK/err"

# Nothing in the files for the profiles below.
rm "$AWS_SHARED_CREDENTIALS_FILE" "$AWS_CONFIG_FILE"

# Container credentials: a full URI on loopback, with a token, then with a
# token file. The stand-in hands out the test keys and session token.
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
	start_creds_server container "$CTOKEN"
AWS_CONTAINER_CREDENTIALS_FULL_URI="$CREDS_URL/v2/credentials" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN="$CTOKEN" run_case container
expect_grep "container: the source" "credentials: container credentials from $CREDS_URL/v2/credentials, renewed before they expire$" "$WORK/err"
expect_grep "container: the request" "^GET /v2/credentials 200$" "$WORK/creds.log"
printf '%s\n' "$CTOKEN" >"$WORK/container-token.secret"
AWS_CONTAINER_CREDENTIALS_FULL_URI="$CREDS_URL/v2/credentials" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$WORK/container-token.secret" run_case container_file
AWS_CONTAINER_CREDENTIALS_FULL_URI="$CREDS_URL/v2/credentials" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong" run_nb run "$WORK/jobs.jsonl" \
	--db "$WORK/container_bad.db" --endpoint-url "$MOCK_URL"
keep_output container_bad
expect_eq "container, wrong token: exit code" 2 "$RC"
expect_grep "container, wrong token: message" "error: credentials: container credentials from $CREDS_URL/v2/credentials: HTTP 401" "$WORK/err"
kill "$CREDS_PID"
wait "$CREDS_PID" 2>/dev/null || true
cp "$WORK/creds.log" "$WORK/creds-container.log"

# IMDSv2: a session token by PUT, the role's name, then its credentials.
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
	start_creds_server imds
(
	unset AWS_EC2_METADATA_DISABLED
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$CREDS_URL/" run_case imds
	expect_grep "imds: the source" "credentials: EC2 instance metadata at $CREDS_URL, renewed before they expire$" "$WORK/err"
)
expect_eq "imds: the requests" "PUT /latest/api/token 200
GET /latest/meta-data/iam/security-credentials/ 200
GET /latest/meta-data/iam/security-credentials/novabatch-test-role 200" "$(cat "$WORK/creds.log")"

# With instance metadata off and nothing else, the run says what to set.
run_nb run "$WORK/jobs.jsonl" --db "$WORK/none.db" --endpoint-url "$MOCK_URL"
keep_output none
expect_eq "no credentials: exit code" 2 "$RC"
expect_grep "no credentials: message" "error: credentials: no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_BEARER_TOKEN_BEDROCK, or give profile 'default' keys or a credential_process" "$WORK/err"

expect_no_secrets "$SECRET" "$TOKEN" "$BEARER" "$CTOKEN" imds-session-token-for-tests
echo "ok: credential sources"
