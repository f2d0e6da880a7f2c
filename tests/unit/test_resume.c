/* What a resume does with each recorded job: the decision table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "resume.h"

static void each_recorded_state_gets_its_action(void **state)
{
	(void)state;
	static const struct {
		const char *status, *prior_hash, *hash;
		bool retry_failed;
		enum resume_action want;
	} cases[] = {
		/* A result stands; a failure stands unless asked. */
		{"ok", "aa", "aa", false, RESUME_SKIP},
		{"ok", "aa", "aa", true, RESUME_SKIP},
		{"failed", "aa", "aa", false, RESUME_SKIP},
		{"failed", "aa", "aa", true, RESUME_RUN},
		/* Held or in flight when the session ended. */
		{"pending", "aa", "aa", false, RESUME_RUN},
		/* Another request under the same id and model. */
		{"ok", "aa", "bb", false, RESUME_CHANGED},
		{"failed", "aa", "bb", false, RESUME_CHANGED},
		{"pending", "aa", "bb", false, RESUME_CHANGED},
		/* An invalid line (no hash recorded) that is valid now. */
		{"invalid", "", "bb", false, RESUME_CHANGED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(resume_decide(cases[i].status, cases[i].prior_hash, cases[i].hash,
					       cases[i].retry_failed),
				 cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_recorded_state_gets_its_action),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
