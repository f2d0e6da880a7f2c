/*
 * mock_fault: the faults `novabatch mock` injects, and the decisions behind
 * them.
 *
 * Owns the error answers the mock can be told to give (status,
 * x-amzn-ErrorType and message, worded as the service words them), the
 * plan (job id -> answers, from a JSON file), the fail-first counts (per
 * distinct request), the per-model quotas (token buckets) and the random
 * draw. Decisions take the time (monotonic nanoseconds) and the random
 * value as arguments: nothing here reads a clock, sends a byte or writes
 * the log; mock.c does. struct mock_fault holds the state that the mock's
 * connection threads share, under its own locks.
 *
 * mock.c asks in this order, and the first step that decides answers:
 *  1. the plan: a request whose job id (X-Novabatch-Job) has entries left
 *     gets its next entry, a planned 200 included (no later step runs);
 *  2. fail-first: the first K attempts of each distinct request (same model
 *     id, same body bytes) that reach this step get 429;
 *  3. the quota, for a request that passed mock_reply's checks: over the
 *     model's requests or tokens bucket, 429 at once;
 *  4. the random draw: one uniform value against the cumulative odds of
 *     throttle, error500, error503, timeout408, reset, stream-error,
 *     corrupt and cut, in that order.
 *
 * The stream answers (stream-error, stream-throttle, corrupt, cut) break a
 * ConverseStream answer after its 200; a plain Converse request that draws
 * or plans one gets the normal answer (mock_fault_on_converse).
 */
#ifndef NB_MOCK_FAULT_H
#define NB_MOCK_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The namespaces of x-amzn-ErrorType: the front end answers authentication
 * and routing errors under the first, Bedrock itself under the second. */
#define MOCK_FAULT_NS_CORAL ":http://internal.amazon.com/coral/com.amazon.coral.service/"
#define MOCK_FAULT_NS_BEDROCK ":http://internal.amazon.com/coral/com.amazon.bedrock/"

/* The largest --rpm, --tpm and --burst: bucket levels are kept in integer
 * units of 1/60e9 of a token, so this bound keeps them in 64 bits. */
#define MOCK_FAULT_MAX_RATE 100000000L
/* The output tokens a request without inferenceConfig.maxTokens reserves. */
#define MOCK_FAULT_DEFAULT_MAX_TOKENS 5000
/* Distinct requests whose attempts fail-first counts; one first seen when
 * the table is full is answered as if its K failures were behind it. */
#define MOCK_FAULT_MAX_REQUESTS (1u << 20)
/* Model ids with quota buckets; the requests of any further model id are
 * not limited. */
#define MOCK_FAULT_MAX_MODELS 256u
/* The largest plan file. */
#define MOCK_FAULT_MAX_PLAN_BYTES (16u << 20)

enum mock_fault_answer {
	MOCK_FAULT_NONE,            /* the normal Converse answer */
	MOCK_FAULT_RESET,           /* the normal answer, cut after half its body */
	/* ConverseStream only: a 200 whose stream breaks after about half. */
	MOCK_FAULT_STREAM_ERROR,    /* a modelStreamErrorException frame ends it */
	MOCK_FAULT_STREAM_THROTTLE, /* a throttlingException frame ends it */
	MOCK_FAULT_CORRUPT,         /* one frame has a byte flipped: its CRC fails */
	MOCK_FAULT_CUT,             /* the connection closes between two frames */
	MOCK_FAULT_VALIDATION,      /* 400 ValidationException */
	MOCK_FAULT_ACCESS_DENIED,   /* 403 AccessDeniedException */
	MOCK_FAULT_EXPIRED_TOKEN,   /* 403 ExpiredTokenException */
	MOCK_FAULT_NOT_FOUND,       /* 404 ResourceNotFoundException */
	MOCK_FAULT_MODEL_TIMEOUT,   /* 408 ModelTimeoutException */
	MOCK_FAULT_MODEL_ERROR,     /* 424 ModelErrorException */
	MOCK_FAULT_THROTTLED,       /* 429 ThrottlingException: too many requests */
	MOCK_FAULT_TOO_MANY_TOKENS, /* 429 ThrottlingException: too many tokens */
	MOCK_FAULT_NOT_READY,       /* 429 ModelNotReadyException */
	MOCK_FAULT_INTERNAL,        /* 500 InternalServerException */
	MOCK_FAULT_UNAVAILABLE,     /* 503 ServiceUnavailableException */
};

