/*
 * store-sqlite.c - the quarantine store in one SQLite file
 *
 * The database runs in WAL mode with synchronous=FULL: a commit returns
 * after the WAL is on disk, which is what lets ndrguard answer Postfix
 * "delivered" for a held message. Concurrent pipe agents serialise on
 * BEGIN IMMEDIATE and wait up to busy_timeout for each other; a lock held
 * longer than that is a temporary failure.
 *
 * Statements are prepared on first use and kept for the store's life.
 * The schema is applied from the migrations embedded at build time
 * (sql/NNNN-*.sql), each in the same transaction as its user_version.
 */
#include "autoconfig.h"
#include "store.h"
#include "store-private.h"
#include "migrations.h"
#include "store-sqlite-digest.h"
#include "store-sqlite-private.h"
#include "xalloc.h"

#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQLITE_RECORD_COLUMNS \
	"id, queue_id, sender, recipient, arrived, kind, status, reason," \
	" reporting_mta, verdict, evidence, orig_subject, orig_from," \
	" orig_message_id, state, state_changed, storm_id, size"

enum sqlite_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_ARRIVAL_ADD,
	STMT_ARRIVAL_PRUNE,
	STMT_ARRIVAL_COUNT,
	STMT_ARRIVAL_NTH,
	STMT_STORM_GET_OPEN,
	STMT_STORM_START,
	STMT_STORM_HIT,
	STMT_STORM_END,
	STMT_ITEM_ADD,
	STMT_ITEM_FIND,
	STMT_AUDIT_ADD,
	STMT_ITEM_LIST,
	STMT_ITEM_GET,
	STMT_ITEM_GET_RAW,
	STMT_ITEM_SET_STATE,
	STMT_ITEM_EXPIRE_PICK,
	STMT_ITEM_EXPIRE,
	STMT_OUTBOUND_ADD,
	STMT_OUTBOUND_FIND,
	STMT_OUTBOUND_EXPIRE,
	STMT_COUNT
};

static const char *const sqlite_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_ARRIVAL_ADD] =
		"INSERT OR IGNORE INTO arrival (mailbox, arrived, queue_id)"
		" VALUES (?1, ?2, ?3)",
	/* the OFFSET walk is short: pruning at every arrival leaves at most
	   one row beyond `keep` */
	[STMT_ARRIVAL_PRUNE] =
		"DELETE FROM arrival WHERE mailbox = ?1 AND (arrived < ?2"
		" OR rowid IN (SELECT rowid FROM arrival WHERE mailbox = ?1"
		" ORDER BY arrived DESC LIMIT -1 OFFSET ?3))",
	/* bounded, so that a storm of a million does not cost a million
	   index steps per message */
	[STMT_ARRIVAL_COUNT] =
		"SELECT count(*) FROM (SELECT 1 FROM arrival WHERE mailbox = ?1"
		" AND arrived > ?2 LIMIT ?3)",
	[STMT_ARRIVAL_NTH] =
		"SELECT arrived FROM arrival WHERE mailbox = ?1"
		" ORDER BY arrived DESC LIMIT 1 OFFSET ?2",
	[STMT_STORM_GET_OPEN] =
		"SELECT id, started, last_seen, count FROM storm"
		" WHERE mailbox = ?1 AND ended IS NULL ORDER BY id DESC LIMIT 1",
	[STMT_STORM_START] =
		"INSERT INTO storm (mailbox, started, last_seen, count)"
		" VALUES (?1, ?2, ?2, 0)",
	[STMT_STORM_HIT] =
		"UPDATE storm SET count = count + 1, last_seen = ?2 WHERE id = ?1",
	[STMT_STORM_END] = "UPDATE storm SET ended = ?2 WHERE id = ?1",
	[STMT_ITEM_ADD] =
		"INSERT INTO quarantine (queue_id, sender, recipient, arrived,"
		" kind, status, reason, reporting_mta, verdict, evidence,"
		" orig_subject, orig_from, orig_message_id, storm_id, state,"
		" state_changed, size, raw, raw_hash) VALUES (?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'held', ?4, ?15, ?16,"
		" ?17)",
	[STMT_ITEM_FIND] =
		"SELECT id FROM quarantine WHERE queue_id = ?1 AND recipient = ?2"
		" AND raw_hash = ?3",
	[STMT_AUDIT_ADD] =
		"INSERT INTO audit (at, quarantine_id, action, actor, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_ITEM_LIST] =
		"SELECT " SQLITE_RECORD_COLUMNS ", NULL FROM quarantine"
		" WHERE (?1 IS NULL OR recipient = ?1 COLLATE NOCASE)"
		" AND (?2 IS NULL OR state = ?2) AND arrived >= ?3"
		" ORDER BY arrived DESC, id DESC LIMIT ?4 OFFSET ?5",
	[STMT_ITEM_GET] =
		"SELECT " SQLITE_RECORD_COLUMNS ", NULL FROM quarantine WHERE id = ?1",
	[STMT_ITEM_GET_RAW] =
		"SELECT " SQLITE_RECORD_COLUMNS ", raw FROM quarantine WHERE id = ?1",
	[STMT_ITEM_SET_STATE] =
		"UPDATE quarantine SET state = ?3, state_changed = ?4"
		" WHERE id = ?1 AND state = ?2",
	[STMT_ITEM_EXPIRE_PICK] =
		"SELECT id FROM quarantine WHERE state = 'held' AND arrived < ?1"
		" ORDER BY arrived LIMIT ?2",
	[STMT_ITEM_EXPIRE] =
		"UPDATE quarantine SET state = 'expired', state_changed = ?2,"
		" raw = x'' WHERE id = ?1 AND state = 'held'",
	/* sql/0008-outbound-index.sql: a message sent again (a retry of
	   the same Message-ID) keeps its first record */
	[STMT_OUTBOUND_ADD] =
		"INSERT INTO outbound (message_id, sender, sent)"
		" VALUES (?1, ?2, ?3) ON CONFLICT (message_id) DO NOTHING",
	/* one read of the primary key for up to STORE_OUTBOUND_FIND_MAX
	   candidates; unused ones are bound NULL, which matches nothing */
	[STMT_OUTBOUND_FIND] =
		"SELECT message_id, sender, sent FROM outbound"
		" WHERE message_id IN (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) LIMIT 1",
	[STMT_OUTBOUND_EXPIRE] =
		"DELETE FROM outbound WHERE message_id IN (SELECT message_id"
		" FROM outbound WHERE sent < ?1 ORDER BY sent LIMIT ?2)",
};

