/* Job line parsing: what passes through, and the message for each bad line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "job.h"
#include "models.h"

/* The built-in price table, for its aliases. */
static struct models *catalog;

static int parse_with(struct job *job, const char *line, const struct job_models *jm,
		      struct nb_err *err)
{
	return job_parse(job, line, strlen(line), "jobs.jsonl", 7, jm, err);
}

static int parse(struct job *job, const char *line, const char *default_model, struct nb_err *err)
{
	struct job_models jm = {.default_model = default_model, .catalog = catalog,
				.region = "us-east-1"};
	return parse_with(job, line, &jm, err);
}

static void assert_rejected(const char *line, const char *default_model, const char *message)
{
	struct job job;
	struct nb_err err;
	assert_int_equal(parse(&job, line, default_model, &err), -1);
	assert_string_equal(err.msg, message);
	assert_non_null(job.id);
	job_cleanup(&job);
}

static void passes_request_fields_through_untouched(void **state)
{
	(void)state;
	const char *line =
		"{\"id\":\"t1\",\"modelId\":\"us.amazon.nova-lite-v1:0\","
		"\"system\":[{\"text\":\"You are a publisher\"}],"
		"\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"},"
		"{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgo=\"}}}]}],"
		"\"inferenceConfig\":{\"maxTokens\":300,\"topP\":0.1,\"temperature\":0.3},"
		"\"futureField\":{\"x\":[1,2]},\"tags\":[\"a\"],\"stream\":false}";
	struct job job;
	struct nb_err err;
	assert_int_equal(parse(&job, line, NULL, &err), 0);
	assert_string_equal(job.id, "t1");
	assert_string_equal(job.model_id, "us.amazon.nova-lite-v1:0");
	assert_string_equal(job.body,
			    "{\"system\":[{\"text\":\"You are a publisher\"}],"
			    "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"},"
			    "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgo=\"}}}]}],"
			    "\"inferenceConfig\":{\"maxTokens\":300,\"topP\":0.1,\"temperature\":0.3},"
			    "\"futureField\":{\"x\":[1,2]}}");
	assert_int_equal(job.body_len, strlen(job.body));
	assert_int_equal(strlen(job.request_hash), 64);
	assert_false(job.stream);
	job_cleanup(&job);
}

static void stream_true_asks_for_converse_stream(void **state)
{
	(void)state;
	struct job job;
	struct nb_err err;
	const char *line = "{\"modelId\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
			   "\"content\":[{\"text\":\"hi\"}]}]}";
	assert_int_equal(parse(&job, line, NULL, &err), 0);
	assert_true(job.stream);
	/* The flag is novabatch's: the request body does not carry it. */
	assert_string_equal(job.body, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]}");
	job_cleanup(&job);
}

static void strips_own_keys_wherever_they_stand(void **state)
{
	(void)state;
	const char *line = " { \"messages\" : [ {\"role\":\"user\",\"content\":[{\"text\":\"a, b\"}]} ] ,"
			   " \"\\u0069d\": \"escaped\", \"expect\": {\"contains\": [\"}\"]},"
			   " \"inferenceConfig\": {\"maxTokens\": 1e2} , \"modelId\":\"m\" } ";
	struct job job;
	struct nb_err err;
	assert_int_equal(parse(&job, line, NULL, &err), 0);
	assert_string_equal(job.id, "escaped");
	assert_string_equal(job.body, "{\"messages\":[ {\"role\":\"user\",\"content\":[{\"text\":\"a, b\"}]} ],"
				      "\"inferenceConfig\":{\"maxTokens\": 1e2}}");
	json_t *parsed = json_loads(job.body, 0, NULL);
	assert_non_null(parsed);
	json_decref(parsed);
	job_cleanup(&job);
}

