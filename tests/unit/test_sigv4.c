/*
 * SigV4 against the public test suites in ../shared/testdata/sigv4 (see its
 * README) and the project's Bedrock examples, plus the signer's edges.
 *
 * Every case directory is found at run time and becomes one cmocka test, so
 * a case the harness cannot read fails instead of vanishing. The raw
 * requests are parsed here; the signer sees only what a client would give
 * it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "buf.h"
#include "err.h"
#include "sigv4.h"
#include "uri.h"
#include "xalloc.h"
#include "testdata.h"

#define SIGV4_DATA NB_TESTDATA "/sigv4"

/* Cases present when this test was written; more may come, fewer may not. */
#define MIN_AWS4_CASES 34
#define MIN_CRT_CASES 38
#define MIN_BEDROCK_CASES 4

/* The fixed inputs of aws4_testsuite, which has no context file (README). */
#define AWS4_ACCESS_KEY "AKIDEXAMPLE"
#define AWS4_SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AWS4_TIME "20150830T123600Z"

/*
 * aws4_testsuite cases whose session token (from their .sreq) is added
 * after signing, per post-sts-token/readme.txt. Every other case with a
 * token in its .sreq signs it.
 */
static const char *const aws4_token_after[] = { "post-sts-token/post-sts-header-after" };

/*
 * Nothing is skipped: the request parser takes the request lines that
 * botocore's cannot (get-space) and the repeated query keys it leaves out.
 * Query-only (presigned URL) expectations are not read at all: novabatch
 * signs in a header.
 */

enum suite { SUITE_AWS4, SUITE_CRT, SUITE_BEDROCK };

static const char *const suite_dir[] = { "aws4_testsuite", "aws-c-auth-v4",
					 "bedrock-converse-example" };

struct vcase {
	enum suite suite;
	char *rel;  /* case path under its suite, "normalize-path/get-space" */
	char *dir;  /* absolute directory */
	char *name; /* test name */
	bool client_encoded; /* variant: path encoded as sent, no 2nd encoding */
};

static struct vcase *cases;
static size_t ncases;
static size_t nfound[3];
static struct buf discovery_errors; /* one line per directory not understood */

/* ---- small file helpers ---- */

static char *path_join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

/* Expectation files carry no trailing newline (README); tolerate one. */
static char *slurp_expected(const char *dir, const char *file)
{
	char *path = path_join(dir, file);
	char *s = testdata_read(path, NULL);
	if (!s)
		fail_msg("missing expectation file %s", path);
	free(path);
	size_t n = strlen(s);
	if (n && s[n - 1] == '\n')
		s[n - 1] = '\0';
	return s;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_file(const char *dir, const char *file)
{
	char *path = path_join(dir, file);
	struct stat st;
	bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	assert_true(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL));
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- case discovery ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the subdirectories of dir; NULL when dir cannot be read. */
static char **list_subdirs(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *full = path_join(dir, e->d_name);
		if (is_dir(full)) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(e->d_name);
		}
		free(full);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	*count = n;
	return names ? names : xcalloc(1, sizeof *names);
}

static void add_case(enum suite s, const char *rel, const char *dir, bool client_encoded)
{
	cases = xrealloc(cases, (ncases + 1) * sizeof *cases);
	cases[ncases++] = (struct vcase){
		.suite = s,
		.rel = xstrdup(rel),
		.dir = xstrdup(dir),
		.name = xasprintf("%s/%s%s", suite_dir[s], rel,
				  client_encoded ? " (client-encoded path)" : ""),
		.client_encoded = client_encoded,
	};
}

/* A case was found: signed as the suite states it and, for the AWS
 * suites, once more with the path encoded the way a client sends it. */
static void found_case(enum suite s, const char *rel, const char *dir)
{
	nfound[s]++;
	add_case(s, rel, dir, false);
	if (s != SUITE_BEDROCK)
		add_case(s, rel, dir, true);
}

/* aws4_testsuite: a case is a directory holding <name>.req; others group
 * cases (normalize-path/, post-sts-token/). Returns cases found below. */
