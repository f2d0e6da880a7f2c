#include "msg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* Renewed credentials add secrets during a run: past this many, the
 * oldest (long expired by then) makes room. */
#define MSG_MAX_SECRETS 256

static char *msg_secrets[MSG_MAX_SECRETS];
static size_t msg_nsecrets;

void msg_add_secret(const char *secret)
{
	if (!secret || !*secret)
		return;
	for (size_t i = 0; i < msg_nsecrets; i++)
		if (strcmp(msg_secrets[i], secret) == 0)
			return;
	if (msg_nsecrets == MSG_MAX_SECRETS) {
		memset(msg_secrets[0], 0, strlen(msg_secrets[0]));
		free(msg_secrets[0]);
		memmove(msg_secrets, msg_secrets + 1, (MSG_MAX_SECRETS - 1) * sizeof *msg_secrets);
		msg_nsecrets--;
	}
	msg_secrets[msg_nsecrets++] = xstrdup(secret);
}

void msg_forget_secrets(void)
{
	for (size_t i = 0; i < msg_nsecrets; i++) {
		memset(msg_secrets[i], 0, strlen(msg_secrets[i]));
		free(msg_secrets[i]);
		msg_secrets[i] = NULL;
	}
	msg_nsecrets = 0;
}

char *msg_redact(const char *text)
{
	struct buf out;
	buf_init(&out, 0);
	const char *p = text;
	while (*p) {
		size_t hit = 0;
		for (size_t i = 0; i < msg_nsecrets && !hit; i++) {
			size_t n = strlen(msg_secrets[i]);
			if (strncmp(p, msg_secrets[i], n) == 0)
				hit = n;
		}
		if (hit) {
			buf_append_str(&out, "****");
			p += hit;
		} else {
			buf_append(&out, p++, 1);
		}
	}
	return buf_steal(&out);
}

__attribute__((format(printf, 2, 0)))
static void msg_write(const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];
	vsnprintf(line, sizeof line, fmt, ap);
	char *safe = msg_redact(line);
	fprintf(stderr, "novabatch: %s%s\n", prefix, safe);
	free(safe);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	msg_write("error: ", fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	msg_write("warning: ", fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	msg_write("", fmt, ap);
	va_end(ap);
}
