/*
 * digest: SHA-256 (from libcrypto) over one or more byte ranges, and
 * lower-case hex. The signer hashes bodies and canonical requests with it;
 * jobs and the mock hash a model id with a request body. Owns nothing.
 */
#ifndef NB_DIGEST_H
#define NB_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_LEN 32

struct digest_part {
	const void *data; /* may be NULL when len is 0 */
	size_t len;
};

/* Hashes the parts, in order, as one byte string. */
void digest_sha256(const struct digest_part *parts, size_t nparts,
		   unsigned char out[DIGEST_SHA256_LEN]);

/* Writes n bytes as 2n lower-case hex digits and a NUL. */
void digest_hex(const unsigned char *in, size_t n, char *out);

#endif
