/*
 * mock_creds: the credentials the mock accepts, and their rotation.
 *
 * Owns the key pair, the session token, the bearer token (a Bedrock API
 * key) and, with rotation on, the generation of the session token. The
 * token of generation 0 is the configured one, T; generation g > 0
 * accepts "T.gen<g>". After every rotate_after requests that pass the
 * credential check the generation moves on, and the new token is written
 * to rotate_file (replaced whole, by rename) for a credential_process to
 * read. A token of an earlier generation is answered 403
 * ExpiredTokenException. Safe to call from the server's threads. It
 * checks who the caller claims to be, not the signature: mock.c does.
 */
#ifndef NB_MOCK_CREDS_H
#define NB_MOCK_CREDS_H

#include <stdbool.h>

#include "err.h"

struct mock_creds_config {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;  /* NULL: requests must carry none */
	const char *bearer_token;   /* NULL: bearer tokens are refused */
	unsigned long rotate_after; /* 0: no rotation (needs session_token) */
	const char *rotate_file;    /* with rotate_after: the current token */
};

enum mock_creds_verdict {
	MOCK_CREDS_OK,
	MOCK_CREDS_EXPIRED, /* a session token of an earlier generation */
	MOCK_CREDS_UNKNOWN, /* a key or token it never gave */
};

struct mock_creds;

/* Copies cfg; writes the first token to rotate_file. Returns NULL with
 * err set when that file cannot be written. */
struct mock_creds *mock_creds_new(const struct mock_creds_config *cfg, struct nb_err *err);
/* Wipes the secrets. NULL does nothing. */
void mock_creds_free(struct mock_creds *mc);

/* The secret to verify signatures with. Borrowed for the object's life. */
const char *mock_creds_secret(const struct mock_creds *mc);

/* Checks a SigV4 request's access key and X-Amz-Security-Token (NULL
 * when absent). */
enum mock_creds_verdict mock_creds_check(struct mock_creds *mc, const char *access_key_id,
					 const char *session_token);

/* Checks an "Authorization: Bearer" token. */
bool mock_creds_bearer_ok(const struct mock_creds *mc, const char *token);

/* A request passed the check: counts it, and rotates when it is due. */
void mock_creds_passed(struct mock_creds *mc);

/* The name of generation g's token from base into out; pure, for tests. */
void mock_creds_token_for(const char *base, unsigned long g, char *out, size_t size);

#endif
