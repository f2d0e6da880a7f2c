/*
 * utf8: cutting UTF-8 text for display without splitting a character.
 */
#ifndef NB_UTF8_H
#define NB_UTF8_H

#include <stddef.h>

/* The length of the longest prefix of s (len bytes) that is at most max
 * bytes and ends on a character boundary: len itself when it fits. */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
