/*
 * testdata: reading the test vectors of ../shared/testdata.
 */
#ifndef NB_TESTDATA_H
#define NB_TESTDATA_H

#include <stddef.h>

/* Reads a whole file into a NUL-terminated buffer the caller frees; NULL
 * when it cannot be read. len (may be NULL) receives its size. */
char *testdata_read(const char *path, size_t *len);

/* Like testdata_read, but fails the test when the file is missing. */
unsigned char *testdata_need(const char *path, size_t *len);

#endif