static size_t walk_aws4(const char *dir, const char *rel)
{
	size_t n, found = 0;
	char **subs = list_subdirs(dir, &n);
	if (!subs) {
		buf_appendf(&discovery_errors, "cannot read directory %s\n", dir);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		char *full = path_join(dir, subs[i]);
		char *sub_rel = *rel ? path_join(rel, subs[i]) : xstrdup(subs[i]);
		char *req = xasprintf("%s.req", subs[i]);
		size_t below;
		if (has_file(full, req)) {
			found_case(SUITE_AWS4, sub_rel, full);
			found++;
		} else if ((below = walk_aws4(full, sub_rel)) > 0) {
			found += below;
		} else {
			buf_appendf(&discovery_errors, "%s: no %s and no cases below\n", full, req);
		}
		free(req);
		free(sub_rel);
		free(full);
		free(subs[i]);
	}
	free(subs);
	return found;
}

/* aws-c-auth-v4 and bedrock-converse-example: one flat directory a case. */
static void walk_flat(enum suite s, const char *dir)
{
	size_t n;
	char **subs = list_subdirs(dir, &n);
	if (!subs) {
		buf_appendf(&discovery_errors, "cannot read directory %s\n", dir);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *full = path_join(dir, subs[i]);
		if (has_file(full, "context.json") && has_file(full, "request.txt"))
			found_case(s, subs[i], full);
		else
			buf_appendf(&discovery_errors, "%s: no context.json or request.txt\n", full);
		free(full);
		free(subs[i]);
	}
	free(subs);
}

static void discover(void)
{
	buf_init(&discovery_errors, 0);
	for (int s = 0; s < 3; s++) {
		char *dir = path_join(SIGV4_DATA, suite_dir[s]);
		if (s == SUITE_AWS4)
			walk_aws4(dir, "");
		else
			walk_flat((enum suite)s, dir);
		free(dir);
	}
}

/* ---- raw request parsing ---- */

#define MAX_HEADERS 32

struct raw_request {
	char *method;
	char *path;  /* as in the file: not yet percent-encoded in the suites */
	char *query; /* NULL for none */
	char *names[MAX_HEADERS];
	char *values[MAX_HEADERS];
	size_t nheaders;
	char *body;
	size_t body_len;
};

static void raw_request_cleanup(struct raw_request *r)
{
	free(r->method);
	free(r->path);
	free(r->query);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->body);
	memset(r, 0, sizeof *r);
}

/*
 * "METHOD target HTTP/1.1": the target runs to the last " HTTP/", so a
 * raw space in the path (get-space) stays in it.
 */
static void parse_request_line(struct raw_request *r, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	assert_non_null(sp);
	const char *ver = NULL;
	for (const char *p = sp; p + 6 <= line + n; p++)
		if (!memcmp(p, " HTTP/", 6))
			ver = p;
	assert_non_null(ver);
	assert_true(ver > sp);
	r->method = xstrndup(line, (size_t)(sp - line));
	const char *target = sp + 1;
	size_t tlen = (size_t)(ver - target);
	const char *q = memchr(target, '?', tlen);
	r->path = xstrndup(target, q ? (size_t)(q - target) : tlen);
	if (q)
		r->query = xstrndup(q + 1, tlen - (size_t)(q + 1 - target));
}

/* "Name:value", or a folded continuation of the previous header. */
static void parse_header_line(struct raw_request *r, const char *line, size_t n)
{
	if (line[0] == ' ' || line[0] == '\t') {
		assert_true(r->nheaders > 0);
		char *prev = r->values[r->nheaders - 1];
		r->values[r->nheaders - 1] = xasprintf("%s %.*s", prev, (int)n, line);
		free(prev);
		return;
	}
	const char *colon = memchr(line, ':', n);
	assert_non_null(colon);
	assert_true(r->nheaders < MAX_HEADERS);
	r->names[r->nheaders] = xstrndup(line, (size_t)(colon - line));
	r->values[r->nheaders] = xstrndup(colon + 1, n - (size_t)(colon + 1 - line));
	r->nheaders++;
}

