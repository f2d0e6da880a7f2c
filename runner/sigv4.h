/*
 * sigv4: AWS Signature Version 4 for HTTP requests signed in a header.
 *
 * A pure core: no I/O, no clock (the signing time comes in), no globals.
 * It computes the canonical request, the string to sign, the signature and
 * the Authorization header value for the headers it is given; the caller
 * chooses which headers to sign and adds X-Amz-Date, Host and (for
 * temporary credentials) X-Amz-Security-Token to them first. It does not
 * know Bedrock; uri.h builds Bedrock paths.
 *
 * Path handling: `path` is the path as sent on the wire (already
 * percent-encoded). For every service but S3 the canonical URI encodes each
 * segment once more (`%3A` becomes `%253A`): set double_encode. normalize
 * removes "." and ".." segments and repeated slashes first.
 */
#ifndef NB_SIGV4_H
#define NB_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

struct sigv4_header {
	const char *name;  /* any case; lower-cased in the canonical request */
	const char *value; /* trimmed, inner runs of spaces folded */
};

struct sigv4_request {
	const char *method;
	const char *path;  /* as sent, already percent-encoded */
	const char *query; /* without '?'; NULL or "" for none */
	const struct sigv4_header *headers; /* all of them are signed */
	size_t nheaders;
	const void *body;
	size_t body_len;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL for long-term keys; not used in
				      the signature, the caller sends it */
};

struct sigv4_params {
	const char *region;
	const char *service; /* signing name: "bedrock" */
	time_t when;         /* signing time, UTC */
	bool double_encode;  /* true for every service but S3 */
	bool normalize;      /* remove dot segments and duplicate slashes */
};

struct sigv4_result {
	char *canonical_request; /* owned; freed by sigv4_result_cleanup */
	char *string_to_sign;    /* owned */
	char *authorization;     /* owned: the Authorization header value */
	char signature[65];      /* lower-case hex */
};

/* Formats when as "YYYYMMDDTHHMMSSZ" into out (17 bytes with the NUL). */
void sigv4_amz_date(time_t when, char out[17]);

/* Parses an X-Amz-Date value. Returns 0 or -1. */
int sigv4_parse_amz_date(const char *text, time_t *when);

/* Signs req. Returns 0, or -1 with err set (a malformed request). On
 * success the caller owns out's strings. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
	       const struct sigv4_params *params, struct sigv4_result *out, struct nb_err *err);

void sigv4_result_cleanup(struct sigv4_result *res);

/* The parts of an Authorization header, as a server reads them. */
struct sigv4_authorization {
	char access_key_id[128];
	char date[9];            /* YYYYMMDD of the credential scope */
	char region[64];
	char service[64];
	char signed_headers[1024]; /* "content-type;host;x-amz-date" */
	char signature[65];
};

/* Parses "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=..., Signature=...". Returns 0, or -1 with err set. */
int sigv4_parse_authorization(const char *value, struct sigv4_authorization *out,
			      struct nb_err *err);

#endif
