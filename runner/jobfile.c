#include "jobfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int jobfile_open(struct jobfile *jf, const char *path, struct nb_err *err)
{
	memset(jf, 0, sizeof *jf);
	jf->path = path;
	jf->fp = fopen(path, "r");
	if (!jf->fp)
		return err_set(err, "cannot open job file %s: %s", path, strerror(errno));
	return 0;
}

void jobfile_close(struct jobfile *jf)
{
	if (jf->fp)
		fclose(jf->fp);
	free(jf->buf);
	memset(jf, 0, sizeof *jf);
}

static bool jobfile_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

enum jobfile_status jobfile_next(struct jobfile *jf, const char **text, size_t *len,
				 struct nb_err *err)
{
	for (;;) {
		errno = 0;
		ssize_t n = getline(&jf->buf, &jf->alloc, jf->fp);
		if (n < 0) {
			if (ferror(jf->fp)) {
				err_set(err, "cannot read job file %s after line %ld: %s",
					jf->path, jf->line, strerror(errno ? errno : EIO));
				return JOBFILE_ERROR;
			}
			return JOBFILE_END;
		}
		jf->line++;
		size_t size = (size_t)n;
		if (size > JOBFILE_MAX_LINE) {
			/* Give back the memory a huge line took. */
			free(jf->buf);
			jf->buf = NULL;
			jf->alloc = 0;
			return JOBFILE_TOO_LONG;
		}
		while (size && (jf->buf[size - 1] == '\n' || jf->buf[size - 1] == '\r'))
			jf->buf[--size] = '\0';
		if (jobfile_blank(jf->buf, size))
			continue;
		*text = jf->buf;
		*len = size;
		return JOBFILE_LINE;
	}
}

int jobfile_count(const char *path, long *count, struct nb_err *err)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return err_set(err, "cannot open job file %s: %s", path, strerror(errno));
	char block[64 * 1024];
	bool content = false; /* the line so far holds more than blanks */
	long n = 0;
	size_t got;
	while ((got = fread(block, 1, sizeof block, fp)) > 0) {
		for (size_t i = 0; i < got; i++) {
			char c = block[i];
			if (c == '\n') {
				n += content;
				content = false;
			} else if (!content && c != ' ' && c != '\t' && c != '\r') {
				content = true;
			}
		}
	}
	n += content;
	int failed = ferror(fp);
	fclose(fp);
	if (failed)
		return err_set(err, "cannot read job file %s: %s", path, strerror(errno ? errno : EIO));
	*count = n;
	return 0;
}