struct store_sqlite {
	struct store store;
	sqlite3 *db;
	char *path;
	int digest_fd;		/* the digest lock's file; -1: not held */
	unsigned int busy_timeout_ms;
	struct timespec busy_since;
	sqlite3_stmt *stmts[STMT_COUNT];
	char error[512];
};

/*
 * sqlite_busy - wait for another writer's lock, in short naps
 *
 * SQLite's own busy timeout naps 1, 2, 5, 10 ... 100 ms between tries.
 * A storm means many pipe agents queueing for a lock held about a
 * millisecond each, so those naps, not the work, would set the pace.
 * Naps here grow from 50 us to 2 ms, with jitter so the waiters do not
 * wake in step, until busy_timeout has passed in all.
 */
static int sqlite_busy(void *context, int count)
{
	struct store_sqlite *s = context;
	struct timespec now;
	long long waited_ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (count == 0)
		s->busy_since = now;
	waited_ms = (now.tv_sec - s->busy_since.tv_sec) * 1000LL
		+ (now.tv_nsec - s->busy_since.tv_nsec) / 1000000;
	if (waited_ms >= (long long)s->busy_timeout_ms)
		return 0;
	long nap_us = 50L << (count < 5 ? count : 5);
	if (nap_us > 2000)
		nap_us = 2000;
	nap_us += (long)(((unsigned long)now.tv_nsec >> 10) % (unsigned long)nap_us);
	struct timespec nap = { 0, nap_us * 1000 };
	nanosleep(&nap, NULL);
	return 1;
}

static const char *sqlite_error(struct store_sqlite *s, const char *what)
{
	snprintf(s->error, sizeof(s->error), "%s: %s", what,
		 sqlite3_errmsg(s->db));
	return s->error;
}

/* sqlite_stmt - the prepared statement, reset and unbound, ready to bind */
static sqlite3_stmt *sqlite_stmt(struct store_sqlite *s, enum sqlite_stmt id,
				 const char **error_r)
{
	sqlite3_stmt *stmt = s->stmts[id];

	if (stmt == NULL) {
		if (sqlite3_prepare_v3(s->db, sqlite_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &stmt,
				       NULL) != SQLITE_OK) {
			*error_r = sqlite_error(s, "prepare");
			return NULL;
		}
		s->stmts[id] = stmt;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

static void sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, i);
	else
		sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

/* sqlite_step_done - run a statement that returns no rows */
static int sqlite_step_done(struct store_sqlite *s, sqlite3_stmt *stmt,
			    const char *what, const char **error_r)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, what);
		return -1;
	}
	return 0;
}

