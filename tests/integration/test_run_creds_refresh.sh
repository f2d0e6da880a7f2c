# Credentials that rotate during a run. The mock moves its session token on
# every 8 requests and answers 403 ExpiredTokenException to the old ones;
# a credential_process hands out the current token with a 2-second lifetime,
# so renewals come both from the service's refusals and before expiry. With
# --max-attempts 1 every job must still end ok: an expired-token attempt is
# recorded but not counted against the job.
. "$(dirname "$0")/lib.sh"

SECRET=$AWS_SECRET_ACCESS_KEY
KEY=$AWS_ACCESS_KEY_ID
TOKEN="nbRotatingToken/IQoJb3JpZ2luX2VjEXAMPLE"
secret "$TOKEN"

start_mock --session-token "$TOKEN" --rotate-after 8 --rotate-file "$WORK/token.secret" \
	--latency-ms 40 --log "$WORK/mock.log"
for i in $(seq 1 60); do
	printf '{"id":"j%d","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"hi %d"}]}]}\n' "$i" "$i"
done >"$WORK/jobs.jsonl"

cat >"$WORK/process.secret" <<SH
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "SessionToken": "%s", "Expiration": "%s"}\n' \
	"$KEY" "$SECRET" "\$(cat "$WORK/token.secret")" "\$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)"
SH
cat >"$AWS_CONFIG_FILE" <<INI
[profile rotating]
credential_process = sh $WORK/process.secret
INI
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --profile rotating \
	--concurrency 3 --max-attempts 1 --no-progress
keep_output rotating
db="$WORK/nb.db"
expect_eq "exit code ($(cat "$WORK/err"))" 0 "$RC"
expect_eq "every job ok" 60 "$(sql "$db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"
expect_eq "no failed attempt but expired ones" 0 \
	"$(sql "$db" "SELECT count(*) FROM attempts WHERE error_type IS NOT NULL AND error_type != 'ExpiredTokenException'")"
expired=$(sql "$db" "SELECT count(*) FROM attempts WHERE error_type = 'ExpiredTokenException' AND http_status = 403")
[ "$expired" -ge 1 ] || fail "no attempt was refused as expired"
expect_eq "expired attempts are the extra ones" "$((60 + expired))" "$(sql "$db" "SELECT sum(attempts) FROM jobs")"
generation=$(sed -n 's/.*\.gen\([0-9]*\)$/\1/p' "$WORK/token.secret")
[ "${generation:-0}" -ge 3 ] || fail "the mock rotated only ${generation:-0} times"
renewed=$(sed -n 's/.*credentials renewed \([0-9]*\) time.*/\1/p' "$WORK/err")
[ "${renewed:-0}" -ge 3 ] || fail "the credentials were renewed ${renewed:-0} times: $(cat "$WORK/err")"
expect_grep "the summary counts them" "$expired refused as expired" "$WORK/err"

# Keys from the environment cannot be renewed: the run stops at the first
# refusal (exit 3, status stopped) and a resume with a renewable source ends it.
AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
	run_nb run "$WORK/jobs.jsonl" --db "$WORK/static.db" --endpoint-url "$MOCK_URL" \
	--concurrency 1 --no-progress
keep_output static
expect_eq "static: exit code" 3 "$RC"
expect_eq "static: status" stopped "$(sql "$WORK/static.db" "SELECT status FROM runs")"
expect_grep "static: why" "error: run 1 stopped: the service says the credentials from environment \(AWS_ACCESS_KEY_ID\) have expired, and that source cannot give new ones; once credentials work again, resume it: novabatch run --db $WORK/static.db --resume=1" "$WORK/err"
expect_eq "static: nothing failed" 0 "$(sql "$WORK/static.db" "SELECT count(*) FROM jobs WHERE status = 'failed'")"
run_nb run --db "$WORK/static.db" --resume --endpoint-url "$MOCK_URL" --profile rotating --no-progress
keep_output static_resumed
expect_eq "static resumed: exit code ($(cat "$WORK/err"))" 0 "$RC"
expect_eq "static resumed: every job ok" 60 "$(sql "$WORK/static.db" "SELECT count(*) FROM jobs WHERE status = 'ok'")"

# A credential_process that works once and then fails: renewals back off
# (1, 2, 4, 8 s), and after the fifth failure the run stops, resumable.
cat >"$WORK/once.secret" <<SH
if [ -e "$WORK/once.used" ]; then echo "the identity provider is down" >&2; exit 1; fi
: >"$WORK/once.used"
sh "$WORK/process.secret"
SH
cat >>"$AWS_CONFIG_FILE" <<INI
[profile once]
credential_process = sh $WORK/once.secret
INI
run_nb run "$WORK/jobs.jsonl" --db "$WORK/once.db" --endpoint-url "$MOCK_URL" --profile once \
	--concurrency 2 --no-progress
keep_output once
expect_eq "once: exit code ($(cat "$WORK/err"))" 3 "$RC"
expect_grep "once: the retries are told" "renewing the credentials failed \(credential_process of profile 'once' .* exited with status 1: the identity provider is down\); trying again in 1 s; requests wait for new credentials" "$WORK/err"
expect_grep "once: why it stopped" "error: run 1 stopped: renewing the credentials failed 5 times in a row: .*the identity provider is down; once credentials work again, resume it" "$WORK/err"
expect_eq "once: status" stopped "$(sql "$WORK/once.db" "SELECT status FROM runs")"
expect_eq "once: nothing failed" 0 "$(sql "$WORK/once.db" "SELECT count(*) FROM jobs WHERE status = 'failed'")"

expect_no_secrets "$SECRET" "$TOKEN"
echo "ok: credentials renewed during a run"
