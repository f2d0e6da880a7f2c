/* The provider chain and the shared files' profiles: which source wins,
 * and what a user is told when a file or the environment is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds_chain.h"
#include "creds_profile.h"

#define CRED "/h/.aws/credentials"
#define CONF "/h/.aws/config"

struct chain_case {
	const char *name;
	const char *env[8];     /* "NAME=value" */
	const char *profile;    /* --profile */
	const char *cred_text;  /* NULL: no file */
	const char *conf_text;
	/* Expected: */
	const char *error;      /* or NULL */
	enum creds_kind kind;
	const char *describe;
	const char *key;        /* access key id, bearer token, command or URL */
	const char *token;      /* session token, or the container's auth token */
	const char *region;
};

/* A case that expects an error leaves the expected source out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct chain_case cases[] = {
	{"environment keys come first",
	 {"AWS_ACCESS_KEY_ID=EK", "AWS_SECRET_ACCESS_KEY=ES", "AWS_SESSION_TOKEN=ET",
	  "AWS_BEARER_TOKEN_BEDROCK=B"},
	 NULL, "[default]\naws_access_key_id = FK\naws_secret_access_key = FS\n", NULL, NULL,
	 CREDS_STATIC, "environment (AWS_ACCESS_KEY_ID)", "EK", "ET", NULL},
	{"a key without its secret",
	 {"AWS_ACCESS_KEY_ID=EK"}, NULL, NULL, NULL,
	 "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither"},
	{"the bearer token after the keys",
	 {"AWS_BEARER_TOKEN_BEDROCK=B"}, NULL,
	 "[default]\naws_access_key_id = FK\naws_secret_access_key = FS\n", NULL, NULL,
	 CREDS_BEARER, "environment (AWS_BEARER_TOKEN_BEDROCK)", "B", NULL, NULL},
	{"--profile skips the environment",
	 {"AWS_ACCESS_KEY_ID=EK", "AWS_SECRET_ACCESS_KEY=ES"}, "dev",
	 "[default]\naws_access_key_id = DK\naws_secret_access_key = DS\n"
	 "[dev]\naws_access_key_id = FK\naws_secret_access_key = FS\naws_session_token = FT\n",
	 "[profile dev]\nregion = eu-west-1\n", NULL,
	 CREDS_STATIC, "profile 'dev' in " CRED, "FK", "FT", "eu-west-1"},
	{"AWS_PROFILE names the profile of the files",
	 {"AWS_PROFILE=dev"}, NULL,
	 "[default]\naws_access_key_id = DK\naws_secret_access_key = DS\n"
	 "[dev]\naws_access_key_id = FK\naws_secret_access_key = FS\n",
	 NULL, NULL, CREDS_STATIC, "profile 'dev' in " CRED, "FK", NULL, NULL},
	{"[default] with comments, spaces and another profile's section",
	 {NULL}, NULL,
	 "# keys\n[other]\naws_access_key_id=OK\naws_secret_access_key=OS\n\n[default]\n"
	 "  AWS_ACCESS_KEY_ID = DK ; inline comment\naws_secret_access_key=DS\n",
	 "[default]\nregion = us-west-2\n[profile other]\nregion = eu-north-1\n", NULL,
	 CREDS_STATIC, "profile 'default' in " CRED, "DK", NULL, "us-west-2"},
	{"credential_process in the config file",
	 {NULL}, "dev", NULL,
	 "[profile dev]\nregion = ap-south-1\ncredential_process = /bin/get --x 'a b'\n", NULL,
	 CREDS_PROCESS, "credential_process of profile 'dev' (" CONF ":3)", "/bin/get --x 'a b'",
	 NULL, "ap-south-1"},
	{"keys in the credentials file before credential_process",
	 {NULL}, "dev", "[dev]\naws_access_key_id = FK\naws_secret_access_key = FS\n",
	 "[profile dev]\ncredential_process = /bin/get\n", NULL,
	 CREDS_STATIC, "profile 'dev' in " CRED, "FK", NULL, NULL},
	{"credential_process before keys in the config file",
	 {NULL}, NULL, NULL,
	 "[default]\naws_access_key_id = CK\naws_secret_access_key = CS\ncredential_process = x\n",
	 NULL, CREDS_PROCESS, "credential_process of profile 'default' (" CONF ":4)", "x", NULL,
	 NULL},
	{"keys in the config file",
	 {NULL}, NULL, NULL, "[default]\naws_access_key_id = CK\naws_secret_access_key = CS\n",
	 NULL, CREDS_STATIC, "profile 'default' in " CONF, "CK", NULL, NULL},
	{"[dev] in the config file is not profile dev",
	 {NULL}, "dev", NULL, "[dev]\naws_access_key_id = CK\naws_secret_access_key = CS\n",
	 "profile 'dev' (from --profile) is in neither " CRED " nor " CONF},
	{"a named profile that does not exist",
	 {"AWS_PROFILE=nope"}, NULL, "[default]\n", NULL,
	 "profile 'nope' (from AWS_PROFILE) is in neither " CRED " nor " CONF},
	{"a profile without credentials",
	 {NULL}, "dev", "[dev]\nregion = x\n", NULL,
	 "profile 'dev' has no credentials: neither keys nor a credential_process in " CRED
	 " or " CONF},
	{"a key without its secret in a file, by line",
	 {NULL}, NULL, "\n[default]\n\naws_access_key_id = K\n", NULL,
	 CRED ":4: profile 'default' sets aws_access_key_id but not aws_secret_access_key"},
	{"assume-role profiles are refused, by line",
	 {NULL}, "dev", NULL, "[profile dev]\nregion=x\nrole_arn = arn:aws:iam::1:role/r\n",
	 CONF ":3: profile 'dev' uses role_arn, which novabatch does not support; give the "
	 "profile keys or a credential_process (for example `aws configure export-credentials "
	 "--profile dev --format process`)"},
	{"a line that is not INI, by line",
	 {NULL}, NULL, "[default]\naws_access_key_id = K\nthis is not ini\n", NULL,
	 CRED ":3: not a [section] header, a 'name = value' setting or a comment"},
	{"container credentials, relative URI",
	 {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/creds/x",
	  "AWS_CONTAINER_AUTHORIZATION_TOKEN=AT"},
	 NULL, NULL, NULL, NULL, CREDS_CONTAINER,
	 "container credentials from http://169.254.170.2/v2/creds/x",
	 "http://169.254.170.2/v2/creds/x", "AT", NULL},
	{"container credentials, full URI on loopback",
	 {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8080/c"}, NULL, NULL, NULL, NULL,
	 CREDS_CONTAINER, "container credentials from http://127.0.0.1:8080/c",
	 "http://127.0.0.1:8080/c", NULL, NULL},
	{"container credentials over plain http elsewhere",
	 {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/c"}, NULL, NULL, NULL,
	 "AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://example.com/c': plain http is only allowed "
	 "to a loopback address or the ECS/EKS address; use https"},
	{"instance metadata last",
	 {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9/"}, NULL, NULL, NULL, NULL,
	 CREDS_IMDS, "EC2 instance metadata at http://127.0.0.1:9", "http://127.0.0.1:9", NULL,
	 NULL},
	{"instance metadata off",
	 {"AWS_EC2_METADATA_DISABLED=TRUE"}, NULL, NULL, NULL,
	 "no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
	 "AWS_BEARER_TOKEN_BEDROCK, or give profile 'default' keys or a credential_process in "
	 CRED " or " CONF " (instance metadata is off: AWS_EC2_METADATA_DISABLED)"},
};

static const char *test_env(const char *name, void *data)
{
	const struct chain_case *c = data;
	size_t n = strlen(name);
	for (size_t i = 0; i < 8 && c->env[i]; i++)
		if (strncmp(c->env[i], name, n) == 0 && c->env[i][n] == '=')
			return c->env[i][n + 1] ? c->env[i] + n + 1 : NULL;
	return NULL;
}

static void resolves_every_case(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct chain_case *c = &cases[i];
		struct creds_inputs in = {
			.getenv = test_env,
			.env_data = (void *)c,
			.profile_option = c->profile,
			.credentials_path = CRED,
			.credentials_text = c->cred_text,
			.config_path = CONF,
			.config_text = c->conf_text,
		};
		struct creds_source src;
		struct nb_err err = {{0}};
		int rc = creds_resolve(&in, &src, &err);
		if (c->error) {
			if (rc != -1 || strcmp(err.msg, c->error) != 0)
				fail_msg("%s: got %d '%s'\nwant '%s'", c->name, rc, err.msg, c->error);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->name, err.msg);
		if (src.kind != c->kind || strcmp(src.describe, c->describe) != 0)
			fail_msg("%s: got %s '%s'", c->name, creds_kind_name(src.kind), src.describe);
		const char *key = src.kind == CREDS_BEARER    ? src.value.bearer_token
				  : src.kind == CREDS_PROCESS ? src.command
				  : src.kind == CREDS_STATIC  ? src.value.access_key_id
							      : src.url;
		const char *token = src.kind == CREDS_CONTAINER ? src.auth_token
								: src.value.session_token;
		assert_string_equal(key, c->key);
		if (c->token)
			assert_string_equal(token, c->token);
		else
			assert_null(token);
		if (c->region)
			assert_string_equal(src.profile_region, c->region);
		else
			assert_null(src.profile_region);
		creds_source_cleanup(&src);
	}
}

/* Debian's inih reads lines of 200 bytes at most; a session token alone
 * is longer. */