static int sqlite_exec_stmt(struct store *st, enum sqlite_stmt id,
			    const char *what, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, id, error_r);

	return stmt ? sqlite_step_done(s, stmt, what, error_r) : -1;
}

static int sqlite_begin(struct store *st, const char **error_r)
{
	return sqlite_exec_stmt(st, STMT_BEGIN, "begin transaction", error_r);
}

/*
 * sqlite_commit - end the transaction, durably. Statements are reset
 * lazily, at their next use, so a SELECT that returned its row is still
 * open here; it would keep the connection's read transaction open past
 * COMMIT, and the checkpoint that wal_autocheckpoint runs after the
 * commit would then fail silently (SQLITE_LOCKED), leaving the WAL to
 * grow and every new process to re-read all of it.
 */
static int sqlite_commit(struct store *st, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p != NULL;
	     p = sqlite3_next_stmt(s->db, p)) {
		if (sqlite3_stmt_busy(p))
			sqlite3_reset(p);
	}
	return sqlite_exec_stmt(st, STMT_COMMIT, "commit", error_r);
}

static void sqlite_rollback(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_arrival_add(struct store *st, const char *mailbox,
			      const char *queue_id, long long now,
			      const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_ADD, error_r);

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, now);
	sqlite_bind_text(stmt, 3, queue_id);
	return sqlite_step_done(s, stmt, "record arrival", error_r);
}

static int sqlite_arrival_prune(struct store *st, const char *mailbox,
				long long before, unsigned int keep,
				const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_PRUNE, error_r);

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, before);
	sqlite3_bind_int64(stmt, 3, keep);
	return sqlite_step_done(s, stmt, "prune arrivals", error_r);
}

/* sqlite_one_int - run stmt, take column 0 of its first row (if any) */
static int sqlite_one_int(struct store_sqlite *s, sqlite3_stmt *stmt,
			  long long *value_r, int *found_r, const char *what,
			  const char **error_r)
{
	int rc = sqlite3_step(stmt);

	*found_r = (rc == SQLITE_ROW);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, what);
		return -1;
	}
	return 0;
}

static int sqlite_arrival_count(struct store *st, const char *mailbox,
				long long since, unsigned int cap,
				unsigned int *count_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_COUNT, error_r);
	long long n = 0;
	int found;

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, since);
	sqlite3_bind_int64(stmt, 3, cap);
	if (sqlite_one_int(s, stmt, &n, &found, "count arrivals", error_r) < 0)
		return -1;
	*count_r = (unsigned int)n;
	return 0;
}

static int sqlite_arrival_nth_recent(struct store *st, const char *mailbox,
				     unsigned int n, long long *when_r,
				     const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_NTH, error_r);
	int found;

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, n > 0 ? n - 1 : 0);
	*when_r = 0;
	return sqlite_one_int(s, stmt, when_r, &found, "find arrival",
			      error_r);
}

static int sqlite_storm_get_open(struct store *st, const char *mailbox,
				 struct store_storm *storm_r,
				 const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_STORM_GET_OPEN, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	memset(storm_r, 0, sizeof(*storm_r));
	sqlite_bind_text(stmt, 1, mailbox);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		storm_r->id = sqlite3_column_int64(stmt, 0);
		storm_r->started = sqlite3_column_int64(stmt, 1);
		storm_r->last_seen = sqlite3_column_int64(stmt, 2);
		storm_r->count = sqlite3_column_int64(stmt, 3);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, "find storm");
		return -1;
	}
	return 0;
}

static int sqlite_storm_start(struct store *st, const char *mailbox,
			      long long now, long long *id_r,
			      const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_STORM_START, error_r);

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, now);
	if (sqlite_step_done(s, stmt, "start storm", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int sqlite_storm_set(struct store *st, enum sqlite_stmt id,
			    long long storm, long long when, const char *what,
			    const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, id, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, storm);
	sqlite3_bind_int64(stmt, 2, when);
	return sqlite_step_done(s, stmt, what, error_r);
}

static int sqlite_storm_hit(struct store *st, long long id, long long now,
			    const char **error_r)
{
	return sqlite_storm_set(st, STMT_STORM_HIT, id, now, "count storm",
				error_r);
}

static int sqlite_storm_end(struct store *st, long long id, long long ended,
			    const char **error_r)
{
	return sqlite_storm_set(st, STMT_STORM_END, id, ended, "end storm",
				error_r);
}

static int sqlite_audit_add(struct store_sqlite *s, long long at,
			    long long item, const char *action,
			    const char *actor, const char *detail,
			    const char **error_r)
{
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_AUDIT_ADD, error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, at);
	sqlite3_bind_int64(stmt, 2, item);
	sqlite_bind_text(stmt, 3, action);
	sqlite_bind_text(stmt, 4, actor);
	sqlite_bind_text(stmt, 5, detail);
	return sqlite_step_done(s, stmt, "write audit log", error_r);
}