struct mock_fault_error {
	unsigned status;
	const char *type;    /* x-amzn-ErrorType: the name, then its namespace */
	const char *message; /* the body's "message" */
};

/* The error answer a stands for; NULL for the answers that are a 200:
 * MOCK_FAULT_NONE, MOCK_FAULT_RESET and the stream answers. */
const struct mock_fault_error *mock_fault_error(enum mock_fault_answer a);

/* The name of a stream answer as a plan spells it ("stream-error",
 * "stream-throttle", "corrupt", "cut"); NULL for any other answer. */
const char *mock_fault_stream_name(enum mock_fault_answer a);

/* What a plain Converse request gets for a: MOCK_FAULT_NONE for a stream
 * answer, which has no meaning outside a stream; a itself otherwise. */
enum mock_fault_answer mock_fault_on_converse(enum mock_fault_answer a);

/* ---- the random draw ---- */

/* Probabilities from 0 to 1 whose sum is at most 1. */
struct mock_fault_odds {
	double throttle, error500, error503, timeout408, reset;
	double stream_error, corrupt, cut; /* break ConverseStream answers only */
};

/* Value n (from 0) of the sequence that seed names, uniform in [0, 1):
 * splitmix64 of seed + (n + 1) * golden gamma, top 53 bits. */
double mock_fault_uniform(uint64_t seed, uint64_t n);

/* Maps u in [0, 1) to an answer: throttle when u < throttle, error500 when
 * u < throttle + error500, and so on through reset, stream_error, corrupt
 * and cut; else MOCK_FAULT_NONE. */
enum mock_fault_answer mock_fault_draw(const struct mock_fault_odds *odds, double u);

/* ---- token buckets ---- */

/* A bucket that refills per_minute tokens a minute, continuously, up to
 * its capacity. Levels are integers in units of 1/60e9 token (a token per
 * minute is one unit per nanosecond), so the arithmetic is exact. */
struct mock_fault_bucket {
	uint64_t level;    /* units held at at_ns */
	uint64_t capacity; /* units */
	uint64_t rate;     /* units per nanosecond: tokens per minute */
	uint64_t at_ns;
};

/* A full bucket at now_ns. per_minute and capacity (tokens, at least 1)
 * are at most MOCK_FAULT_MAX_RATE. */
void mock_fault_bucket_init(struct mock_fault_bucket *b, uint64_t per_minute, uint64_t capacity,
			    uint64_t now_ns);

/* Adds what has flowed in since the last call. A now_ns earlier than that
 * (another thread read the clock first but locked second) adds nothing. */
void mock_fault_bucket_refill(struct mock_fault_bucket *b, uint64_t now_ns);

/* How many of n tokens (n >= 1) the bucket would give now: n when it holds
 * them; its whole capacity when n is more than it can ever hold and it is
 * full, so that no request waits forever; 0 when it holds too few. */
uint64_t mock_fault_bucket_fit(const struct mock_fault_bucket *b, uint64_t n);

/* Takes n tokens, n being what mock_fault_bucket_fit returned. */
void mock_fault_bucket_take(struct mock_fault_bucket *b, uint64_t n);

/* Refills to now_ns, then puts n tokens back, up to the capacity. */
void mock_fault_bucket_give(struct mock_fault_bucket *b, uint64_t n, uint64_t now_ns);

/* Whole tokens held (rounded down), for tests and logs. */
uint64_t mock_fault_bucket_tokens(const struct mock_fault_bucket *b);

/* ---- fail-first counts ---- */

/* A table from a request's key to the attempts seen of it. Not locked:
 * struct mock_fault locks it. */
struct mock_fault_seen;

