#include "db_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct db_fixture *db_fixture_new(const char *sql)
{
	struct db_fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/nb-test-db-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/novabatch.db", f->dir);
	struct nb_err err;
	struct store *w = NULL;
	if (store_open(f->path, false, &w, &err) < 0)
		fail_msg("%s", err.msg);
	char *msg = NULL;
	if (sqlite3_exec(store_db(w), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("fixture: %s", msg);
	store_free(w);
	if (store_open(f->path, true, &f->st, &err) < 0)
		fail_msg("%s", err.msg);
	return f;
}

void db_fixture_free(struct db_fixture *f)
{
	store_free(f->st);
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
}
