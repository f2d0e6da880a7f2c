/* Request building: the URL, the headers and a signature that matches the
 * Bedrock vectors in shared/testdata/sigv4/bedrock-converse-example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define VECTORS NB_TESTDATA "/sigv4/bedrock-converse-example"

static const char body[] =
	"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hello\"}]}],"
	"\"inferenceConfig\":{\"maxTokens\":64}}";
/* 2015-08-30T12:36:00Z, the vectors' signing time. */
static const time_t vector_time = 1440938160;

static char *read_vector(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	static char text[4096];
	size_t n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	return text;
}

static const char *find_header(const struct request *req, const char *prefix)
{
	for (size_t i = 0; req->headers[i]; i++)
		if (strncmp(req->headers[i], prefix, strlen(prefix)) == 0)
			return req->headers[i] + strlen(prefix);
	return NULL;
}

static void build(struct request *req, const char *url, const char *token, bool stream)
{
	struct request_endpoint ep;
	struct nb_err err;
	assert_int_equal(request_endpoint_init(&ep, url, "us-east-1", &err), 0);
	struct request_auth creds = {
		.sigv4 = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token},
	};
	struct request_job job = {"job 1/ü", "us.amazon.nova-lite-v1:0", body, strlen(body),
				  stream};
	assert_int_equal(request_build(req, &ep, &job, &creds, vector_time, &err), 0);
	request_endpoint_cleanup(&ep);
}

static void signs_like_the_bedrock_vector(void **state)
{
	(void)state;
	struct request req;
	build(&req, "https://bedrock-runtime.us-east-1.amazonaws.com", NULL, false);
	assert_string_equal(req.url, "https://bedrock-runtime.us-east-1.amazonaws.com"
				     "/model/us.amazon.nova-lite-v1%3A0/converse");
	assert_string_equal(find_header(&req, "Authorization: "),
			    read_vector(VECTORS "/converse/authorization.txt"));
	assert_string_equal(find_header(&req, "X-Amz-Date: "), "20150830T123600Z");
	assert_null(find_header(&req, "X-Amz-Security-Token: "));
	assert_string_equal(find_header(&req, "Content-Type: "), "application/json");
	assert_string_equal(find_header(&req, "X-Novabatch-Job: "), "job%201%2F%C3%BC");
	request_cleanup(&req);
}

static void signs_a_stream_like_the_bedrock_vector(void **state)
{
	(void)state;
	struct request req;
	build(&req, "https://bedrock-runtime.us-east-1.amazonaws.com", NULL, true);
	assert_string_equal(req.url, "https://bedrock-runtime.us-east-1.amazonaws.com"
				     "/model/us.amazon.nova-lite-v1%3A0/converse-stream");
	assert_string_equal(find_header(&req, "Authorization: "),
			    read_vector(VECTORS "/converse-stream/authorization.txt"));
	assert_string_equal(find_header(&req, "Accept: "), "application/vnd.amazon.eventstream");
	request_cleanup(&req);
}

static void signs_and_sends_a_session_token(void **state)
{
	(void)state;
	/* The token is the one in the vector's context.json. */
	FILE *fp = fopen(VECTORS "/converse-session-token/context.json", "r");
	assert_non_null(fp);
	char ctx[8192];
	size_t n = fread(ctx, 1, sizeof ctx - 1, fp);
	fclose(fp);
	ctx[n] = '\0';
	char *tok = strstr(ctx, "\"token\"");
	assert_non_null(tok);
	tok = strchr(tok + 7, '"') + 1;
	*strchr(tok, '"') = '\0';

	struct request req;
	build(&req, "https://bedrock-runtime.us-east-1.amazonaws.com/", tok, false);
	assert_string_equal(find_header(&req, "Authorization: "),
			    read_vector(VECTORS "/converse-session-token/authorization.txt"));
	assert_string_equal(find_header(&req, "X-Amz-Security-Token: "), tok);
	request_cleanup(&req);
}

static void sends_a_bearer_token_unsigned(void **state)
{
	(void)state;
	struct request_endpoint ep;
	struct nb_err err;
	assert_int_equal(request_endpoint_init(&ep, "http://127.0.0.1:9/base/", "us-east-1", &err), 0);
	struct request_auth auth = {.bearer_token = "ABSKbearer"};
	struct request_job job = {"j1", "us.amazon.nova-lite-v1:0", body, strlen(body), false};
	struct request req;
	assert_int_equal(request_build(&req, &ep, &job, &auth, vector_time, &err), 0);
	assert_string_equal(req.url, "http://127.0.0.1:9/base/model/us.amazon.nova-lite-v1%3A0/converse");
	assert_string_equal(find_header(&req, "Authorization: "), "Bearer ABSKbearer");
	assert_null(find_header(&req, "X-Amz-Date: "));
	assert_null(find_header(&req, "X-Amz-Security-Token: "));
	assert_string_equal(find_header(&req, "X-Novabatch-Job: "), "j1");
	request_cleanup(&req);
	request_endpoint_cleanup(&ep);
}

static void keeps_port_and_prefix_of_a_local_endpoint(void **state)
{
	(void)state;
	struct request_endpoint ep;
	struct nb_err err;
	assert_int_equal(request_endpoint_init(&ep, "http://127.0.0.1:8080/proxy/", "eu-west-1", &err), 0);
	assert_string_equal(ep.host, "127.0.0.1:8080");
	assert_string_equal(ep.base_url, "http://127.0.0.1:8080");
	assert_string_equal(ep.path_prefix, "/proxy");
	request_endpoint_cleanup(&ep);
	assert_int_equal(request_endpoint_init(&ep, "https://example.com:443", "eu-west-1", &err), 0);
	assert_string_equal(ep.host, "example.com");
	request_endpoint_cleanup(&ep);
}

static void refuses_a_bad_endpoint(void **state)
{
	(void)state;
	struct request_endpoint ep;
	struct nb_err err;
	assert_int_equal(request_endpoint_init(&ep, "ftp://example.com", "us-east-1", &err), -1);
	assert_string_equal(err.msg, "endpoint URL 'ftp://example.com' must start with http:// or https://");
	request_endpoint_cleanup(&ep);
	assert_int_equal(request_endpoint_init(&ep, "http://h/?x=1", "us-east-1", &err), -1);
	assert_string_equal(err.msg, "endpoint URL 'http://h/?x=1' must not have a query");
	request_endpoint_cleanup(&ep);
	assert_int_equal(request_endpoint_init(&ep, "not a url", "us-east-1", &err), -1);
	assert_string_equal(err.msg, "endpoint URL 'not a url' is not a valid URL");
	request_endpoint_cleanup(&ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signs_like_the_bedrock_vector),
		cmocka_unit_test(signs_a_stream_like_the_bedrock_vector),
		cmocka_unit_test(signs_and_sends_a_session_token),
		cmocka_unit_test(sends_a_bearer_token_unsigned),
		cmocka_unit_test(keeps_port_and_prefix_of_a_local_endpoint),
		cmocka_unit_test(refuses_a_bad_endpoint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
