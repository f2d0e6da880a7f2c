/*
 * buf: a growable byte buffer with a cap.
 *
 * Every buffer that grows from outside input (a response body, a job line)
 * has a cap; buf_append fails instead of growing past it. The bytes are
 * always followed by a NUL that len does not count, so a buffer holding text
 * can be read as a C string. The caller owns the struct; buf_cleanup frees
 * the bytes.
 */
#ifndef NB_BUF_H
#define NB_BUF_H

#include <stddef.h>

struct buf {
	char *data;   /* NUL-terminated; NULL until the first append */
	size_t len;   /* bytes held, not counting the NUL */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* most bytes len may reach; 0 means no cap */
};

void buf_init(struct buf *b, size_t cap);
void buf_cleanup(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Returns 0, or -1 (nothing appended) when the cap would be passed. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (never NULL) and leaves the buffer empty. */
char *buf_steal(struct buf *b);
/* Returns the text held, "" when empty; borrowed until the next change. */
const char *buf_str(const struct buf *b);

#endif
