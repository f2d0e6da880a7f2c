/*
 * creds_fetch: fetches credentials once, on a libuv loop, without
 * blocking it.
 *
 * A credential_process runs under /bin/sh -c with uv_spawn; its standard
 * output (capped) is the JSON, its standard error (the first 4 KiB) goes
 * into the message when it fails, and it is killed after
 * CREDS_FETCH_PROCESS_TIMEOUT_S. Container credentials are one GET with
 * the Authorization token (the token file is read at each fetch); IMDSv2
 * is a PUT for a session token, a GET for the role's name and a GET for
 * its credentials. HTTP goes through a pool.h pool the caller owns. Every
 * secret is registered with msg_add_secret as soon as it is read. What
 * the answers mean is creds_json.h's; when to fetch is creds.h's.
 */
#ifndef NB_CREDS_FETCH_H
#define NB_CREDS_FETCH_H

#include <uv.h>

#include "creds_chain.h"
#include "creds_value.h"
#include "err.h"
#include "pool.h"

#define CREDS_FETCH_PROCESS_TIMEOUT_S 60
/* The IMDSv2 session token's lifetime, as the SDKs ask for it. */
#define CREDS_FETCH_IMDS_TTL_S 21600

/* The end of a fetch: value set (the callee may move it away) and error
 * NULL, or value NULL and error saying why. Both borrowed for the call. */
typedef void (*creds_fetch_cb)(struct creds_value *value, const char *error, void *data);

struct creds_fetch;

/* Starts fetching from src (a PROCESS, CONTAINER or IMDS source; src is
 * copied from). cb runs exactly once, from the loop, unless this call
 * fails or creds_fetch_cancel is called first. The fetch frees itself. */
int creds_fetch_start(uv_loop_t *loop, struct pool *pool, const struct creds_source *src,
		      creds_fetch_cb cb, void *data, struct creds_fetch **out, struct nb_err *err);

/* cb will not run: a process is killed; an HTTP exchange ends when the
 * caller aborts its pool (pool_abort_all). */
void creds_fetch_cancel(struct creds_fetch *f);

#endif
