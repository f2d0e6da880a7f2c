/* The progress line: what it shows, from totals alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "progress.h"

static void shows_counts_rates_cost_and_time_left(void **state)
{
	(void)state;
	struct sched_totals t = {
		.ok = 240, .failed = 5, .invalid = 5, .skipped = 50,
		.attempts = 230, .retries = 30, .throttled = 12,
		.input_tokens = 12345, .output_tokens = 2500000,
		.cost_pusd = INT64_C(1230000000000), .cost_known = true,
		.in_flight = 16,
	};
	char line[PROGRESS_LINE_LEN];
	/* 200 jobs done in this session in 10 s: 20 a second, 750 to go. */
	progress_line(&t, 1000, 10.0, line);
	assert_string_equal(line, "250/1000 (25.0%) done, 16 in flight, 23.0 req/s | ok 240, "
				  "failed 5, invalid 5 | 30 retries, 12 throttled | tokens 12.3k in, "
				  "2.50M out | $1.23, ETA 38s");
}

static void an_unknown_total_shows_no_percent_and_no_eta(void **state)
{
	(void)state;
	struct sched_totals t = {.ok = 3, .attempts = 3, .cost_known = false};
	char line[PROGRESS_LINE_LEN];
	progress_line(&t, -1, 0.0, line);
	assert_string_equal(line, "3 done, 0 in flight, 0.0 req/s | ok 3, failed 0, invalid 0 | "
				  "0 retries, 0 throttled | tokens 0 in, 0 out | $0.00 (some unpriced)");
	/* More done than counted (a file grew): the count is the total. */
	progress_line(&t, 2, 1.0, line);
	assert_non_null(strstr(line, "3/3 (100.0%) done"));
}

static void words_for_counts_and_durations(void **state)
{
	(void)state;
	char w[PROGRESS_WORD_LEN];
	progress_count(999, w);
	assert_string_equal(w, "999");
	progress_count(1000, w);
	assert_string_equal(w, "1.0k");
	progress_count(4560000, w);
	assert_string_equal(w, "4.56M");
	progress_duration(0.2, w);
	assert_string_equal(w, "1s");
	progress_duration(725, w);
	assert_string_equal(w, "12m05s");
	progress_duration(12000, w);
	assert_string_equal(w, "3h20m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shows_counts_rates_cost_and_time_left),
		cmocka_unit_test(an_unknown_total_shows_no_percent_and_no_eta),
		cmocka_unit_test(words_for_counts_and_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