/* sqlite_item_find - the id of this very message already held for this
   recipient under this queue id (a retry), if any */
static int sqlite_item_find(struct store_sqlite *s,
			    const struct store_item *item, const char *hash,
			    long long *id_r, int *found_r,
			    const char **error_r)
{
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ITEM_FIND, error_r);

	*found_r = 0;
	if (item->queue_id == NULL)
		return 0;
	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, item->queue_id);
	sqlite_bind_text(stmt, 2, item->recipient);
	sqlite_bind_text(stmt, 3, hash);
	return sqlite_one_int(s, stmt, id_r, found_r, "find held message",
			      error_r);
}

static int sqlite_item_add(struct store *st, const struct store_item *item,
			   long long *id_r, int *duplicate_r,
			   const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	char hash[STORE_RAW_HASH_LEN];
	sqlite3_stmt *stmt;

	store_raw_hash(item->raw, item->size, hash);
	if (sqlite_item_find(s, item, hash, id_r, duplicate_r, error_r) < 0)
		return -1;
	if (*duplicate_r)
		return 0;
	stmt = sqlite_stmt(s, STMT_ITEM_ADD, error_r);
	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, item->queue_id);
	sqlite_bind_text(stmt, 2, item->sender);
	sqlite_bind_text(stmt, 3, item->recipient);
	sqlite3_bind_int64(stmt, 4, item->arrived);
	sqlite_bind_text(stmt, 5, item->kind);
	sqlite_bind_text(stmt, 6, item->status);
	sqlite_bind_text(stmt, 7, item->reason);
	sqlite_bind_text(stmt, 8, item->reporting_mta);
	sqlite_bind_text(stmt, 9, item->verdict);
	sqlite_bind_text(stmt, 10, item->evidence);
	sqlite_bind_text(stmt, 11, item->orig_subject);
	sqlite_bind_text(stmt, 12, item->orig_from);
	sqlite_bind_text(stmt, 13, item->orig_message_id);
	if (item->storm_id != 0)
		sqlite3_bind_int64(stmt, 14, item->storm_id);
	sqlite3_bind_int64(stmt, 15, (long long)item->size);
	sqlite3_bind_blob64(stmt, 16, item->raw, item->size, SQLITE_STATIC);
	sqlite_bind_text(stmt, 17, hash);
	if (sqlite_step_done(s, stmt, "store message", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(s->db);
	return sqlite_audit_add(s, item->arrived, *id_r, "quarantined",
				"deliver", item->queue_id, error_r);
}

static char *sqlite_column_dup(sqlite3_stmt *stmt, int i)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* sqlite_record - the current row as a record (columns in
   SQLITE_RECORD_COLUMNS order, then raw) */
static struct store_record *sqlite_record(sqlite3_stmt *stmt)
{
	struct store_record *r = xcalloc(1, sizeof(*r));
	const void *raw;

	r->id = sqlite3_column_int64(stmt, 0);
	r->queue_id = sqlite_column_dup(stmt, 1);
	r->sender = sqlite_column_dup(stmt, 2);
	r->recipient = sqlite_column_dup(stmt, 3);
	r->arrived = sqlite3_column_int64(stmt, 4);
	r->kind = sqlite_column_dup(stmt, 5);
	r->status = sqlite_column_dup(stmt, 6);
	r->reason = sqlite_column_dup(stmt, 7);
	r->reporting_mta = sqlite_column_dup(stmt, 8);
	r->verdict = sqlite_column_dup(stmt, 9);
	r->evidence = sqlite_column_dup(stmt, 10);
	r->orig_subject = sqlite_column_dup(stmt, 11);
	r->orig_from = sqlite_column_dup(stmt, 12);
	r->orig_message_id = sqlite_column_dup(stmt, 13);
	r->state = sqlite_column_dup(stmt, 14);
	r->state_changed = sqlite3_column_int64(stmt, 15);
	r->storm_id = sqlite3_column_int64(stmt, 16);
	r->size = sqlite3_column_int64(stmt, 17);
	raw = sqlite3_column_blob(stmt, 18);
	if (raw != NULL || sqlite3_column_type(stmt, 18) == SQLITE_BLOB) {
		int n = sqlite3_column_bytes(stmt, 18);
		r->raw = xmalloc((size_t)n + 1);
		if (n > 0)
			memcpy(r->raw, raw, (size_t)n);
		r->raw[n] = '\0';
		r->size = n;
	}
	return r;
}

static int sqlite_item_list(struct store *st, const struct store_filter *f,
			    store_record_cb *cb, void *context,
			    const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ITEM_LIST, error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, f->mailbox);
	sqlite_bind_text(stmt, 2, f->state);
	sqlite3_bind_int64(stmt, 3, f->since);
	sqlite3_bind_int64(stmt, 4, f->limit ? (long long)f->limit : -1);
	sqlite3_bind_int64(stmt, 5, f->offset);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_record *r = sqlite_record(stmt);
		int stop = cb(r, context) < 0;
		store_record_free(&r);
		if (stop)
			break;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, "list held messages");
		return -1;
	}
	return 0;
}

