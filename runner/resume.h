/*
 * resume: what a resumed run does with a job an earlier session recorded.
 *
 * A pure core: from the recorded row's status and request hash and the
 * line's hash now, it decides whether the job is skipped, run (again), or
 * run again because its request changed. The store finds the row; the
 * scheduler acts on the answer.
 */
#ifndef NB_RESUME_H
#define NB_RESUME_H

#include <stdbool.h>

enum resume_action {
	RESUME_SKIP,    /* its recorded result stands */
	RESUME_RUN,     /* it has no final result yet, or a failed one to retry */
	RESUME_CHANGED, /* its request is not the one recorded: run it again */
};

/* prior_status: "pending", "ok", "failed" or "invalid"; prior_hash: the
 * recorded request hash, "" when none; hash: the line's request hash now;
 * retry_failed: `run --retry-failed`. */
enum resume_action resume_decide(const char *prior_status, const char *prior_hash,
				 const char *hash, bool retry_failed);

#endif
