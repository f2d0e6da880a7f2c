/*
 * expect: the assertions of a job line's "expect" object, and their verdict.
 *
 * A pure core: expect_parse checks an "expect" object and compiles it
 * (a regex is compiled once, here, so a bad pattern makes the line invalid
 * before anything is sent); expect_judge judges one answer (its text, stop
 * reason, output tokens and latency) and lists every assertion that failed
 * and why; expect_fail_all fails every assertion of a job that got no
 * answer. It reads no clock and does no I/O: the latency comes in as a
 * number. Where the verdict is stored is store.h's business.
 *
 * The assertions: contains and not_contains (lists of strings, each
 * matched as a byte substring), regex (POSIX extended, searched anywhere in
 * the text), equals (the whole text, byte for byte), json (true: the text
 * parses as one JSON value), stop_reason, max_output_tokens and
 * max_latency_ms.
 */
#ifndef NB_EXPECT_H
#define NB_EXPECT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Strings in one contains or not_contains list, at most. */
#define EXPECT_MAX_ITEMS 64
/* Bytes of a regex, equals or contains string, at most. */
#define EXPECT_MAX_TEXT 65536

struct expect;

/* What an answer brought; a count < 0 or a latency < 0 is unknown. */
struct expect_answer {
	const char *output_text; /* NULL counts as "" */
	const char *stop_reason; /* may be NULL */
	int64_t output_tokens;
	double latency_ms;
};

/* One failed assertion: its name ("contains", "regex", ...) and why. */
struct expect_failure {
	char *assertion;
	char *message;
};

struct expect_verdict {
	size_t checked; /* assertions judged */
	struct expect_failure *failures;
	size_t nfailures;
};

/* Parses spec, the value of a line's "expect" key. Returns 0 with *out set
 * (the caller owns it: expect_free), or -1 with err set to
 * "FILE:LINE: field 'expect.NAME': what is wrong". */
int expect_parse(const json_t *spec, const char *file, long line, struct expect **out,
		 struct nb_err *err);
/* Another holder of e (a line's job on another model); returns e. */
struct expect *expect_ref(struct expect *e);
/* Lets go of e, freed with its last holder. NULL does nothing. */
void expect_free(struct expect *e);

/* Judges answer against e. v needs no initialization; expect_verdict_cleanup
 * releases it. */
void expect_judge(const struct expect *e, const struct expect_answer *answer,
		  struct expect_verdict *v);
/* Fails every assertion of e with "the job failed: WHY". */
void expect_fail_all(const struct expect *e, const char *why, struct expect_verdict *v);
void expect_verdict_cleanup(struct expect_verdict *v);

/* The failures as a compact JSON array of {"assertion", "message"}; the
 * caller frees it. */
char *expect_verdict_json(const struct expect_verdict *v);

#endif
