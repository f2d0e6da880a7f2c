/* Fail fast: a streak of the same configuration error trips it, anything
 * else breaks the streak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "failfast.h"

static void trips_after_a_streak_of_the_same_error(void **state)
{
	(void)state;
	struct failfast f;
	failfast_init(&f);
	for (int i = 1; i < FAILFAST_STREAK; i++)
		assert_false(failfast_note(&f, RETRY_FINAL, "ResourceNotFoundException",
					   "Model not found"));
	assert_true(failfast_note(&f, RETRY_FINAL, "ResourceNotFoundException", "Model not found"));
	assert_true(f.tripped);
	assert_string_equal(f.type, "ResourceNotFoundException");
	assert_string_equal(f.message, "Model not found");
	/* Once tripped, it says so only once. */
	assert_false(failfast_note(&f, RETRY_FINAL, "ResourceNotFoundException", "x"));
	failfast_cleanup(&f);
}

static void other_outcomes_break_the_streak(void **state)
{
	(void)state;
	struct failfast f;
	failfast_init(&f);
	for (int round = 0; round < 3; round++) {
		for (int i = 1; i < FAILFAST_STREAK; i++)
			assert_false(failfast_note(&f, RETRY_FINAL, "AccessDeniedException", "no"));
		assert_false(failfast_note(&f, round == 0   ? RETRY_SUCCESS
						: round == 1 ? RETRY_THROTTLED
							     : RETRY_FINAL,
					   round == 2 ? "ResourceNotFoundException" : NULL, "x"));
	}
	assert_false(f.tripped);
	failfast_cleanup(&f);
}

static void only_validation_errors_about_the_model_count(void **state)
{
	(void)state;
	struct failfast f;
	failfast_init(&f);
	for (int i = 0; i < 2 * FAILFAST_STREAK; i++)
		assert_false(failfast_note(&f, RETRY_FINAL, "ValidationException",
					   "Malformed input request: extraneous key [foo]"));
	for (int i = 1; i < FAILFAST_STREAK; i++)
		assert_false(failfast_note(&f, RETRY_FINAL, "ValidationException",
					   "The provided model identifier is invalid."));
	assert_true(failfast_note(&f, RETRY_FINAL, "ValidationException",
				  "The provided model identifier is invalid."));
	failfast_cleanup(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trips_after_a_streak_of_the_same_error),
		cmocka_unit_test(other_outcomes_break_the_streak),
		cmocka_unit_test(only_validation_errors_about_the_model_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
