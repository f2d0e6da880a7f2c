#include "sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "digest.h"
#include "uri.h"
#include "xalloc.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* Cap on each text the signer builds; a canonical request near this size
 * means a caller bug, not a real request. */
#define SIGV4_MAX_TEXT (1024 * 1024)

/* ---- hashing ---- */

static void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[DIGEST_SHA256_LEN];
	digest_sha256(&(struct digest_part){data, len}, 1, md);
	digest_hex(md, sizeof md, out);
}

static void sigv4_hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out,
		  &outlen) || outlen != 32)
		abort();
}

/* kSigning = HMAC chain over date, region, service and "aws4_request". */
static void sigv4_signing_key(const char *secret, const char *date, const struct sigv4_params *p,
			      unsigned char key[32])
{
	char *k_secret = xasprintf("AWS4%s", secret);
	unsigned char k_date[32], k_region[32], k_service[32];

	sigv4_hmac(k_secret, strlen(k_secret), date, k_date);
	sigv4_hmac(k_date, sizeof k_date, p->region, k_region);
	sigv4_hmac(k_region, sizeof k_region, p->service, k_service);
	sigv4_hmac(k_service, sizeof k_service, "aws4_request", key);
	OPENSSL_cleanse(k_date, sizeof k_date);
	OPENSSL_cleanse(k_region, sizeof k_region);
	OPENSSL_cleanse(k_service, sizeof k_service);
	OPENSSL_cleanse(k_secret, strlen(k_secret));
	free(k_secret);
}

/* ---- dates ---- */

/* Years outside 1970..9999 do not fit the 16-character form. */
static int sigv4_gmtime(time_t when, struct tm *tm)
{
	if (when < 0 || !gmtime_r(&when, tm) || tm->tm_year > 9999 - 1900)
		return -1;
	return 0;
}

void sigv4_amz_date(time_t when, char out[17])
{
	struct tm tm;

	/* A time that cannot be formatted gives a date no server accepts;
	 * sigv4_sign refuses such a time before it gets here. */
	if (sigv4_gmtime(when, &tm) < 0) {
		memcpy(out, "00000000T000000Z", 17);
		return;
	}
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int sigv4_digits(const char *s, size_t n, int *val)
{
	*val = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*val = *val * 10 + (s[i] - '0');
	}
	return 0;
}

int sigv4_parse_amz_date(const char *text, time_t *when)
{
	struct tm tm = { 0 }, back;
	int year, mon, day, hour, min, sec;

	if (strlen(text) != 16 || text[8] != 'T' || text[15] != 'Z')
		return -1;
	if (sigv4_digits(text, 4, &year) < 0 || sigv4_digits(text + 4, 2, &mon) < 0 ||
	    sigv4_digits(text + 6, 2, &day) < 0 || sigv4_digits(text + 9, 2, &hour) < 0 ||
	    sigv4_digits(text + 11, 2, &min) < 0 || sigv4_digits(text + 13, 2, &sec) < 0)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	/* timegm normalises 20150231 into March: a round trip catches it. */
	if (sigv4_gmtime(t, &back) < 0 || back.tm_year != year - 1900 || back.tm_mon != mon - 1 ||
	    back.tm_mday != day || back.tm_hour != hour || back.tm_min != min || back.tm_sec != sec)
		return -1;
	*when = t;
	return 0;
}

/* ---- canonical URI ---- */

struct sigv4_span {
	const char *p;
	size_t n;
};

/* Splits path (after its leading '/') into segments. Returns how many;
 * seg has room for one per byte plus one. */
static size_t sigv4_split_path(const char *path, struct sigv4_span *seg)
{
	size_t count = 0;
	const char *p = path + 1;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		seg[count++] = (struct sigv4_span){ p, n };
		if (!slash)
			return count;
		p = slash + 1;
	}
}

/*
 * Removes "." and ".." segments and empty ones (repeated slashes), keeping
 * the leading slash and, when something is left, a trailing one: the rule
 * botocore and the AWS suites share. Compacts seg in place.
 */
static size_t sigv4_remove_dots(struct sigv4_span *seg, size_t count)
{
	size_t kept = 0;

	for (size_t i = 0; i < count; i++) {
		if (seg[i].n == 0 || (seg[i].n == 1 && seg[i].p[0] == '.'))
			continue;
		if (seg[i].n == 2 && seg[i].p[0] == '.' && seg[i].p[1] == '.') {
			if (kept)
				kept--;
			continue;
		}
		seg[kept++] = seg[i];
	}
	return kept;
}

/* Encodes one segment: once more as it is (double_encode), or decoded and
 * encoded once, so that the canonical form holds a single encoding. */