struct mock_fault_seen *mock_fault_seen_new(size_t max_entries);
void mock_fault_seen_free(struct mock_fault_seen *s);

/* Counts an attempt of the request key stands for. Returns true when it is
 * among the first k attempts of that request; false otherwise, and for a
 * request first seen when the table holds max_entries already. */
bool mock_fault_seen_first(struct mock_fault_seen *s, uint64_t key, unsigned long k);

/* The key of a request: 64 bits of SHA-256 over the model id, a NUL and
 * the body bytes. */
uint64_t mock_fault_request_key(const char *model_id, const void *body, size_t len);

/* ---- the plan ---- */

struct mock_fault_plan;

/* Parses a plan: a JSON object mapping job ids to lists of answers, each
 * a status (200, 400, 403, 404, 408, 424, 429, 500, 503) or "reset",
 * "429-not-ready", "403-expired", "stream-error", "stream-throttle",
 * "corrupt", "cut". name (the file) starts every message.
 * Returns 0 and sets *out, or -1 with err naming the job and the entry. */
int mock_fault_plan_parse(const char *text, size_t len, const char *name,
			  struct mock_fault_plan **out, struct nb_err *err);

/* Reads and parses the plan in path (at most MOCK_FAULT_MAX_PLAN_BYTES). */
int mock_fault_plan_load(const char *path, struct mock_fault_plan **out, struct nb_err *err);

/* The jobs it plans for. */
size_t mock_fault_plan_jobs(const struct mock_fault_plan *p);

/* Counts a request of job_id (len bytes, any bytes). Returns true and sets
 * *out to its entry when the job's list has one left for it. Safe from
 * several threads at once. */
bool mock_fault_plan_next(struct mock_fault_plan *p, const char *job_id, size_t len,
			  enum mock_fault_answer *out);

void mock_fault_plan_free(struct mock_fault_plan *p);

/* ---- the shared state ---- */

struct mock_fault_config {
	struct mock_fault_odds odds;
	unsigned long fail_first;    /* K; 0 for none */
	long rpm, tpm;               /* per model id; 0 for no limit */
	long burst;                  /* the requests bucket's capacity; 0 for
					rpm / 60 (at least 1) */
	uint64_t seed;               /* names the random sequence */
	struct mock_fault_plan *plan; /* NULL for none */
};

/* The outcome of mock_fault_admit. */
enum mock_fault_quota {
	MOCK_FAULT_ADMITTED,
	MOCK_FAULT_OVER_RPM,
	MOCK_FAULT_OVER_TPM,
};

struct mock_fault;

/* Takes ownership of cfg->plan. */
struct mock_fault *mock_fault_new(const struct mock_fault_config *cfg);

/* Step 1: true, with *out set, when the plan answers this request of
 * job_id (NULL: the request names no job). */
bool mock_fault_planned(struct mock_fault *f, const char *job_id, size_t len,
			enum mock_fault_answer *out);

/* Step 2: true when this attempt is among the first K of its request. */
bool mock_fault_fail_first(struct mock_fault *f, const char *model_id, const void *body,
			   size_t len);

/* Step 3: admits a request of model_id reserving tokens (input plus
 * maxTokens, at least 1) at now_ns, or says which bucket refused it. The requests
 * bucket is checked first and neither is charged unless both admit. Sets
 * *taken to the tokens taken, for mock_fault_release. */
enum mock_fault_quota mock_fault_admit(struct mock_fault *f, const char *model_id,
				       uint64_t tokens, uint64_t now_ns, uint64_t *taken);

/* After the answer to an admitted request: puts back what it took beyond
 * the tokens it used. */
void mock_fault_release(struct mock_fault *f, const char *model_id, uint64_t taken,
			uint64_t used, uint64_t now_ns);

/* Step 4: the next draw of the random sequence, MOCK_FAULT_NONE without
 * drawing when every probability is 0. */
enum mock_fault_answer mock_fault_random(struct mock_fault *f);

/* NULL does nothing. */
void mock_fault_free(struct mock_fault *f);

#endif
