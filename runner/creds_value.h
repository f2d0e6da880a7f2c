/*
 * creds_value: one set of credentials as a source gave them, and when to
 * renew them.
 *
 * Owns the strings of a key pair (with its session token) or of a Bedrock
 * bearer token, and their expiration; cleaning up wipes the secrets before
 * freeing them. The timing functions are pure: the clock comes in. Where
 * credentials come from is creds_chain.h's; fetching them is
 * creds_fetch.h's; keeping them fresh during a run is creds.h's.
 */
#ifndef NB_CREDS_VALUE_H
#define NB_CREDS_VALUE_H

#include <time.h>

struct creds_value {
	char *access_key_id;     /* owned; NULL for a bearer token */
	char *secret_access_key; /* owned, secret */
	char *session_token;     /* owned, secret; NULL for long-term keys */
	char *bearer_token;      /* owned, secret; set: no SigV4 at all */
	time_t expiration;       /* UTC; 0 when they do not expire */
};

/* Wipes and frees the strings; the struct is left zeroed. */
void creds_value_cleanup(struct creds_value *v);

/* Moves src into dst (cleaned first); src is left zeroed. */
void creds_value_move(struct creds_value *dst, struct creds_value *src);

/* Deep copy. */
void creds_value_copy(struct creds_value *dst, const struct creds_value *src);

/* Registers every secret of v with msg_add_secret, so that no line
 * printed can show them. */
void creds_value_hide(const struct creds_value *v);

/* Refresh margin: credentials are renewed this long before they expire,
 * or at 80% of their lifetime when that comes first (short lifetimes). */
#define CREDS_REFRESH_MARGIN_S 300

/* Seconds from now until credentials obtained at `obtained` and expiring
 * at `expiration` should be renewed; 0 when that is now or past. */
double creds_refresh_delay_s(time_t obtained, time_t expiration, time_t now);

/* The wait before retrying a refresh that failed `failures` times in a
 * row (>= 1): 1 s, 2 s, 4 s... capped at CREDS_RETRY_CAP_MS. */
#define CREDS_RETRY_CAP_MS 30000.0
double creds_retry_delay_ms(int failures);

#endif