static int sigv4_append_segment(struct buf *out, struct sigv4_span s, bool double_encode)
{
	if (double_encode)
		return uri_encode_n(out, s.p, s.n, false);

	struct buf raw;
	buf_init(&raw, 0);
	uri_decode(&raw, s.p, s.n);
	int rc = uri_encode_n(out, raw.data, raw.len, false);
	buf_cleanup(&raw);
	return rc;
}

static int sigv4_canonical_uri(struct buf *b, const char *path, const struct sigv4_params *p)
{
	size_t len = strlen(path);
	struct sigv4_span *seg = xcalloc(len + 1, sizeof *seg);
	size_t count = sigv4_split_path(path, seg);
	bool trailing = len > 1 && path[len - 1] == '/';
	int rc = 0;

	if (p->normalize) {
		count = sigv4_remove_dots(seg, count);
		if (count == 0) {
			rc = buf_append_str(b, "/");
			goto out;
		}
		/* The trailing slash was an empty last segment; put it back. */
		if (trailing)
			seg[count++] = (struct sigv4_span){ path + len, 0 };
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = buf_append_str(b, "/");
		if (rc == 0)
			rc = sigv4_append_segment(b, seg[i], p->double_encode);
	}
out:
	free(seg);
	return rc;
}

/* ---- canonical query ---- */

struct sigv4_param {
	char *key;   /* encoded once */
	char *value; /* encoded once */
};

