#include "media.h"

#include <string.h>
#include <strings.h>

static const char *const media_image_formats[] = {"png", "jpeg", "gif", "webp", NULL};
static const char *const media_video_formats[] = {"mkv",  "mov", "mp4", "webm",     "flv",
						  "mpeg", "mpg", "wmv", "three_gp", NULL};
static const char *const media_document_formats[] = {"pdf",  "csv", "doc", "docx", "xls",
						     "xlsx", "html", "txt", "md",   NULL};

static const char *const *media_formats(enum media_kind kind)
{
	switch (kind) {
	case MEDIA_IMAGE:
		return media_image_formats;
	case MEDIA_VIDEO:
		return media_video_formats;
	case MEDIA_DOCUMENT:
		break;
	}
	return media_document_formats;
}

const char *media_kind_name(enum media_kind kind)
{
	switch (kind) {
	case MEDIA_IMAGE:
		return "image";
	case MEDIA_VIDEO:
		return "video";
	case MEDIA_DOCUMENT:
		break;
	}
	return "document";
}

int media_format_known(enum media_kind kind, const char *format)
{
	for (const char *const *f = media_formats(kind); *f; f++)
		if (strcmp(*f, format) == 0)
			return 1;
	return 0;
}

const char *media_formats_text(enum media_kind kind)
{
	switch (kind) {
	case MEDIA_IMAGE:
		return "png, jpeg, gif, webp";
	case MEDIA_VIDEO:
		return "mkv, mov, mp4, webm, flv, mpeg, mpg, wmv, three_gp";
	case MEDIA_DOCUMENT:
		break;
	}
	return "pdf, csv, doc, docx, xls, xlsx, html, txt, md";
}

static int media_starts(const unsigned char *head, size_t len, size_t at, const char *magic,
			size_t n)
{
	return len >= at + n && memcmp(head + at, magic, n) == 0;
}

/* A needle among the first bytes (EBML's DocType sits there). */
static int media_holds(const unsigned char *head, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(head + i, needle, n) == 0)
			return 1;
	return 0;
}

/* The extension of name, without its dot; "" for none. */
static const char *media_extension(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');
	return dot ? dot + 1 : "";
}

/* A format named by an extension, spelled as the API spells it. */
static const char *media_by_extension(enum media_kind kind, const char *name)
{
	static const struct {
		const char *ext, *format;
	} aliases[] = {{"jpg", "jpeg"}, {"htm", "html"}, {"markdown", "md"}, {"3gp", "three_gp"}};
	const char *ext = media_extension(name);
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(ext, aliases[i].ext) == 0 && media_format_known(kind, aliases[i].format))
			return aliases[i].format;
	for (const char *const *f = media_formats(kind); *f; f++)
		if (strcasecmp(ext, *f) == 0)
			return *f;
	return NULL;
}

static const char *media_sniff_image(const unsigned char *h, size_t len)
{
	if (media_starts(h, len, 0, "\x89PNG\r\n\x1a\n", 8))
		return "png";
	if (media_starts(h, len, 0, "\xff\xd8\xff", 3))
		return "jpeg";
	if (media_starts(h, len, 0, "GIF87a", 6) || media_starts(h, len, 0, "GIF89a", 6))
		return "gif";
	if (media_starts(h, len, 0, "RIFF", 4) && media_starts(h, len, 8, "WEBP", 4))
		return "webp";
	return NULL;
}

static const char *media_sniff_video(const unsigned char *h, size_t len)
{
	if (media_starts(h, len, 4, "ftyp", 4)) {
		if (media_starts(h, len, 8, "qt  ", 4))
			return "mov";
		if (media_starts(h, len, 8, "3gp", 3) || media_starts(h, len, 8, "3g2", 3))
			return "three_gp";
		return "mp4";
	}
	if (media_starts(h, len, 0, "\x1a\x45\xdf\xa3", 4))
		return media_holds(h, len, "webm") ? "webm" : "mkv";
	if (media_starts(h, len, 0, "FLV", 3))
		return "flv";
	if (media_starts(h, len, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8))
		return "wmv";
	if (media_starts(h, len, 0, "\x00\x00\x01\xba", 4) ||
	    media_starts(h, len, 0, "\x00\x00\x01\xb3", 4))
		return "mpeg";
	return NULL;
}

/* Documents: pdf has a magic number; zip and OLE files are told apart by
 * their name; text formats only by their name. */
static const char *media_sniff_document(const unsigned char *h, size_t len, const char *name)
{
	const char *by_name = media_by_extension(MEDIA_DOCUMENT, name);
	if (media_starts(h, len, 0, "%PDF-", 5))
		return "pdf";
	if (media_starts(h, len, 0, "PK\x03\x04", 4))
		return by_name && (strcmp(by_name, "xlsx") == 0) ? "xlsx" : "docx";
	if (media_starts(h, len, 0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8))
		return by_name && (strcmp(by_name, "xls") == 0) ? "xls" : "doc";
	if (by_name && (strcmp(by_name, "pdf") == 0 || strcmp(by_name, "docx") == 0 ||
			strcmp(by_name, "xlsx") == 0 || strcmp(by_name, "doc") == 0 ||
			strcmp(by_name, "xls") == 0))
		return NULL; /* named as a binary format it does not hold */
	return by_name;
}

const char *media_sniff(enum media_kind kind, const unsigned char *head, size_t len,
			const char *name)
{
	switch (kind) {
	case MEDIA_IMAGE:
		return media_sniff_image(head, len);
	case MEDIA_VIDEO: {
		const char *v = media_sniff_video(head, len);
		/* mpeg and mpg are the same stream: the name says which. */
		if (v && strcmp(v, "mpeg") == 0 && strcasecmp(media_extension(name), "mpg") == 0)
			return "mpg";
		return v;
	}
	case MEDIA_DOCUMENT:
		break;
	}
	return media_sniff_document(head, len, name);
}

/* Formats that share what their first bytes show. */
static int media_same_family(const char *a, const char *b)
{
	static const char *const families[][2] = {
		{"docx", "xlsx"}, {"doc", "xls"}, {"mpeg", "mpg"}, {"mkv", "webm"},
		{"csv", "txt"},   {"md", "txt"},  {"html", "txt"}, {"csv", "md"},
		{"csv", "html"},  {"md", "html"},
	};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if ((strcmp(a, families[i][0]) == 0 && strcmp(b, families[i][1]) == 0) ||
		    (strcmp(b, families[i][0]) == 0 && strcmp(a, families[i][1]) == 0))
			return 1;
	return 0;
}

/* Formats whose files say what they are in their first bytes. */
static int media_has_magic(enum media_kind kind, const char *format)
{
	static const char *const text[] = {"csv", "html", "txt", "md"};
	if (kind != MEDIA_DOCUMENT)
		return 1;
	for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
		if (strcmp(format, text[i]) == 0)
			return 0;
	return 1;
}

int media_format_agrees(enum media_kind kind, const char *given, const char *sniffed)
{
	if (!sniffed)
		return !media_has_magic(kind, given);
	return strcmp(given, sniffed) == 0 || media_same_family(given, sniffed);
}
