#include "uri.h"

#include <string.h>

#include "xalloc.h"

/* RFC 3986 section 2.3: the only bytes never encoded. */
static bool uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static int uri_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Both directions build the result in a scratch buffer without a cap and
 * append it to out in one step, so that a full out is left as it was.
 */
int uri_encode_n(struct buf *out, const void *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	struct buf tmp;

	buf_init(&tmp, 0);
	for (size_t i = 0; i < n; i++) {
		if (uri_unreserved(p[i]) || (keep_slash && p[i] == '/')) {
			buf_append(&tmp, &p[i], 1);
			continue;
		}
		char esc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 0x0f] };
		buf_append(&tmp, esc, sizeof esc);
	}
	int rc = buf_append(out, tmp.data, tmp.len);
	buf_cleanup(&tmp);
	return rc;
}

int uri_encode(struct buf *out, const char *s, bool keep_slash)
{
	return uri_encode_n(out, s, strlen(s), keep_slash);
}

int uri_decode(struct buf *out, const char *s, size_t n)
{
	struct buf tmp;

	buf_init(&tmp, 0);
	for (size_t i = 0; i < n; i++) {
		int hi = -1, lo = -1;
		if (s[i] == '%' && n - i > 2) {
			hi = uri_hexval((unsigned char)s[i + 1]);
			lo = uri_hexval((unsigned char)s[i + 2]);
		}
		if (hi < 0 || lo < 0) {
			buf_append(&tmp, &s[i], 1);
			continue;
		}
		unsigned char c = (unsigned char)(hi << 4 | lo);
		buf_append(&tmp, &c, 1);
		i += 2;
	}
	int rc = buf_append(out, tmp.data, tmp.len);
	buf_cleanup(&tmp);
	return rc;
}

char *uri_model_path(const char *model_id, const char *operation)
{
	struct buf b;

	/* No cap: a model id is short and comes from our own job parser. */
	buf_init(&b, 0);
	buf_append_str(&b, "/model/");
	uri_encode(&b, model_id, false);
	buf_appendf(&b, "/%s", operation);
	return buf_steal(&b);
}
