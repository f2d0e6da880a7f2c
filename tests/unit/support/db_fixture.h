/*
 * db_fixture: a real SQLite database with novabatch's schema in a temporary
 * folder, filled by the test's SQL and reopened read-only, as the commands
 * that read runs open it. Failures fail the test.
 */
#ifndef NB_DB_FIXTURE_H
#define NB_DB_FIXTURE_H

#include "store.h"

struct db_fixture {
	char dir[64];
	char path[128];
	struct store *st; /* read-only */
};

struct db_fixture *db_fixture_new(const char *sql);
void db_fixture_free(struct db_fixture *f);

#endif
