#include "creds_profile.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

/* Debian's inih is built with lines of at most 200 bytes, and a session
 * token alone is often longer. The reader below hands inih each long
 * value as a short reference (CREDS_PROFILE_REF and an index) and keeps
 * the value aside; the handler swaps it back. inih still does the
 * parsing. */
#define CREDS_PROFILE_REF '\x1f'
#define CREDS_PROFILE_MAX_LONG 64

struct creds_profile_parse {
	const char *text; /* what is left to read */
	long line;        /* the line inih is handed last */
	char *longs[CREDS_PROFILE_MAX_LONG];
	size_t nlongs;
	bool config_file;
	const char *name;
	bool in_profile;
	struct creds_profile *out;
};

static char *creds_profile_trim(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* inih's reader: the next line into buf (at most num bytes with the NUL),
 * a long value replaced by a reference. */
static char *creds_profile_reader(char *buf, int num, void *stream)
{
	struct creds_profile_parse *ps = stream;
	const char *p = ps->text;
	if (!*p)
		return NULL;
	const char *nl = strchr(p, '\n');
	size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
	ps->text = p + len;
	ps->line++;
	if (len + 1 <= (size_t)num) {
		memcpy(buf, p, len);
		buf[len] = '\0';
		return buf;
	}
	/* "key = long value": the key stays, the value goes aside. Anything
	 * else that long becomes a line inih rejects, at its own number. */
	const char *eq = memchr(p, '=', len);
	size_t keylen = eq ? (size_t)(eq - p) : len;
	if (!eq || keylen + 16 > (size_t)num || ps->nlongs == CREDS_PROFILE_MAX_LONG) {
		snprintf(buf, (size_t)num, "%c\n", CREDS_PROFILE_REF);
		return buf;
	}
	size_t index = ps->nlongs;
	ps->longs[ps->nlongs++] = creds_profile_trim(eq + 1, len - keylen - 1);
	snprintf(buf, (size_t)num, "%.*s= %c%zu\n", (int)keylen, p, CREDS_PROFILE_REF, index);
	return buf;
}

/* Whether section names the profile; spaces around names do not count. */
static bool creds_profile_section_is(const struct creds_profile_parse *ps, const char *section)
{
	const char *n = section;
	if (ps->config_file && strcmp(section, "default") != 0) {
		if (strncmp(section, "profile", 7) != 0 || !isspace((unsigned char)section[7]))
			return false;
		n = section + 8;
	}
	while (isspace((unsigned char)*n))
		n++;
	size_t len = strlen(n);
	while (len && isspace((unsigned char)n[len - 1]))
		len--;
	return len == strlen(ps->name) && strncmp(n, ps->name, len) == 0;
}

static void creds_profile_set(struct creds_setting *s, const char *value, long line)
{
	if (s->value) {
		memset(s->value, 0, strlen(s->value));
		free(s->value);
	}
	s->value = xstrdup(value);
	s->line = line;
}

static const char *const creds_profile_unsupported[] = {
	"role_arn", "source_profile", "credential_source", "web_identity_token_file",
	"sso_session", "sso_start_url", "sso_account_id", "sso_role_name", "login_session",
};

static int creds_profile_handler(void *user, const char *section, const char *name,
				 const char *value)
{
	struct creds_profile_parse *ps = user;
	if (!creds_profile_section_is(ps, section))
		return 1;
	ps->out->found = true;
	if (value[0] == CREDS_PROFILE_REF) {
		char *end;
		unsigned long i = strtoul(value + 1, &end, 10);
		if (*end || i >= ps->nlongs)
			return 0;
		value = ps->longs[i];
	}
	struct creds_profile *o = ps->out;
	struct {
		const char *key;
		struct creds_setting *s;
	} keys[] = {
		{"aws_access_key_id", &o->access_key_id},
		{"aws_secret_access_key", &o->secret_access_key},
		{"aws_session_token", &o->session_token},
		{"credential_process", &o->credential_process},
		{"region", &o->region},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcasecmp(name, keys[i].key) == 0) {
			if (*value)
				creds_profile_set(keys[i].s, value, ps->line);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof creds_profile_unsupported / sizeof *creds_profile_unsupported;
	     i++)
		if (strcasecmp(name, creds_profile_unsupported[i]) == 0 && !o->unsupported.value)
			creds_profile_set(&o->unsupported, creds_profile_unsupported[i], ps->line);
	return 1;
}

int creds_profile_read(const char *text, const char *path, bool config_file, const char *name,
		       struct creds_profile *out, struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	struct creds_profile_parse ps = {
		.text = text,
		.config_file = config_file,
		.name = name,
		.out = out,
	};
	int rc = ini_parse_stream(creds_profile_reader, &ps, creds_profile_handler, &ps);
	for (size_t i = 0; i < ps.nlongs; i++) {
		memset(ps.longs[i], 0, strlen(ps.longs[i]));
		free(ps.longs[i]);
	}
	if (rc > 0)
		return err_set(err, "%s:%d: not a [section] header, a 'name = value' setting or a "
				    "comment", path, rc);
	if (rc < 0)
		return err_set(err, "%s: cannot be parsed", path);
	return 0;
}

void creds_profile_cleanup(struct creds_profile *p)
{
	struct creds_setting *all[] = {&p->access_key_id, &p->secret_access_key,
				       &p->session_token, &p->credential_process, &p->region,
				       &p->unsupported};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (all[i]->value) {
			memset(all[i]->value, 0, strlen(all[i]->value));
			free(all[i]->value);
		}
	}
	memset(p, 0, sizeof *p);
}