static void parse_request(struct raw_request *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	bool first = true;

	memset(r, 0, sizeof *r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);
		if (n && p[n - 1] == '\r')
			n--;
		const char *next = nl ? nl + 1 : end;
		if (n == 0 && !first) { /* blank line: the body follows */
			p = next;
			break;
		}
		if (first)
			parse_request_line(r, p, n);
		else
			parse_header_line(r, p, n);
		first = false;
		p = next;
	}
	r->body_len = (size_t)(end - p);
	r->body = xstrndup(p, r->body_len);
}

static const char *raw_header(const struct raw_request *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->names[i], name))
			return r->values[i];
	return NULL;
}

/* ---- what a case asks for ---- */

struct vinput {
	char access_key[64];
	char secret_key[128];
	char *token;       /* owned; NULL for none */
	bool token_signed; /* sent in a signed header, or added after signing */
	char region[64];
	char service[64];
	time_t when;
	bool normalize, double_encode, sign_body;
	char *model_id; /* owned; the Bedrock examples only */
};

struct vexpect {
	char *creq, *sts, *authz;
	char signature[65];
};

static void copy_str(char *dst, size_t size, const char *src)
{
	assert_non_null(src);
	assert_true(strlen(src) < size);
	strcpy(dst, src);
}

/* "2015-08-30T12:36:00Z" -> time_t, through the signer's own parser. */
static time_t iso_to_time(const char *iso)
{
	char amz[17];
	size_t n = 0;
	time_t t;
	for (const char *p = iso; *p && n < 16; p++)
		if (*p != '-' && *p != ':')
			amz[n++] = *p;
	amz[n] = '\0';
	assert_int_equal(sigv4_parse_amz_date(amz, &t), 0);
	return t;
}

static bool json_flag(json_t *ctx, const char *key, bool dflt)
{
	json_t *v = json_object_get(ctx, key);
	if (!v)
		return dflt;
	assert_true(json_is_boolean(v));
	return json_is_true(v);
}

static void read_context(const struct vcase *vc, struct vinput *in)
{
	char *path = path_join(vc->dir, "context.json");
	json_error_t jerr;
	json_t *ctx = json_load_file(path, 0, &jerr);
	if (!ctx)
		fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
	json_t *cred = json_object_get(ctx, "credentials");
	copy_str(in->access_key, sizeof in->access_key,
		 json_string_value(json_object_get(cred, "access_key_id")));
	copy_str(in->secret_key, sizeof in->secret_key,
		 json_string_value(json_object_get(cred, "secret_access_key")));
	const char *token = json_string_value(json_object_get(cred, "token"));
	in->token = token ? xstrdup(token) : NULL;
	in->token_signed = !json_flag(ctx, "omit_session_token", false);
	copy_str(in->region, sizeof in->region, json_string_value(json_object_get(ctx, "region")));
	copy_str(in->service, sizeof in->service,
		 json_string_value(json_object_get(ctx, "service")));
	in->when = iso_to_time(json_string_value(json_object_get(ctx, "timestamp")));
	in->normalize = json_flag(ctx, "normalize", true);
	in->sign_body = json_flag(ctx, "sign_body", false);
	in->double_encode = json_flag(ctx, "double_uri_encode", true);
	const char *model = json_string_value(json_object_get(ctx, "model_id"));
	in->model_id = model ? xstrdup(model) : NULL;
	json_decref(ctx);
	free(path);
}

static bool aws4_token_is_after(const char *rel)
{
	for (size_t i = 0; i < sizeof aws4_token_after / sizeof *aws4_token_after; i++)
		if (!strcmp(rel, aws4_token_after[i]))
			return true;
	return false;
}

/* aws4_testsuite: fixed inputs; a token only where the .sreq sends one. */
static void read_aws4_inputs(const struct vcase *vc, struct vinput *in, const char *base)
{
	copy_str(in->access_key, sizeof in->access_key, AWS4_ACCESS_KEY);
	copy_str(in->secret_key, sizeof in->secret_key, AWS4_SECRET_KEY);
	copy_str(in->region, sizeof in->region, "us-east-1");
	copy_str(in->service, sizeof in->service, "service");
	assert_int_equal(sigv4_parse_amz_date(AWS4_TIME, &in->when), 0);
	in->normalize = true;
	in->double_encode = true;

	char *file = xasprintf("%s.sreq", base);
	char *path = path_join(vc->dir, file);
	size_t len;
	char *text = testdata_read(path, &len);
	assert_non_null(text);
	struct raw_request sreq;
	parse_request(&sreq, text, len);
	const char *token = raw_header(&sreq, "X-Amz-Security-Token");
	in->token = token ? xstrdup(token) : NULL;
	in->token_signed = !aws4_token_is_after(vc->rel);
	raw_request_cleanup(&sreq);
	free(text);
	free(path);
	free(file);
}

