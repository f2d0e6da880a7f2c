/* The stop-loss: worst cases at list price, reservations given back, the
 * limit never passed, and limits read exactly from what users type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spend.h"

/* USD per 1k tokens 0.0008 in, 0.0032 out: 800 and 3200 pico-USD a token. */
static const struct models_price pro = {.input = 800, .output = 3200};

static void the_worst_case_is_input_and_max_tokens_at_list_price(void **state)
{
	(void)state;
	assert_int_equal(spend_worst_case_pusd(&pro, 10, 100), 10 * 800 + 100 * 3200);
	/* Estimates round up, never down. */
	assert_int_equal(spend_worst_case_pusd(&pro, 10.25, 0), 11 * 800);
	assert_int_equal(spend_worst_case_pusd(&pro, -3, -1), 0);
	/* A worst case past any limit is held there: never wrapped, never allowed. */
	const struct models_price dear = {.input = 1000000000000000, .output = 1000000000000000};
	int64_t huge = spend_worst_case_pusd(&dear, 1e9, 1e12);
	assert_true(huge > 0);
	struct spend s;
	spend_init(&s, 999999 * INT64_C(1000000000000), 0);
	assert_false(spend_allows(&s, huge));
}

static void a_request_goes_only_if_spent_reserved_and_its_own_fit(void **state)
{
	(void)state;
	struct spend s;
	spend_init(&s, 1000, 300); /* 300 spent by an earlier session */
	assert_true(spend_allows(&s, 700));
	assert_false(spend_allows(&s, 701));
	spend_reserve(&s, 400);
	assert_true(spend_allows(&s, 300));
	assert_false(spend_allows(&s, 301));
	/* The answer cost less than reserved: room comes back. */
	spend_settle(&s, 400, 150);
	assert_int_equal(s.spent_pusd, 450);
	assert_int_equal(s.reserved_pusd, 0);
	assert_true(spend_allows(&s, 550));
	assert_false(spend_allows(&s, 551));
	/* An error answer costs nothing. */
	spend_reserve(&s, 500);
	spend_settle(&s, 500, 0);
	assert_int_equal(s.spent_pusd, 450);
}

static void no_limit_allows_everything_and_still_counts(void **state)
{
	(void)state;
	struct spend s;
	spend_init(&s, SPEND_NO_LIMIT, 0);
	assert_true(spend_allows(&s, INT64_C(1) << 60));
	spend_reserve(&s, 10);
	spend_settle(&s, 10, 7);
	assert_int_equal(s.spent_pusd, 7);
}

static void limits_are_read_exactly(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t pusd;
	} good[] = {
		{"0", 0},
		{"25", INT64_C(25000000000000)},
		{"2.50", INT64_C(2500000000000)},
		{"0.1", INT64_C(100000000000)},
		{"0.000000000001", 1},
		{"999999.999999999999", INT64_C(999999999999999999)},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t v = -1;
		assert_int_equal(spend_parse_usd(good[i].text, &v), 0);
		assert_true(v == good[i].pusd);
	}
	static const char *const bad[] = {
		"", "-1", "+1", "1e3", "1.", ".5", "1.2.3", "abc", "12 ", "0.0000000000001",
		"1000000", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v = 0;
		assert_int_equal(spend_parse_usd(bad[i], &v), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_worst_case_is_input_and_max_tokens_at_list_price),
		cmocka_unit_test(a_request_goes_only_if_spent_reserved_and_its_own_fit),
		cmocka_unit_test(no_limit_allows_everything_and_still_counts),
		cmocka_unit_test(limits_are_read_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
