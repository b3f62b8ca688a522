/*
 * store-sqlite-digest.c - digests and the held messages they covered, in SQLite
 *
 * This module implements the digest functions of struct store_vfuncs
 * (sql/0002-digest.sql) for the SQLite backend. They run a few times per
 * mailbox and day, not per message, so statements are prepared per call.
 *
 * "Covered" means: listed in a digest row, pending or sent. digest_item's
 * primary key is the quarantine id, so no message can be covered twice;
 * digest_add() fails instead. A dropped (refused) digest takes its
 * digest_item rows with it and its messages are uncovered again.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"
#include "store-sqlite-digest.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a held message that no digest covers yet */
#define DIGEST_UNCOVERED \
	"state = 'held' AND NOT EXISTS (SELECT 1 FROM digest_item" \
	" WHERE digest_item.quarantine_id = quarantine.id)"

int store_sqlite_digest_mailboxes(struct store *st, const char *mailbox,
				  store_mailbox_cb *cb, void *context,
				  const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT min(recipient), count(*) FROM quarantine"
		" WHERE (?1 IS NULL OR recipient = ?1 COLLATE NOCASE) AND "
		DIGEST_UNCOVERED
		" GROUP BY recipient COLLATE NOCASE ORDER BY 1",
		"list mailboxes", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(stmt, 0);
		if (cb(m ? m : "", (unsigned int)sqlite3_column_int64(stmt, 1),
		       context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list mailboxes", error_r);
}

int store_sqlite_digest_items(struct store *st, const char *mailbox,
			      store_record_cb *cb, void *context,
			      const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, recipient, arrived, kind, status, reason,"
		" reporting_mta, verdict, orig_subject, orig_from,"
		" orig_message_id, storm_id FROM quarantine"
		" WHERE recipient = ?1 COLLATE NOCASE AND " DIGEST_UNCOVERED
		" ORDER BY CASE verdict WHEN 'legit' THEN 0"
		" WHEN 'unknown' THEN 1 ELSE 2 END, arrived DESC, id DESC",
		"list held messages", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		/* borrowed strings: valid until the next step */
		struct store_record r;

		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(stmt, 0);
		r.recipient = (char *)sqlite3_column_text(stmt, 1);
		r.arrived = sqlite3_column_int64(stmt, 2);
		r.kind = (char *)sqlite3_column_text(stmt, 3);
		r.status = (char *)sqlite3_column_text(stmt, 4);
		r.reason = (char *)sqlite3_column_text(stmt, 5);
		r.reporting_mta = (char *)sqlite3_column_text(stmt, 6);
		r.verdict = (char *)sqlite3_column_text(stmt, 7);
		r.orig_subject = (char *)sqlite3_column_text(stmt, 8);
		r.orig_from = (char *)sqlite3_column_text(stmt, 9);
		r.orig_message_id = (char *)sqlite3_column_text(stmt, 10);
		r.storm_id = sqlite3_column_int64(stmt, 11);
		if (cb(&r, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list held messages", error_r);
}

int store_sqlite_digest_last_sent(struct store *st, const char *mailbox,
				  long long *sent_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT max(sent) FROM digest WHERE mailbox = ?1"
		" AND state = 'sent'", "find last digest", error_r);
	int rc;

	*sent_r = 0;
	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*sent_r = sqlite3_column_int64(stmt, 0);
	else if (rc != SQLITE_DONE)
		*error_r = store_sqlite_fail(db, "find last digest");
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int store_sqlite_digest_add(struct store *st, const struct store_digest *dg,
			    const long long *items, size_t count,
			    long long *id_r, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"INSERT INTO digest (mailbox, message_id, created, state,"
		" item_count, message, reply_ref)"
		" VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6)",
		"record digest", error_r);

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, dg->mailbox);
	store_sqlite_bind_text(stmt, 2, dg->message_id);
	sqlite3_bind_int64(stmt, 3, dg->created);
	sqlite3_bind_int64(stmt, 4, (long long)count);
	sqlite3_bind_blob64(stmt, 5, dg->message, dg->size, SQLITE_STATIC);
	store_sqlite_bind_text(stmt, 6, dg->reply_ref);
	if (store_sqlite_done(db, stmt, "record digest", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(db);
	stmt = store_sqlite_prepare(db,
		"INSERT INTO digest_item (quarantine_id, digest_id, number)"
		" VALUES (?1, ?2, ?3)", "record digest items", error_r);
	if (stmt == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, items[i]);
		sqlite3_bind_int64(stmt, 2, *id_r);
		if (i < dg->numbered)
			sqlite3_bind_int64(stmt, 3, (long long)i + 1);
		else
			sqlite3_bind_null(stmt, 3);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			*error_r = store_sqlite_fail(db, "record digest items");
			sqlite3_finalize(stmt);
			return -1;
		}
	}
	sqlite3_finalize(stmt);
	return 0;
}

int store_sqlite_digest_reply_find(struct store *st, const char *ref,
				   struct store_digest *dg_r, int *found_r,
				   const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, mailbox, created, item_count FROM digest"
		" WHERE reply_ref = ?1", "find digest by reply", error_r);
	int rc;

	memset(dg_r, 0, sizeof(*dg_r));
	*found_r = 0;
	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, ref);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(stmt, 1);

		*found_r = 1;
		dg_r->id = sqlite3_column_int64(stmt, 0);
		dg_r->mailbox = xstrdup(m ? m : "");
		dg_r->created = sqlite3_column_int64(stmt, 2);
		dg_r->item_count = (unsigned int)sqlite3_column_int64(stmt, 3);
		rc = sqlite3_step(stmt);
	}
	return store_sqlite_finish(db, stmt, rc, "find digest by reply",
				   error_r);
}

