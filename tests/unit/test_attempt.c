/* Reading a finished attempt: answer, error, transport failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "attempt.h"

static struct retry_policy policy;

static struct pool_result answered(long status, const char *headers, const char *body)
{
	struct pool_result r = {
		.transport = POOL_ANSWERED,
		.http_status = status,
		.body = body,
		.body_len = strlen(body),
		.start_ns = 1000000,
		.end_ns = 3500000,
		.headers = headers,
	};
	return r;
}

static void reads_a_success(void **state)
{
	(void)state;
	struct pool_result r = answered(200, "HTTP/1.1 200 OK\r\nx-amzn-RequestId: rid-1\r\n\r\n",
					"{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
					"[{\"text\":\"hi\"}]}},\"stopReason\":\"end_turn\","
					"\"usage\":{\"inputTokens\":3,\"outputTokens\":1,\"totalTokens\":4}}");
	struct attempt_outcome a;
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_SUCCESS);
	assert_string_equal(a.request_id, "rid-1");
	assert_string_equal(a.answer.output_text, "hi");
	assert_string_equal(a.error_type, "");
	assert_null(a.error_message);
	assert_float_equal(a.latency_ms, 2.5, 1e-9);
	attempt_outcome_cleanup(&a);
}

static void reads_a_throttle(void **state)
{
	(void)state;
	struct pool_result r = answered(
		429,
		"HTTP/1.1 429 Too Many Requests\r\nx-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n"
		"x-amzn-RequestId: rid-2\r\n\r\n",
		"{\"message\":\"Too many requests, please wait before trying again.\"}");
	struct attempt_outcome a;
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_THROTTLED);
	assert_string_equal(a.error_type, "ThrottlingException");
	assert_string_equal(a.error_message, "Too many requests, please wait before trying again.");
	assert_int_equal(a.http_status, 429);
	attempt_outcome_cleanup(&a);
}

static void reads_an_expired_token_by_its_message_too(void **state)
{
	(void)state;
	struct pool_result r = answered(
		403, "HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: UnrecognizedClientException\r\n\r\n",
		"{\"message\":\"The security token included in the request is expired\"}");
	struct attempt_outcome a;
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_REFRESH);
	attempt_outcome_cleanup(&a);
	r = answered(403, "HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: UnrecognizedClientException\r\n\r\n",
		     "{\"message\":\"The security token included in the request is invalid.\"}");
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_FINAL);
	attempt_outcome_cleanup(&a);
}

static void reads_a_garbled_success_as_transient(void **state)
{
	(void)state;
	struct pool_result r = answered(200, "", "{\"output\":");
	struct attempt_outcome a;
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_TRANSIENT);
	assert_string_equal(a.error_type, "MalformedResponse");
	attempt_outcome_cleanup(&a);
}

static void reads_a_connection_cut_short(void **state)
{
	(void)state;
	struct pool_result r = {
		.transport = POOL_CUT_SHORT,
		.transport_code = 18,
		.transport_error = "transfer closed with 120 bytes remaining to read",
		.body = "",
		.headers = "",
	};
	struct attempt_outcome a;
	attempt_read(&r, NULL, &policy, &a);
	assert_int_equal(a.class, RETRY_TRANSIENT);
	assert_string_equal(a.error_type, "ConnectionCutShort");
	assert_string_equal(a.error_message, "transfer closed with 120 bytes remaining to read");
	assert_string_equal(a.transport_error, a.error_message);
	assert_int_equal(a.http_status, 0);
	attempt_outcome_cleanup(&a);
}

int main(void)
{
	retry_policy_init(&policy);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_a_success),
		cmocka_unit_test(reads_a_throttle),
		cmocka_unit_test(reads_an_expired_token_by_its_message_too),
		cmocka_unit_test(reads_a_garbled_success_as_transient),
		cmocka_unit_test(reads_a_connection_cut_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
