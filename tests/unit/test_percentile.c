/* Nearest rank, and cutting UTF-8 at a character boundary: the two small
 * rules reports, comparisons and messages share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "percentile.h"
#include "utf8.h"

static void ranks_are_nearest_ranks(void **state)
{
	(void)state;
	static const struct {
		double p;
		int64_t n, rank;
	} cases[] = {
		{50, 1, 1}, {50, 2, 1}, {50, 3, 2}, {90, 100, 90}, {99, 100, 99},
		{99, 101, 100}, {100, 7, 7}, {1, 1000, 10}, {0.1, 5, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(percentile_rank(cases[i].p, cases[i].n), cases[i].rank);
	double v[] = {30, 10, 20, 50, 40};
	percentile_sort(v, 5);
	assert_true(percentile_of(v, 5, 50) == 30);
	assert_true(percentile_of(v, 5, 90) == 50);
	assert_true(percentile_of(v, 5, 20) == 10);
}

static void text_is_cut_between_characters(void **state)
{
	(void)state;
	const char *s = "ab\xc3\xa9\xe2\x98\x95"; /* "abé☕": 2 + 2 + 3 bytes */
	assert_int_equal(utf8_cut(s, 7, 10), 7);
	assert_int_equal(utf8_cut(s, 7, 7), 7);
	assert_int_equal(utf8_cut(s, 7, 6), 4); /* not inside ☕ */
	assert_int_equal(utf8_cut(s, 7, 3), 2); /* not inside é */
	assert_int_equal(utf8_cut(s, 7, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranks_are_nearest_ranks),
		cmocka_unit_test(text_is_cut_between_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
