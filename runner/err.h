/*
 * err: the message a failing function leaves for its caller.
 *
 * Fallible functions return 0 or a negative code and, when given a
 * struct nb_err, write one sentence a user can act on into it (naming the
 * file, line and field where there is one). The caller owns the struct; it
 * holds no heap memory.
 */
#ifndef NB_ERR_H
#define NB_ERR_H

#include <stddef.h>

#define NB_ERR_MAX 1024

struct nb_err {
	char msg[NB_ERR_MAX];
};

/* Sets the message (truncated to fit) and returns -1, so that
 * `return err_set(err, ...)` reads as one step. err may be NULL. */
int err_set(struct nb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct nb_err *err);

#endif
