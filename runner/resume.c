#include "resume.h"

#include <string.h>

enum resume_action resume_decide(const char *prior_status, const char *prior_hash,
				 const char *hash, bool retry_failed)
{
	/* A result belongs to the request that produced it: another request
	 * under the same id and model (an edited line, or a line that was
	 * invalid and is now fixed) is another job. */
	if (strcmp(prior_hash, hash) != 0)
		return RESUME_CHANGED;
	if (strcmp(prior_status, "ok") == 0)
		return RESUME_SKIP;
	/* A failure is a result too: paying for it again is the user's call. */
	if (strcmp(prior_status, "failed") == 0)
		return retry_failed ? RESUME_RUN : RESUME_SKIP;
	/* Pending: it was held, or in flight, when the session ended. */
	return RESUME_RUN;
}
