/*
 * rawjson: finding values in JSON text that is already known to be valid,
 * by byte offsets, without re-serializing anything.
 *
 * The job line parser keeps a request's bytes as written (0.1 stays 0.1), so
 * whatever it cuts out or splices in is located in the text itself: an
 * object's members, an array's items, a value's extent. The text must have
 * been accepted by jansson first; nothing here validates it.
 */
#ifndef NB_RAWJSON_H
#define NB_RAWJSON_H

#include <stdbool.h>
#include <stddef.h>

/* The index of the first non-blank byte at or after i. */
size_t rawjson_skip_ws(const char *s, size_t i, size_t n);

/* The index just past the value that starts at i. */
size_t rawjson_skip_value(const char *s, size_t i, size_t n);

/* Whether the quoted key at s[i] (i at its opening quote, end past its
 * closing one) means name, escapes decoded. */
bool rawjson_key_is(const char *s, size_t i, size_t end, const char *name);

/* Walks an object's members or an array's items. Start with
 * rawjson_iter_init at the '{' or '['; each rawjson_iter_next gives the next
 * member (key_at at the key's quote) or item (key_at unused), with the value
 * in [value_at, value_end). */
struct rawjson_iter {
	const char *s;
	size_t n, i;
	bool object;
};
void rawjson_iter_init(struct rawjson_iter *it, const char *s, size_t n, size_t open);
bool rawjson_iter_next(struct rawjson_iter *it, size_t *key_at, size_t *key_end,
		       size_t *value_at, size_t *value_end);

/* Finds member name of the object at open: true with its value's extent. */
bool rawjson_member(const char *s, size_t n, size_t open, const char *name, size_t *value_at,
		    size_t *value_end);

#endif
