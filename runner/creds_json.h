/*
 * creds_json: the JSON documents credentials arrive in.
 *
 * A pure core: text in, a creds_value or a message out. It reads what a
 * credential_process prints (Version 1: AccessKeyId, SecretAccessKey,
 * SessionToken, Expiration), what a container credentials endpoint and
 * the EC2 instance metadata service answer (AccessKeyId, SecretAccessKey,
 * Token, Expiration; IMDS adds Code), and ISO 8601 UTC times. Messages
 * name the source and the field and never quote a value: a value may be a
 * secret. Running the process or fetching the URL is creds_fetch.h's.
 */
#ifndef NB_CREDS_JSON_H
#define NB_CREDS_JSON_H

#include <stddef.h>
#include <time.h>

#include "creds_value.h"
#include "err.h"

/* The most a credential document may hold. */
#define CREDS_JSON_MAX (64 * 1024)

enum creds_json_kind {
	CREDS_JSON_PROCESS, /* credential_process output: Version 1, SessionToken */
	CREDS_JSON_HTTP,    /* container endpoint or IMDS: Token, optional Code */
};

/* Parses text (len bytes). `what` names the source in messages, as
 * "credential_process 'get-creds --dev'". Returns 0 with *out filled (the
 * caller cleans it up), or -1 with err set and *out untouched. */
int creds_json_parse(const char *text, size_t len, enum creds_json_kind kind, const char *what,
		     struct creds_value *out, struct nb_err *err);

/* Parses "2024-05-01T12:00:00Z", with optional fractional seconds and a
 * "+HH:MM" / "-HH:MM" offset instead of Z. Returns 0 or -1. */
int creds_json_time(const char *text, time_t *out);

#endif
