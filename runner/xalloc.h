/*
 * xalloc: allocation that cannot fail.
 *
 * Out of memory is not a condition novabatch recovers from: these wrappers
 * abort in one place, so no caller writes a check that can never be tested.
 * They own nothing beyond the call.
 */
#ifndef NB_XALLOC_H
#define NB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