/* The Authorization value of a *-signed-request.txt. */
static char *authz_from_signed_request(const char *dir, const char *file)
{
	char *path = path_join(dir, file);
	size_t len;
	char *text = testdata_read(path, &len);
	assert_non_null(text);
	struct raw_request r;
	parse_request(&r, text, len);
	const char *v = raw_header(&r, "Authorization");
	assert_non_null(v);
	char *authz = xstrdup(v + strspn(v, " "));
	raw_request_cleanup(&r);
	free(text);
	free(path);
	return authz;
}

static void signature_from_authz(const char *authz, char out[65])
{
	const char *s = strstr(authz, "Signature=");
	assert_non_null(s);
	copy_str(out, 65, s + strlen("Signature="));
}

static void read_expectations(const struct vcase *vc, const char *base, struct vexpect *ex)
{
	if (vc->suite == SUITE_AWS4) {
		char *f = xasprintf("%s.creq", base);
		ex->creq = slurp_expected(vc->dir, f);
		free(f);
		f = xasprintf("%s.sts", base);
		ex->sts = slurp_expected(vc->dir, f);
		free(f);
		f = xasprintf("%s.authz", base);
		ex->authz = slurp_expected(vc->dir, f);
		free(f);
		signature_from_authz(ex->authz, ex->signature);
	} else if (vc->suite == SUITE_CRT) {
		ex->creq = slurp_expected(vc->dir, "header-canonical-request.txt");
		ex->sts = slurp_expected(vc->dir, "header-string-to-sign.txt");
		ex->authz = authz_from_signed_request(vc->dir, "header-signed-request.txt");
		char *sig = slurp_expected(vc->dir, "header-signature.txt");
		copy_str(ex->signature, sizeof ex->signature, sig);
		free(sig);
	} else {
		ex->creq = slurp_expected(vc->dir, "canonical-request.txt");
		ex->sts = slurp_expected(vc->dir, "string-to-sign.txt");
		ex->authz = slurp_expected(vc->dir, "authorization.txt");
		signature_from_authz(ex->authz, ex->signature);
	}
}

/* ---- signing a case ---- */

static bool is_hex(unsigned char c)
{
	return c && strchr("0123456789ABCDEFabcdef", c);
}

/* pchar (RFC 3986) plus '/', '?' and a '%' that starts an escape: what a
 * client may put in a request-target as it is. Everything else is encoded. */
static char *client_encode(const char *raw)
{
	static const char allowed[] = "-._~!$&'()*+,;=:@/?";
	struct buf b;
	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
		bool alnum = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9');
		bool esc = *p == '%' && is_hex(p[1]) && is_hex(p[2]);
		if (alnum || strchr(allowed, *p) || esc)
			buf_append(&b, p, 1);
		else
			buf_appendf(&b, "%%%02X", *p);
	}
	return buf_steal(&b);
}

struct signing {
	struct sigv4_header headers[MAX_HEADERS + 3];
	size_t n;
	char amz_date[17];
	char body_hash[65];
};

/* The request's own headers, then what a client adds before signing. */
static void build_headers(struct signing *s, const struct raw_request *r, const struct vinput *in)
{
	s->n = 0;
	for (size_t i = 0; i < r->nheaders; i++)
		s->headers[s->n++] = (struct sigv4_header){ r->names[i], r->values[i] };
	sigv4_amz_date(in->when, s->amz_date);
	if (!raw_header(r, "X-Amz-Date"))
		s->headers[s->n++] = (struct sigv4_header){ "X-Amz-Date", s->amz_date };
	if (in->token && in->token_signed && !raw_header(r, "X-Amz-Security-Token"))
		s->headers[s->n++] = (struct sigv4_header){ "X-Amz-Security-Token", in->token };
	if (in->sign_body) {
		sha256_hex(r->body, r->body_len, s->body_hash);
		s->headers[s->n++] = (struct sigv4_header){ "x-amz-content-sha256", s->body_hash };
	}
}

