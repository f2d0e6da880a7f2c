#include "failfast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

void failfast_init(struct failfast *f)
{
	memset(f, 0, sizeof *f);
}

void failfast_cleanup(struct failfast *f)
{
	free(f->message);
	memset(f, 0, sizeof *f);
}

/* Errors that say the model, not the request, is the problem. */
static bool failfast_counts(enum retry_class c, const char *type, const char *message)
{
	if (c != RETRY_FINAL || !type)
		return false;
	if (strcmp(type, "AccessDeniedException") == 0 ||
	    strcmp(type, "ResourceNotFoundException") == 0)
		return true;
	/* "The provided model identifier is invalid." and its kin; other
	 * validation errors are about one request's content. */
	return strcmp(type, "ValidationException") == 0 && message &&
	       strcasestr(message, "model identifier");
}

bool failfast_note(struct failfast *f, enum retry_class c, const char *error_type,
		   const char *message)
{
	if (f->tripped)
		return false;
	if (!failfast_counts(c, error_type, message)) {
		f->streak = 0;
		return false;
	}
	if (f->streak == 0 || strcmp(f->type, error_type) != 0) {
		f->streak = 0;
		snprintf(f->type, sizeof f->type, "%s", error_type);
	}
	free(f->message);
	f->message = xstrdup(message ? message : "");
	f->tripped = ++f->streak >= FAILFAST_STREAK;
	return f->tripped;
}
