#include "creds_value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

static void creds_wipe(char **s)
{
	if (*s) {
		/* volatile, so the stores are not dropped as dead before free. */
		volatile char *p = *s;
		while (*p)
			*p++ = '\0';
		free(*s);
		*s = NULL;
	}
}

void creds_value_cleanup(struct creds_value *v)
{
	free(v->access_key_id);
	creds_wipe(&v->secret_access_key);
	creds_wipe(&v->session_token);
	creds_wipe(&v->bearer_token);
	memset(v, 0, sizeof *v);
}

void creds_value_move(struct creds_value *dst, struct creds_value *src)
{
	creds_value_cleanup(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
}

static char *creds_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void creds_value_copy(struct creds_value *dst, const struct creds_value *src)
{
	dst->access_key_id = creds_dup(src->access_key_id);
	dst->secret_access_key = creds_dup(src->secret_access_key);
	dst->session_token = creds_dup(src->session_token);
	dst->bearer_token = creds_dup(src->bearer_token);
	dst->expiration = src->expiration;
}

void creds_value_hide(const struct creds_value *v)
{
	msg_add_secret(v->secret_access_key);
	msg_add_secret(v->session_token);
	msg_add_secret(v->bearer_token);
}

double creds_refresh_delay_s(time_t obtained, time_t expiration, time_t now)
{
	double lifetime = difftime(expiration, obtained);
	double margin = fmin((double)CREDS_REFRESH_MARGIN_S, 0.2 * fmax(lifetime, 0));
	double delay = difftime(expiration, now) - margin;
	return delay > 0 ? delay : 0;
}

double creds_retry_delay_ms(int failures)
{
	int doublings = failures > 1 ? failures - 1 : 0;
	if (doublings > 20)
		return CREDS_RETRY_CAP_MS;
	return fmin(CREDS_RETRY_CAP_MS, 1000.0 * ldexp(1.0, doublings));
}
