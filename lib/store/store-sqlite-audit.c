/*
 * store-sqlite-audit.c - the audit trail read back (`ndrguard log`)
 *
 * Every decision on a held message is an audit row (quarantined,
 * released, deleted, expired); joined with the message it concerns, it
 * says what ndrguard did and why without a syslog daemon.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <string.h>

/* audit_text - column i as text, or NULL */
static const char *audit_text(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

/* audit_rows - run stmt, hand its lines to cb, finalize */
static int audit_rows(sqlite3 *db, sqlite3_stmt *stmt, store_audit_cb *cb,
		      void *context, const char **error_r)
{
	struct store_audit line;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&line, 0, sizeof(line));
		line.id = sqlite3_column_int64(stmt, 0);
		line.at = sqlite3_column_int64(stmt, 1);
		line.quarantine_id = sqlite3_column_int64(stmt, 2);
		line.action = audit_text(stmt, 3);
		line.actor = audit_text(stmt, 4);
		line.detail = audit_text(stmt, 5);
		line.mailbox = audit_text(stmt, 6);
		line.sender = audit_text(stmt, 7);
		line.queue_id = audit_text(stmt, 8);
		line.kind = audit_text(stmt, 9);
		line.reason = audit_text(stmt, 10);
		line.verdict = audit_text(stmt, 11);
		if (cb(&line, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "read the audit log", error_r);
}

int store_sqlite_audit_list(struct store *st,
			    const struct store_filter *filter,
			    store_audit_cb *cb, void *context,
			    const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	/* the newest ?3 lines, handed over oldest first; a mailbox is
	   matched without regard to case, as it is stored as given */
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT * FROM (SELECT a.id, a.at, a.quarantine_id, a.action,"
		" a.actor, a.detail, q.recipient, q.sender, q.queue_id, q.kind,"
		" q.reason, q.verdict FROM audit AS a"
		" LEFT JOIN quarantine AS q ON q.id = a.quarantine_id"
		" WHERE a.at >= ?1 AND (?2 IS NULL OR lower(q.recipient) = lower(?2))"
		" ORDER BY a.at DESC, a.id DESC LIMIT ?3)"
		" ORDER BY at, id",
		"read the audit log", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, filter->since);
	if (filter->mailbox != NULL)
		sqlite3_bind_text(stmt, 2, filter->mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, filter->limit ? (long long)filter->limit : -1);
	return audit_rows(db, stmt, cb, context, error_r);
}