static void reads_a_long_session_token(void **state)
{
	(void)state;
	char token[1500];
	memset(token, 'T', sizeof token - 1);
	token[sizeof token - 1] = '\0';
	token[0] = 'A';
	token[sizeof token - 2] = 'Z';
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	fprintf(fp, "[default]\naws_access_key_id = K\naws_session_token =   %s  \n"
		    "aws_secret_access_key = S\n[x]\nlong_other = %s\n", token, token);
	fclose(fp);
	struct creds_profile p;
	struct nb_err err;
	assert_int_equal(creds_profile_read(text, CRED, false, "default", &p, &err), 0);
	assert_true(p.found);
	assert_string_equal(p.session_token.value, token);
	assert_int_equal(p.session_token.line, 3);
	assert_string_equal(p.secret_access_key.value, "S");
	assert_int_equal(p.secret_access_key.line, 4);
	creds_profile_cleanup(&p);
	free(text);
}

static void names_profile_sections_as_the_sdks_do(void **state)
{
	(void)state;
	const char *conf = "[profile  dev ]\nregion = a\n[profile default]\nregion = b\n";
	struct creds_profile p;
	struct nb_err err;
	assert_int_equal(creds_profile_read(conf, CONF, true, "dev", &p, &err), 0);
	assert_true(p.found);
	assert_string_equal(p.region.value, "a");
	creds_profile_cleanup(&p);
	/* The SDKs read [profile default] as the default profile too. */
	assert_int_equal(creds_profile_read(conf, CONF, true, "default", &p, &err), 0);
	assert_true(p.found);
	assert_string_equal(p.region.value, "b");
	creds_profile_cleanup(&p);
	assert_int_equal(creds_profile_read("[profile dev]\n", CRED, false, "dev", &p, &err), 0);
	assert_false(p.found);
	creds_profile_cleanup(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resolves_every_case),
		cmocka_unit_test(reads_a_long_session_token),
		cmocka_unit_test(names_profile_sections_as_the_sdks_do),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
