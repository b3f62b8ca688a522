/*
 * store-sqlite-allow.c - the owner's actions in SQLite: allow rules and
 * deleting a storm's held items (sql/0009-owner-actions.sql)
 *
 * Like the release page's other tables these run a few times per page
 * view (allow_match once per metered arrival), so each statement is
 * prepared per call. The callers wrap the writes in a transaction; the
 * audit lines are written in it, so a change and its record go together.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <string.h>

/* allow_audit - an audit line for a rule (quarantine_id 0) */
static int allow_audit(sqlite3 *db, long long now, const char *action,
		       const char *actor, long long id, const char *mailbox,
		       const char **error_r)
{
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT INTO audit (at, quarantine_id, action, actor, detail)"
		" SELECT ?1, 0, ?2, ?3, 'rule ' || id || ' ' || kind || ' '"
		" || value || ' for ' || ?5 FROM allow_rule WHERE id = ?4",
		"write audit log", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_text(stmt, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, id);
	sqlite3_bind_text(stmt, 5, mailbox, -1, SQLITE_STATIC);
	return store_sqlite_done(db, stmt, "write audit log", error_r);
}

/* allow_storm_step - bind the storm's id, mailbox, actor and time; run once */
static int allow_storm_step(sqlite3 *db, const char *sql, long long storm_id,
			    const char *mailbox, const char *actor,
			    long long now, const char **error_r)
{
	sqlite3_stmt *stmt = store_sqlite_prepare(db, sql, "delete storm",
						  error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, storm_id);
	sqlite3_bind_text(stmt, 2, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, now);
	return store_sqlite_done(db, stmt, "delete storm", error_r);
}

int store_sqlite_storm_delete_held(struct store *st, long long storm_id,
				   const char *mailbox, const char *actor,
				   long long now, unsigned int *count_r,
				   const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);

	*count_r = 0;
	/* the audit lines first: afterwards the rows are no longer held */
	if (allow_storm_step(db,
		"INSERT INTO audit (at, quarantine_id, action, actor, detail)"
		" SELECT ?4, id, 'deleted', ?3, 'held' FROM quarantine"
		" WHERE storm_id = ?1 AND lower(recipient) = lower(?2)"
		" AND state = 'held'", storm_id, mailbox, actor, now,
		error_r) < 0)
		return -1;
	if (allow_storm_step(db,
		"UPDATE quarantine SET state = 'deleted', state_changed = ?4"
		" WHERE storm_id = ?1 AND lower(recipient) = lower(?2)"
		" AND state = 'held'", storm_id, mailbox,
		actor, now, error_r) < 0)
		return -1;
	*count_r = (unsigned int)sqlite3_changes(db);
	return 0;
}

/* allow_find - the id of mailbox's live rule kind/value, or 0 */
static int allow_find(sqlite3 *db, const char *mailbox, const char *kind,
		      const char *value, long long *id_r, const char **error_r)
{
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id FROM allow_rule WHERE mailbox = ?1 AND kind = ?2"
		" AND value = ?3 AND removed IS NULL",
		"read allow rules", error_r);
	int rc;

	*id_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(stmt, 0);
	return store_sqlite_finish(db, stmt, rc, "read allow rules", error_r);
}

int store_sqlite_allow_add(struct store *st, const char *mailbox,
			   const char *kind, const char *value,
			   const char *actor, long long now, long long *id_r,
			   int *created_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt;

	*created_r = 0;
	if (allow_find(db, mailbox, kind, value, id_r, error_r) < 0)
		return -1;
	if (*id_r != 0)
		return 0;
	stmt = store_sqlite_prepare(db,
		"INSERT INTO allow_rule (mailbox, kind, value, created,"
		" created_by) VALUES (?1, ?2, lower(?3), ?4, ?5)",
		"add allow rule", error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, now);
	sqlite3_bind_text(stmt, 5, actor, -1, SQLITE_STATIC);
	if (store_sqlite_done(db, stmt, "add allow rule", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(db);
	*created_r = 1;
	return allow_audit(db, now, "rule_added", actor, *id_r, mailbox,
			   error_r);
}

int store_sqlite_allow_list(struct store *st, const char *mailbox,
			    store_allow_cb *cb, void *context,
			    const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, mailbox, kind, value, created, created_by"
		" FROM allow_rule WHERE removed IS NULL"
		" AND (?1 IS NULL OR mailbox = ?1) ORDER BY id",
		"list allow rules", error_r);
	struct store_allow rule;
	int rc;

	if (stmt == NULL)
		return -1;
	if (mailbox != NULL)
		sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&rule, 0, sizeof(rule));
		rule.id = sqlite3_column_int64(stmt, 0);
		rule.mailbox = (const char *)sqlite3_column_text(stmt, 1);
		rule.kind = (const char *)sqlite3_column_text(stmt, 2);
		rule.value = (const char *)sqlite3_column_text(stmt, 3);
		rule.created = sqlite3_column_int64(stmt, 4);
		rule.created_by = (const char *)sqlite3_column_text(stmt, 5);
		if (cb(&rule, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list allow rules", error_r);
}

int store_sqlite_allow_remove(struct store *st, long long id,
			      const char *mailbox, const char *actor,
			      long long now, int *removed_r,
			      const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE allow_rule SET removed = ?3, removed_by = ?4"
		" WHERE id = ?1 AND removed IS NULL"
		" AND (?2 IS NULL OR mailbox = ?2)",
		"remove allow rule", error_r);

	*removed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (mailbox != NULL)
		sqlite3_bind_text(stmt, 2, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_text(stmt, 4, actor, -1, SQLITE_STATIC);
	if (store_sqlite_done(db, stmt, "remove allow rule", error_r) < 0)
		return -1;
	*removed_r = sqlite3_changes(db) > 0;
	if (!*removed_r)
		return 0;
	return allow_audit(db, now, "rule_removed", actor, id,
			   mailbox ? mailbox : "-", error_r);
}

int store_sqlite_allow_match(struct store *st, const char *mailbox,
			     const char *domain, const char *recipient,
			     long long *id_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id FROM allow_rule WHERE mailbox = ?1"
		" AND removed IS NULL AND ((kind = 'domain' AND (value = ?2"
		" OR ?2 LIKE '%.' || value))"
		" OR (kind = 'recipient' AND value = ?3)) ORDER BY id LIMIT 1",
		"match allow rules", error_r);
	int rc;

	*id_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	store_sqlite_bind_text(stmt, 2, domain);
	store_sqlite_bind_text(stmt, 3, recipient);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(stmt, 0);
	return store_sqlite_finish(db, stmt, rc, "match allow rules", error_r);
}
