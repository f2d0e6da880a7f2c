/* Media: telling a file's format from its first bytes and name, and how a
 * given format is held against it; job_media's splice of files into a body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job_media.h"
#include "media.h"

static void formats_come_from_magic_numbers_and_names(void **state)
{
	(void)state;
	static const struct {
		enum media_kind kind;
		const char *head;
		size_t len;
		const char *name, *want;
	} cases[] = {
		{MEDIA_IMAGE, "\x89PNG\r\n\x1a\n....", 12, "x.jpg", "png"},
		{MEDIA_IMAGE, "\xff\xd8\xff\xe0", 4, "x", "jpeg"},
		{MEDIA_IMAGE, "GIF89a..", 8, "x", "gif"},
		{MEDIA_IMAGE, "RIFF\x10\0\0\0WEBPVP8 ", 16, "x", "webp"},
		{MEDIA_IMAGE, "BM....", 6, "x.bmp", NULL},
		{MEDIA_VIDEO, "\0\0\0\x20" "ftypisom", 12, "x", "mp4"},
		{MEDIA_VIDEO, "\0\0\0\x14" "ftypqt  ", 12, "x", "mov"},
		{MEDIA_VIDEO, "\0\0\0\x14" "ftyp3gp5", 12, "x", "three_gp"},
		{MEDIA_VIDEO, "\x1a\x45\xdf\xa3....webm", 12, "x", "webm"},
		{MEDIA_VIDEO, "\x1a\x45\xdf\xa3....matroska", 16, "x", "mkv"},
		{MEDIA_VIDEO, "FLV\x01", 4, "x", "flv"},
		{MEDIA_VIDEO, "\0\0\x01\xba", 4, "clip.mpg", "mpg"},
		{MEDIA_VIDEO, "\0\0\x01\xba", 4, "clip.mpeg", "mpeg"},
		{MEDIA_DOCUMENT, "%PDF-1.7", 8, "x.txt", "pdf"},
		{MEDIA_DOCUMENT, "PK\x03\x04", 4, "a.xlsx", "xlsx"},
		{MEDIA_DOCUMENT, "PK\x03\x04", 4, "a.docx", "docx"},
		{MEDIA_DOCUMENT, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, "a.xls", "xls"},
		{MEDIA_DOCUMENT, "a,b\n1,2", 7, "dir.v2/data.CSV", "csv"},
		{MEDIA_DOCUMENT, "# Notes", 7, "notes.markdown", "md"},
		{MEDIA_DOCUMENT, "<html>", 6, "page.htm", "html"},
		{MEDIA_DOCUMENT, "# Notes", 7, "notes.pdf", NULL},
		{MEDIA_DOCUMENT, "plain", 5, "README", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = media_sniff(cases[i].kind, (const unsigned char *)cases[i].head,
					      cases[i].len, cases[i].name);
		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
	}
}

static void a_given_format_must_agree_with_the_file(void **state)
{
	(void)state;
	assert_true(media_format_agrees(MEDIA_IMAGE, "png", "png"));
	assert_false(media_format_agrees(MEDIA_IMAGE, "jpeg", "png"));
	assert_false(media_format_agrees(MEDIA_IMAGE, "png", NULL));
	assert_true(media_format_agrees(MEDIA_DOCUMENT, "docx", "xlsx"));
	assert_true(media_format_agrees(MEDIA_DOCUMENT, "txt", "csv"));
	assert_true(media_format_agrees(MEDIA_DOCUMENT, "txt", NULL));
	assert_false(media_format_agrees(MEDIA_DOCUMENT, "pdf", NULL));
	assert_false(media_format_agrees(MEDIA_DOCUMENT, "csv", "pdf"));
	assert_true(media_format_agrees(MEDIA_VIDEO, "mpg", "mpeg"));
	assert_true(media_format_known(MEDIA_VIDEO, "three_gp"));
	assert_false(media_format_known(MEDIA_IMAGE, "bmp"));
}

static void files_are_spliced_in_as_base64_with_their_format(void **state)
{
	(void)state;
	char dir[] = "/tmp/nb-test-media-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], jobs[128];
	snprintf(path, sizeof path, "%s/a.png", dir);
	snprintf(jobs, sizeof jobs, "%s/jobs.jsonl", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\x89PNG\r\n\x1a\nabc", 1, 11, f);
	fclose(f);
	const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"image\": {\"source\""
			   ":{\"file\":\"a.png\"}}},{\"text\":\"0.1\"}]}],\"x\":0.1}";
	struct job_media m;
	struct nb_err err;
	assert_int_equal(job_media_check(body, strlen(body), jobs, 3, &m, &err), 0);
	assert_int_equal(m.nfiles, 1);
	assert_string_equal(m.files[0].format, "png");
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(job_media_expand(body, strlen(body), &m, &out, &err), 0);
	/* base64 of the 11 bytes; the rest of the body as written. */
	assert_string_equal(buf_str(&out),
			    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"image\": {\"format\":"
			    "\"png\",\"source\":{\"bytes\":\"iVBORw0KGgphYmM=\"}}},{\"text\":\"0.1\"}]}],"
			    "\"x\":0.1}");
	buf_cleanup(&out);
	/* A file that changed since its line was read is not sent. */
	f = fopen(path, "ab");
	fputs("more", f);
	fclose(f);
	buf_init(&out, 0);
	assert_int_equal(job_media_expand(body, strlen(body), &m, &out, &err), -1);
	assert_non_null(strstr(err.msg, "changed since its line was read"));
	buf_cleanup(&out);
	job_media_cleanup(&m);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_come_from_magic_numbers_and_names),
		cmocka_unit_test(a_given_format_must_agree_with_the_file),
		cmocka_unit_test(files_are_spliced_in_as_base64_with_their_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