static void expect_same(const char *what, const char *name, const char *want, const char *got)
{
	if (got && !strcmp(want, got))
		return;
	/* Straight to stderr: cmocka's messages are cut at 1 KiB. */
	fprintf(stderr, "--- expected %s\n%s\n--- got\n%s\n---\n", what, want,
		got ? got : "(null)");
	fail_msg("%s: %s differs", name, what);
}

/* The server side reads back what the client wrote. */
static void check_parse_back(const struct vinput *in, const struct sigv4_result *res)
{
	struct sigv4_authorization a;
	struct nb_err err;
	assert_int_equal(sigv4_parse_authorization(res->authorization, &a, &err), 0);
	assert_string_equal(a.access_key_id, in->access_key);
	assert_string_equal(a.region, in->region);
	assert_string_equal(a.service, in->service);
	assert_string_equal(a.signature, res->signature);
	assert_non_null(strstr(res->authorization, a.signed_headers));
	assert_memory_equal(a.date, res->string_to_sign + strlen("AWS4-HMAC-SHA256\n"), 8);
}

/* Bedrock examples: the path on the wire is what uri_model_path builds. */
static void check_model_path(const struct vinput *in, const struct raw_request *r)
{
	const char *op = strstr(r->path, "/converse-stream") ? "converse-stream" : "converse";
	char *want = uri_model_path(in->model_id, op);
	assert_string_equal(r->path, want);
	free(want);
}

static void sign_and_compare(const struct vcase *vc, const struct raw_request *r,
			     const struct vinput *in, const struct vexpect *ex)
{
	struct signing s;
	char *path = vc->client_encoded ? client_encode(r->path) : xstrdup(r->path);
	char *query = r->query && vc->client_encoded ? client_encode(r->query) : NULL;
	build_headers(&s, r, in);
	struct sigv4_request req = {
		.method = r->method,
		.path = path,
		.query = query ? query : r->query,
		.headers = s.headers,
		.nheaders = s.n,
		.body = r->body,
		.body_len = r->body_len,
	};
	struct sigv4_credentials creds = { in->access_key, in->secret_key, in->token };
	struct sigv4_params params = {
		.region = in->region,
		.service = in->service,
		.when = in->when,
		/* Encoded once by the client, so not a second time by the signer. */
		.double_encode = vc->client_encoded ? false : in->double_encode,
		.normalize = in->normalize,
	};
	struct sigv4_result res;
	struct nb_err err = { "" };
	if (sigv4_sign(&req, &creds, &params, &res, &err) < 0)
		fail_msg("%s: sigv4_sign failed: %s", vc->name, err.msg);
	expect_same("canonical request", vc->name, ex->creq, res.canonical_request);
	expect_same("string to sign", vc->name, ex->sts, res.string_to_sign);
	expect_same("signature", vc->name, ex->signature, res.signature);
	expect_same("authorization", vc->name, ex->authz, res.authorization);
	check_parse_back(in, &res);
	sigv4_result_cleanup(&res);
	free(path);
	free(query);
}

static void test_vector(void **state)
{
	const struct vcase *vc = *state;
	const char *slash = strrchr(vc->rel, '/');
	const char *base = slash ? slash + 1 : vc->rel;
	struct vinput in = { .token = NULL };
	struct vexpect ex = { .creq = NULL };

	if (vc->suite == SUITE_AWS4)
		read_aws4_inputs(vc, &in, base);
	else
		read_context(vc, &in);
	read_expectations(vc, base, &ex);

	char *file = vc->suite == SUITE_AWS4 ? xasprintf("%s.req", base) : xstrdup("request.txt");
	char *path = path_join(vc->dir, file);
	size_t len;
	char *text = testdata_read(path, &len);
	assert_non_null(text);
	struct raw_request r;
	parse_request(&r, text, len);
	if (vc->suite == SUITE_BEDROCK)
		check_model_path(&in, &r);
	sign_and_compare(vc, &r, &in, &ex);

	raw_request_cleanup(&r);
	free(text);
	free(path);
	free(file);
	free(ex.creq);
	free(ex.sts);
	free(ex.authz);
	free(in.token);
	free(in.model_id);
}

