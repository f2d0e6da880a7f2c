/* Converse answers and error answers, on bodies shaped like the service's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "response.h"

/* The publisher answer from the seed notebook. */
static const char seed_answer[] =
	"{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"Certainly! Here are "
	"three potential book titles for a child graduating from high school:\\n\\n1. **\\\"Stepping "
	"Stones\\\"**\"}]}},\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":24,"
	"\"outputTokens\":67,\"totalTokens\":91},\"metrics\":{\"latencyMs\":654}}";

static void reads_text_usage_and_metrics(void **state)
{
	(void)state;
	struct response r;
	struct nb_err err;
	assert_int_equal(response_parse_converse(seed_answer, strlen(seed_answer), &r, &err), 0);
	assert_string_equal(r.output_text, "Certainly! Here are three potential book titles for a "
					    "child graduating from high school:\n\n1. **\"Stepping Stones\"**");
	assert_string_equal(r.stop_reason, "end_turn");
	assert_int_equal(r.input_tokens, 24);
	assert_int_equal(r.output_tokens, 67);
	assert_int_equal(r.total_tokens, 91);
	assert_int_equal(r.cache_read_tokens, -1);
	assert_int_equal(r.cache_write_tokens, -1);
	assert_int_equal(r.server_latency_ms, 654);
	assert_non_null(strstr(r.content, "\"text\":\"Certainly!"));
	assert_null(r.additional_fields);
	assert_null(r.trace);
	response_cleanup(&r);
}

static void joins_text_blocks_and_keeps_other_blocks(void **state)
{
	(void)state;
	const char *body =
		"{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
		"{\"text\":\"I will look it up. \"},"
		"{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"top_song\",\"input\":{\"sign\":\"WZPZ\"}}},"
		"{\"text\":\"Done.\"}]}},\"stopReason\":\"tool_use\","
		"\"usage\":{\"inputTokens\":10,\"outputTokens\":5,\"totalTokens\":40,"
		"\"cacheReadInputTokens\":20,\"cacheWriteInputTokens\":5},\"metrics\":{\"latencyMs\":3},"
		"\"additionalModelResponseFields\":{\"b\":[1, 2],\"a\":null},"
		"\"trace\":{\"guardrail\":{\"action\":\"NONE\"}}}";
	struct response r;
	struct nb_err err;
	assert_int_equal(response_parse_converse(body, strlen(body), &r, &err), 0);
	assert_string_equal(r.output_text, "I will look it up. Done.");
	assert_string_equal(r.stop_reason, "tool_use");
	assert_int_equal(r.cache_read_tokens, 20);
	assert_int_equal(r.cache_write_tokens, 5);
	assert_non_null(strstr(r.content, "\"toolUse\":{\"toolUseId\":\"t1\""));
	assert_string_equal(r.additional_fields, "{\"b\":[1,2],\"a\":null}");
	assert_string_equal(r.trace, "{\"guardrail\":{\"action\":\"NONE\"}}");
	response_cleanup(&r);
}

static void refuses_an_answer_without_a_message(void **state)
{
	(void)state;
	struct response r;
	struct nb_err err;
	const char *body = "{\"stopReason\":\"end_turn\"}";
	assert_int_equal(response_parse_converse(body, strlen(body), &r, &err), -1);
	assert_string_equal(err.msg, "the answer has no output.message.content");
	assert_int_equal(response_parse_converse("<html>", 6, &r, &err), -1);
	assert_non_null(strstr(err.msg, "the answer is not a JSON object"));
}

static void reads_the_error_type_from_the_header(void **state)
{
	(void)state;
	struct response_error e;
	const char *body = "{\"message\":\"Too many requests, please wait before trying again.\"}";
	response_parse_error(429, "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
			     body, strlen(body), &e);
	assert_string_equal(e.type, "ThrottlingException");
	assert_string_equal(e.message, "Too many requests, please wait before trying again.");
	response_error_cleanup(&e);
}

static void reads_the_error_type_from_the_body(void **state)
{
	(void)state;
	struct response_error e;
	const char *body = "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
			   "\"Message\":\"The provided model identifier is invalid.\"}";
	response_parse_error(400, NULL, body, strlen(body), &e);
	assert_string_equal(e.type, "ValidationException");
	assert_string_equal(e.message, "The provided model identifier is invalid.");
	response_error_cleanup(&e);
}

static void names_an_unnamed_error_by_its_status(void **state)
{
	(void)state;
	struct response_error e;
	response_parse_error(502, NULL, "<html>Bad Gateway</html>", 24, &e);
	assert_string_equal(e.type, "HTTP 502");
	assert_string_equal(e.message, "<html>Bad Gateway</html>");
	response_error_cleanup(&e);
	response_parse_error(503, "", "", 0, &e);
	assert_string_equal(e.type, "HTTP 503");
	assert_string_equal(e.message, "HTTP 503 with no message");
	response_error_cleanup(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_text_usage_and_metrics),
		cmocka_unit_test(joins_text_blocks_and_keeps_other_blocks),
		cmocka_unit_test(refuses_an_answer_without_a_message),
		cmocka_unit_test(reads_the_error_type_from_the_header),
		cmocka_unit_test(reads_the_error_type_from_the_body),
		cmocka_unit_test(names_an_unnamed_error_by_its_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
