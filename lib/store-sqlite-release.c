/*
 * store-sqlite-release.c - mailbox preferences and release requests in SQLite
 *
 * This module implements the store functions of the release page's
 * tables (sql/0003-release.sql) for the SQLite backend. They run a few
 * times per page view, not per message, so each statement is prepared
 * per call (microseconds) rather than kept in the backend's table.
 *
 * Writes (pref_set, request_add, request_decide) run in their own
 * transaction unless the caller opened one: SQLite's autocommit does
 * that for one statement.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <stdio.h>
#include <string.h>

static void sqlite_release_copy(char *dst, size_t size, sqlite3_stmt *stmt,
				int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int store_sqlite_pref_get(struct store *st, const char *mailbox,
			  struct store_pref *pref_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT digest, lang FROM mailbox_pref WHERE mailbox = ?1",
		"read preferences", error_r);
	int rc;

	snprintf(pref_r->digest, sizeof(pref_r->digest), "daily");
	pref_r->lang[0] = '\0';
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		sqlite_release_copy(pref_r->digest, sizeof(pref_r->digest),
				    stmt, 0);
		sqlite_release_copy(pref_r->lang, sizeof(pref_r->lang),
				    stmt, 1);
	}
	return store_sqlite_finish(db, stmt, rc, "read preferences", error_r);
}

int store_sqlite_pref_set(struct store *st, const char *mailbox,
			  const struct store_pref *pref, long long now,
			  const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT INTO mailbox_pref (mailbox, digest, lang, changed)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mailbox) DO UPDATE"
		" SET digest = ?2, lang = ?3, changed = ?4",
		"save preferences", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, pref->digest, -1, SQLITE_STATIC);
	if (pref->lang[0] != '\0')
		sqlite3_bind_text(stmt, 3, pref->lang, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, now);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = store_sqlite_fail(db, "save preferences");
		return -1;
	}
	return 0;
}

int store_sqlite_request_add(struct store *st, long long quarantine_id,
			     const char *actor, long long now, int *created_r,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT OR IGNORE INTO release_request"
		" (quarantine_id, requested, requested_by) VALUES (?1, ?2, ?3)",
		"record release request", error_r);
	int rc;

	*created_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, quarantine_id);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = store_sqlite_fail(db, "record release request");
		return -1;
	}
	*created_r = sqlite3_changes(db) > 0;
	return 0;
}

#define SQLITE_REQUEST_COLUMNS \
	"id, quarantine_id, requested, coalesce(decided, 0), state," \
	" requested_by, coalesce(decided_by, '')"

static void sqlite_release_request(sqlite3_stmt *stmt,
				   struct store_request *req)
{
	req->id = sqlite3_column_int64(stmt, 0);
	req->quarantine_id = sqlite3_column_int64(stmt, 1);
	req->requested = sqlite3_column_int64(stmt, 2);
	req->decided = sqlite3_column_int64(stmt, 3);
	sqlite_release_copy(req->state, sizeof(req->state), stmt, 4);
	sqlite_release_copy(req->requested_by, sizeof(req->requested_by),
			    stmt, 5);
	sqlite_release_copy(req->decided_by, sizeof(req->decided_by), stmt, 6);
}

int store_sqlite_request_get(struct store *st, long long quarantine_id,
			     struct store_request *req_r,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT " SQLITE_REQUEST_COLUMNS " FROM release_request"
		" WHERE quarantine_id = ?1 ORDER BY id DESC LIMIT 1",
		"read release request", error_r);
	int rc;

	memset(req_r, 0, sizeof(*req_r));
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, quarantine_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		sqlite_release_request(stmt, req_r);
	return store_sqlite_finish(db, stmt, rc, "read release request", error_r);
}

int store_sqlite_request_list(struct store *st, const char *state,
			      unsigned int limit, store_request_cb *cb,
			      void *context, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT " SQLITE_REQUEST_COLUMNS " FROM release_request"
		" WHERE ?1 IS NULL OR state = ?1 ORDER BY requested, id"
		" LIMIT ?2", "list release requests", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	if (state != NULL)
		sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, limit ? (long long)limit : -1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_request req;

		sqlite_release_request(stmt, &req);
		if (cb(&req, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list release requests", error_r);
}

int store_sqlite_request_decide(struct store *st, long long request_id,
				const char *to_state, const char *actor,
				long long now, int *changed_r,
				const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE release_request SET state = ?2, decided = ?3,"
		" decided_by = ?4 WHERE id = ?1 AND state = 'pending'",
		"decide release request", error_r);
	int rc;

	*changed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, request_id);
	sqlite3_bind_text(stmt, 2, to_state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_text(stmt, 4, actor, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = store_sqlite_fail(db, "decide release request");
		return -1;
	}
	*changed_r = sqlite3_changes(db) > 0;
	return 0;
}
