/*
 * test_models: the price table, its lookups by id, profile and ARN, and
 * costs in exact integers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models.h"

#define PUSD_PER_USD INT64_C(1000000000000)

static struct models *builtin(void)
{
	struct models *m = NULL;
	struct nb_err err;
	assert_int_equal(models_load_builtin(&m, &err), 0);
	return m;
}

static void assert_price(const struct models *m, const char *id, int64_t input, int64_t output,
			 int64_t cache_read, int64_t cache_write)
{
	struct models_price p;
	if (!models_price_for(m, id, &p))
		fail_msg("no price for %s", id);
	assert_int_equal(p.input, input);
	assert_int_equal(p.output, output);
	assert_int_equal(p.cache_read, cache_read);
	assert_int_equal(p.cache_write, cache_write);
}

static void assert_unknown(const struct models *m, const char *id)
{
	struct models_price p;
	if (models_price_for(m, id, &p))
		fail_msg("%s should have no price", id);
}

static void converts_prices_to_micro_usd_per_million_tokens(void **state)
{
	(void)state;
	struct models *m = builtin();
	/* USD per 1,000 tokens x 1e9; cache writes at the input rate. */
	assert_price(m, "amazon.nova-micro-v1:0", 35000, 140000, 8750, 35000);
	assert_price(m, "amazon.nova-lite-v1:0", 60000, 240000, 15000, 60000);
	assert_price(m, "amazon.nova-pro-v1:0", 800000, 3200000, 200000, 800000);
	models_free(m);
}

static void prices_geographic_profiles_and_arns_as_their_model(void **state)
{
	(void)state;
	struct models *m = builtin();
	assert_price(m, "us.amazon.nova-lite-v1:0", 60000, 240000, 15000, 60000);
	assert_price(m, "eu.amazon.nova-lite-v1:0", 60000, 240000, 15000, 60000);
	assert_price(m, "apac.amazon.nova-pro-v1:0", 800000, 3200000, 200000, 800000);
	assert_price(m,
		     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
		     "us.amazon.nova-micro-v1:0",
		     35000, 140000, 8750, 35000);
	assert_price(m, "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
		     800000, 3200000, 200000, 800000);
	models_free(m);
}

static void knows_no_price_for_other_models(void **state)
{
	(void)state;
	struct models *m = builtin();
	assert_unknown(m, "anthropic.claude-3-haiku-20240307-v1:0");
	assert_unknown(m, "amazon.nova-lite-v1");
	assert_unknown(m, "AMAZON.NOVA-LITE-V1:0");
	assert_unknown(m, "jp.amazon.nova-lite-v1:0");
	assert_unknown(m, "us.eu.amazon.nova-lite-v1:0");
	assert_unknown(m, "us.");
	assert_unknown(m, "");
	assert_unknown(m, "arn:aws:bedrock:us-east-1:123456789012:inference-profile/");
	models_free(m);
}

static void computes_costs_in_exact_pico_usd(void **state)
{
	(void)state;
	struct models *m = builtin();
	struct models_price p;
	assert_true(models_price_for(m, "us.amazon.nova-pro-v1:0", &p));
	/* 1,000,000 output tokens at 0.0032 USD per 1,000: 3.2 USD. */
	assert_int_equal(models_cost_pusd(&p, 0, 1000000, 0, 0), 3200000000000);
	assert_int_equal(models_cost_pusd(&p, 1000, 2000, 0, 0), 7200000000); /* 0.0072 */
	assert_true(models_price_for(m, "amazon.nova-micro-v1:0", &p));
	/* 1,000 cache-read tokens at 0.00000875 USD per 1,000: 8.75e-6 USD. */
	assert_int_equal(models_cost_pusd(&p, 0, 0, 1000, 0), 8750000);
	/* One token of each kind. */
	assert_int_equal(models_cost_pusd(&p, 1, 1, 1, 1), 35000 + 140000 + 8750 + 35000);
	/* A billion input tokens of Micro: exactly 35 USD. */
	assert_int_equal(models_cost_pusd(&p, 1000000000, 0, 0, 0), 35 * PUSD_PER_USD);
	models_free(m);
}

static void stored_table_reads_back_to_the_same_prices(void **state)
{
	(void)state;
	struct models *m = builtin();
	char *text = models_to_json(m);
	/* Compact, and no binary noise in the prices. */
	assert_null(strchr(text, '\n'));
	assert_non_null(strstr(text, "\"output\":0.0032,"));
	assert_non_null(strstr(text, "\"cache_read\":8.75e-6,"));
	assert_non_null(strstr(text, "\"cache_write\":3.5e-5"));
	struct models *back = NULL;
	struct nb_err err;
	assert_int_equal(models_load_text(text, "stored", &back, &err), 0);
	assert_price(back, "amazon.nova-micro-v1:0", 35000, 140000, 8750, 35000);
	assert_price(back, "amazon.nova-lite-v1:0", 60000, 240000, 15000, 60000);
	assert_price(back, "amazon.nova-pro-v1:0", 800000, 3200000, 200000, 800000);
	char *again = models_to_json(back);
	assert_string_equal(again, text);
	free(again);
	free(text);
	models_free(back);
	models_free(m);
}

