#include "jtext.h"

#include "buf.h"

/* The length of the valid UTF-8 sequence at p (left bytes available), or 0
 * when it is not one: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629, section 4). */
static size_t jtext_seq_len(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

json_t *jtext_new(const char *s, size_t len)
{
	if (!s)
		return json_null();
	json_t *v = json_stringn(s, len);
	if (v)
		return v;
	struct buf b;
	buf_init(&b, 0);
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = jtext_seq_len(p + i, len - i);
		if (n) {
			buf_append(&b, p + i, n);
			i += n;
		} else {
			buf_append_str(&b, "\xEF\xBF\xBD");
			i++;
		}
	}
	v = json_stringn_nocheck(buf_str(&b), b.len);
	buf_cleanup(&b);
	return v;
}
