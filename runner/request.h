/*
 * request: turns a job into the HTTP request Bedrock expects, signed.
 *
 * Builds the URL (endpoint + /model/{encoded id}/converse or
 * /converse-stream), the headers
 * (Content-Type, Accept, X-Amz-Date, X-Amz-Security-Token when the
 * credentials are temporary, Authorization, X-Novabatch-Job) and signs them with SigV4 for
 * the `bedrock` signing name; or, with a Bedrock API key, sends it as
 * `Authorization: Bearer` and signs nothing. Pure: the signing time and the credentials
 * come in as arguments, so every attempt is signed afresh by calling it
 * again. It does not send anything: the pool does.
 */
#ifndef NB_REQUEST_H
#define NB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"
#include "sigv4.h"

/* Where requests go; parsed once from the endpoint URL. */
struct request_endpoint {
	char *base_url;    /* owned: "scheme://host[:port]" */
	char *host;        /* owned: the Host header value, with a non-default port */
	char *path_prefix; /* owned: "" or "/prefix" without a trailing slash */
	char *region;      /* owned */
};

/* Parses url ("https://bedrock-runtime.us-east-1.amazonaws.com"); a query
 * or fragment is refused. Returns 0, or -1 with err naming the URL. */
int request_endpoint_init(struct request_endpoint *ep, const char *url, const char *region,
			  struct nb_err *err);
void request_endpoint_cleanup(struct request_endpoint *ep);

#define REQUEST_MAX_HEADERS 8

struct request {
	char *url; /* owned */
	/* "Name: value" lines, owned, NULL-terminated. */
	char *headers[REQUEST_MAX_HEADERS + 1];
};

/* What one request is for. */
struct request_job {
	const char *id;       /* sent, percent-encoded, in X-Novabatch-Job */
	const char *model_id;
	const char *body;     /* not copied: the caller keeps it alive */
	size_t body_len;
	bool stream;          /* ConverseStream: /converse-stream, event-stream answers */
};

/* How a request proves who sends it: a bearer token when one is set,
 * else SigV4 with the key pair. Borrowed for the call. */
struct request_auth {
	struct sigv4_credentials sigv4;
	const char *bearer_token;
};

/* Builds and signs a Converse or ConverseStream request. X-Novabatch-Job names the job for
 * the mock's scripted plans and for proxies' logs; it is not signed.
 * Returns 0, or -1 with err set. */
int request_build(struct request *req, const struct request_endpoint *ep,
		  const struct request_job *job, const struct request_auth *auth,
		  time_t now, struct nb_err *err);
void request_cleanup(struct request *req);

#endif
