/* The mock's credential check and its rotation of the session token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_creds.h"

static void read_file(const char *path, char *out, size_t size)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(out, (int)size, fp));
	fclose(fp);
	out[strcspn(out, "\n")] = '\0';
}

static void rotates_and_calls_old_tokens_expired(void **state)
{
	(void)state;
	char path[] = "/tmp/nb_mock_creds_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct mock_creds_config cfg = {"AK", "SK", "T", NULL, 2, path};
	struct nb_err err;
	struct mock_creds *mc = mock_creds_new(&cfg, &err);
	assert_non_null(mc);
	char now[64];
	read_file(path, now, sizeof now);
	assert_string_equal(now, "T");
	assert_int_equal(mock_creds_check(mc, "AK", "T"), MOCK_CREDS_OK);
	assert_int_equal(mock_creds_check(mc, "AK", "T.gen1"), MOCK_CREDS_UNKNOWN);
	assert_int_equal(mock_creds_check(mc, "AK", NULL), MOCK_CREDS_UNKNOWN);
	assert_int_equal(mock_creds_check(mc, "OTHER", "T"), MOCK_CREDS_UNKNOWN);
	mock_creds_passed(mc);
	mock_creds_passed(mc); /* the second: generation 1 */
	read_file(path, now, sizeof now);
	assert_string_equal(now, "T.gen1");
	assert_int_equal(mock_creds_check(mc, "AK", "T"), MOCK_CREDS_EXPIRED);
	assert_int_equal(mock_creds_check(mc, "AK", "T.gen1"), MOCK_CREDS_OK);
	assert_int_equal(mock_creds_check(mc, "AK", "T.gen2"), MOCK_CREDS_UNKNOWN);
	mock_creds_free(mc);
	unlink(path);
}

static void checks_without_rotation(void **state)
{
	(void)state;
	struct mock_creds_config cfg = {"AK", "SK", NULL, "BT", 0, NULL};
	struct mock_creds *mc = mock_creds_new(&cfg, NULL);
	assert_int_equal(mock_creds_check(mc, "AK", NULL), MOCK_CREDS_OK);
	assert_int_equal(mock_creds_check(mc, "AK", "T"), MOCK_CREDS_UNKNOWN);
	assert_true(mock_creds_bearer_ok(mc, "BT"));
	assert_false(mock_creds_bearer_ok(mc, "BT2"));
	assert_string_equal(mock_creds_secret(mc), "SK");
	mock_creds_free(mc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rotates_and_calls_old_tokens_expired),
		cmocka_unit_test(checks_without_rotation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
