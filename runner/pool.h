/*
 * pool: HTTP requests in flight on one libuv loop, through curl's multi
 * socket API.
 *
 * Owns the curl multi handle, one uv_poll_t per socket curl opens
 * (attached with curl_multi_assign), one uv_timer_t for curl's timeout, and
 * the easy handles, which it keeps for reuse. Connections stay in curl's
 * cache, so keep-alive works across requests. It moves bytes and measures
 * time; it knows nothing of Bedrock: what an answer means is response.h's.
 */
#ifndef NB_POOL_H
#define NB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"

struct pool;

struct pool_config {
	int max_connections;     /* connections kept open; the in-flight window */
	long connect_timeout_ms; /* 0: curl's default */
	long timeout_ms;         /* whole exchange; 0: none */
	const char *ca_bundle;   /* CA certificates (PEM) to verify servers with;
				    NULL: the system's. Borrowed for the pool's life */
	bool insecure;           /* no certificate or host name check at all */
	bool no_proxy;           /* ignore HTTPS_PROXY and kin: for link-local
				    metadata endpoints that a proxy cannot reach */
};

/* How the exchange ended, as far as the transport can tell. */
enum pool_transport {
	POOL_ANSWERED,       /* a whole HTTP answer arrived (any status) */
	POOL_CONNECT_FAILED, /* no connection: refused, unreachable, no address */
	POOL_TIMED_OUT,      /* the connect or the whole-exchange limit passed */
	POOL_CUT_SHORT,      /* the connection broke before the answer was whole */
	POOL_TOO_LARGE,      /* the answer passed the body or header cap */
	POOL_TLS,            /* the TLS handshake or certificate check failed */
	POOL_ABORTED,        /* pool_abort_all ended it */
	POOL_READER_STOPPED, /* the chunk callback refused the stream */
	POOL_OTHER,          /* anything else curl refused */
};

/* What came back. Everything is borrowed until the callback returns. */
struct pool_result {
	enum pool_transport transport;
	int transport_code;         /* curl's code: 0 when an answer arrived */
	const char *transport_error;/* curl's message when transport_code != 0 */
	long http_status;           /* 0 when no answer arrived */
	const char *body;           /* NUL-terminated; "" when empty */
	size_t body_len;
	uint64_t start_ns, end_ns;  /* monotonic */
	const char *headers;        /* the last response's header lines */
};

/* Returns the value of header name (any case) in res, copied into out
 * (truncated to size), or NULL when absent. */
const char *pool_result_header(const struct pool_result *res, const char *name, char *out,
			       size_t size);

typedef void (*pool_done_cb)(const struct pool_result *res, void *data);

/* Bytes of a 200 answer as they arrive, at now_ns (monotonic). Returns 0
 * to go on, or -1 to end the exchange (POOL_READER_STOPPED). */
typedef int (*pool_chunk_cb)(const char *bytes, size_t len, uint64_t now_ns, void *data);

/* One request: a POST unless method says otherwise. url, headers and
 * body are the caller's: headers (a NULL-terminated list of "Name: value")
 * are copied, body must stay alive until done runs. */
struct pool_request {
	const char *method; /* NULL or "POST", "GET", "PUT" (with the body) */
	const char *url;
	char *const *headers;
	const char *body;
	size_t body_len;
	/* NULL: the answer is gathered into pool_result.body. Else a 200
	 * answer's body goes to on_chunk as it arrives, and is not gathered
	 * (any other status still is, for its error message). */
	pool_chunk_cb on_chunk;
	/* 0: none. Else an exchange that receives no byte for this long (to
	 * a tenth of a second) ends POOL_TIMED_OUT. */
	long idle_timeout_ms;
	pool_done_cb done;
	void *data; /* for on_chunk and done */
};

int pool_new(uv_loop_t *loop, const struct pool_config *cfg, struct pool **out,
	     struct nb_err *err);

/* Starts a request. done runs exactly once, from the loop, unless this call
 * fails. */
int pool_post(struct pool *p, const struct pool_request *req, struct nb_err *err);

/* Requests in flight. */
size_t pool_in_flight(const struct pool *p);

/* Ends every request in flight at once: each callback runs, from this
 * call, with transport POOL_ABORTED. */
void pool_abort_all(struct pool *p);

/* Closes every handle; the pool is freed once the loop has run the close
 * callbacks. Nothing may be in flight. */
void pool_close(struct pool *p);

#endif
