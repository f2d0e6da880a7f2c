/*
 * creds_chain: which source the credentials of a run come from.
 *
 * A pure core: the environment comes in as a lookup function and the
 * shared files as their text, so a table of cases tests every branch.
 * First match wins, in the order of the AWS SDKs:
 *
 *   1. `--profile NAME` names the profile and skips 2 and 3 (as the AWS
 *      CLI does); AWS_PROFILE names it without skipping them;
 *      otherwise the profile is `default`;
 *   2. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN);
 *   3. AWS_BEARER_TOKEN_BEDROCK, a Bedrock API key (Authorization: Bearer);
 *   4. the profile's keys in the shared credentials file;
 *   5. the profile's credential_process (credentials file, then config);
 *   6. the profile's keys in the config file;
 *   7. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_
 *      TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *   8. EC2 instance metadata (IMDSv2) unless AWS_EC2_METADATA_DISABLED is
 *      true; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
 *
 * A profile named by --profile or AWS_PROFILE must exist in one of the
 * files. The profile's region comes along for the region's resolution.
 * Fetching what the source gives is creds_fetch.h's.
 */
#ifndef NB_CREDS_CHAIN_H
#define NB_CREDS_CHAIN_H

#include <stdbool.h>

#include "creds_value.h"
#include "err.h"

#define CREDS_CONTAINER_HOST "http://169.254.170.2"
#define CREDS_IMDS_ENDPOINT "http://169.254.169.254"

enum creds_kind {
	CREDS_STATIC,    /* keys as given: environment or a file */
	CREDS_BEARER,    /* AWS_BEARER_TOKEN_BEDROCK */
	CREDS_PROCESS,   /* credential_process */
	CREDS_CONTAINER, /* the container credentials endpoint */
	CREDS_IMDS,      /* EC2 instance metadata, IMDSv2 */
};

struct creds_source {
	enum creds_kind kind;
	char *describe;     /* owned: "environment (AWS_ACCESS_KEY_ID)", for the log */
	char *profile;      /* owned: the profile name used */
	char *profile_region; /* owned; NULL when the profile sets none */
	char *profile_region_where; /* owned: "PATH:LINE" of that region */
	struct creds_value value; /* STATIC and BEARER */
	char *command;      /* owned: PROCESS, run by /bin/sh -c */
	char *url;          /* owned: CONTAINER, the full URL; IMDS, the endpoint */
	char *auth_token;   /* owned, secret: CONTAINER's Authorization value */
	char *auth_token_file; /* owned: CONTAINER, read at each fetch */
};

/* Returns the environment variable's value, or NULL when unset or empty. */
typedef const char *(*creds_getenv_fn)(const char *name, void *data);

struct creds_inputs {
	creds_getenv_fn getenv;
	void *env_data;
	const char *profile_option;   /* --profile, or NULL */
	const char *credentials_path; /* for messages */
	const char *credentials_text; /* NULL: no such file */
	const char *config_path;
	const char *config_text;
};

/* Resolves the source. Returns 0 with *out filled (clean it up), or -1
 * with err saying what is wrong and where (a profile that does not exist,
 * a key without its secret, a setting novabatch does not support). */
int creds_resolve(const struct creds_inputs *in, struct creds_source *out, struct nb_err *err);

void creds_source_cleanup(struct creds_source *s);

/* "environment", "credential_process", ...: for messages. */
const char *creds_kind_name(enum creds_kind k);

/* Whether an http:// URL's host may carry container credentials without
 * TLS: loopback, or the ECS and EKS link-local addresses. */
bool creds_container_host_ok(const char *host);

#endif