static void cache_prices_default_to_the_input_rate(void **state)
{
	(void)state;
	struct models *m = NULL;
	struct nb_err err;
	assert_int_equal(models_load_text("{\"models\":[{\"id\":\"x.y-v1:0\",\"input\":0.001,"
					  "\"output\":2,\"cache_write\":0.00125}]}",
					  "t", &m, &err),
			 0);
	assert_price(m, "us.x.y-v1:0", 1000000, 2000000000, 1000000, 1250000);
	models_free(m);
}

static void assert_load_fails(const char *text, const char *message)
{
	struct models *m = NULL;
	struct nb_err err;
	assert_int_equal(models_load_text(text, "prices.json", &m, &err), -1);
	assert_null(m);
	assert_string_equal(err.msg, message);
}

static void rejects_bad_tables_naming_entry_and_field(void **state)
{
	(void)state;
	assert_load_fails("{\"models\": [",
			  "prices.json: line 1, column 12: ']' expected near end of file");
	assert_load_fails("[]", "prices.json: expected an object with a \"models\" array");
	assert_load_fails("{\"models\": {}}",
			  "prices.json: expected an object with a \"models\" array");
	assert_load_fails("{\"unit\": \"per 1M tokens\", \"models\": []}",
			  "prices.json: \"unit\" must be \"per 1000 tokens\"");
	assert_load_fails("{\"currency\": \"EUR\", \"models\": []}",
			  "prices.json: \"currency\" must be \"USD\"");
	assert_load_fails("{\"models\": [{\"input\": 1, \"output\": 1}]}",
			  "prices.json: models[0]: expected an object with an \"id\" string");
	assert_load_fails("{\"models\": [{\"id\": \"a\", \"input\": 1, \"output\": 1},"
			  " {\"id\": \"b\", \"input\": 1}]}",
			  "prices.json: models[1] (\"b\"): \"output\" must be a price in USD per 1000"
			  " tokens (a number from 0 to 1000000)");
	assert_load_fails("{\"models\": [{\"id\": \"a\", \"input\": -0.1, \"output\": 1}]}",
			  "prices.json: models[0] (\"a\"): \"input\" must be a price in USD per 1000 tokens"
			  " (a number from 0 to 1000000)");
	assert_load_fails("{\"models\": [{\"id\": \"a\", \"input\": \"0.1\", \"output\": 1}]}",
			  "prices.json: models[0] (\"a\"): \"input\" must be a price in USD per 1000 tokens"
			  " (a number from 0 to 1000000)");
	assert_load_fails("{\"models\": [{\"id\": \"a\", \"input\": 1, \"output\": 1},"
			  " {\"id\": \"a\", \"input\": 1, \"output\": 1}]}",
			  "prices.json: models[1]: \"a\" is listed twice");
	assert_load_fails("{\"effective_date\": \"April 2025\", \"models\": []}",
			  "prices.json: \"effective_date\" must be a date as YYYY-MM-DD");
	assert_load_fails("{\"effective_date\": 20250401, \"models\": []}",
			  "prices.json: \"effective_date\" must be a date as YYYY-MM-DD");
}

static void knows_the_effective_date(void **state)
{
	(void)state;
	struct models *m = builtin();
	const char *date = models_effective_date(m);
	assert_non_null(date);
	assert_int_equal(strlen(date), 10);
	/* The stored table keeps it. */
	char *text = models_to_json(m);
	struct models *back = NULL;
	struct nb_err err;
	assert_int_equal(models_load_text(text, "stored", &back, &err), 0);
	assert_string_equal(models_effective_date(back), date);
	models_free(back);
	free(text);
	models_free(m);
	assert_int_equal(models_load_text("{\"models\": []}", "t", &m, &err), 0);
	assert_null(models_effective_date(m));
	models_free(m);
}

static void loads_a_price_file(void **state)
{
	(void)state;
	char path[] = "/tmp/nb-test-models-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "{\"models\": [{\"id\": \"amazon.nova-lite-v1:0\", \"input\": 0.5,"
			    " \"output\": 1, \"cache_read\": 0}]}\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	struct models *m = NULL;
	struct nb_err err;
	assert_int_equal(models_load_file(path, &m, &err), 0);
	assert_price(m, "eu.amazon.nova-lite-v1:0", 500000000, 1000000000, 0, 500000000);
	models_free(m);
	unlink(path);

	assert_int_equal(models_load_file(path, &m, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(converts_prices_to_micro_usd_per_million_tokens),
		cmocka_unit_test(prices_geographic_profiles_and_arns_as_their_model),
		cmocka_unit_test(knows_no_price_for_other_models),
		cmocka_unit_test(computes_costs_in_exact_pico_usd),
		cmocka_unit_test(stored_table_reads_back_to_the_same_prices),
		cmocka_unit_test(cache_prices_default_to_the_input_rate),
		cmocka_unit_test(rejects_bad_tables_naming_entry_and_field),
		cmocka_unit_test(loads_a_price_file),
		cmocka_unit_test(knows_the_effective_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
