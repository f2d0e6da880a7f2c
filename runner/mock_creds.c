#include "mock_creds.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define MOCK_CREDS_TOKEN_MAX 4096

struct mock_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* generation 0's */
	char *bearer_token;
	unsigned long rotate_after;
	char *rotate_file;
	pthread_mutex_t lock;
	unsigned long generation; /* under lock */
	unsigned long passed;     /* under lock */
};

void mock_creds_token_for(const char *base, unsigned long g, char *out, size_t size)
{
	if (g == 0)
		snprintf(out, size, "%s", base);
	else
		snprintf(out, size, "%s.gen%lu", base, g);
}

static bool mock_creds_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	size_t len = strlen(a);
	return len == strlen(b) && CRYPTO_memcmp(a, b, len) == 0;
}

/* Writes generation g's token to the rotation file, whole or not at all. */
static int mock_creds_write(const struct mock_creds *mc, unsigned long g, struct nb_err *err)
{
	char token[MOCK_CREDS_TOKEN_MAX];
	mock_creds_token_for(mc->session_token, g, token, sizeof token);
	char *tmp = xasprintf("%s.tmp", mc->rotate_file);
	FILE *fp = fopen(tmp, "w");
	int rc = 0;
	if (!fp || fprintf(fp, "%s\n", token) < 0 || fclose(fp) != 0 ||
	    rename(tmp, mc->rotate_file) != 0)
		rc = err_set(err, "--rotate-file %s: %s", mc->rotate_file, strerror(errno));
	OPENSSL_cleanse(token, sizeof token);
	free(tmp);
	return rc;
}

static char *mock_creds_dup(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

struct mock_creds *mock_creds_new(const struct mock_creds_config *cfg, struct nb_err *err)
{
	struct mock_creds *mc = xcalloc(1, sizeof *mc);
	mc->access_key_id = xstrdup(cfg->access_key_id);
	mc->secret_access_key = xstrdup(cfg->secret_access_key);
	mc->session_token = mock_creds_dup(cfg->session_token);
	mc->bearer_token = mock_creds_dup(cfg->bearer_token);
	mc->rotate_after = mc->session_token ? cfg->rotate_after : 0;
	mc->rotate_file = mock_creds_dup(cfg->rotate_file);
	pthread_mutex_init(&mc->lock, NULL);
	if (mc->rotate_after && mc->rotate_file && mock_creds_write(mc, 0, err) < 0) {
		mock_creds_free(mc);
		return NULL;
	}
	return mc;
}

static void mock_creds_wipe(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void mock_creds_free(struct mock_creds *mc)
{
	if (!mc)
		return;
	free(mc->access_key_id);
	mock_creds_wipe(mc->secret_access_key);
	mock_creds_wipe(mc->session_token);
	mock_creds_wipe(mc->bearer_token);
	free(mc->rotate_file);
	pthread_mutex_destroy(&mc->lock);
	free(mc);
}

const char *mock_creds_secret(const struct mock_creds *mc)
{
	return mc->secret_access_key;
}

enum mock_creds_verdict mock_creds_check(struct mock_creds *mc, const char *access_key_id,
					 const char *session_token)
{
	if (strcmp(access_key_id, mc->access_key_id) != 0)
		return MOCK_CREDS_UNKNOWN;
	if (!mc->rotate_after)
		return mock_creds_equal(session_token, mc->session_token) ? MOCK_CREDS_OK
									   : MOCK_CREDS_UNKNOWN;
	if (!session_token)
		return MOCK_CREDS_UNKNOWN;
	pthread_mutex_lock(&mc->lock);
	unsigned long current = mc->generation;
	pthread_mutex_unlock(&mc->lock);
	char token[MOCK_CREDS_TOKEN_MAX];
	enum mock_creds_verdict v = MOCK_CREDS_UNKNOWN;
	for (unsigned long g = current + 1; g-- > 0;) {
		mock_creds_token_for(mc->session_token, g, token, sizeof token);
		if (mock_creds_equal(session_token, token)) {
			v = g == current ? MOCK_CREDS_OK : MOCK_CREDS_EXPIRED;
			break;
		}
	}
	OPENSSL_cleanse(token, sizeof token);
	return v;
}

bool mock_creds_bearer_ok(const struct mock_creds *mc, const char *token)
{
	return mc->bearer_token && mock_creds_equal(token, mc->bearer_token);
}

void mock_creds_passed(struct mock_creds *mc)
{
	if (!mc->rotate_after)
		return;
	pthread_mutex_lock(&mc->lock);
	if (++mc->passed % mc->rotate_after == 0) {
		mc->generation++;
		/* A file that cannot be written leaves the credential_process
		 * with the old token: the runner's renewals fail, as a test of
		 * that wants. */
		if (mc->rotate_file)
			mock_creds_write(mc, mc->generation, NULL);
	}
	pthread_mutex_unlock(&mc->lock);
}
