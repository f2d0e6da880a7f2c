/*
 * media: what Converse accepts as media, and what a file holds.
 *
 * A pure core. It knows the image, video and document formats the Converse
 * API names, the per-request limits (counts and sizes), and how to tell a
 * file's format from its first bytes (magic numbers), or from its name for
 * formats that have none (csv, html, txt, md) or share a container (docx
 * and xlsx are zip files; doc and xls are OLE files). It reads no file:
 * job_media.c does.
 */
#ifndef NB_MEDIA_H
#define NB_MEDIA_H

#include <stddef.h>

enum media_kind { MEDIA_IMAGE, MEDIA_VIDEO, MEDIA_DOCUMENT };

/* Limits per request (Converse). */
#define MEDIA_MAX_IMAGES 20
#define MEDIA_MAX_IMAGE_BYTES (3750u * 1000)    /* 3.75 MB */
#define MEDIA_MAX_DOCUMENTS 5
#define MEDIA_MAX_DOCUMENT_BYTES (4500u * 1000) /* 4.5 MB */
#define MEDIA_MAX_VIDEOS 1
#define MEDIA_MAX_INLINE_BYTES (25u * 1000 * 1000) /* all inline media: 25 MB */

/* Bytes media_sniff looks at. */
#define MEDIA_SNIFF_LEN 64

/* "image", "video", "document". */
const char *media_kind_name(enum media_kind kind);

/* Whether format is one the API names for kind ("png" for an image). */
int media_format_known(enum media_kind kind, const char *format);

/* The formats of kind, comma-separated, for messages. */
const char *media_formats_text(enum media_kind kind);

/* The format of a file of kind from its first bytes (head, len <=
 * MEDIA_SNIFF_LEN) and its name: NULL when neither tells. */
const char *media_sniff(enum media_kind kind, const unsigned char *head, size_t len,
			const char *name);

/* Whether a format given on a job line agrees with what the file holds:
 * sniffed is media_sniff's answer (may be NULL). A format that shares a
 * container with the sniffed one (docx for a zip taken as xlsx) agrees; a
 * format with a magic number (png, mp4, pdf, ...) disagrees with a file
 * that lacks it; a text format (csv, txt, md, html) agrees with any file
 * that is not something else. */
int media_format_agrees(enum media_kind kind, const char *given, const char *sniffed);

#endif
