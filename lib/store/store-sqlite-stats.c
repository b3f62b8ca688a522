/*
 * store-sqlite-stats.c - what `ndrguard stats`, `ndrguard storms`, /metrics
 * and the admin statistics page read
 *
 * Read-only queries over the quarantine and storm tables; each runs in
 * its own implicit read transaction, so they never hold up deliveries.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <string.h>

/* stats_rows - run stmt, hand (text, text, int) rows to cb, finalize */
static int stats_rows(sqlite3 *db, sqlite3_stmt *stmt, store_count_cb *cb,
		      void *context, const char **error_r)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 0);
		const char *state = (const char *)sqlite3_column_text(stmt, 1);
		if (cb(name ? name : "", state, sqlite3_column_int64(stmt, 2),
		       context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "statistics", error_r);
}

int store_sqlite_stats_kinds(struct store *st, store_count_cb *cb,
			     void *context, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT kind, state, count(*) FROM quarantine"
		" GROUP BY kind, state ORDER BY kind, state",
		"statistics by kind", error_r);

	return stmt ? stats_rows(db, stmt, cb, context, error_r) : -1;
}

int store_sqlite_stats_top(struct store *st, int by_domain, long long since,
			   unsigned int limit, store_count_cb *cb,
			   void *context, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db, by_domain
		? "SELECT lower(substr(recipient, instr(recipient, '@') + 1)) AS d,"
		  " NULL, count(*) AS n FROM quarantine WHERE arrived >= ?1"
		  " GROUP BY d ORDER BY n DESC, d LIMIT ?2"
		: "SELECT lower(recipient) AS r, NULL, count(*) AS n"
		  " FROM quarantine WHERE arrived >= ?1"
		  " GROUP BY r ORDER BY n DESC, r LIMIT ?2",
		"top targets", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, since);
	sqlite3_bind_int64(stmt, 2, limit);
	return stats_rows(db, stmt, cb, context, error_r);
}

/*
 * A storm row's end as shown (struct store_calm): ?8 is now, ?9 the
 * cooldown. An open row whose last message is older than the cooldown
 * ended at last_seen + cooldown, as the next message will record it.
 */
#define STORM_ENDED "coalesce(ended, CASE WHEN last_seen + ?9 < ?8" \
	" THEN last_seen + ?9 END)"

/* storm_bind_calm - ?8 and ?9 of a query that uses STORM_ENDED */
static void storm_bind_calm(sqlite3_stmt *stmt, const struct store_calm *calm)
{
	sqlite3_bind_int64(stmt, 8, calm->now);
	sqlite3_bind_int64(stmt, 9, calm->cooldown);
}

/* storm_rows - run stmt, hand its storm rows to cb, finalize */
static int storm_rows(sqlite3 *db, sqlite3_stmt *stmt, store_storm_row_cb *cb,
		      void *context, const char **error_r)
{
	struct store_storm_row row;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.id = sqlite3_column_int64(stmt, 0);
		row.mailbox = (const char *)sqlite3_column_text(stmt, 1);
		row.started = sqlite3_column_int64(stmt, 2);
		row.last_seen = sqlite3_column_int64(stmt, 3);
		row.ended = sqlite3_column_int64(stmt, 4);
		row.count = sqlite3_column_int64(stmt, 5);
		if (cb(&row, context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "list storms", error_r);
}

int store_sqlite_storm_list(struct store *st, const struct store_calm *calm,
			    int active_only, unsigned int limit,
			    store_storm_row_cb *cb, void *context,
			    const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT id, mailbox, started, last_seen, " STORM_ENDED ", count"
		" FROM storm WHERE (?1 = 0 OR " STORM_ENDED " IS NULL)"
		" ORDER BY started DESC, id DESC LIMIT ?2",
		"list storms", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, active_only);
	sqlite3_bind_int64(stmt, 2, limit ? (long long)limit : -1);
	storm_bind_calm(stmt, calm);
	return storm_rows(db, stmt, cb, context, error_r);
}

/* the newest `limit` of them, handed over oldest first */
int store_sqlite_storm_since(struct store *st, const struct store_calm *calm,
			     long long since, unsigned int limit,
			     store_storm_row_cb *cb, void *context,
			     const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT * FROM (SELECT id, mailbox, started, last_seen, e, count"
		" FROM (SELECT *, " STORM_ENDED " AS e FROM storm)"
		" WHERE e IS NULL OR e >= ?1"
		" ORDER BY started DESC, id DESC LIMIT ?2)"
		" ORDER BY started, id",
		"recent storms", error_r);

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, since);
	sqlite3_bind_int64(stmt, 2, limit ? (long long)limit : -1);
	storm_bind_calm(stmt, calm);
	return storm_rows(db, stmt, cb, context, error_r);
}

/*
 * The figures /metrics shows besides the held messages by kind: each a
 * (group, name, value) row. The audit log and the digest table are read
 * whole; both grow by a row per message or digest, which an aggregate
 * scans in well under a second even at millions of rows.
 */
int store_sqlite_stats_totals(struct store *st, const struct store_calm *calm,
			      store_count_cb *cb, void *context,
			      const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT 'audit', action, count(*) FROM audit GROUP BY action"
		" UNION ALL SELECT 'storm', 'active', count(*) FROM storm"
		"  WHERE " STORM_ENDED " IS NULL"
		" UNION ALL SELECT 'storm', 'all', count(*) FROM storm"
		" UNION ALL SELECT 'digest', 'sent', count(*) FROM digest"
		"  WHERE state = 'sent'"
		" UNION ALL SELECT 'digest', 'pending', count(*) FROM digest"
		"  WHERE state = 'pending'"
		" UNION ALL SELECT 'digest', 'failed_sends',"
		"  coalesce(sum(attempts), 0) FROM digest"
		" UNION ALL SELECT 'database', 'bytes', p.page_count * s.page_size"
		"  FROM pragma_page_count() AS p, pragma_page_size() AS s",
		"totals", error_r);

	if (stmt == NULL)
		return -1;
	storm_bind_calm(stmt, calm);
	return stats_rows(db, stmt, cb, context, error_r);
}

int store_sqlite_stats_series(struct store *st, long long since,
			      unsigned int step, store_series_cb *cb,
			      void *context, const char **error_r)
{
	sqlite3 *db = store_sqlite_db(st);
	sqlite3_stmt *stmt = store_sqlite_prepare(db,
		"SELECT ?1 + (arrived - ?1) / ?2 * ?2 AS b, state, count(*)"
		" FROM quarantine WHERE arrived >= ?1"
		" GROUP BY b, state ORDER BY b, state",
		"series", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, since);
	sqlite3_bind_int64(stmt, 2, step > 0 ? step : 1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(stmt, 1);

		if (cb(sqlite3_column_int64(stmt, 0), state ? state : "",
		       sqlite3_column_int64(stmt, 2), context) < 0)
			break;
	}
	return store_sqlite_finish(db, stmt, rc, "series", error_r);
}
