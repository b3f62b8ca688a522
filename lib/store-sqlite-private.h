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

#include <sqlite3.h>

sqlite3 *store_sqlite_db(struct store *st);

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

#endif
