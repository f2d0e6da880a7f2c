#include "testdata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "buf.h"

char *testdata_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	char chunk[4096];
	size_t n;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

unsigned char *testdata_need(const char *path, size_t *len)
{
	char *data = testdata_read(path, len);
	if (!data)
		fail_msg("missing test vector %s", path);
	return (unsigned char *)data;
}