/* ---- the suites are all there ---- */

static void test_every_case_directory_is_understood(void **state)
{
	(void)state;
	if (discovery_errors.len)
		fail_msg("case directories not understood:\n%s", buf_str(&discovery_errors));
}

static void test_no_suite_is_missing_cases(void **state)
{
	(void)state;
	static const size_t min[] = { MIN_AWS4_CASES, MIN_CRT_CASES, MIN_BEDROCK_CASES };
	for (int s = 0; s < 3; s++)
		if (nfound[s] < min[s])
			fail_msg("%s: found %zu cases, expected at least %zu", suite_dir[s],
				 nfound[s], min[s]);
}

/* ---- the signer's edges ---- */

static const struct sigv4_credentials test_creds = { AWS4_ACCESS_KEY, AWS4_SECRET_KEY, NULL };

/* Signs a GET of path?query with one Host header; returns the canonical
 * request's second and third lines joined by '\n'. */
static char *sign_uri(const char *path, const char *query, bool double_encode, bool normalize)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request req = { "GET", path, query, h, 1, NULL, 0 };
	struct sigv4_params p = {
		.region = "us-east-1",
		.service = "service",
		.when = 1440938160,
		.double_encode = double_encode,
		.normalize = normalize,
	};
	struct sigv4_result res;
	struct nb_err err;
	if (sigv4_sign(&req, &test_creds, &p, &res, &err) < 0)
		fail_msg("sigv4_sign: %s", err.msg);
	const char *a = strchr(res.canonical_request, '\n') + 1;
	const char *b = strchr(a, '\n') + 1;
	char *out = xstrndup(a, (size_t)(strchr(b, '\n') - a));
	sigv4_result_cleanup(&res);
	return out;
}

static void test_bedrock_paths_are_encoded_twice(void **state)
{
	(void)state;
	char *path = uri_model_path("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
				    "us.amazon.nova-pro-v1:0",
				    "converse");
	char *got = sign_uri(path, NULL, true, true);
	assert_string_equal(got, "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012"
				 "%253Ainference-profile%252Fus.amazon.nova-pro-v1%253A0/converse\n");
	free(got);
	free(path);
}

static void test_single_encoding_keeps_the_sent_path(void **state)
{
	(void)state;
	char *got = sign_uri("/model/us.amazon.nova-lite-v1%3A0/converse", NULL, false, true);
	assert_string_equal(got, "/model/us.amazon.nova-lite-v1%3A0/converse\n");
	free(got);
	/* Decoded, then encoded once: lower-case hex and raw bytes agree. */
	got = sign_uri("/a%3ab/c d/%2F", NULL, false, false);
	assert_string_equal(got, "/a%3Ab/c%20d/%2F\n");
	free(got);
}

static void test_unnormalized_paths_keep_dots_and_slashes(void **state)
{
	(void)state;
	char *got = sign_uri("//a/./b/../", NULL, true, false);
	assert_string_equal(got, "//a/./b/../\n");
	free(got);
	got = sign_uri("//a/./b/../", NULL, true, true);
	assert_string_equal(got, "/a/\n");
	free(got);
	got = sign_uri("/../..", NULL, true, true);
	assert_string_equal(got, "/\n");
	free(got);
	got = sign_uri("", NULL, true, true);
	assert_string_equal(got, "/\n");
	free(got);
}

static void test_query_is_reencoded_and_sorted(void **state)
{
	(void)state;
	char *got = sign_uri("/", "b=2&a=%3a&&a=1&c&d=x+y%20z&e=", true, true);
	assert_string_equal(got, "/\na=%3A&a=1&b=2&c=&d=x%2By%20z&e=");
	free(got);
}