static void defaults_id_to_file_and_line_and_model_to_option(void **state)
{
	(void)state;
	struct job job;
	struct nb_err err;
	assert_int_equal(parse(&job, "{\"messages\":[{\"role\":\"user\",\"content\":[]}]}",
			       "amazon.nova-micro-v1:0", &err),
			 0);
	assert_string_equal(job.id, "jobs.jsonl:7");
	assert_string_equal(job.model_id, "amazon.nova-micro-v1:0");
	job_cleanup(&job);
}

static void hash_depends_on_model_and_body(void **state)
{
	(void)state;
	const char *line = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]}]}";
	struct job a, b, c;
	struct nb_err err;
	assert_int_equal(parse(&a, line, "m1", &err), 0);
	assert_int_equal(parse(&b, line, "m2", &err), 0);
	assert_int_equal(parse(&c, line, "m1", &err), 0);
	assert_string_not_equal(a.request_hash, b.request_hash);
	assert_string_equal(a.request_hash, c.request_hash);
	job_cleanup(&a);
	job_cleanup(&b);
	job_cleanup(&c);
}

static void rejects_what_is_not_json(void **state)
{
	(void)state;
	assert_rejected("{\"messages\": [", NULL,
			"jobs.jsonl:7: not valid JSON: ']' expected near end of file (column 14)");
	assert_rejected("[1,2]", NULL, "jobs.jsonl:7: a job line must be a JSON object (found an array)");
	assert_rejected("{\"id\":\"a\",\"id\":\"b\",\"messages\":[]}", NULL,
			"jobs.jsonl:7: not valid JSON: duplicate object key near '\"id\"' (column 14)");
}

static void rejects_missing_or_wrong_messages(void **state)
{
	(void)state;
	assert_rejected("{\"modelId\":\"m\"}", NULL,
			"jobs.jsonl:7: field 'messages': missing; a job needs a messages array");
	assert_rejected("{\"modelId\":\"m\",\"messages\":\"hi\"}", NULL,
			"jobs.jsonl:7: field 'messages': must be an array (found a string)");
	assert_rejected("{\"modelId\":\"m\",\"messages\":[]}", NULL,
			"jobs.jsonl:7: field 'messages': must hold at least one message");
	assert_rejected("{\"modelId\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[]},"
			"{\"role\":\"assistant\",\"content\":\"x\"}]}",
			NULL, "jobs.jsonl:7: field 'messages[1].content': must be an array (found a string)");
	assert_rejected("{\"modelId\":\"m\",\"messages\":[{\"content\":[]}]}", NULL,
			"jobs.jsonl:7: field 'messages[0].role': missing");
	assert_rejected("{\"modelId\":\"m\",\"messages\":[3]}", NULL,
			"jobs.jsonl:7: field 'messages[0]': must be an object (found a number)");
}

static void rejects_wrong_types(void **state)
{
	(void)state;
	assert_rejected("{\"modelId\":\"m\",\"inferenceConfig\":[],\"messages\":[]}", NULL,
			"jobs.jsonl:7: field 'inferenceConfig': must be an object (found an array)");
	assert_rejected("{\"modelId\":\"m\",\"system\":\"be brief\",\"messages\":[]}", NULL,
			"jobs.jsonl:7: field 'system': must be an array (found a string)");
	assert_rejected("{\"id\":5,\"modelId\":\"m\",\"messages\":[]}", NULL,
			"jobs.jsonl:7: field 'id': must be a non-empty string (found a number)");
	assert_rejected("{\"modelId\":true,\"messages\":[]}", "fallback",
			"jobs.jsonl:7: field 'modelId': must be a non-empty string (found a boolean)");
	assert_rejected("{\"modelId\":\"m\",\"stream\":\"yes\",\"messages\":[]}", NULL,
			"jobs.jsonl:7: field 'stream': must be true or false (found a string)");
}

static void rejects_an_id_too_long(void **state)
{
	(void)state;
	char line[1024];
	snprintf(line, sizeof line, "{\"id\":\"%0600d\",\"modelId\":\"m\",\"messages\":[]}", 7);
	assert_rejected(line, NULL, "jobs.jsonl:7: field 'id': longer than 512 bytes");
}

