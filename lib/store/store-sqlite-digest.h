/*
 * store-sqlite-digest.h - the SQLite backend's digest functions
 *
 * Private to the backend: store-sqlite.c puts these in its vtable;
 * store-sqlite-digest.c implements them (see store.h for what each does).
 */
#ifndef NDRGUARD_STORE_SQLITE_DIGEST_H
#define NDRGUARD_STORE_SQLITE_DIGEST_H

#include "store.h"

int store_sqlite_digest_mailboxes(struct store *st, const char *mailbox,
				  store_mailbox_cb *cb, void *context,
				  const char **error_r);
int store_sqlite_digest_items(struct store *st, const char *mailbox,
			      store_record_cb *cb, void *context,
			      const char **error_r);
int store_sqlite_digest_last_sent(struct store *st, const char *mailbox,
				  long long *sent_r, const char **error_r);
int store_sqlite_digest_reply_find(struct store *st, const char *ref,
				   struct store_digest *dg_r, int *found_r,
				   const char **error_r);
int store_sqlite_digest_reply_items(struct store *st, long long digest_id,
				    store_reply_item_cb *cb, void *context,
				    const char **error_r);
int store_sqlite_digest_add(struct store *st, const struct store_digest *dg,
			    const long long *items, size_t count,
			    long long *id_r, const char **error_r);
int store_sqlite_digest_pending(struct store *st, const char *mailbox,
				store_digest_cb *cb, void *context,
				const char **error_r);
int store_sqlite_digest_sent(struct store *st, long long id, long long now,
			     const char **error_r);
int store_sqlite_digest_attempted(struct store *st, long long id,
				  const char **error_r);
int store_sqlite_digest_drop(struct store *st, long long id,
			     const char **error_r);
int store_sqlite_digest_storms(struct store *st, const char *mailbox,
			       long long since, store_storm_cb *cb,
			       void *context, const char **error_r);
int store_sqlite_digest_time_get(struct store *st, const char *mailbox,
				 char time_r[6], const char **error_r);
int store_sqlite_digest_time_set(struct store *st, const char *mailbox,
				 const char *hhmm, long long now,
				 const char **error_r);

#endif