static void test_headers_are_trimmed_folded_and_joined(void **state)
{
	(void)state;
	struct sigv4_header h[] = {
		{ "X-B", " \t two   words\t " }, { "host", "h" }, { "X-A", "" },
		{ "x-b", "second" },
	};
	struct sigv4_request req = { "POST", "/", NULL, h, 4, "x", 1 };
	struct sigv4_params p = {
		.region = "us-east-1",
		.service = "service",
		.when = 1440938160,
		.double_encode = true,
		.normalize = true,
	};
	struct sigv4_result res;
	assert_int_equal(sigv4_sign(&req, &test_creds, &p, &res, NULL), 0);
	assert_non_null(strstr(res.canonical_request,
			       "\nhost:h\nx-a:\nx-b:two words,second\n\nhost;x-a;x-b\n"));
	assert_non_null(strstr(res.authorization, "SignedHeaders=host;x-a;x-b, Signature="));
	sigv4_result_cleanup(&res);
	sigv4_result_cleanup(&res); /* cleanup leaves a state safe to clean again */
}

static void expect_sign_error(const struct sigv4_request *req, const struct sigv4_credentials *c,
			      const struct sigv4_params *p, const char *needle)
{
	struct sigv4_result res;
	struct nb_err err = { "" };
	assert_int_equal(sigv4_sign(req, c, p, &res, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" does not mention \"%s\"", err.msg, needle);
	assert_null(res.canonical_request);
	assert_null(res.string_to_sign);
	assert_null(res.authorization);
	sigv4_result_cleanup(&res);
}

static void test_sign_refuses_malformed_requests(void **state)
{
	(void)state;
	struct sigv4_header bad_name[] = { { "Bad Name", "v" } };
	struct sigv4_header bad_value[] = { { "X-Inject", "a\r\nEvil: 1" } };
	struct sigv4_header ok[] = { { "Host", "h" } };
	struct sigv4_request req = { "GET", "/", NULL, bad_name, 1, NULL, 0 };
	struct sigv4_params p = {
		.region = "us-east-1",
		.service = "service",
		.when = 1440938160,
		.double_encode = true,
		.normalize = true,
	};
	expect_sign_error(&req, &test_creds, &p, "Bad Name");
	req.headers = bad_value;
	expect_sign_error(&req, &test_creds, &p, "line break");
	req.headers = ok;
	req.path = "model/x";
	expect_sign_error(&req, &test_creds, &p, "does not start with '/'");
	req.path = "/";
	req.method = "";
	expect_sign_error(&req, &test_creds, &p, "method");
	req.method = "GET";
	p.region = "us/east";
	expect_sign_error(&req, &test_creds, &p, "region");
	p.region = "us-east-1";
	p.when = -1;
	expect_sign_error(&req, &test_creds, &p, "out of range");
	p.when = 1440938160;
	struct sigv4_credentials no_secret = { "AK", "", NULL };
	expect_sign_error(&req, &no_secret, &p, "secret");
}

static void test_amz_date_round_trips(void **state)
{
	(void)state;
	char out[17];
	time_t t;
	sigv4_amz_date(1440938160, out);
	assert_string_equal(out, "20150830T123600Z");
	assert_int_equal(sigv4_parse_amz_date("20150830T123600Z", &t), 0);
	assert_int_equal(t, 1440938160);
	assert_int_equal(sigv4_parse_amz_date("20240229T235959Z", &t), 0);
	sigv4_amz_date(t, out);
	assert_string_equal(out, "20240229T235959Z");
}

static void test_amz_date_rejects_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",		    "20150830T123600",	 "20150830T123600Zx", "2015083OT123600Z",
		"20150830 123600Z", "20150230T000000Z",	 "20151301T000000Z",  "20150830T246000Z",
		"20150830T126000Z", "20230229T000000Z", "+2015830T123600Z",
	};
	time_t t = 42;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (sigv4_parse_amz_date(bad[i], &t) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t, 42);
	}
}