static int sigv4_param_cmp(const void *a, const void *b)
{
	const struct sigv4_param *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/* Decodes then encodes, so that "%E1" and a raw byte 0xE1 sign the same. */
static char *sigv4_reencode(const char *s, size_t n)
{
	struct buf raw, enc;

	buf_init(&raw, 0);
	buf_init(&enc, 0);
	uri_decode(&raw, s, n);
	uri_encode_n(&enc, raw.data, raw.len, false);
	buf_cleanup(&raw);
	return buf_steal(&enc);
}

/* Splits "a=1&b&c=3" into params; empty pieces between '&' are dropped and
 * a key without '=' gets an empty value. Returns how many. */
static size_t sigv4_split_query(const char *query, struct sigv4_param *params)
{
	size_t count = 0;

	for (const char *p = query; *p;) {
		size_t n = strcspn(p, "&");
		if (n) {
			const char *eq = memchr(p, '=', n);
			size_t klen = eq ? (size_t)(eq - p) : n;
			params[count].key = sigv4_reencode(p, klen);
			params[count].value = eq ? sigv4_reencode(eq + 1, n - klen - 1) : xstrdup("");
			count++;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return count;
}

static int sigv4_canonical_query(struct buf *out, const char *query)
{
	if (!query || !*query)
		return 0;

	struct sigv4_param *params = xcalloc(strlen(query) + 1, sizeof *params);
	size_t count = sigv4_split_query(query, params);
	int rc = 0;

	qsort(params, count, sizeof *params, sigv4_param_cmp);
	for (size_t i = 0; i < count; i++) {
		if (rc == 0)
			rc = buf_appendf(out, "%s%s=%s", i ? "&" : "", params[i].key,
					 params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return rc;
}

/* ---- canonical headers ---- */

struct sigv4_hdr {
	char *name;        /* lower-cased copy */
	const char *value; /* borrowed from the request */
	size_t index;      /* position given, to keep duplicates in order */
};

static int sigv4_hdr_cmp(const void *a, const void *b)
{
	const struct sigv4_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* RFC 9110 token characters: what a header name may hold. */
static bool sigv4_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int sigv4_check_header(const struct sigv4_header *h, size_t i, struct nb_err *err)
{
	if (!h->name || !*h->name)
		return err_set(err, "cannot sign the request: header %zu has no name", i + 1);
	for (const char *p = h->name; *p; p++)
		if (!sigv4_tchar((unsigned char)*p))
			return err_set(err, "cannot sign the request: header name \"%s\" holds a "
				       "character not allowed in a header name", h->name);
	if (!h->value)
		return err_set(err, "cannot sign the request: header \"%s\" has no value",
			       h->name);
	if (strpbrk(h->value, "\r\n"))
		return err_set(err, "cannot sign the request: the value of header \"%s\" holds a "
			       "line break", h->name);
	return 0;
}

/* Appends value trimmed, with each inner run of blanks folded to one space. */
static int sigv4_append_trimmed(struct buf *out, const char *value)
{
	const char *p = value + strspn(value, " \t");
	int rc = 0;

	while (*p && rc == 0) {
		size_t word = strcspn(p, " \t");
		rc = buf_append(out, p, word);
		p += word;
		p += strspn(p, " \t");
		if (*p && rc == 0)
			rc = buf_append_str(out, " ");
	}
	return rc;
}

/* Appends "name:v1,v2\n" per distinct name to out and "a;b" to names. */
static int sigv4_write_headers(const struct sigv4_hdr *h, size_t n, struct buf *out,
			       struct buf *names)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		bool first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;
		bool last = i + 1 == n || strcmp(h[i].name, h[i + 1].name) != 0;
		if (first) {
			rc = buf_appendf(out, "%s:", h[i].name);
			if (rc == 0)
				rc = buf_appendf(names, "%s%s", i ? ";" : "", h[i].name);
		} else {
			rc = buf_append_str(out, ",");
		}
		if (rc == 0)
			rc = sigv4_append_trimmed(out, h[i].value);
		if (rc == 0 && last)
			rc = buf_append_str(out, "\n");
	}
	return rc;
}

static int sigv4_canonical_headers(const struct sigv4_request *req, struct buf *out,
				   struct buf *names, struct nb_err *err)
{
	struct sigv4_hdr *h = xcalloc(req->nheaders, sizeof *h);
	size_t made = 0;
	int rc = 0;

	for (; made < req->nheaders; made++) {
		const struct sigv4_header *src = &req->headers[made];
		rc = sigv4_check_header(src, made, err);
		if (rc < 0)
			goto out;
		h[made].name = xstrdup(src->name);
		for (char *p = h[made].name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		h[made].value = src->value;
		h[made].index = made;
	}
	qsort(h, made, sizeof *h, sigv4_hdr_cmp);
	rc = sigv4_write_headers(h, made, out, names);
	if (rc < 0)
		err_set(err, "cannot sign the request: its headers pass %d bytes", SIGV4_MAX_TEXT);
out:
	for (size_t i = 0; i < made; i++)
		free(h[i].name);
	free(h);
	return rc;
}

/* ---- signing ---- */

static int sigv4_check_input(const struct sigv4_request *req, const struct sigv4_credentials *c,
			     const struct sigv4_params *p, struct nb_err *err)
{
	if (!req->method || !*req->method || strpbrk(req->method, " \t\r\n"))
		return err_set(err, "cannot sign the request: the method is empty or holds blanks");
	if (req->path && *req->path && req->path[0] != '/')
		return err_set(err, "cannot sign the request: path \"%s\" does not start with '/'",
			       req->path);
	if (req->nheaders && !req->headers)
		return err_set(err, "cannot sign the request: headers are missing");
	if (req->body_len && !req->body)
		return err_set(err, "cannot sign the request: the body is missing");
	if (!c->access_key_id || !*c->access_key_id || strpbrk(c->access_key_id, "/, ") ||
	    !c->secret_access_key || !*c->secret_access_key)
		return err_set(err, "cannot sign the request: the access key id or secret key "
			       "is empty or malformed");
	if (!p->region || !*p->region || strchr(p->region, '/') || !p->service ||
	    !*p->service || strchr(p->service, '/'))
		return err_set(err, "cannot sign the request: region and signing name must be "
			       "non-empty and free of '/'");
	struct tm tm;
	if (sigv4_gmtime(p->when, &tm) < 0)
		return err_set(err, "cannot sign the request: signing time %lld is out of range",
			       (long long)p->when);
	return 0;
}

/* method \n uri \n query \n headers \n names \n body hash */
static int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_params *p,
				   struct buf *creq, struct buf *names, struct nb_err *err)
{
	char body_hash[65];
	const char *path = req->path && *req->path ? req->path : "/";

	sigv4_sha256_hex(req->body, req->body_len, body_hash);
	if (buf_appendf(creq, "%s\n", req->method) < 0 ||
	    sigv4_canonical_uri(creq, path, p) < 0 || buf_append_str(creq, "\n") < 0 ||
	    sigv4_canonical_query(creq, req->query) < 0 || buf_append_str(creq, "\n") < 0)
		return err_set(err, "cannot sign the request: its path or query pass %d bytes",
			       SIGV4_MAX_TEXT);
	if (sigv4_canonical_headers(req, creq, names, err) < 0)
		return -1;
	if (buf_appendf(creq, "\n%s\n%s", buf_str(names), body_hash) < 0)
		return err_set(err, "cannot sign the request: its canonical form passes %d bytes",
			       SIGV4_MAX_TEXT);
	return 0;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
	       const struct sigv4_params *params, struct sigv4_result *res, struct nb_err *err)
{
	struct buf creq, names;
	char amz_date[17], date[9], creq_hash[65];
	unsigned char key[32], sig[32];
	int rc;

	memset(res, 0, sizeof *res);
	buf_init(&creq, SIGV4_MAX_TEXT);
	buf_init(&names, SIGV4_MAX_TEXT);
	rc = sigv4_check_input(req, creds, params, err);
	if (rc == 0)
		rc = sigv4_canonical_request(req, params, &creq, &names, err);
	if (rc < 0)
		goto out;

	sigv4_amz_date(params->when, amz_date);
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	sigv4_sha256_hex(creq.data, creq.len, creq_hash);
	res->string_to_sign = xasprintf(SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
					amz_date, date, params->region, params->service,
					creq_hash);
	sigv4_signing_key(creds->secret_access_key, date, params, key);
	sigv4_hmac(key, sizeof key, res->string_to_sign, sig);
	OPENSSL_cleanse(key, sizeof key);
	digest_hex(sig, sizeof sig, res->signature);
	res->authorization = xasprintf(SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, "
				       "SignedHeaders=%s, Signature=%s",
				       creds->access_key_id, date, params->region,
				       params->service, buf_str(&names), res->signature);
	res->canonical_request = buf_steal(&creq);
out:
	buf_cleanup(&creq);
	buf_cleanup(&names);
	return rc;
}

void sigv4_result_cleanup(struct sigv4_result *res)
{
	free(res->canonical_request);
	free(res->string_to_sign);
	free(res->authorization);
	memset(res, 0, sizeof *res);
}

/* ---- parsing an Authorization header ---- */

/* Copies n bytes of src into dst (size bytes); refuses empty or too long. */
static int sigv4_copy_field(char *dst, size_t size, const char *src, size_t n)
{
	if (n == 0 || n >= size)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* "AKID/20150830/us-east-1/bedrock/aws4_request" */
static int sigv4_parse_credential(const char *s, size_t n, struct sigv4_authorization *a)
{
	char *f[5] = { a->access_key_id, a->date, a->region, a->service, NULL };
	size_t size[5] = { sizeof a->access_key_id, sizeof a->date, sizeof a->region,
			   sizeof a->service, 0 };
	const char *end = s + n;

	for (int i = 0; i < 5; i++) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		const char *stop = slash ? slash : end;
		if ((i < 4) != (slash != NULL))
			return -1;
		if (i == 4)
			return (size_t)(stop - s) == 12 && !memcmp(s, "aws4_request", 12) ? 0 : -1;
		if (sigv4_copy_field(f[i], size[i], s, (size_t)(stop - s)) < 0)
			return -1;
		s = slash + 1;
	}
	return -1;
}

static bool sigv4_is_date(const char *s)
{
	int v;

	return strlen(s) == 8 && sigv4_digits(s, 8, &v) == 0;
}

static bool sigv4_is_signature(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Handles one "Name=value" component; seen collects the names met. */
static int sigv4_parse_component(const char *s, size_t n, struct sigv4_authorization *a,
				 unsigned *seen, struct nb_err *err)
{
	static const char *const names[] = { "Credential", "SignedHeaders", "Signature" };
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	int which = -1;

	for (int i = 0; i < 3; i++)
		if (strlen(names[i]) == klen && !memcmp(s, names[i], klen))
			which = i;
	if (!eq || which < 0)
		return err_set(err, "Authorization: unexpected component \"%.*s\"", (int)n, s);
	if (*seen & (1u << which))
		return err_set(err, "Authorization: %s given twice", names[which]);
	*seen |= 1u << which;

	const char *v = eq + 1;
	size_t vlen = n - klen - 1;
	if (which == 0 && (sigv4_parse_credential(v, vlen, a) < 0 || !sigv4_is_date(a->date)))
		return err_set(err, "Authorization: Credential is not "
			       "KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
	if (which == 1 && (sigv4_copy_field(a->signed_headers, sizeof a->signed_headers, v,
					    vlen) < 0 || strpbrk(a->signed_headers, " \t")))
		return err_set(err, "Authorization: SignedHeaders is empty, too long or holds "
			       "blanks");
	if (which == 2 && (sigv4_copy_field(a->signature, sizeof a->signature, v, vlen) < 0 ||
			   !sigv4_is_signature(a->signature)))
		return err_set(err, "Authorization: Signature is not 64 lower-case hex digits");
	return 0;
}

int sigv4_parse_authorization(const char *value, struct sigv4_authorization *out,
			      struct nb_err *err)
{
	const size_t alen = strlen(SIGV4_ALGORITHM);
	unsigned seen = 0;

	memset(out, 0, sizeof *out);
	if (strncmp(value, SIGV4_ALGORITHM, alen) != 0 || value[alen] != ' ')
		return err_set(err, "Authorization: expected \"" SIGV4_ALGORITHM " Credential=...\"");
	for (const char *p = value + alen; *p;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		if (n && sigv4_parse_component(p, n, out, &seen, err) < 0)
			return -1;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	if (seen != 7)
		return err_set(err, "Authorization: Credential, SignedHeaders and Signature are "
			       "all required");
	return 0;
}
