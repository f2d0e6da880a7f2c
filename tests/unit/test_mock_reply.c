/*
 * test_mock_reply: the mock's Converse answer, its shape and its token rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "mock_reply.h"

#define LITE "us.amazon.nova-lite-v1:0"

/* The reply, parsed. */
struct built {
	struct mock_reply reply;
	json_t *body;
};

static const char *reply_text(const struct built *b)
{
	json_t *text = json_object_get(json_array_get(json_object_get(json_object_get(
		json_object_get(b->body, "output"), "message"), "content"), 0), "text");
	assert_true(json_is_string(text));
	return json_string_value(text);
}

static void build_ok(const char *model, const char *request_json, long latency_ms,
		     struct built *out)
{
	struct nb_err err = {{0}};
	json_t *request = json_loads(request_json, 0, NULL);

	assert_non_null(request);
	if (mock_reply_build(model, request, latency_ms, &out->reply, &err) < 0)
		fail_msg("mock_reply_build failed: %s", err.msg);
	json_decref(request);
	out->body = json_loads(out->reply.body, 0, NULL);
	assert_non_null(out->body);
	/* The text a stream sends is the text of the body. */
	assert_non_null(out->reply.text);
	assert_string_equal(out->reply.text, reply_text(out));
}

static void built_cleanup(struct built *b)
{
	json_decref(b->body);
	mock_reply_cleanup(&b->reply);
}

static json_int_t usage(const struct built *b, const char *field)
{
	json_t *v = json_object_get(json_object_get(b->body, "usage"), field);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* Builds a reply to request_json that must be refused, and checks the
 * message. */
static void build_refused(const char *model, const char *request_json, const char *message)
{
	struct nb_err err = {{0}};
	struct mock_reply reply = {0};
	json_t *request = json_loads(request_json, JSON_DECODE_ANY, NULL);

	assert_non_null(request);
	assert_int_equal(mock_reply_build(model, request, 0, &reply, &err), -1);
	assert_null(reply.body);
	assert_null(reply.text);
	assert_string_equal(err.msg, message);
	json_decref(request);
}

static void test_reply_has_the_converse_shape(void **state)
{
	struct built b;
	json_t *message;
	(void)state;

	build_ok(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hello\"}]}]}",
		 25, &b);
	message = json_object_get(json_object_get(b.body, "output"), "message");
	assert_string_equal(json_string_value(json_object_get(message, "role")), "assistant");
	assert_int_equal(json_array_size(json_object_get(message, "content")), 1);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: Hello");
	assert_string_equal(json_string_value(json_object_get(b.body, "stopReason")), "end_turn");
	assert_string_equal(b.reply.stop_reason, "end_turn");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.body, "metrics"),
							    "latencyMs")), 25);
	assert_int_equal(usage(&b, "totalTokens"), usage(&b, "inputTokens") + usage(&b, "outputTokens"));
	assert_int_equal(json_object_size(b.body), 4);
	built_cleanup(&b);
}

static void test_tokens_follow_the_documented_rule(void **state)
{
	struct built b;
	(void)state;

	/* system 14 + user 11 + assistant 4 + user 6 = 35 characters:
	 * ceil(35 / 4) = 9, plus 3 for each of the 3 messages = 18. The answer
	 * "Mock answer from us.amazon.nova-lite-v1:0 to: Thanks" has 6 words. */
	build_ok(LITE,
		 "{\"system\":[{\"text\":\"You are terse.\"}],"
		 "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hello there\"}]},"
		 "{\"role\":\"assistant\",\"content\":[{\"text\":\"Hi! \"}]},"
		 "{\"role\":\"user\",\"content\":[{\"text\":\"Thanks\"}]}]}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: Thanks");
	assert_int_equal(b.reply.input_tokens, 18);
	assert_int_equal(b.reply.output_tokens, 6);
	assert_int_equal(usage(&b, "inputTokens"), 18);
	assert_int_equal(usage(&b, "outputTokens"), 6);
	assert_int_equal(usage(&b, "totalTokens"), 24);
	built_cleanup(&b);
}

static void test_characters_are_code_points(void **state)
{
	struct built b;
	(void)state;

	/* "héllo wörld €5" is 14 characters in 18 bytes: ceil(14 / 4) + 3 = 7. */
	build_ok(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"h\\u00e9llo w\\u00f6rld \\u20ac5\"}]}]}",
		 0, &b);
	assert_int_equal(b.reply.input_tokens, 7);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac" "5");
	built_cleanup(&b);
}

static void test_max_tokens_truncates_to_words(void **state)
{
	struct built b;
	(void)state;

	build_ok(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"one two three\"}]}],"
		       "\"inferenceConfig\":{\"maxTokens\":3,\"temperature\":0.3}}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from");
	assert_string_equal(json_string_value(json_object_get(b.body, "stopReason")), "max_tokens");
	assert_string_equal(b.reply.stop_reason, "max_tokens");
	assert_int_equal(b.reply.output_tokens, 3);
	assert_int_equal(usage(&b, "totalTokens"), b.reply.input_tokens + 3);
	built_cleanup(&b);
}

static void test_max_tokens_equal_to_words_ends_the_turn(void **state)
{
	struct built b;
	(void)state;

	/* "Mock answer from MODEL to: one two three" has 8 words. */
	build_ok(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"one two three\"}]}],"
		       "\"inferenceConfig\":{\"maxTokens\":8}}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: one two three");
	assert_string_equal(b.reply.stop_reason, "end_turn");
	assert_int_equal(b.reply.output_tokens, 8);
	built_cleanup(&b);
}