static int sqlite_item_get(struct store *st, long long id, int want_raw,
			   struct store_record **rec_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, want_raw ? STMT_ITEM_GET_RAW
					 : STMT_ITEM_GET, error_r);
	int rc;

	*rec_r = NULL;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*rec_r = sqlite_record(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, "read held message");
		return -1;
	}
	return 0;
}

static int sqlite_item_set_state(struct store *st, long long id,
				 const char *from_state, const char *to_state,
				 const char *actor, long long now,
				 int *changed_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ITEM_SET_STATE, error_r);

	*changed_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite_bind_text(stmt, 2, from_state);
	sqlite_bind_text(stmt, 3, to_state);
	sqlite3_bind_int64(stmt, 4, now);
	if (sqlite_step_done(s, stmt, "change state", error_r) < 0)
		return -1;
	*changed_r = sqlite3_changes(s->db) > 0;
	if (!*changed_r)
		return 0;
	return sqlite_audit_add(s, now, id, to_state, actor, from_state,
				error_r);
}

static int sqlite_item_expire(struct store *st, long long before,
			      unsigned int batch, long long now,
			      unsigned int *count_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *pick = sqlite_stmt(s, STMT_ITEM_EXPIRE_PICK, error_r);
	long long *ids;
	unsigned int n = 0;
	int rc;

	*count_r = 0;
	if (pick == NULL)
		return -1;
	ids = xcalloc(batch, sizeof(*ids));
	sqlite3_bind_int64(pick, 1, before);
	sqlite3_bind_int64(pick, 2, batch);
	while (n < batch && (rc = sqlite3_step(pick)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(pick, 0);
	sqlite3_reset(pick);
	for (unsigned int i = 0; i < n; i++) {
		sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ITEM_EXPIRE, error_r);
		if (stmt == NULL)
			goto fail;
		sqlite3_bind_int64(stmt, 1, ids[i]);
		sqlite3_bind_int64(stmt, 2, now);
		if (sqlite_step_done(s, stmt, "expire", error_r) < 0
		    || sqlite_audit_add(s, now, ids[i], "expired", "purge",
					NULL, error_r) < 0)
			goto fail;
	}
	free(ids);
	*count_r = n;
	return 0;
fail:
	free(ids);
	return -1;
}

static int sqlite_outbound_add(struct store *st, const char *message_id,
			       const char *sender, long long sent,
			       const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_OUTBOUND_ADD, error_r);

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, message_id);
	sqlite_bind_text(stmt, 2, sender);
	sqlite3_bind_int64(stmt, 3, sent);
	return sqlite_step_done(s, stmt, "record outbound message", error_r);
}

/* sqlite_outbound_copy - a text column into a fixed buffer */
static void sqlite_outbound_copy(sqlite3_stmt *stmt, int i, char *buf,
				 size_t size)
{
	const char *v = (const char *)sqlite3_column_text(stmt, i);

	snprintf(buf, size, "%s", v != NULL ? v : "");
}

static int sqlite_outbound_find(struct store *st, const char *const *ids,
				size_t count, struct store_outbound *rec_r,
				int *found_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_OUTBOUND_FIND, error_r);
	int rc;

	*found_r = 0;
	if (stmt == NULL)
		return -1;
	for (size_t i = 0; i < count && i < STORE_OUTBOUND_FIND_MAX; i++)
		sqlite_bind_text(stmt, (int)i + 1, ids[i]);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*found_r = 1;
		sqlite_outbound_copy(stmt, 0, rec_r->message_id,
				     sizeof(rec_r->message_id));
		sqlite_outbound_copy(stmt, 1, rec_r->sender,
				     sizeof(rec_r->sender));
		rec_r->sent = sqlite3_column_int64(stmt, 2);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, "look up outbound message");
		return -1;
	}
	return 0;
}

