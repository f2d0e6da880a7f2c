/*
 * creds: the credentials of a run, found once and kept fresh on the loop.
 *
 * creds_source_load reads the environment and the shared files and
 * resolves the provider chain (creds_chain.h); creds_obtain fetches the
 * first credentials before a run starts, on a loop of its own. During the
 * run a `struct creds` lives on the run's loop with a pool of its own: it
 * hands out the current credentials at every send, renews credentials
 * that expire in the background before they do (creds_value.h says when),
 * renews them at once when the service answers ExpiredTokenException, and
 * retries a failed renewal with backoff. While no usable credentials are
 * held (expired, or refused as expired) creds_usable says so and the
 * scheduler holds its requests; after CREDS_MAX_FAILURES failed renewals
 * in a row without usable credentials, gave_up is called once. It prints
 * nothing: the events carry the messages.
 */
#ifndef NB_CREDS_H
#define NB_CREDS_H

#include <stdbool.h>
#include <uv.h>

#include "creds_chain.h"
#include "creds_value.h"
#include "err.h"
#include "pool.h"

#define CREDS_MAX_FAILURES 5

/* Paths and timeouts of credential fetches. */
#define CREDS_HTTP_CONNECT_TIMEOUT_MS 2000
#define CREDS_HTTP_TIMEOUT_MS 10000

/* Reads the environment and the shared files (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config) and resolves
 * the chain for profile_option (--profile, or NULL). Every secret found is
 * registered with msg_add_secret at once. Returns 0 or -1 with err set. */
int creds_source_load(const char *profile_option, struct creds_source *out, struct nb_err *err);

/* The region of a run or a check, in the SDKs' order: given (--region),
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1.
 * from (size CREDS_REGION_FROM_LEN) receives where it came from, for the
 * log. The result is borrowed from given, the environment or src. */
#define CREDS_REGION_FROM_LEN 512
const char *creds_region(const char *given, const struct creds_source *src,
			 char from[CREDS_REGION_FROM_LEN]);

/* Fills http with what a pool for credential fetches needs, from the TLS
 * settings of the run's pool. */
void creds_http_config(const struct pool_config *run, struct pool_config *http);

/* The first credentials of a run: a copy for keys and bearer tokens,
 * else one fetch on a loop of its own. Returns 0, or -1 with err set. */
int creds_obtain(const struct creds_source *src, const struct pool_config *http,
		 struct creds_value *out, struct nb_err *err);

struct creds_events {
	/* New credentials are in: requests held for them can go. */
	void (*ready)(void *data);
	/* Something a person should know: a renewal failed and is retried. */
	void (*notice)(const char *message, void *data);
	/* Renewing failed CREDS_MAX_FAILURES times and nothing usable is
	 * left, or the source cannot be renewed: the run should stop. */
	void (*gave_up)(const char *why, void *data);
	void *data;
};

struct creds;

/* Starts keeping the credentials of src (borrowed for the object's life)
 * on loop, from initial (moved in). */
struct creds *creds_new(uv_loop_t *loop, const struct creds_source *src,
			struct creds_value *initial, const struct pool_config *http,
			const struct creds_events *ev);

/* Whether requests can be signed now. */
bool creds_usable(const struct creds *c);

/* The credentials to sign with now, borrowed until the loop next runs,
 * and their generation (for creds_expired). */
const struct creds_value *creds_current(const struct creds *c, unsigned *generation);

/* The service refused credentials of `generation` as expired: renew them,
 * unless that generation is already replaced. */
void creds_expired(struct creds *c, unsigned generation);

/* Renewals that succeeded. */
long creds_renewals(const struct creds *c);

/* Stops renewing and closes the handles; freed once the loop has run the
 * close callbacks. NULL does nothing. */
void creds_close(struct creds *c);

#endif
