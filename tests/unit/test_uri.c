/*
 * uri: percent-encoding as SigV4 and Bedrock paths want it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "uri.h"

/* Encodes s and compares with want. */
static void expect_encoded(const char *s, bool keep_slash, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(uri_encode(&b, s, keep_slash), 0);
	assert_string_equal(buf_str(&b), want);
	buf_cleanup(&b);
}

static void test_unreserved_bytes_are_kept(void **state)
{
	(void)state;
	const char *u = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	expect_encoded(u, false, u);
	expect_encoded("", false, "");
}

static void test_everything_else_is_encoded_upper_case(void **state)
{
	(void)state;
	expect_encoded(":", false, "%3A");
	expect_encoded(" !\"#$%&'()*+,;=?@[]", false,
		       "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%3B%3D%3F%40%5B%5D");
	expect_encoded("\x01\x7f", false, "%01%7F");
}

static void test_slash_is_kept_only_when_asked(void **state)
{
	(void)state;
	expect_encoded("inference-profile/us.amazon.nova-pro-v1:0", false,
		       "inference-profile%2Fus.amazon.nova-pro-v1%3A0");
	expect_encoded("/a b/c:d/", true, "/a%20b/c%3Ad/");
}

static void test_utf8_bytes_are_encoded_one_by_one(void **state)
{
	(void)state;
	expect_encoded("\xe1\x88\xb4", false, "%E1%88%B4"); /* U+1234 */
	expect_encoded("caf\xc3\xa9", true, "caf%C3%A9");
}

static void test_encode_n_takes_nul_bytes(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(uri_encode_n(&b, "a\0b", 3, false), 0);
	assert_string_equal(buf_str(&b), "a%00b");
	buf_cleanup(&b);
}

static void test_encode_appends_and_respects_the_cap(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 8);
	assert_int_equal(uri_encode(&b, "ab", false), 0);
	assert_int_equal(uri_encode(&b, ":", false), 0);
	assert_string_equal(buf_str(&b), "ab%3A");
	/* "%3A%3A" would pass the cap: nothing is appended. */
	assert_int_equal(uri_encode(&b, "::", false), -1);
	assert_string_equal(buf_str(&b), "ab%3A");
	buf_cleanup(&b);
}

static void test_decode_undoes_escapes(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char *s = "a%3ab%3A%E1%88%B4+%00";
	assert_int_equal(uri_decode(&b, s, strlen(s)), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "a:b:\xe1\x88\xb4+\0", 9);
	buf_cleanup(&b);
}

static void test_decode_keeps_broken_escapes(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char *s = "100%%zz%4%";
	assert_int_equal(uri_decode(&b, s, strlen(s)), 0);
	assert_string_equal(buf_str(&b), "100%%zz%4%");
	buf_reset(&b);
	/* Only n bytes are read: "%41" cut to "%4" is not an escape. */
	assert_int_equal(uri_decode(&b, "%41", 2), 0);
	assert_string_equal(buf_str(&b), "%4");
	buf_cleanup(&b);
}

static void test_model_path_for_a_model_id(void **state)
{
	(void)state;
	char *p = uri_model_path("us.amazon.nova-lite-v1:0", "converse");
	assert_string_equal(p, "/model/us.amazon.nova-lite-v1%3A0/converse");
	free(p);
	p = uri_model_path("amazon.nova-micro-v1:0", "converse-stream");
	assert_string_equal(p, "/model/amazon.nova-micro-v1%3A0/converse-stream");
	free(p);
}

static void test_model_path_for_an_arn(void **state)
{
	(void)state;
	char *p = uri_model_path(
		"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
		"converse");
	assert_string_equal(p, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012"
			       "%3Ainference-profile%2Fus.amazon.nova-pro-v1%3A0/converse");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreserved_bytes_are_kept),
		cmocka_unit_test(test_everything_else_is_encoded_upper_case),
		cmocka_unit_test(test_slash_is_kept_only_when_asked),
		cmocka_unit_test(test_utf8_bytes_are_encoded_one_by_one),
		cmocka_unit_test(test_encode_n_takes_nul_bytes),
		cmocka_unit_test(test_encode_appends_and_respects_the_cap),
		cmocka_unit_test(test_decode_undoes_escapes),
		cmocka_unit_test(test_decode_keeps_broken_escapes),
		cmocka_unit_test(test_model_path_for_a_model_id),
		cmocka_unit_test(test_model_path_for_an_arn),
	};
	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
