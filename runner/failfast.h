/*
 * failfast: notices when a model cannot work at all.
 *
 * When the last FAILFAST_STREAK attempts on a model all ended in the same
 * final configuration error (access denied, no such model, a model id the
 * service calls invalid), every other job for that model would fail the
 * same way: the scheduler stops sending them. A pure record per model; any
 * other outcome breaks the streak.
 */
#ifndef NB_FAILFAST_H
#define NB_FAILFAST_H

#include <stdbool.h>

#include "retry.h"

#define FAILFAST_STREAK 5

struct failfast {
	int streak;        /* attempts in a row with error type `type` */
	char type[128];
	char *message;     /* owned: the service's message of the last one */
	bool tripped;      /* the model is judged broken; stays so */
};

void failfast_init(struct failfast *f);
void failfast_cleanup(struct failfast *f);

/* Notes one attempt's outcome. Returns true when this note trips it. */
bool failfast_note(struct failfast *f, enum retry_class c, const char *error_type,
		   const char *message);

#endif
