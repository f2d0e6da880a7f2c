/*
 * uri: percent-encoding for request paths (RFC 3986), as SigV4 wants it.
 *
 * Pure functions, no I/O. Every byte but the unreserved ones
 * (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case hex; '/' is kept or not
 * as the caller says. curl's encoder leaves ':' alone, which Bedrock paths
 * cannot afford, so this module does the encoding itself.
 */
#ifndef NB_URI_H
#define NB_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends the encoded form of s to out. Returns 0 or -1 (out's cap). */
int uri_encode(struct buf *out, const char *s, bool keep_slash);

/* The same for the n bytes at s, which may hold NULs. */
int uri_encode_n(struct buf *out, const void *s, size_t n, bool keep_slash);

/* Appends the n bytes at s with every %XX decoded (either case of hex). A
 * '%' not followed by two hex digits is kept as it is; '+' stays '+'. The
 * result may hold NULs: read out->len. Returns 0 or -1 (out's cap). */
int uri_decode(struct buf *out, const char *s, size_t n);

/* Returns "/model/{encoded model id}/{operation}" (operation is "converse"
 * or "converse-stream"), newly allocated: the path as sent on the wire. */
char *uri_model_path(const char *model_id, const char *operation);

#endif