static void test_same_request_same_bytes(void **state)
{
	static const char request[] =
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Describe a sunset\"}]}],"
		"\"inferenceConfig\":{\"maxTokens\":300,\"topP\":0.1}}";
	struct built a, b;
	(void)state;

	build_ok("us.amazon.nova-pro-v1:0", request, 7, &a);
	build_ok("us.amazon.nova-pro-v1:0", request, 7, &b);
	assert_string_equal(a.reply.body, b.reply.body);
	built_cleanup(&a);
	built_cleanup(&b);
}

static void test_prompt_is_folded_and_cut_between_characters(void **state)
{
	struct built b;
	(void)state;

	/* Two text blocks, whitespace runs and a newline: the prompt folds
	 * them to single spaces. 58 'a's, a space and "ééé" would be 62
	 * characters: the cut keeps 60, whole characters only. */
	build_ok(LITE,
		 "{\"messages\":[{\"role\":\"user\",\"content\":["
		 "{\"text\":\"  \\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\t\"},"
		 "{\"text\":\"\\u00e9\\u00e9\\u00e9 tail\"}]}]}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: "
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \xc3\xa9");
	built_cleanup(&b);

	/* A space that would be the 60th character is dropped, not kept at
	 * the end. */
	build_ok(LITE,
		 "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":"
		 "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb more\"}]}]}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: "
			    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	built_cleanup(&b);
}

static void test_image_blocks_count_nothing(void **state)
{
	struct built b;
	(void)state;

	/* The image and its bytes add no characters: "Describe the following
	 * image" is 28 characters, ceil(28 / 4) + 3 = 10. */
	build_ok(LITE,
		 "{\"messages\":[{\"role\":\"user\",\"content\":["
		 "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAcCBlCwAAAABJRU5ErkJggg==\"}}},"
		 "{\"text\":\"Describe the following image\"}]}]}",
		 0, &b);
	assert_int_equal(b.reply.input_tokens, 10);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to: Describe the following image");
	built_cleanup(&b);
}

static void test_no_user_text_gives_an_empty_prompt(void **state)
{
	struct built b;
	(void)state;

	/* Only a document block: 0 characters, 1 message, 3 tokens. */
	build_ok(LITE,
		 "{\"messages\":[{\"role\":\"user\",\"content\":[{\"document\":{\"format\":\"txt\","
		 "\"name\":\"n\",\"source\":{\"bytes\":\"aGVsbG8=\"}}}]}]}",
		 0, &b);
	assert_string_equal(reply_text(&b), "Mock answer from " LITE " to:");
	assert_int_equal(b.reply.input_tokens, 3);
	assert_int_equal(b.reply.output_tokens, 5);
	built_cleanup(&b);
}

static void test_refuses_malformed_requests(void **state)
{
	(void)state;

	build_refused(LITE, "[1,2]",
		      "Malformed input request: the request body must be a JSON object, please "
		      "reformat your input and try again.");
	build_refused(LITE, "{\"prompt\":\"hi\"}",
		      "1 validation error detected: Value null at 'messages' failed to satisfy "
		      "constraint: Member must not be null");
	build_refused(LITE, "{\"messages\":\"hi\"}",
		      "Malformed input request: messages must be a list, please reformat your "
		      "input and try again.");
	build_refused(LITE, "{\"messages\":[]}",
		      "A conversation must start with a user message. Try again with a "
		      "conversation that starts with a user message.");
	build_refused(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
			    "{\"content\":[]}]}",
		      "1 validation error detected: Value null at 'messages.2.member.role' failed "
		      "to satisfy constraint: Member must not be null");
	build_refused(LITE, "{\"messages\":[{\"role\":\"system\",\"content\":[]}]}",
		      "1 validation error detected: Value 'system' at 'messages.1.member.role' "
		      "failed to satisfy constraint: Member must satisfy enum value set: [user, "
		      "assistant]");
	build_refused(LITE, "{\"messages\":[{\"role\":\"user\"}]}",
		      "1 validation error detected: Value null at 'messages.1.member.content' "
		      "failed to satisfy constraint: Member must not be null");
	build_refused(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[]}],"
			    "\"inferenceConfig\":{\"maxTokens\":0}}",
		      "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens' failed "
		      "to satisfy constraint: Member must have value greater than or equal to 1");
	build_refused(LITE, "{\"messages\":[{\"role\":\"user\",\"content\":[]}],"
			    "\"inferenceConfig\":{\"maxTokens\":\"10\"}}",
		      "Malformed input request: inferenceConfig.maxTokens must be an integer, "
		      "please reformat your input and try again.");
}

static void test_refuses_a_model_id_that_is_not_utf8(void **state)
{
	(void)state;

	build_refused("bad\xff", "{\"messages\":[{\"role\":\"user\",\"content\":[]}]}",
		      "The provided model identifier is invalid.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_has_the_converse_shape),
		cmocka_unit_test(test_tokens_follow_the_documented_rule),
		cmocka_unit_test(test_characters_are_code_points),
		cmocka_unit_test(test_max_tokens_truncates_to_words),
		cmocka_unit_test(test_max_tokens_equal_to_words_ends_the_turn),
		cmocka_unit_test(test_same_request_same_bytes),
		cmocka_unit_test(test_prompt_is_folded_and_cut_between_characters),
		cmocka_unit_test(test_image_blocks_count_nothing),
		cmocka_unit_test(test_no_user_text_gives_an_empty_prompt),
		cmocka_unit_test(test_refuses_malformed_requests),
		cmocka_unit_test(test_refuses_a_model_id_that_is_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
