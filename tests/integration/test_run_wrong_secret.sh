# A wrong secret: every job fails with InvalidSignatureException, exit 1, and
# the secret appears in no output and not in the database.
. "$(dirname "$0")/lib.sh"

start_mock
for i in $(seq 1 20); do
	printf '{"id":"j%d","modelId":"us.amazon.nova-micro-v1:0","messages":[{"role":"user","content":[{"text":"hi"}]}]}\n' "$i"
done >"$WORK/jobs.jsonl"

wrong_secret="WrongSecretValue/abcdefghijklmnopqrstuvwx"
run_nb run "$WORK/jobs.jsonl" --db "$WORK/nb.db" --endpoint-url "$MOCK_URL" --no-progress
expect_eq "the right secret works" 0 "$RC"

AWS_SECRET_ACCESS_KEY="$wrong_secret" run_nb run "$WORK/jobs.jsonl" --db "$WORK/bad.db" \
	--endpoint-url "$MOCK_URL" --concurrency 4 --no-progress
expect_eq "exit code" 1 "$RC"
db="$WORK/bad.db"
expect_eq "failed rows" "20|InvalidSignatureException|403" \
	"$(sql "$db" "SELECT count(*), error_type, http_status FROM jobs WHERE status = 'failed' GROUP BY error_type")"
expect_eq "attempt rows" 20 "$(sql "$db" "SELECT count(*) FROM attempts WHERE error_type = 'InvalidSignatureException'")"
expect_grep "stderr says why" "failed after 1 attempt: InvalidSignatureException: The request signature we calculated does not match" "$WORK/err"

for f in "$WORK/out" "$WORK/err" "$WORK/mock.out" "$WORK/mock.err"; do
	if grep -qF "$wrong_secret" "$f" || grep -qF "$AWS_SECRET_ACCESS_KEY" "$f"; then
		fail "a secret appears in $f"
	fi
done
sqlite3 "$db" .dump >"$WORK/dump.sql"
if grep -qF "$wrong_secret" "$WORK/dump.sql"; then
	fail "the secret is in the database"
fi
echo "ok: wrong secret"
