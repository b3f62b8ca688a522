/*
 * store-sqlite-util.c - what the SQLite backend's table files share
 *
 * The digest and release tables' functions (store-sqlite-digest.c,
 * store-sqlite-release.c) prepare a statement, run it once and finalize
 * it; these helpers are that pattern, with the error text kept per
 * thread as the store's contract asks (valid until the next call).
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <stdio.h>

static __thread char store_sqlite_error[512];

const char *store_sqlite_fail(sqlite3 *db, const char *what)
{
	snprintf(store_sqlite_error, sizeof(store_sqlite_error), "%s: %s",
		 what, sqlite3_errmsg(db));
	return store_sqlite_error;
}

sqlite3_stmt *store_sqlite_prepare(sqlite3 *db, const char *sql,
				   const char *what, const char **error_r)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		*error_r = store_sqlite_fail(db, what);
		return NULL;
	}
	return stmt;
}

int store_sqlite_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what,
		      const char **error_r)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE)
		*error_r = store_sqlite_fail(db, what);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_sqlite_finish(sqlite3 *db, sqlite3_stmt *stmt, int rc,
			const char *what, const char **error_r)
{
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;

	/* the message first: finalizing may reset it */
	if (!ok)
		*error_r = store_sqlite_fail(db, what);
	sqlite3_finalize(stmt);
	return ok ? 0 : -1;
}

void store_sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}
