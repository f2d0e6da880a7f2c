/* The retry decision table and the backoff arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "retry.h"

struct classify_case {
	enum pool_transport transport;
	long status;
	const char *type;
	enum retry_class want;
};

static const struct classify_case cases[] = {
	{POOL_ANSWERED, 200, NULL, RETRY_SUCCESS},
	{POOL_ANSWERED, 200, "MalformedResponse", RETRY_TRANSIENT},
	{POOL_ANSWERED, 429, "ThrottlingException", RETRY_THROTTLED},
	{POOL_ANSWERED, 429, "ModelNotReadyException", RETRY_THROTTLED},
	{POOL_ANSWERED, 500, "InternalServerException", RETRY_TRANSIENT},
	{POOL_ANSWERED, 503, "ServiceUnavailableException", RETRY_TRANSIENT},
	{POOL_ANSWERED, 502, "HTTP 502", RETRY_TRANSIENT},
	{POOL_ANSWERED, 504, NULL, RETRY_TRANSIENT},
	{POOL_ANSWERED, 408, "ModelTimeoutException", RETRY_TRANSIENT},
	{POOL_ANSWERED, 424, "ModelErrorException", RETRY_FINAL},
	{POOL_ANSWERED, 424, "ModelStreamErrorException", RETRY_TRANSIENT},
	{POOL_ANSWERED, 400, "ValidationException", RETRY_FINAL},
	{POOL_ANSWERED, 403, "AccessDeniedException", RETRY_FINAL},
	{POOL_ANSWERED, 403, "InvalidSignatureException", RETRY_FINAL},
	{POOL_ANSWERED, 403, "ExpiredTokenException", RETRY_REFRESH},
	{POOL_ANSWERED, 404, "ResourceNotFoundException", RETRY_FINAL},
	{POOL_ANSWERED, 409, "ConflictException", RETRY_FINAL},
	{POOL_ANSWERED, 413, NULL, RETRY_FINAL},
	{POOL_CONNECT_FAILED, 0, "ConnectionError", RETRY_TRANSIENT},
	{POOL_TIMED_OUT, 0, "Timeout", RETRY_TRANSIENT},
	{POOL_CUT_SHORT, 0, "ConnectionCutShort", RETRY_TRANSIENT},
	{POOL_TOO_LARGE, 0, "AnswerTooLarge", RETRY_FINAL},
	{POOL_TLS, 0, "TLSError", RETRY_FINAL},
	{POOL_OTHER, 0, "TransportError", RETRY_FINAL},
};

static void classifies_every_case_of_the_table(void **state)
{
	(void)state;
	struct retry_policy p;
	retry_policy_init(&p);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum retry_class got =
			retry_classify(&p, cases[i].transport, cases[i].status, cases[i].type);
		if (got != cases[i].want)
			fail_msg("case %zu (%ld %s): got %s, want %s", i, cases[i].status,
				 cases[i].type ? cases[i].type : "-", retry_class_name(got),
				 retry_class_name(cases[i].want));
	}
}

static void model_timeout_and_model_error_are_configurable(void **state)
{
	(void)state;
	struct retry_policy p;
	retry_policy_init(&p);
	p.retry_model_timeout = false;
	p.retry_model_error = true;
	assert_int_equal(retry_classify(&p, POOL_ANSWERED, 408, "ModelTimeoutException"), RETRY_FINAL);
	assert_int_equal(retry_classify(&p, POOL_ANSWERED, 424, "ModelErrorException"),
			 RETRY_TRANSIENT);
}

static void backoff_doubles_up_to_the_cap_with_full_jitter(void **state)
{
	(void)state;
	struct retry_policy p;
	retry_policy_init(&p);
	/* random01 just below 1 shows the ceiling; 0 gives no wait. */
	double top = 0.999999;
	assert_float_equal(retry_delay_ms(&p, RETRY_TRANSIENT, 1, top), 250.0, 0.01);
	assert_float_equal(retry_delay_ms(&p, RETRY_TRANSIENT, 2, top), 500.0, 0.01);
	assert_float_equal(retry_delay_ms(&p, RETRY_TRANSIENT, 3, top), 1000.0, 0.01);
	assert_float_equal(retry_delay_ms(&p, RETRY_THROTTLED, 1, top), 1000.0, 0.01);
	assert_float_equal(retry_delay_ms(&p, RETRY_THROTTLED, 4, top), 8000.0, 0.01);
	assert_float_equal(retry_delay_ms(&p, RETRY_THROTTLED, 6, top), 20000.0, 0.03);
	assert_float_equal(retry_delay_ms(&p, RETRY_THROTTLED, 1000, top), 20000.0, 0.03);
	assert_float_equal(retry_delay_ms(&p, RETRY_THROTTLED, 3, 0.5), 2000.0, 0.001);
	assert_float_equal(retry_delay_ms(&p, RETRY_TRANSIENT, 5, 0.0), 0.0, 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classifies_every_case_of_the_table),
		cmocka_unit_test(model_timeout_and_model_error_are_configurable),
		cmocka_unit_test(backoff_doubles_up_to_the_cap_with_full_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
