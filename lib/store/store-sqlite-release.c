/*
 * store-sqlite-release.c - mailbox preferences and release requests in SQLite
 *
 * This module implements the store functions of the release page's
 * tables (sql/0003-release.sql) for the SQLite backend. They run a few
 * times per page view, not per message, so each statement is prepared
 * per call (microseconds) rather than kept in the backend's table.
 *
 * Release claims and request mails (sql/0007-release-claim.sql) live
 * here too: the claim functions run inside the caller's transaction.
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
		"SELECT digest, lang, timezone FROM mailbox_pref"
		" WHERE mailbox = ?1",
		"read preferences", error_r);
	int rc;

	snprintf(pref_r->digest, sizeof(pref_r->digest), "daily");
	pref_r->lang[0] = '\0';
	pref_r->timezone[0] = '\0';
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		sqlite_release_copy(pref_r->digest, sizeof(pref_r->digest),
				    stmt, 0);
		sqlite_release_copy(pref_r->lang, sizeof(pref_r->lang),
				    stmt, 1);
		sqlite_release_copy(pref_r->timezone,
				    sizeof(pref_r->timezone), stmt, 2);
	}
	return store_sqlite_finish(db, stmt, rc, "read preferences", error_r);
}

int store_sqlite_pref_set(struct store *st, const char *mailbox,
			  const struct store_pref *pref, long long now,
			  const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT INTO mailbox_pref (mailbox, digest, lang, changed,"
		" timezone) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (mailbox) DO UPDATE"
		" SET digest = ?2, lang = ?3, changed = ?4, timezone = ?5",
		"save preferences", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, pref->digest, -1, SQLITE_STATIC);
	if (pref->lang[0] != '\0')
		sqlite3_bind_text(stmt, 3, pref->lang, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, now);
	if (pref->timezone[0] != '\0')
		sqlite3_bind_text(stmt, 5, pref->timezone, -1, SQLITE_STATIC);
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

int store_sqlite_claim_get(struct store *st, long long id,
			   struct store_claim *claim_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT owner, actor, claimed, lease, coalesce(handed, 0),"
		" coalesce(reply, '') FROM release_claim"
		" WHERE quarantine_id = ?1", "read release claim", error_r);
	int rc;

	memset(claim_r, 0, sizeof(*claim_r));
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		claim_r->quarantine_id = id;
		sqlite_release_copy(claim_r->owner, sizeof(claim_r->owner),
				    stmt, 0);
		sqlite_release_copy(claim_r->actor, sizeof(claim_r->actor),
				    stmt, 1);
		claim_r->claimed = sqlite3_column_int64(stmt, 2);
		claim_r->lease = sqlite3_column_int64(stmt, 3);
		claim_r->handed = sqlite3_column_int64(stmt, 4);
		sqlite_release_copy(claim_r->reply, sizeof(claim_r->reply),
				    stmt, 5);
	}
	return store_sqlite_finish(db, stmt, rc, "read release claim", error_r);
}

/* sqlite_release_run - prepare, bind (id, then texts/ints), run once;
   *changed_r: did it change a row */
static int sqlite_release_run(sqlite3 *db, const char *sql, long long id,
			      const char *t2, const char *t3,
			      const char *what, int *changed_r,
			      const char **error_r)
{
	sqlite3_stmt *stmt = store_sqlite_prepare(db, sql, what, error_r);

	*changed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	store_sqlite_bind_text(stmt, 2, t2);
	store_sqlite_bind_text(stmt, 3, t3);
	if (store_sqlite_done(db, stmt, what, error_r) < 0)
		return -1;
	*changed_r = sqlite3_changes(db) > 0;
	return 0;
}

/* sqlite_release_claim_write - the claim row's owner, actor and times,
   fresh (never handed on) */
static int sqlite_release_claim_write(sqlite3 *db,
				      const struct store_claim *c,
				      const char *sql, const char *prev_owner,
				      int *changed_r, const char **error_r)
{
	sqlite3_stmt *stmt = store_sqlite_prepare(db, sql, "claim item",
						  error_r);

	*changed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, c->quarantine_id);
	sqlite3_bind_text(stmt, 2, c->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, c->actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, c->claimed);
	sqlite3_bind_int64(stmt, 5, c->lease);
	store_sqlite_bind_text(stmt, 6, prev_owner);
	if (store_sqlite_done(db, stmt, "claim item", error_r) < 0)
		return -1;
	*changed_r = sqlite3_changes(db) > 0;
	return 0;
}