static int sqlite_outbound_expire(struct store *st, long long before,
				  unsigned int batch, unsigned int *count_r,
				  const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_OUTBOUND_EXPIRE, error_r);

	*count_r = 0;
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, before);
	sqlite3_bind_int64(stmt, 2, batch);
	if (sqlite_step_done(s, stmt, "expire outbound records", error_r) < 0)
		return -1;
	*count_r = (unsigned int)sqlite3_changes(s->db);
	return 0;
}

static int sqlite_reclaim(struct store *st, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	/* a bounded step, so that deliveries waiting for the lock wait
	   milliseconds, not the length of a full VACUUM */
	if (sqlite3_exec(s->db, "PRAGMA incremental_vacuum(2000)", NULL, NULL,
			 NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "reclaim space");
		return -1;
	}
	return 0;
}

/* sqlite_meter_lock - nothing to do: BEGIN IMMEDIATE already keeps
   every other writer out until commit */
static int sqlite_meter_lock(struct store *st, const char *mailbox,
			     const char **error_r)
{
	(void)st;
	(void)mailbox;
	(void)error_r;
	return 0;
}

/*
 * sqlite_digest_lock - a flock() on a file beside the database: every
 * process sharing the file shares the lock, and the kernel drops it when
 * its holder dies. Not a database row: a pass holds it for minutes while
 * pipe agents must keep writing.
 */
static int sqlite_digest_lock(struct store *st, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	char path[4200];
	int fd;

	if (s->digest_fd >= 0)
		return 1;
	snprintf(path, sizeof(path), "%s.digest-lock", s->path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		s->digest_fd = fd;
		return 1;
	}
	int busy = fd >= 0 && errno == EWOULDBLOCK;
	if (!busy) {
		snprintf(s->error, sizeof(s->error), "lock %.400s: %s", path,
			 strerror(errno));
		*error_r = s->error;
	}
	if (fd >= 0)
		close(fd);
	return busy ? 0 : -1;
}

static void sqlite_digest_unlock(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	if (s->digest_fd >= 0)
		close(s->digest_fd);
	s->digest_fd = -1;
}

static void sqlite_close(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	sqlite_digest_unlock(st);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static const struct store_vfuncs sqlite_vfuncs = {
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.meter_lock = sqlite_meter_lock,
	.arrival_add = sqlite_arrival_add,
	.arrival_prune = sqlite_arrival_prune,
	.arrival_count = sqlite_arrival_count,
	.arrival_nth_recent = sqlite_arrival_nth_recent,
	.storm_get_open = sqlite_storm_get_open,
	.storm_start = sqlite_storm_start,
	.storm_hit = sqlite_storm_hit,
	.storm_end = sqlite_storm_end,
	.item_add = sqlite_item_add,
	.item_list = sqlite_item_list,
	.item_get = sqlite_item_get,
	.item_set_state = sqlite_item_set_state,
	.item_expire = sqlite_item_expire,
	.reclaim = sqlite_reclaim,
	.outbound_add = sqlite_outbound_add,
	.outbound_find = sqlite_outbound_find,
	.outbound_expire = sqlite_outbound_expire,
	.stats_kinds = store_sqlite_stats_kinds,
	.stats_top = store_sqlite_stats_top,
	.storm_list = store_sqlite_storm_list,
	.stats_totals = store_sqlite_stats_totals,
	.stats_series = store_sqlite_stats_series,
	.storm_since = store_sqlite_storm_since,
	.digest_mailboxes = store_sqlite_digest_mailboxes,
	.digest_items = store_sqlite_digest_items,
	.digest_last_sent = store_sqlite_digest_last_sent,
	.digest_add = store_sqlite_digest_add,
	.digest_reply_find = store_sqlite_digest_reply_find,
	.digest_reply_items = store_sqlite_digest_reply_items,
	.digest_pending = store_sqlite_digest_pending,
	.digest_sent = store_sqlite_digest_sent,
	.digest_attempted = store_sqlite_digest_attempted,
	.digest_drop = store_sqlite_digest_drop,
	.digest_storms = store_sqlite_digest_storms,
	.digest_time_get = store_sqlite_digest_time_get,
	.digest_time_set = store_sqlite_digest_time_set,
	/* store-sqlite-release.c */
	.pref_get = store_sqlite_pref_get,
	.pref_set = store_sqlite_pref_set,
	.request_add = store_sqlite_request_add,
	.request_get = store_sqlite_request_get,
	.request_list = store_sqlite_request_list,
	.request_decide = store_sqlite_request_decide,
	.claim_get = store_sqlite_claim_get,
	.claim_take = store_sqlite_claim_take,
	.claim_update = store_sqlite_claim_update,
	.claim_expire = store_sqlite_claim_expire,
	.claim_drop = store_sqlite_claim_drop,
	.digest_lock = sqlite_digest_lock,
	.digest_unlock = sqlite_digest_unlock,
	.notice_take = store_sqlite_notice_take,
	/* store-sqlite-audit.c */
	.audit_list = store_sqlite_audit_list,
};

/* store_sqlite_db - the connection, for the backend's other files */
sqlite3 *store_sqlite_db(struct store *st)
{
	return ((struct store_sqlite *)st)->db;
}

int store_sqlite_schema_version(void)
{
	int v = 0;

	for (const struct migration *m = migrations; m->version; m++)
		v = m->version;
	return v;
}

static int sqlite_user_version(struct store_sqlite *s, int *version_r,
			       const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &stmt,
			       NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "read schema version");
		return -1;
	}
	rc = sqlite3_step(stmt);
	*version_r = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		*error_r = sqlite_error(s, "read schema version");
		return -1;
	}
	return 0;
}

