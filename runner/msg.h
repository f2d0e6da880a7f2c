/*
 * msg: every line novabatch prints for a person passes through here.
 *
 * Before a line is written, each registered secret (secret key, session
 * token, bearer token) is replaced by "****", so a secret cannot leak into a
 * log or an error message by accident. Secrets are copied in and wiped on
 * msg_forget_secrets. Commands print; other modules return messages.
 */
#ifndef NB_MSG_H
#define NB_MSG_H

#include <stdio.h>

/* Registers a value that must never be printed. Ignores NULL and "". */
void msg_add_secret(const char *secret);
void msg_forget_secrets(void);

/* Writes "novabatch: error: ...\n" to stderr. */
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes "novabatch: warning: ...\n" to stderr. */
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes "novabatch: ...\n" to stderr (progress and summaries). */
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns a redacted copy of text; the caller frees it. */
char *msg_redact(const char *text);

#endif
