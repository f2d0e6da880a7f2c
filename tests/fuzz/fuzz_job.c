/* libFuzzer target for the job line parser. Beyond not crashing: a line that
 * parses gives a body that is valid JSON and equal to the line's object
 * without novabatch's own keys. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job job;
	struct nb_err err;
	struct job_models jm = {.default_model = "m", .region = "us-east-1"};
	if (job_parse(&job, (const char *)data, size, "fuzz.jsonl", 1, &jm, &err) == 0) {
		json_t *line = json_loadb((const char *)data, size, 0, NULL);
		json_t *body = json_loadb(job.body, job.body_len, 0, NULL);
		if (!line || !body)
			abort();
		const char *own[] = {"id", "modelId", "model", "models", "stream", "expect", "tags"};
		for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
			json_object_del(line, own[i]);
		if (!json_equal(line, body))
			abort();
		json_decref(line);
		json_decref(body);
	}
	job_cleanup(&job);
	return 0;
}