static void test_parse_authorization_reads_fields(void **state)
{
	(void)state;
	struct sigv4_authorization a;
	struct nb_err err;
	const char *v = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/"
			"aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
			"de5b530976589322d65e2f46a9dd5d609777e53d5442bb2767c4fb25606ebe3e";
	assert_int_equal(sigv4_parse_authorization(v, &a, &err), 0);
	assert_string_equal(a.access_key_id, "AKIDEXAMPLE");
	assert_string_equal(a.date, "20150830");
	assert_string_equal(a.region, "us-east-1");
	assert_string_equal(a.service, "bedrock");
	assert_string_equal(a.signed_headers, "content-type;host;x-amz-date");
	assert_string_equal(a.signature,
			    "de5b530976589322d65e2f46a9dd5d609777e53d5442bb2767c4fb25606ebe3e");
	/* Components in another order, without spaces after the commas. */
	const char *w = "AWS4-HMAC-SHA256 Signature="
			"de5b530976589322d65e2f46a9dd5d609777e53d5442bb2767c4fb25606ebe3e,"
			"SignedHeaders=host,Credential=AK/20150830/eu-west-1/bedrock/aws4_request";
	assert_int_equal(sigv4_parse_authorization(w, &a, &err), 0);
	assert_string_equal(a.access_key_id, "AK");
	assert_string_equal(a.region, "eu-west-1");
	assert_string_equal(a.signed_headers, "host");
}

static void test_parse_authorization_rejects_malformed(void **state)
{
	(void)state;
#define SIG "de5b530976589322d65e2f46a9dd5d609777e53d5442bb2767c4fb25606ebe3e"
#define CRED "Credential=AK/20150830/us-east-1/bedrock/aws4_request"
	static const char *const bad[] = {
		"",
		"AWS4-HMAC-SHA1 " CRED ", SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256," CRED ", SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG "0",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=DE5B" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG ", Signature=" SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG ", Extra=1",
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/bedrock, SignedHeaders=host, "
		"Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AK/2015083/us-east-1/bedrock/aws4_request, "
		"SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/bedrock/aws4_request/x, "
		"SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/bedrock/aws4_request, "
		"SignedHeaders=host, Signature=" SIG,
		"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/bedrock/aws5_request, "
		"SignedHeaders=host, Signature=" SIG,
	};
#undef SIG
#undef CRED
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct sigv4_authorization a;
		struct nb_err err = { "" };
		if (sigv4_parse_authorization(bad[i], &a, &err) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	/* A field longer than its slot is refused, not cut. */
	char *longkey = xmalloc(300);
	memset(longkey, 'A', 299);
	longkey[299] = '\0';
	char *v = xasprintf("AWS4-HMAC-SHA256 Credential=%s/20150830/r/s/aws4_request, "
			    "SignedHeaders=host, Signature=%064d",
			    longkey, 0);
	struct sigv4_authorization a;
	assert_int_equal(sigv4_parse_authorization(v, &a, NULL), -1);
	free(v);
	free(longkey);
}

/* ---- runner ---- */

static void free_cases(void)
{
	for (size_t i = 0; i < ncases; i++) {
		free(cases[i].rel);
		free(cases[i].dir);
		free(cases[i].name);
	}
	free(cases);
	buf_cleanup(&discovery_errors);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_every_case_directory_is_understood),
		cmocka_unit_test(test_no_suite_is_missing_cases),
		cmocka_unit_test(test_bedrock_paths_are_encoded_twice),
		cmocka_unit_test(test_single_encoding_keeps_the_sent_path),
		cmocka_unit_test(test_unnormalized_paths_keep_dots_and_slashes),
		cmocka_unit_test(test_query_is_reencoded_and_sorted),
		cmocka_unit_test(test_headers_are_trimmed_folded_and_joined),
		cmocka_unit_test(test_sign_refuses_malformed_requests),
		cmocka_unit_test(test_amz_date_round_trips),
		cmocka_unit_test(test_amz_date_rejects_malformed),
		cmocka_unit_test(test_parse_authorization_reads_fields),
		cmocka_unit_test(test_parse_authorization_rejects_malformed),
	};
	size_t nfixed = sizeof fixed / sizeof *fixed;

	discover();
	struct CMUnitTest *tests = xcalloc(nfixed + ncases, sizeof *tests);
	memcpy(tests, fixed, sizeof fixed);
	for (size_t i = 0; i < ncases; i++)
		tests[nfixed + i] = (struct CMUnitTest){ cases[i].name, test_vector, NULL, NULL,
							 &cases[i] };
	int failed = _cmocka_run_group_tests("sigv4", tests, nfixed + ncases, NULL, NULL);
	free(tests);
	free_cases();
	return failed ? 1 : 0;
}
