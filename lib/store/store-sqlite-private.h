/*
 * store-sqlite-private.h - shared between the SQLite backend's files
 *
 * store-sqlite.c owns the connection and the vtable; the functions of
 * the release page's tables (sql/0003-release.sql) live in
 * store-sqlite-release.c and reach the connection through
 * store_sqlite_db(). Nothing outside the backend includes this.
 */
#ifndef NDRGUARD_STORE_SQLITE_PRIVATE_H
#define NDRGUARD_STORE_SQLITE_PRIVATE_H

#include "store.h"
#include "store-private.h"

#include <sqlite3.h>

sqlite3 *store_sqlite_db(struct store *st);

/* store-sqlite-vfs.c: the VFS name to open the database with (NULL:
   SQLite's default, if ours could not be registered) */
#define STORE_SQLITE_VFS "ndrguard-unix"
const char *store_sqlite_vfs(void);

/* store-sqlite-util.c: prepare, run once, finalize */
const char *store_sqlite_fail(sqlite3 *db, const char *what);
sqlite3_stmt *store_sqlite_prepare(sqlite3 *db, const char *sql,
				   const char *what, const char **error_r);
/* store_sqlite_done - step a statement that returns no rows, finalize */
int store_sqlite_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what,
		      const char **error_r);
/* store_sqlite_finish - after a row loop ended with rc: finalize, and
   -1 with *error_r unless rc is SQLITE_ROW (stopped early) or DONE */
int store_sqlite_finish(sqlite3 *db, sqlite3_stmt *stmt, int rc,
			const char *what, const char **error_r);
/* store_sqlite_bind_text - NULL binds SQL NULL; s must outlive the step */
void store_sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s);

int store_sqlite_pref_get(struct store *st, const char *mailbox,
			  struct store_pref *pref_r, const char **error_r);
int store_sqlite_pref_set(struct store *st, const char *mailbox,
			  const struct store_pref *pref, long long now,
			  const char **error_r);
int store_sqlite_request_add(struct store *st, long long quarantine_id,
			     const char *actor, long long now, int *created_r,
			     const char **error_r);
int store_sqlite_request_get(struct store *st, long long quarantine_id,
			     struct store_request *req_r,
			     const char **error_r);
int store_sqlite_request_list(struct store *st, const char *state,
			      unsigned int limit, store_request_cb *cb,
			      void *context, const char **error_r);
int store_sqlite_request_decide(struct store *st, long long request_id,
				const char *to_state, const char *actor,
				long long now, int *changed_r,
				const char **error_r);
int store_sqlite_claim_get(struct store *st, long long id,
			   struct store_claim *claim_r, const char **error_r);
int store_sqlite_claim_take(struct store *st, const struct store_claim *claim,
			    const char *prev_owner, int force, int *taken_r,
			    const char **error_r);
int store_sqlite_claim_update(struct store *st, long long id,
			      const char *owner, long long handed,
			      const char *reply, int *changed_r,
			      const char **error_r);
int store_sqlite_claim_expire(struct store *st, long long id,
			      const char *owner, long long now,
			      const char **error_r);
int store_sqlite_claim_drop(struct store *st, long long id, const char *owner,
			    int *changed_r, const char **error_r);
/* store-sqlite-audit.c */
int store_sqlite_audit_list(struct store *st,
			    const struct store_filter *filter,
			    store_audit_cb *cb, void *context,
			    const char **error_r);
int store_sqlite_notice_take(struct store *st, const char *mailbox,
			     long long since, unsigned int cap,
			     unsigned int count, long long now, int *allowed_r,
			     const char **error_r);

/* store-sqlite-stats.c */
int store_sqlite_stats_kinds(struct store *st, store_count_cb *cb,
			     void *context, const char **error_r);
int store_sqlite_stats_top(struct store *st, int by_domain, long long since,
			   unsigned int limit, store_count_cb *cb,
			   void *context, const char **error_r);
int store_sqlite_storm_list(struct store *st, const struct store_calm *calm,
			    int active_only, unsigned int limit,
			    store_storm_row_cb *cb, void *context,
			    const char **error_r);
int store_sqlite_stats_totals(struct store *st, const struct store_calm *calm,
			      store_count_cb *cb, void *context,
			      const char **error_r);
int store_sqlite_stats_series(struct store *st, long long since,
			      unsigned int step, store_series_cb *cb,
			      void *context, const char **error_r);
int store_sqlite_storm_since(struct store *st, const struct store_calm *calm,
			     long long since, unsigned int limit,
			     store_storm_row_cb *cb, void *context,
			     const char **error_r);

/* store-sqlite-allow.c: the owner's actions (sql/0009-owner-actions.sql) */
int store_sqlite_storm_delete_held(struct store *st, long long storm_id,
				   const char *mailbox, const char *actor,
				   long long now, unsigned int *count_r,
				   const char **error_r);
int store_sqlite_allow_add(struct store *st, const char *mailbox,
			   const char *kind, const char *value,
			   const char *actor, long long now, long long *id_r,
			   int *created_r, const char **error_r);
int store_sqlite_allow_list(struct store *st, const char *mailbox,
			    store_allow_cb *cb, void *context,
			    const char **error_r);
int store_sqlite_allow_remove(struct store *st, long long id,
			      const char *mailbox, const char *actor,
			      long long now, int *removed_r,
			      const char **error_r);
int store_sqlite_allow_match(struct store *st, const char *mailbox,
			     const char *domain, const char *recipient,
			     long long *id_r, const char **error_r);

#endif
