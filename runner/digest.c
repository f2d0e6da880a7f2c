#include "digest.h"

#include <openssl/evp.h>
#include <stdlib.h>

void digest_sha256(const struct digest_part *parts, size_t nparts,
		   unsigned char out[DIGEST_SHA256_LEN])
{
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < nparts; i++)
		ok = parts[i].len == 0 || EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) && len == DIGEST_SHA256_LEN;
	EVP_MD_CTX_free(ctx);
	/* Fails only without SHA-256 in libcrypto (or memory for its
	 * context): no state to go on from. */
	if (!ok)
		abort();
}

void digest_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}
