#include "rawjson.h"

#include <jansson.h>
#include <string.h>

size_t rawjson_skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* i is at an opening quote; returns the index after the closing one. */
static size_t rawjson_skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

size_t rawjson_skip_value(const char *s, size_t i, size_t n)
{
	if (s[i] == '"')
		return rawjson_skip_string(s, i, n);
	int depth = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			i = rawjson_skip_string(s, i, n) - 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' ||
					  c == '\r')) {
			return i;
		}
	}
	return i;
}

bool rawjson_key_is(const char *s, size_t i, size_t end, const char *name)
{
	const char *key = s + i + 1;
	size_t len = end - i - 2;
	if (!memchr(key, '\\', len))
		return strlen(name) == len && memcmp(name, key, len) == 0;
	/* An escaped key ("\u0069d") is compared by its meaning. */
	json_t *k = json_loadb(s + i, end - i, JSON_DECODE_ANY, NULL);
	bool same = json_is_string(k) && strcmp(json_string_value(k), name) == 0;
	json_decref(k);
	return same;
}

void rawjson_iter_init(struct rawjson_iter *it, const char *s, size_t n, size_t open)
{
	it->s = s;
	it->n = n;
	it->object = s[open] == '{';
	it->i = open + 1;
}

bool rawjson_iter_next(struct rawjson_iter *it, size_t *key_at, size_t *key_end,
		       size_t *value_at, size_t *value_end)
{
	const char *s = it->s;
	size_t n = it->n;
	size_t i = rawjson_skip_ws(s, it->i, n);
	if (i < n && s[i] == ',')
		i = rawjson_skip_ws(s, i + 1, n);
	if (i >= n || s[i] == '}' || s[i] == ']')
		return false;
	if (it->object) {
		*key_at = i;
		*key_end = rawjson_skip_string(s, i, n);
		i = rawjson_skip_ws(s, *key_end, n) + 1; /* past ':' */
	}
	*value_at = rawjson_skip_ws(s, i, n);
	*value_end = rawjson_skip_value(s, *value_at, n);
	it->i = *value_end;
	return true;
}

bool rawjson_member(const char *s, size_t n, size_t open, const char *name, size_t *value_at,
		    size_t *value_end)
{
	struct rawjson_iter it;
	size_t k, kend;
	rawjson_iter_init(&it, s, n, open);
	while (rawjson_iter_next(&it, &k, &kend, value_at, value_end))
		if (rawjson_key_is(s, k, kend, name))
			return true;
	return false;
}
