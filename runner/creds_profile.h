/*
 * creds_profile: one profile of the AWS shared files, ~/.aws/credentials
 * and ~/.aws/config.
 *
 * A pure core over the files' text, parsed with inih: finds the profile's
 * section (`[NAME]` in the credentials file; `[default]` or
 * `[profile NAME]` in the config file) and keeps the settings novabatch
 * uses: aws_access_key_id, aws_secret_access_key, aws_session_token,
 * credential_process, region, and the first setting of a kind it does not
 * support (role_arn, sso_*, web_identity_token_file, credential_source),
 * so the chain can say so. Keys compare without case; a later setting
 * wins. Messages name the file and line and never quote a value. Reading
 * the files is creds.c's; choosing between sources is creds_chain.h's.
 */
#ifndef NB_CREDS_PROFILE_H
#define NB_CREDS_PROFILE_H

#include <stdbool.h>

#include "err.h"

/* The most a shared file may hold. */
#define CREDS_PROFILE_MAX_FILE (1024 * 1024)

/* A setting and the line it came from. */
struct creds_setting {
	char *value; /* owned; NULL when the profile does not set it */
	long line;
};

struct creds_profile {
	bool found; /* the file has the profile's section */
	struct creds_setting access_key_id, secret_access_key, session_token;
	struct creds_setting credential_process, region;
	struct creds_setting unsupported; /* value: the setting's name */
};

/* Reads profile `name` from text, the contents of `path`; config_file
 * chooses the section naming. Returns 0 (found says whether the section
 * exists), or -1 with err naming path and line when the file is not
 * INI. *out is always initialised; clean it up. */
int creds_profile_read(const char *text, const char *path, bool config_file, const char *name,
		       struct creds_profile *out, struct nb_err *err);

/* Wipes the secrets and frees. */
void creds_profile_cleanup(struct creds_profile *p);

#endif