static int sqlite_migrate_locked(struct store_sqlite *s,
				 const char **error_r);

/* sqlite_fk_clean - does PRAGMA foreign_key_check find nothing? */
static int sqlite_fk_clean(struct store_sqlite *s, const char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &stmt,
			       NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "check foreign keys");
		return -1;
	}
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_DONE)
		return 0;
	*error_r = rc == SQLITE_ROW ? "migration left a dangling reference"
		: sqlite_error(s, "check foreign keys");
	return -1;
}

/*
 * sqlite_migrate - bring the schema to the newest version. The version is
 * read again under the write lock, so concurrent first starts migrate
 * once. Foreign keys are off meanwhile (SQLite ignores the pragma inside
 * a transaction): a migration that rebuilds a referenced table drops the
 * old one, which with them on would delete or refuse to drop. They are
 * checked before the commit instead.
 */
static int sqlite_migrate(struct store_sqlite *s, const char **error_r)
{
	int ret;

	sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	ret = sqlite_migrate_locked(s, error_r);
	sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return ret;
}

/* sqlite_migrate_locked - sqlite_migrate() with foreign keys off */
static int sqlite_migrate_locked(struct store_sqlite *s, const char **error_r)
{
	int version;
	char pragma[64];

	if (sqlite_user_version(s, &version, error_r) < 0)
		return -1;
	if (version == store_sqlite_schema_version())
		return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "lock database for migration");
		return -1;
	}
	if (sqlite_user_version(s, &version, error_r) < 0)
		goto fail;
	if (version > store_sqlite_schema_version()) {
		snprintf(s->error, sizeof(s->error),
			 "database schema version %d is newer than this "
			 "ndrguard (%d)", version, store_sqlite_schema_version());
		*error_r = s->error;
		goto fail;
	}
	for (const struct migration *m = migrations; m->version; m++) {
		if (m->version <= version)
			continue;
		if (sqlite3_exec(s->db, m->sql, NULL, NULL, NULL) != SQLITE_OK) {
			*error_r = sqlite_error(s, m->name);
			goto fail;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 m->version);
		if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			*error_r = sqlite_error(s, "set schema version");
			goto fail;
		}
	}
	if (sqlite_fk_clean(s, error_r) < 0)
		goto fail;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "commit migration");
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * sqlite_keep_wal - the pipe agent is one process per message. By
 * default each process is the last to close: it checkpoints the WAL into
 * the database (four more fsyncs), deletes -wal and -shm, and the next
 * process creates them again. Keeping the WAL makes a commit cost one
 * WAL fsync, and checkpoints happen only once the WAL has grown past a
 * mark.
 *
 * A long-lived process (ndrguardd's store writer) asks for a high mark
 * and SQLite's own passive checkpoints: it keeps the -shm index alive,
 * so the WAL restarts from its start after each checkpoint, and the
 * pages every commit rewrites (index leaves, the storm's row) reach the
 * database file once per checkpoint rather than once every few commits.
 *
 * A short-lived process (checkpoint_pages 0) cannot rely on that. When
 * it opens the database alone, SQLite rebuilds the -shm index by reading
 * the whole WAL and forgets what was checkpointed, so a passive
 * checkpoint never lets the WAL restart: it grows without end and every
 * new process reads all of it. So once a commit leaves SQLITE_WAL_MARK
 * pages or more, sqlite_wal_hook() checkpoints in TRUNCATE mode: the
 * next process finds an empty WAL. It does not wait for other readers;
 * if one is busy the checkpoint copies what it can and a later commit
 * tries again. Durability is unchanged: every commit is still fsynced in
 * the WAL.
 */
#define SQLITE_WAL_MARK 128

static int sqlite_wal_hook(void *context, sqlite3 *db, const char *name,
			   int pages)
{
	struct store_sqlite *s = context;

	if (pages < SQLITE_WAL_MARK)
		return SQLITE_OK;
	/* no busy handler: a reader in the way is not worth waiting for */
	sqlite3_busy_handler(db, NULL, NULL);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL,
				  NULL);
	sqlite3_busy_handler(db, sqlite_busy, s);
	return SQLITE_OK;
}

static void sqlite_keep_wal(struct store_sqlite *s, unsigned int pages)
{
	int on = 1;

	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on);
	if (pages != 0)
		sqlite3_wal_autocheckpoint(s->db, (int)pages);
	else
		sqlite3_wal_hook(s->db, sqlite_wal_hook, s);
}