static void estimates_tokens_for_quotas(void **state)
{
	(void)state;
	struct job job;
	struct nb_err err;
	/* 40 bytes of text (10 tokens), an image (1000), maxTokens 300. */
	assert_int_equal(parse(&job, "{\"modelId\":\"m\",\"system\":[{\"text\":\"0123456789abcdefghij\"}],"
				     "\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"0123456789abcdefghij\"},"
				     "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"AAAA\"}}}]}],"
				     "\"inferenceConfig\":{\"maxTokens\":300}}", NULL, &err), 0);
	assert_true(job.est_input_tokens == 1010.0);
	assert_true(job.max_output_tokens == 300.0);
	assert_true(job_quota_tokens(&job) == 1310.0);
	job_cleanup(&job);
	/* No maxTokens: the model's default (5000) is reserved. */
	assert_int_equal(parse(&job, "{\"modelId\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[]}]}",
			       NULL, &err), 0);
	assert_true(job.est_input_tokens == 0.0);
	assert_true(job.max_output_tokens == 5000.0);
	job_cleanup(&job);
}

static void rejects_a_line_without_a_model(void **state)
{
	(void)state;
	assert_rejected("{\"messages\":[{\"role\":\"user\",\"content\":[]}]}", NULL,
			"jobs.jsonl:7: field 'modelId': missing; name a model (modelId, model or "
			"models) on the line or give --model");
}

