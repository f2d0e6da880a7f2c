/*
 * mock: the embedded Bedrock-compatible endpoint behind `novabatch mock`.
 *
 * Owns the HTTP server (libmicrohttpd on 127.0.0.1, a thread per
 * connection): routing, collecting request bodies under a cap, verifying
 * each request's SigV4 signature against the configured key pair, the
 * configured latency, request ids, and error answers in the service's wire
 * shape (status, x-amzn-ErrorType, a JSON "message"), answers cut short,
 * and the request log. What a Converse answer says comes from mock_reply.c,
 * how a ConverseStream answer goes out as frames from mock_stream.c, which
 * faults to inject and when from mock_fault.c, and how a signature is
 * computed from sigv4.c. It prints nothing and reads no environment: the
 * command does.
 *
 * It serves POST /model/{modelId}/converse and .../converse-stream alike
 * up to the answer. A request is answered by the first of these that
 * applies: a body over the cap (400), the credentials (403, with
 * ExpiredTokenException for a rotated-out session token: mock_creds.h)
 * and the signature (400 or 403), or a bearer token instead, the route
 * (404), the model id (400), then the fault steps in mock_fault.h's order
 * with mock_reply's checks (400) between fail-first and the quota, then the
 * normal answer. All of those are plain HTTP answers, as the service gives
 * before a stream starts; only a 200 to converse-stream is a stream, and
 * only there do the stream faults break it. Every answer waits latency_ms
 * first except a 429 for being over quota: the service throttles fast.
 */
#ifndef NB_MOCK_H
#define NB_MOCK_H

#include <stdio.h>

#include "err.h"
#include "mock_creds.h"
#include "mock_fault.h"

struct mock_config {
	unsigned port;                 /* 0: any free port */
	long latency_ms;               /* delay before each answer */
	long chunks;                   /* text deltas of a stream; 0 for
					  MOCK_STREAM_DEFAULT_CHUNKS */
	long chunk_delay_ms;           /* pause between a stream's frames */
	struct mock_creds_config creds; /* who may call: the key pair requests must
					   be signed with, the session token (and
					   its rotation), a bearer token */
	FILE *log;                     /* NULL, or where each answer is logged as a
					  JSON line: request_id, status, error_type,
					  model_id, input_tokens, output_tokens,
					  job_id, fault ("plan", "fail-first",
					  "quota-rpm", "quota-tpm", "random"), reset,
					  stream (true once routed to
					  converse-stream) and
					  stream_fault (mock_fault_stream_name) */
	struct mock_fault_config fault; /* what to inject; all 0 for nothing */
};

struct mock;

/* Starts serving in the server's own threads; their signal mask is the
 * caller's at this call. Copies what it keeps of cfg and takes ownership of
 * cfg->fault.plan, even when it fails. Returns NULL with err set when it
 * cannot listen or write the rotation file. */
struct mock *mock_new(const struct mock_config *cfg, struct nb_err *err);

/* The port it listens on: the one chosen when cfg asked for 0. */
unsigned mock_port(const struct mock *m);

/* Stops serving: closes every connection, waits for the threads (an answer
 * being delayed finishes first) and wipes the secrets. NULL does nothing. */
void mock_free(struct mock *m);

#endif