/*
 * sqlite_new_file_setup - auto_vacuum for a file that has no page yet.
 * It takes effect only there (before WAL mode writes the first page), and
 * lets purge give space back without a blocking VACUUM. Setting it on an
 * existing file is not a no-op: the pragma rewrites a header field in a
 * write transaction of its own, which cost every pipe agent a commit, a
 * WAL fsync and a directory fsync before its real work began.
 */
static int sqlite_new_file_setup(struct store_sqlite *s)
{
	sqlite3_stmt *stmt;
	int pages = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA page_count", -1, &stmt,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		pages = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (pages < 0)
		return -1;
	if (pages > 0)
		return 0;
	return sqlite3_exec(s->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL,
			    NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int sqlite_setup(struct store_sqlite *s, const struct store_options *opts,
			const char **error_r)
{
	s->busy_timeout_ms = opts->busy_timeout_ms;
	sqlite3_busy_handler(s->db, sqlite_busy, s);
	sqlite_keep_wal(s, opts->checkpoint_pages);
	sqlite3_extended_result_codes(s->db, 1);
	/* journal_mode=WAL persists in the file; setting it again is a
	   no-op read. */
	if (sqlite_new_file_setup(s) < 0
	    || sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL,
			 NULL) != SQLITE_OK
	    || sqlite3_exec(s->db, "PRAGMA synchronous = FULL;"
			    "PRAGMA foreign_keys = ON", NULL, NULL,
			    NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "set up database");
		return -1;
	}
	return sqlite_migrate(s, error_r);
}

/*
 * sqlite_create_private - make a missing database file empty, mode 0600.
 * SQLite would create it 0644 less the umask, readable by every local
 * user, and gives the -wal and -shm it makes later the database's mode.
 * An empty file is a valid new database. Any failure here is left for
 * sqlite3_open_v2() to report in its own words.
 */
static void sqlite_create_private(const char *path)
{
	int fd;

	if (*path == '\0' || strcmp(path, ":memory:") == 0
	    || strncmp(path, "file:", 5) == 0)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return;		/* EEXIST: keep the mode it has */
	/* the umask can only have taken bits away; make it exact */
	int failed = fchmod(fd, 0600) < 0;

	if (close(fd) < 0 || failed)
		unlink(path);
}

int store_sqlite_open(const char *path, const struct store_options *opts,
		      struct store **store_r, const char **error_r)
{
	static __thread char open_error[1024];
	struct store_sqlite *s = xcalloc(1, sizeof(*s));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
		| (opts->create ? SQLITE_OPEN_CREATE : 0);
	const char *err;

	s->store.v = &sqlite_vfuncs;
	s->digest_fd = -1;
	s->path = xstrdup(path);
	if (opts->create)
		sqlite_create_private(path);
	if (sqlite3_open_v2(path, &s->db, flags, store_sqlite_vfs())
	    != SQLITE_OK)
		err = s->db ? sqlite3_errmsg(s->db) : "out of memory";
	else if (sqlite_setup(s, opts, &err) == 0) {
		*store_r = &s->store;
		return 0;
	}
	snprintf(open_error, sizeof(open_error), "open %.400s: %.500s",
		 path, err);
	*error_r = open_error;
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	return -1;
}
