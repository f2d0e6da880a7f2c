/*
 * job_media: the image, video and document blocks of a job's request.
 *
 * At parse time it walks the request (messages[].content[], and the content
 * of toolResult blocks), checks every media block against the Converse
 * limits (20 images of 3.75 MB at most, 5 documents of 4.5 MB with a name,
 * one video, 25 MB of inline media in all), and notes the blocks whose
 * source is {"file": PATH}: a path relative to the job file's folder, which
 * must exist and be readable, and whose format is taken from its content
 * (or its name) when the line gives none, and must agree with it when the
 * line does. Only the first bytes of each file are read then. When the
 * request is built, job_media_expand reads the files and splices them in as
 * {"bytes": BASE64}, so queued jobs hold no media. Offsets point into the
 * job's body (job.h), whose bytes are otherwise sent as written.
 */
#ifndef NB_JOB_MEDIA_H
#define NB_JOB_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "media.h"

struct job_media_file {
	char *path;          /* as opened: the job file's folder joined */
	size_t source_at;    /* the source object's extent in the body */
	size_t source_end;
	size_t format_at;    /* where "format" is inserted (past the block's '{'); */
	char format[16];     /* the format, inserted when the line has none */
	int insert_format;
	int64_t size;        /* bytes, and modification time, at parse time */
	int64_t mtime_ns;
};

struct job_media {
	struct job_media_file *files; /* in body order */
	size_t nfiles;
};

/* Checks the media blocks of body (a request object). job_file and line
 * name the line in messages. Returns 0 with out filled (maybe no files), or
 * -1 with err naming the line, the block's field and the limit or problem;
 * out needs job_media_cleanup either way. */
int job_media_check(const char *body, size_t len, const char *job_file, long line,
		    struct job_media *out, struct nb_err *err);

/* The body to send: files read and base64-encoded in place of their
 * sources. Returns 0 with out holding it, or -1 with err naming the file
 * (it may have changed or gone since the line was read). */
int job_media_expand(const char *body, size_t len, const struct job_media *m, struct buf *out,
		     struct nb_err *err);

void job_media_copy(const struct job_media *from, struct job_media *to);
void job_media_cleanup(struct job_media *m);

#endif