static void an_alias_names_the_model_of_the_region(void **state)
{
	(void)state;
	static const struct {
		const char *region, *want;
	} cases[] = {
		{"us-east-1", "us.amazon.nova-lite-v1:0"},
		{"eu-west-3", "eu.amazon.nova-lite-v1:0"},
		{"ap-northeast-1", "apac.amazon.nova-lite-v1:0"},
		{"ca-central-1", "amazon.nova-lite-v1:0"},
		{"us-gov-west-1", "amazon.nova-lite-v1:0"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct job_models jm = {.catalog = catalog, .region = cases[i].region};
		struct job job;
		struct nb_err err;
		assert_int_equal(parse_with(&job, "{\"model\":\"lite\",\"messages\":[{\"role\":"
						  "\"user\",\"content\":[]}]}",
					    &jm, &err),
				 0);
		assert_string_equal(job.model_id, cases[i].want);
		assert_int_equal(job.nmodels, 1);
		/* "model" is novabatch's: it is not sent. */
		assert_null(strstr(job.body, "lite"));
		job_cleanup(&job);
	}
}

static void a_models_list_gives_one_job_per_model(void **state)
{
	(void)state;
	struct job line, pro, arn;
	struct nb_err err;
	assert_int_equal(parse(&line, "{\"id\":\"q\",\"models\":[\"pro\",\"arn:aws:bedrock:us-east-1:"
				      "123456789012:inference-profile/us.amazon.nova-micro-v1:0\"],"
				      "\"messages\":[{\"role\":\"user\",\"content\":[]}]}",
			       NULL, &err),
			 0);
	assert_int_equal(line.nmodels, 2);
	job_for_model(&line, 0, &pro);
	job_for_model(&line, 1, &arn);
	assert_string_equal(pro.model_id, "us.amazon.nova-pro-v1:0");
	assert_string_equal(arn.model_id, "arn:aws:bedrock:us-east-1:123456789012:"
					  "inference-profile/us.amazon.nova-micro-v1:0");
	assert_string_equal(pro.id, "q");
	assert_string_equal(pro.body, line.body);
	/* Each has the hash of its own model. */
	assert_string_not_equal(pro.request_hash, arn.request_hash);
	assert_string_equal(pro.request_hash, line.request_hash);
	job_cleanup(&pro);
	job_cleanup(&arn);
	job_cleanup(&line);
}

static void the_command_line_models_replace_the_lines(void **state)
{
	(void)state;
	char *ids[] = {"us.amazon.nova-micro-v1:0", "us.amazon.nova-lite-v1:0"};
	struct job_models jm = {.override = ids, .noverride = 2, .catalog = catalog,
				.region = "us-east-1"};
	struct job job;
	struct nb_err err;
	assert_int_equal(parse_with(&job, "{\"modelId\":\"x.y\",\"messages\":[{\"role\":\"user\","
					  "\"content\":[]}]}",
				    &jm, &err),
			 0);
	assert_int_equal(job.nmodels, 2);
	assert_string_equal(job.models[0], ids[0]);
	assert_string_equal(job.models[1], ids[1]);
	job_cleanup(&job);
}

static void rejects_bad_model_names(void **state)
{
	(void)state;
	const char *msgs = ",\"messages\":[{\"role\":\"user\",\"content\":[]}]}";
	static const struct {
		const char *models, *message;
	} cases[] = {
		{"\"model\":\"mega\"", "jobs.jsonl:7: field 'model': 'mega' is not a model alias "
				       "(aliases: micro, lite, pro, premier) nor a model id"},
		{"\"model\":3", "jobs.jsonl:7: field 'model': must be a non-empty string (found a "
			       "number)"},
		{"\"models\":[]", "jobs.jsonl:7: field 'models': must be a non-empty array of names"},
		{"\"models\":[\"pro\",\"giga\"]", "jobs.jsonl:7: field 'models[1]': 'giga' is not a "
					       "model alias (aliases: micro, lite, pro, premier) nor a "
					       "model id"},
		{"\"models\":[\"pro\",\"us.amazon.nova-pro-v1:0\"]",
		 "jobs.jsonl:7: field 'models[1]': names a model already listed"},
		{"\"models\":[\"pro\",7]", "jobs.jsonl:7: field 'models[1]': must be a non-empty string "
					 "(found a number)"},
		{"\"modelId\":\"m\",\"model\":\"pro\"", "jobs.jsonl:7: field 'modelId': give one of "
						  "modelId, model and models"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char line[512];
		snprintf(line, sizeof line, "{%s%s", cases[i].models, msgs);
		assert_rejected(line, NULL, cases[i].message);
	}
}

static void keeps_id_and_model_of_an_invalid_line(void **state)
{
	(void)state;
	struct job job;
	struct nb_err err;
	assert_int_equal(parse(&job, "{\"id\":\"x1\",\"modelId\":\"m\",\"messages\":{}}", NULL, &err), -1);
	assert_string_equal(job.id, "x1");
	assert_string_equal(job.model_id, "m");
	job_cleanup(&job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passes_request_fields_through_untouched),
		cmocka_unit_test(stream_true_asks_for_converse_stream),
		cmocka_unit_test(strips_own_keys_wherever_they_stand),
		cmocka_unit_test(defaults_id_to_file_and_line_and_model_to_option),
		cmocka_unit_test(hash_depends_on_model_and_body),
		cmocka_unit_test(rejects_what_is_not_json),
		cmocka_unit_test(rejects_missing_or_wrong_messages),
		cmocka_unit_test(rejects_wrong_types),
		cmocka_unit_test(rejects_a_line_without_a_model),
		cmocka_unit_test(rejects_an_id_too_long),
		cmocka_unit_test(estimates_tokens_for_quotas),
		cmocka_unit_test(keeps_id_and_model_of_an_invalid_line),
		cmocka_unit_test(an_alias_names_the_model_of_the_region),
		cmocka_unit_test(a_models_list_gives_one_job_per_model),
		cmocka_unit_test(the_command_line_models_replace_the_lines),
		cmocka_unit_test(rejects_bad_model_names),
	};
	struct nb_err err;
	if (models_load_builtin(&catalog, &err) < 0)
		return 1;
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	models_free(catalog);
	return failed;
}