int store_sqlite_digest_reply_items(struct store *st, long long digest_id,
				    store_reply_item_cb *cb, void *context,
				    const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT digest_item.number, quarantine.id, quarantine.state,"
		" quarantine.orig_message_id FROM digest_item"
		" JOIN quarantine ON quarantine.id = digest_item.quarantine_id"
		" WHERE digest_item.digest_id = ?1"
		" ORDER BY digest_item.number IS NULL, digest_item.number,"
		" quarantine.id", "list digest items", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, digest_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_reply_item it = {
			.number = (unsigned int)sqlite3_column_int64(stmt, 0),
			.quarantine_id = sqlite3_column_int64(stmt, 1),
			.state = (const char *)sqlite3_column_text(stmt, 2),
			.orig_message_id =
				(const char *)sqlite3_column_text(stmt, 3),
		};
		if (cb(&it, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list digest items", error_r);
}

int store_sqlite_digest_pending(struct store *st, const char *mailbox,
				store_digest_cb *cb, void *context,
				const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, mailbox, message_id, created, item_count,"
		" attempts, message FROM digest WHERE state = 'pending'"
		" AND (?1 IS NULL OR mailbox = ?1) ORDER BY id",
		"list pending digests", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_digest dg;

		memset(&dg, 0, sizeof(dg));
		dg.id = sqlite3_column_int64(stmt, 0);
		dg.mailbox = (const char *)sqlite3_column_text(stmt, 1);
		dg.message_id = (const char *)sqlite3_column_text(stmt, 2);
		dg.created = sqlite3_column_int64(stmt, 3);
		dg.item_count = (unsigned int)sqlite3_column_int64(stmt, 4);
		dg.attempts = (unsigned int)sqlite3_column_int64(stmt, 5);
		dg.message = (const char *)sqlite3_column_blob(stmt, 6);
		dg.size = (size_t)sqlite3_column_bytes(stmt, 6);
		if (cb(&dg, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list pending digests", error_r);
}

int store_sqlite_digest_sent(struct store *st, long long id, long long now,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE digest SET state = 'sent', sent = ?2, message = NULL"
		" WHERE id = ?1 AND state = 'pending'",
		"mark digest sent", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now);
	return store_sqlite_done(db, stmt, "mark digest sent", error_r);
}

int store_sqlite_digest_attempted(struct store *st, long long id,
				  const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"UPDATE digest SET attempts = attempts + 1"
		" WHERE id = ?1 AND state = 'pending'",
		"count digest attempt", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return store_sqlite_done(db, stmt, "count digest attempt", error_r);
}

int store_sqlite_digest_drop(struct store *st, long long id,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt;
	int own = sqlite3_get_autocommit(db);

	/* both deletes or neither, whether or not the caller holds a
	   transaction */
	if (own && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
				NULL) != SQLITE_OK) {
		*error_r = store_sqlite_fail(db, "drop digest");
		return -1;
	}
	stmt = store_sqlite_prepare(db,
		"DELETE FROM digest_item WHERE digest_id = (SELECT id FROM"
		" digest WHERE id = ?1 AND state = 'pending')",
		"drop digest", error_r);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	if (store_sqlite_done(db, stmt, "drop digest", error_r) < 0)
		goto fail;
	stmt = store_sqlite_prepare(db,
		"DELETE FROM digest WHERE id = ?1 AND state = 'pending'",
		"drop digest", error_r);
	if (stmt == NULL)
		goto fail;
	sqlite3_bind_int64(stmt, 1, id);
	if (store_sqlite_done(db, stmt, "drop digest", error_r) < 0)
		goto fail;
	if (own && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = store_sqlite_fail(db, "drop digest");
		goto fail;
	}
	return 0;
fail:
	if (own)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_sqlite_digest_storms(struct store *st, const char *mailbox,
			       long long since, store_storm_cb *cb,
			       void *context, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, started, last_seen, count, ended FROM storm"
		" WHERE id IN (SELECT storm_id FROM quarantine"
		" WHERE recipient = ?1 COLLATE NOCASE AND " DIGEST_UNCOVERED ")"
		/* the scan by name only when asked for (?2 is a bound
		   constant: SQLite skips the branch when it is false) */
		" UNION SELECT id, started, last_seen, count, ended FROM storm"
		" WHERE ?2 < 9223372036854775807 AND mailbox = ?1 COLLATE NOCASE"
		" AND started >= ?2 ORDER BY 2, 1", "list storms", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, since);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_storm storm = {
			.id = sqlite3_column_int64(stmt, 0),
			.started = sqlite3_column_int64(stmt, 1),
			.last_seen = sqlite3_column_int64(stmt, 2),
			.count = sqlite3_column_int64(stmt, 3),
		};
		if (cb(&storm, sqlite3_column_int64(stmt, 4), context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list storms", error_r);
}

int store_sqlite_digest_time_get(struct store *st, const char *mailbox,
				 char time_r[6], const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT digest_time FROM digest_schedule WHERE mailbox = ?1",
		"read digest time", error_r);
	int rc;

	time_r[0] = '\0';
	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(stmt, 0);
		snprintf(time_r, 6, "%s", t ? t : "");
	} else if (rc != SQLITE_DONE) {
		*error_r = store_sqlite_fail(db, "read digest time");
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int store_sqlite_digest_time_set(struct store *st, const char *mailbox,
				 const char *hhmm, long long now,
				 const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db, hhmm == NULL
		? "DELETE FROM digest_schedule WHERE mailbox = ?1"
		: "INSERT INTO digest_schedule (mailbox, digest_time, changed)"
		  " VALUES (?1, ?2, ?3) ON CONFLICT (mailbox) DO UPDATE"
		  " SET digest_time = ?2, changed = ?3",
		"set digest time", error_r);

	if (stmt == NULL)
		return -1;
	store_sqlite_bind_text(stmt, 1, mailbox);
	if (hhmm != NULL) {
		store_sqlite_bind_text(stmt, 2, hhmm);
		sqlite3_bind_int64(stmt, 3, now);
	}
	return store_sqlite_done(db, stmt, "set digest time", error_r);
}