int store_sqlite_claim_take(struct store *st, const struct store_claim *claim,
			    const char *prev_owner, int force, int *taken_r,
			    const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	int changed;

	*taken_r = 0;
	if (prev_owner != NULL)
		return sqlite_release_claim_write(db, claim, force
			? "UPDATE release_claim SET owner = ?2, actor = ?3,"
			  " claimed = ?4, lease = ?5, handed = NULL, reply = NULL"
			  " WHERE quarantine_id = ?1 AND owner = ?6"
			  " AND reply IS NULL"
			: "UPDATE release_claim SET owner = ?2, actor = ?3,"
			  " claimed = ?4, lease = ?5 WHERE quarantine_id = ?1"
			  " AND owner = ?6 AND handed IS NULL AND reply IS NULL",
			prev_owner, taken_r, error_r);
	if (sqlite_release_run(db, "UPDATE quarantine SET state = 'releasing'"
			       " WHERE id = ?1 AND state = 'held'", claim->quarantine_id,
			       NULL, NULL, "claim item", &changed, error_r) < 0)
		return -1;
	if (!changed)
		return 0;
	/* the row of an earlier claim that was dropped goes */
	return sqlite_release_claim_write(db, claim,
		"INSERT OR REPLACE INTO release_claim (quarantine_id, owner,"
		" actor, claimed, lease) VALUES (?1, ?2, ?3, ?4, ?5)",
		NULL, taken_r, error_r);
}

int store_sqlite_claim_update(struct store *st, long long id,
			      const char *owner, long long handed,
			      const char *reply, int *changed_r,
			      const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE release_claim SET handed = coalesce(?3, handed),"
		" reply = coalesce(?4, reply) WHERE quarantine_id = ?1"
		" AND owner = ?2", "record release", error_r);

	*changed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, owner, -1, SQLITE_STATIC);
	if (handed > 0)
		sqlite3_bind_int64(stmt, 3, handed);
	store_sqlite_bind_text(stmt, 4, reply);
	if (store_sqlite_done(db, stmt, "record release", error_r) < 0)
		return -1;
	*changed_r = sqlite3_changes(db) > 0;
	return 0;
}

int store_sqlite_claim_expire(struct store *st, long long id,
			      const char *owner, long long now,
			      const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE release_claim SET lease = min(lease, ?3)"
		" WHERE quarantine_id = ?1 AND owner = ?2", "end release claim",
		error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	return store_sqlite_done(db, stmt, "end release claim", error_r);
}

int store_sqlite_claim_drop(struct store *st, long long id, const char *owner,
			    int *changed_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	int held;

	if (sqlite_release_run(db, "DELETE FROM release_claim"
			       " WHERE quarantine_id = ?1 AND owner = ?2"
			       " AND reply IS NULL", id, owner, NULL,
			       "drop release claim", changed_r, error_r) < 0)
		return -1;
	if (!*changed_r)
		return 0;
	return sqlite_release_run(db, "UPDATE quarantine SET state = 'held'"
				  " WHERE id = ?1 AND state = 'releasing'", id,
				  NULL, NULL, "drop release claim", &held,
				  error_r);
}

int store_sqlite_notice_take(struct store *st, const char *mailbox,
			     long long since, unsigned int cap,
			     unsigned int count, long long now, int *allowed_r,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT INTO request_notice (mailbox, sent, item_count)"
		" SELECT ?1, ?3, ?4 WHERE (SELECT count(*) FROM request_notice"
		" WHERE mailbox = ?1 AND sent >= ?2) < ?5",
		"count request mails", error_r);

	*allowed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, since);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int64(stmt, 4, count);
	sqlite3_bind_int64(stmt, 5, cap);
	if (store_sqlite_done(db, stmt, "count request mails", error_r) < 0)
		return -1;
	*allowed_r = sqlite3_changes(db) > 0;
	return 0;
}
