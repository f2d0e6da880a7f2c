/*
 * sigv4_sign_tool: drives the signer from a test script (test only).
 *
 * Reads the body from stdin, signs the request the options describe the way
 * request.c does (Host, X-Amz-Date and, with a session token,
 * X-Amz-Security-Token are added and signed) and prints one JSON object:
 * path, canonical_request, string_to_sign, signature, authorization.
 * tests/integration/sigv4_botocore.py compares it with botocore.
 *
 *   sigv4_sign_tool --host H --region R --time YYYYMMDDTHHMMSSZ
 *                   --access-key AK --secret-key SK [--session-token T]
 *                   (--model ID [--operation converse|converse-stream] | --path P)
 *                   [--method POST] [--service bedrock] [--query Q]
 *                   [--header 'Name:value']... [--single-encode] [--no-normalize]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "sigv4.h"
#include "uri.h"
#include "xalloc.h"

#define TOOL_MAX_HEADERS 32
#define TOOL_MAX_BODY (64 * 1024 * 1024)

struct tool_opts {
	const char *method, *host, *region, *service, *time;
	const char *access_key, *secret_key, *token;
	const char *model, *operation, *path, *query;
	struct sigv4_header extra[TOOL_MAX_HEADERS];
	size_t nextra;
	bool double_encode, normalize;
};

static void usage(void)
{
	fprintf(stderr, "usage: sigv4_sign_tool --host H --region R --time YYYYMMDDTHHMMSSZ "
			"--access-key AK --secret-key SK [--session-token T] "
			"(--model ID [--operation OP] | --path P) [--method M] [--service S] "
			"[--query Q] [--header Name:value]... [--single-encode] [--no-normalize] "
			"< body\n");
	exit(2);
}

/* "Name:value" into a header; the strings stay in argv. */
static void add_header(struct tool_opts *o, char *arg)
{
	char *colon = strchr(arg, ':');
	if (!colon || o->nextra == TOOL_MAX_HEADERS)
		usage();
	*colon = '\0';
	o->extra[o->nextra++] = (struct sigv4_header){ arg, colon + 1 };
}

static void parse_args(int argc, char **argv, struct tool_opts *o)
{
	static const struct option longopts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "host", required_argument, NULL, 'H' },
		{ "region", required_argument, NULL, 'r' },
		{ "service", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "access-key", required_argument, NULL, 'a' },
		{ "secret-key", required_argument, NULL, 'k' },
		{ "session-token", required_argument, NULL, 'T' },
		{ "model", required_argument, NULL, 'M' },
		{ "operation", required_argument, NULL, 'o' },
		{ "path", required_argument, NULL, 'p' },
		{ "query", required_argument, NULL, 'q' },
		{ "header", required_argument, NULL, 'h' },
		{ "single-encode", no_argument, NULL, '1' },
		{ "no-normalize", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct tool_opts){ .method = "POST", .service = "bedrock", .operation = "converse",
				 .double_encode = true, .normalize = true };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->method = optarg; break;
		case 'H': o->host = optarg; break;
		case 'r': o->region = optarg; break;
		case 's': o->service = optarg; break;
		case 't': o->time = optarg; break;
		case 'a': o->access_key = optarg; break;
		case 'k': o->secret_key = optarg; break;
		case 'T': o->token = optarg; break;
		case 'M': o->model = optarg; break;
		case 'o': o->operation = optarg; break;
		case 'p': o->path = optarg; break;
		case 'q': o->query = optarg; break;
		case 'h': add_header(o, optarg); break;
		case '1': o->double_encode = false; break;
		case 'N': o->normalize = false; break;
		default: usage();
		}
	}
	if (optind != argc || !o->host || !o->region || !o->time || !o->access_key ||
	    !o->secret_key || !o->model == !o->path)
		usage();
}

static void read_body(struct buf *body)
{
	char chunk[65536];
	size_t n;

	buf_init(body, TOOL_MAX_BODY);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
		if (buf_append(body, chunk, n) < 0) {
			fprintf(stderr, "sigv4_sign_tool: body larger than %d bytes\n",
				TOOL_MAX_BODY);
			exit(1);
		}
	}
}

static void print_result(const char *path, const struct sigv4_result *res)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "path", path, "canonical_request",
			      res->canonical_request, "string_to_sign", res->string_to_sign,
			      "signature", res->signature, "authorization", res->authorization);
	if (!o || json_dumpf(o, stdout, JSON_INDENT(2)) < 0) {
		fprintf(stderr, "sigv4_sign_tool: cannot write the result\n");
		exit(1);
	}
	putchar('\n');
	json_decref(o);
}

int main(int argc, char **argv)
{
	struct tool_opts o;
	struct sigv4_header headers[TOOL_MAX_HEADERS + 3];
	struct sigv4_result res;
	struct nb_err err;
	struct buf body;
	char amz_date[17];
	size_t n = 0;
	time_t when;

	parse_args(argc, argv, &o);
	if (sigv4_parse_amz_date(o.time, &when) < 0) {
		fprintf(stderr, "sigv4_sign_tool: --time %s is not YYYYMMDDTHHMMSSZ\n", o.time);
		return 2;
	}
	char *path = o.model ? uri_model_path(o.model, o.operation) : xstrdup(o.path);
	sigv4_amz_date(when, amz_date);
	for (size_t i = 0; i < o.nextra; i++)
		headers[n++] = o.extra[i];
	headers[n++] = (struct sigv4_header){ "Host", o.host };
	headers[n++] = (struct sigv4_header){ "X-Amz-Date", amz_date };
	if (o.token)
		headers[n++] = (struct sigv4_header){ "X-Amz-Security-Token", o.token };
	read_body(&body);

	struct sigv4_request req = {
		.method = o.method,
		.path = path,
		.query = o.query,
		.headers = headers,
		.nheaders = n,
		.body = body.data,
		.body_len = body.len,
	};
	struct sigv4_credentials creds = { o.access_key, o.secret_key, o.token };
	struct sigv4_params params = {
		.region = o.region,
		.service = o.service,
		.when = when,
		.double_encode = o.double_encode,
		.normalize = o.normalize,
	};
	if (sigv4_sign(&req, &creds, &params, &res, &err) < 0) {
		fprintf(stderr, "sigv4_sign_tool: %s\n", err.msg);
		return 1;
	}
	print_result(path, &res);
	sigv4_result_cleanup(&res);
	buf_cleanup(&body);
	free(path);
	return 0;
}
