#include "job_media.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rawjson.h"
#include "xalloc.h"

/* One walk over a request's media blocks. */
struct job_media_walk {
	const char *body;
	size_t len;
	const char *job_file;
	long line;
	char *dir; /* the job file's folder, "" for the working one */
	int count[3];
	int64_t inline_bytes;
	struct job_media *out;
	struct nb_err *err;
};

/* Fails with "FILE:LINE: field 'FIELDSUFFIX': what". */
static int job_media_fail(struct job_media_walk *w, const char *field, const char *suffix,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int job_media_fail(struct job_media_walk *w, const char *field, const char *suffix,
			  const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(w->err, "%s:%ld: field '%s%s': %s", w->job_file, w->line, field, suffix,
		       what);
}

static const int64_t job_media_max_bytes[] = {
	[MEDIA_IMAGE] = MEDIA_MAX_IMAGE_BYTES,
	[MEDIA_VIDEO] = MEDIA_MAX_INLINE_BYTES,
	[MEDIA_DOCUMENT] = MEDIA_MAX_DOCUMENT_BYTES,
};
static const int job_media_max_count[] = {
	[MEDIA_IMAGE] = MEDIA_MAX_IMAGES,
	[MEDIA_VIDEO] = MEDIA_MAX_VIDEOS,
	[MEDIA_DOCUMENT] = MEDIA_MAX_DOCUMENTS,
};

/* "4.2 MB" */
static void job_media_mb(int64_t bytes, char out[32])
{
	snprintf(out, 32, "%.2f MB", (double)bytes / 1e6);
}

static int job_media_size_ok(struct job_media_walk *w, const char *field, const char *suffix,
			     enum media_kind kind, int64_t size)
{
	char have[32], most[32];
	if (size > job_media_max_bytes[kind]) {
		job_media_mb(size, have);
		job_media_mb(job_media_max_bytes[kind], most);
		return job_media_fail(w, field, suffix, "%s of %s; %s %s may be %s at most",
				      media_kind_name(kind), have, kind == MEDIA_IMAGE ? "an" : "a",
				      media_kind_name(kind), most);
	}
	w->inline_bytes += size;
	if (w->inline_bytes > MEDIA_MAX_INLINE_BYTES) {
		job_media_mb(w->inline_bytes, have);
		return job_media_fail(w, field, suffix, "the request's inline media come to %s; 25 MB at "
					 "most (put a video in S3 and use s3Location)", have);
	}
	return 0;
}

/* The size a base64 string decodes to. */
static int64_t job_media_base64_size(const char *b64, size_t len)
{
	size_t pad = 0;
	while (len > 0 && pad < 2 && b64[len - 1] == '=') {
		len--;
		pad++;
	}
	return (int64_t)(len * 3 / 4);
}

/* A file source: where it is, what it holds, and whether its format is
 * given or to be inserted. */
static int job_media_file_source(struct job_media_walk *w, const char *field,
				 enum media_kind kind, const json_t *block, const char *name,
				 size_t block_at, size_t block_end)
{
	const char *fld = ".source.file";
	if (!*name)
		return job_media_fail(w, field, fld, "must be a non-empty path");
	char *path = name[0] == '/' || !*w->dir ? xstrdup(name) : xasprintf("%s/%s", w->dir, name);
	struct stat st;
	int fd = -1;
	int rc = -1;
	if (stat(path, &st) != 0) {
		job_media_fail(w, field, fld, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		job_media_fail(w, field, fld, "%s: not a regular file", path);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char head[MEDIA_SNIFF_LEN];
	ssize_t got = fd < 0 ? -1 : read(fd, head, sizeof head);
	if (got < 0) {
		job_media_fail(w, field, fld, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (job_media_size_ok(w, field, fld, kind, (int64_t)st.st_size) < 0)
		goto out;
	const char *sniffed = media_sniff(kind, head, (size_t)got, path);
	const json_t *format = json_object_get(block, "format");
	struct job_media_file f = {
		.size = (int64_t)st.st_size,
		.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		.format_at = block_at + 1,
		.insert_format = format == NULL,
	};
	if (format && !media_format_agrees(kind, json_string_value(format), sniffed)) {
		job_media_fail(w, field, ".format", "'%s', but %s holds %s", json_string_value(format), path,
			       sniffed ? sniffed : "something else");
		goto out;
	}
	if (!format && !sniffed) {
		job_media_fail(w, field, fld, "cannot tell the format of %s from its content or name; "
				       "give %s.format (one of %s)",
			       path, field, media_formats_text(kind));
		goto out;
	}
	snprintf(f.format, sizeof f.format, "%s", format ? json_string_value(format) : sniffed);
	if (!rawjson_member(w->body, block_end, block_at, "source", &f.source_at, &f.source_end))
		abort(); /* the parsed block has a source: the text has it too */
	f.path = path;
	path = NULL;
	struct job_media *m = w->out;
	m->files = xrealloc(m->files, (m->nfiles + 1) * sizeof *m->files);
	m->files[m->nfiles++] = f;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int job_media_block(struct job_media_walk *w, enum media_kind kind, const char *field,
			   size_t at, size_t end)
{
	json_t *block = json_loadb(w->body + at, end - at, 0, NULL);
	int rc = -1;
	if (!json_is_object(block)) {
		job_media_fail(w, field, "", "must be an object");
		goto out;
	}
	if (++w->count[kind] > job_media_max_count[kind]) {
		job_media_fail(w, field, "", "more than %d %s%s in one request", job_media_max_count[kind],
			       media_kind_name(kind), job_media_max_count[kind] == 1 ? "" : "s");
		goto out;
	}
	const json_t *format = json_object_get(block, "format");
	if (format && !(json_is_string(format) && media_format_known(kind, json_string_value(format)))) {
		job_media_fail(w, field, ".format", "%s%s%s is not a%s %s format (%s)", json_is_string(format) ? "'" : "",
			       json_is_string(format) ? json_string_value(format) : "a non-string",
			       json_is_string(format) ? "'" : "", kind == MEDIA_IMAGE ? "n" : "",
			       media_kind_name(kind), media_formats_text(kind));
		goto out;
	}
	if (kind == MEDIA_DOCUMENT) {
		const json_t *name = json_object_get(block, "name");
		if (!json_is_string(name) || json_string_length(name) == 0) {
			job_media_fail(w, field, ".name", "missing; a document needs a name");
			goto out;
		}
	}
	const json_t *source = json_object_get(block, "source");
	if (!json_is_object(source) || json_object_size(source) != 1) {
		job_media_fail(w, field, ".source",
			       "must be an object with one of bytes, s3Location or file");
		goto out;
	}
	const json_t *bytes = json_object_get(source, "bytes");
	const json_t *s3 = json_object_get(source, "s3Location");
	const json_t *file = json_object_get(source, "file");
	if (file) {
		if (!json_is_string(file)) {
			job_media_fail(w, field, ".source.file", "must be a path");
			goto out;
		}
		rc = job_media_file_source(w, field, kind, block, json_string_value(file), at, end);
		goto out;
	}
	if (!format) {
		job_media_fail(w, field, ".format",
			       "missing (one of %s); only a file source may leave it out",
			       media_formats_text(kind));
		goto out;
	}
	if (bytes) {
		if (!json_is_string(bytes)) {
			job_media_fail(w, field, ".source.bytes", "must be a base64 string");
			goto out;
		}
		rc = job_media_size_ok(w, field, ".source.bytes", kind,
				       job_media_base64_size(json_string_value(bytes),
							     json_string_length(bytes)));
		goto out;
	}
	const json_t *uri = json_object_get(s3, "uri");
	if (!s3 || !json_is_object(s3) || !json_is_string(uri) ||
	    strncmp(json_string_value(uri), "s3://", 5) != 0) {
		job_media_fail(w, field, s3 ? ".source.s3Location.uri" : "",
			       s3 ? "must be an s3:// URI"
				  : "its source must be one of bytes, s3Location or file");
		goto out;
	}
	rc = 0;
out:
	json_decref(block);
	return rc;
}

static const char *const job_media_keys[] = {
	[MEDIA_IMAGE] = "image",
	[MEDIA_VIDEO] = "video",
	[MEDIA_DOCUMENT] = "document",
};

/* The content blocks of the array at open; toolResult content too. */
static int job_media_blocks(struct job_media_walk *w, size_t open, const char *prefix)
{
	struct rawjson_iter it;
	size_t k, kend, at, end;
	rawjson_iter_init(&it, w->body, w->len, open);
	for (size_t j = 0; rawjson_iter_next(&it, &k, &kend, &at, &end); j++) {
		if (w->body[at] != '{')
			continue;
		char *field = xasprintf("%s[%zu]", prefix, j);
		int rc = 0;
		for (int kind = MEDIA_IMAGE; kind <= MEDIA_DOCUMENT && rc == 0; kind++) {
			size_t ma, me;
			if (!rawjson_member(w->body, w->len, at, job_media_keys[kind], &ma, &me))
				continue;
			char *fld = xasprintf("%s.%s", field, job_media_keys[kind]);
			rc = job_media_block(w, (enum media_kind)kind, fld, ma, me);
			free(fld);
		}
		size_t ta, te, ca, ce;
		if (rc == 0 && rawjson_member(w->body, w->len, at, "toolResult", &ta, &te) &&
		    w->body[ta] == '{' && rawjson_member(w->body, w->len, ta, "content", &ca, &ce) &&
		    w->body[ca] == '[') {
			char *inner = xasprintf("%s.toolResult.content", field);
			rc = job_media_blocks(w, ca, inner);
			free(inner);
		}
		free(field);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int job_media_check(const char *body, size_t len, const char *job_file, long line,
		    struct job_media *out, struct nb_err *err)
{
	memset(out, 0, sizeof *out);
	const char *slash = strrchr(job_file, '/');
	struct job_media_walk w = {
		.body = body,
		.len = len,
		.job_file = job_file,
		.line = line,
		.dir = slash ? xstrndup(job_file, (size_t)(slash - job_file)) : xstrdup(""),
		.out = out,
		.err = err,
	};
	if (slash && slash == job_file) {
		free(w.dir);
		w.dir = xstrdup("/");
	}
	size_t ma, me;
	int rc = 0;
	if (rawjson_member(body, len, rawjson_skip_ws(body, 0, len), "messages", &ma, &me) &&
	    body[ma] == '[') {
		struct rawjson_iter it;
		size_t k, kend, at, end;
		rawjson_iter_init(&it, body, len, ma);
		for (size_t i = 0; rc == 0 && rawjson_iter_next(&it, &k, &kend, &at, &end); i++) {
			size_t ca, ce;
			if (body[at] != '{' || !rawjson_member(body, len, at, "content", &ca, &ce) ||
			    body[ca] != '[')
				continue;
			char *prefix = xasprintf("messages[%zu].content", i);
			rc = job_media_blocks(&w, ca, prefix);
			free(prefix);
		}
	}
	free(w.dir);
	return rc;
}

/* Appends the file as base64, read a block at a time. */
static int job_media_append_file(const struct job_media_file *f, struct buf *out,
				 struct nb_err *err)
{
	FILE *fp = fopen(f->path, "rb");
	if (!fp)
		return err_set(err, "cannot read media file %s: %s", f->path, strerror(errno));
	unsigned char in[3 * 16384];
	unsigned char enc[4 * 16384 + 1];
	size_t got;
	int64_t total = 0;
	while ((got = fread(in, 1, sizeof in, fp)) > 0) {
		int n = EVP_EncodeBlock(enc, in, (int)got);
		buf_append(out, enc, (size_t)n);
		total += (int64_t)got;
		/* A file that grew is not read on past its size. */
		if (got < sizeof in || total > f->size)
			break;
	}
	int failed = ferror(fp);
	fclose(fp);
	if (failed)
		return err_set(err, "cannot read media file %s: %s", f->path, strerror(errno));
	if (total != f->size)
		return err_set(err, "media file %s changed since its line was read (%lld bytes, "
				    "now %lld)",
			       f->path, (long long)f->size, (long long)total);
	return 0;
}

int job_media_expand(const char *body, size_t len, const struct job_media *m, struct buf *out,
		     struct nb_err *err)
{
	size_t at = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct job_media_file *f = &m->files[i];
		if (f->insert_format) {
			buf_append(out, body + at, f->format_at - at);
			buf_appendf(out, "\"format\":\"%s\",", f->format);
			at = f->format_at;
		}
		buf_append(out, body + at, f->source_at - at);
		buf_append_str(out, "{\"bytes\":\"");
		if (job_media_append_file(f, out, err) < 0)
			return -1;
		buf_append_str(out, "\"}");
		at = f->source_end;
	}
	buf_append(out, body + at, len - at);
	return 0;
}

void job_media_copy(const struct job_media *from, struct job_media *to)
{
	to->nfiles = from->nfiles;
	to->files = from->nfiles ? xcalloc(from->nfiles, sizeof *to->files) : NULL;
	for (size_t i = 0; i < from->nfiles; i++) {
		to->files[i] = from->files[i];
		to->files[i].path = xstrdup(from->files[i].path);
	}
}

void job_media_cleanup(struct job_media *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	memset(m, 0, sizeof *m);
}
