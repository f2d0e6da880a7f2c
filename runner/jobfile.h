/*
 * jobfile: streams the lines of JSONL job files, one at a time.
 *
 * Owns the open file and one line buffer, reused for every line, so memory
 * stays bounded by the longest line (capped at JOBFILE_MAX_LINE) and never by
 * the file's size. Blank lines are skipped. It does not parse JSON: job.h
 * does.
 */
#ifndef NB_JOBFILE_H
#define NB_JOBFILE_H

#include <stdio.h>
#include <sys/types.h>

#include "err.h"

/* Inline media can make a line large: 25 MB of payload as base64, and more. */
#define JOBFILE_MAX_LINE (64u * 1024 * 1024)

struct jobfile {
	FILE *fp;
	const char *path; /* borrowed */
	long line;        /* number of the line last read, from 1 */
	char *buf;
	size_t alloc;
};

/* Opens path for reading. Returns 0, or -1 with err naming the file. */
int jobfile_open(struct jobfile *jf, const char *path, struct nb_err *err);
void jobfile_close(struct jobfile *jf);

enum jobfile_status {
	JOBFILE_LINE = 0, /* *text holds the line, borrowed until the next call */
	JOBFILE_END = 1,
	JOBFILE_TOO_LONG = 2, /* the line was skipped; jf->line names it */
	JOBFILE_ERROR = -1,   /* a read error; err says which */
};

/* Reads the next non-blank line, without its line ending. */
enum jobfile_status jobfile_next(struct jobfile *jf, const char **text, size_t *len,
				 struct nb_err *err);

/* Counts the lines jobfile_next would give, fast (no parsing, no line
 * buffer), for a run's progress. Returns 0, or -1 with err naming the file.
 * Only for regular files: a pipe can be read once. */
int jobfile_count(const char *path, long *count, struct nb_err *err);

#endif
