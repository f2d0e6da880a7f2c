/* credential_process, container and IMDS documents; ISO 8601 times; the
 * renewal timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "creds_json.h"
#include "creds_value.h"

#define WHAT "credential_process 'get'"

struct json_case {
	const char *text;
	enum creds_json_kind kind;
	const char *key, *secret, *token; /* expected on success */
	time_t expiration;
	const char *error;                /* expected message, or NULL */
};

static const struct json_case cases[] = {
	{"{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\"}", CREDS_JSON_PROCESS,
	 "AK", "SK", NULL, 0, NULL},
	{"{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"SessionToken\":\"T\","
	 "\"Expiration\":\"2024-05-01T12:00:00Z\"}",
	 CREDS_JSON_PROCESS, "AK", "SK", "T", 1714564800, NULL},
	{"{\"Code\":\"Success\",\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Token\":\"T\","
	 "\"Expiration\":\"2024-05-01T12:00:00.123+01:00\",\"Type\":\"AWS-HMAC\"}",
	 CREDS_JSON_HTTP, "AK", "SK", "T", 1714564800 - 3600, NULL},
	{"{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\"}", CREDS_JSON_PROCESS, NULL, NULL,
	 NULL, 0, WHAT ": field 'Version' is missing (it must be 1)"},
	{"{\"Version\":2,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\"}", CREDS_JSON_PROCESS,
	 NULL, NULL, NULL, 0, WHAT ": field 'Version' must be 1, the only version known"},
	{"{\"Version\":1,\"SecretAccessKey\":\"SK\"}", CREDS_JSON_PROCESS, NULL, NULL, NULL, 0,
	 WHAT ": field 'AccessKeyId' is missing"},
	{"{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":7}", CREDS_JSON_PROCESS, NULL,
	 NULL, NULL, 0, WHAT ": field 'SecretAccessKey' must be a string"},
	{"{\"Version\":1,\"AccessKeyId\":\"\",\"SecretAccessKey\":\"SK\"}", CREDS_JSON_PROCESS,
	 NULL, NULL, NULL, 0, WHAT ": field 'AccessKeyId' is empty"},
	{"{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Expiration\":\"soon\"}",
	 CREDS_JSON_PROCESS, NULL, NULL, NULL, 0,
	 WHAT ": field 'Expiration' is 'soon', not an ISO 8601 time such as 2024-05-01T12:00:00Z"},
	/* The message gives the position, never the text near it: a secret. */
	{"{\"Version\":1,\"SecretAccessKey\":\"hunter2", CREDS_JSON_PROCESS, NULL, NULL, NULL, 0,
	 WHAT ": not JSON (line 1, column 39)"},
	{"[1]", CREDS_JSON_PROCESS, NULL, NULL, NULL, 0, WHAT ": expected a JSON object"},
	{"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no role\"}", CREDS_JSON_HTTP,
	 NULL, NULL, NULL, 0, WHAT ": field 'Code' is 'AssumeRoleUnauthorizedAccess': no role"},
	{"", CREDS_JSON_PROCESS, NULL, NULL, NULL, 0, WHAT ": not JSON (line 1, column 0)"},
};

static void parses_every_case(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct json_case *c = &cases[i];
		struct creds_value v = {0};
		struct nb_err err = {{0}};
		int rc = creds_json_parse(c->text, strlen(c->text), c->kind, WHAT, &v, &err);
		if (c->error) {
			if (rc != -1 || strcmp(err.msg, c->error) != 0)
				fail_msg("case %zu: got %d '%s', want '%s'", i, rc, err.msg, c->error);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_string_equal(v.access_key_id, c->key);
		assert_string_equal(v.secret_access_key, c->secret);
		if (c->token)
			assert_string_equal(v.session_token, c->token);
		else
			assert_null(v.session_token);
		assert_int_equal(v.expiration, c->expiration);
		creds_value_cleanup(&v);
	}
}

static void reads_iso_times(void **state)
{
	(void)state;
	time_t t;
	assert_int_equal(creds_json_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(creds_json_time("2024-05-01T12:00:00-02:30", &t), 0);
	assert_int_equal(t, 1714564800 + 9000);
	const char *bad[] = {"2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z",
			     "2024-05-01T12:00:00Zjunk", "2024-05-01T12:00:00.Z", "x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (creds_json_time(bad[i], &t) == 0)
			fail_msg("'%s' was accepted", bad[i]);
}

static void renews_five_minutes_early_or_at_four_fifths(void **state)
{
	(void)state;
	/* An hour: five minutes before the end. */
	assert_true(creds_refresh_delay_s(1000, 1000 + 3600, 1000) == 3300);
	/* Ten seconds: at eight. */
	assert_true(creds_refresh_delay_s(1000, 1010, 1000) == 8);
	/* Half-way through that lifetime: three seconds to go. */
	assert_true(creds_refresh_delay_s(1000, 1010, 1005) == 3);
	/* Already in the margin, or expired: now. */
	assert_true(creds_refresh_delay_s(1000, 1010, 1009) == 0);
	assert_true(creds_refresh_delay_s(1000, 990, 1000) == 0);
}

static void backs_off_renewals(void **state)
{
	(void)state;
	assert_true(creds_retry_delay_ms(1) == 1000);
	assert_true(creds_retry_delay_ms(2) == 2000);
	assert_true(creds_retry_delay_ms(5) == 16000);
	assert_true(creds_retry_delay_ms(6) == CREDS_RETRY_CAP_MS);
	assert_true(creds_retry_delay_ms(1000) == CREDS_RETRY_CAP_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_case),
		cmocka_unit_test(reads_iso_times),
		cmocka_unit_test(renews_five_minutes_early_or_at_four_fifths),
		cmocka_unit_test(backs_off_renewals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
