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
#include "migrations.h"
#include "xalloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	STMT_COUNT
};

static const char *const sqlite_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_ARRIVAL_ADD] =
		"INSERT OR IGNORE INTO arrival (mailbox, arrived, queue_id)"
		" VALUES (?1, ?2, ?3)",
	[STMT_ARRIVAL_PRUNE] =
		"DELETE FROM arrival WHERE mailbox = ?1 AND arrived < ?2",
	[STMT_ARRIVAL_COUNT] =
		"SELECT count(*) FROM arrival WHERE mailbox = ?1 AND arrived > ?2",
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
		" state_changed, size, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		" ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'held', ?4, ?15, ?16)",
	[STMT_ITEM_FIND] =
		"SELECT id FROM quarantine WHERE queue_id = ?1 AND recipient = ?2",
	[STMT_AUDIT_ADD] =
		"INSERT INTO audit (at, quarantine_id, action, actor, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
};

struct store_sqlite {
	struct store store;
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT_COUNT];
	char error[512];
};

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

static int sqlite_commit(struct store *st, const char **error_r)
{
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
				long long before, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_PRUNE, error_r);

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, before);
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
				long long since, unsigned int *count_r,
				const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ARRIVAL_COUNT, error_r);
	long long n = 0;
	int found;

	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, mailbox);
	sqlite3_bind_int64(stmt, 2, since);
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

/* sqlite_item_find - the id of an item already held for queue_id+rcpt */
static int sqlite_item_find(struct store_sqlite *s,
			    const struct store_item *item, long long *id_r,
			    int *found_r, const char **error_r)
{
	sqlite3_stmt *stmt = sqlite_stmt(s, STMT_ITEM_FIND, error_r);

	*found_r = 0;
	if (item->queue_id == NULL)
		return 0;
	if (stmt == NULL)
		return -1;
	sqlite_bind_text(stmt, 1, item->queue_id);
	sqlite_bind_text(stmt, 2, item->recipient);
	return sqlite_one_int(s, stmt, id_r, found_r, "find held message",
			      error_r);
}

static int sqlite_item_add(struct store *st, const struct store_item *item,
			   long long *id_r, int *duplicate_r,
			   const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)st;
	sqlite3_stmt *stmt;

	if (sqlite_item_find(s, item, id_r, duplicate_r, error_r) < 0)
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
	if (sqlite_step_done(s, stmt, "store message", error_r) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(s->db);
	return sqlite_audit_add(s, item->arrived, *id_r, "quarantined",
				"deliver", item->queue_id, error_r);
}

static void sqlite_close(struct store *st)
{
	struct store_sqlite *s = (struct store_sqlite *)st;

	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close(s->db);
	free(s);
}

static const struct store_vfuncs sqlite_vfuncs = {
	.close = sqlite_close,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.arrival_add = sqlite_arrival_add,
	.arrival_prune = sqlite_arrival_prune,
	.arrival_count = sqlite_arrival_count,
	.arrival_nth_recent = sqlite_arrival_nth_recent,
	.storm_get_open = sqlite_storm_get_open,
	.storm_start = sqlite_storm_start,
	.storm_hit = sqlite_storm_hit,
	.storm_end = sqlite_storm_end,
	.item_add = sqlite_item_add,
};

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

/*
 * sqlite_migrate - bring the schema to the newest version. The version is
 * read again under the write lock, so concurrent first starts migrate
 * once.
 */
static int sqlite_migrate(struct store_sqlite *s, const char **error_r)
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
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "commit migration");
		goto fail;
	}
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int sqlite_setup(struct store_sqlite *s, const struct store_options *opts,
			const char **error_r)
{
	sqlite3_busy_timeout(s->db, (int)opts->busy_timeout_ms);
	sqlite3_extended_result_codes(s->db, 1);
	/* journal_mode=WAL persists in the file; setting it is a no-op
	   read once it is there */
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL,
			 NULL) != SQLITE_OK
	    || sqlite3_exec(s->db, "PRAGMA synchronous = FULL;"
			    "PRAGMA foreign_keys = ON", NULL, NULL,
			    NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "set up database");
		return -1;
	}
	return sqlite_migrate(s, error_r);
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
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK)
		err = s->db ? sqlite3_errmsg(s->db) : "out of memory";
	else if (sqlite_setup(s, opts, &err) == 0) {
		*store_r = &s->store;
		return 0;
	}
	snprintf(open_error, sizeof(open_error), "open %.400s: %.500s",
		 path, err);
	*error_r = open_error;
	sqlite3_close(s->db);
	free(s);
	return -1;
}
