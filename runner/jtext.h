/*
 * jtext: text from the database as JSON strings.
 *
 * JSON text is UTF-8, but a database column may hold any bytes (a job file's
 * path, a transport error), and jansson refuses a string that is not valid
 * UTF-8. jtext makes a jansson string of such text anyway, replacing each
 * byte that does not belong to a valid UTF-8 sequence by U+FFFD, so one odd
 * byte costs a character, never the row. It owns nothing past the call.
 */
#ifndef NB_JTEXT_H
#define NB_JTEXT_H

#include <jansson.h>
#include <stddef.h>

/* Returns a new JSON string holding the len bytes at s, or JSON null when s
 * is NULL. */
json_t *jtext_new(const char *s, size_t len);

#endif
