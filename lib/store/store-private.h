/*
 * store-private.h - what a store backend fills in
 *
 * store.c hands every store_*() call of store.h on to the backend's
 * function here; nothing but store.c and the backends (store-sqlite*.c,
 * store-pgsql*.c) and their own tests includes this. The comments in
 * store.h say what each operation does; only what a backend must know
 * besides is said here.
 */
#ifndef NDRGUARD_STORE_PRIVATE_H
#define NDRGUARD_STORE_PRIVATE_H

#include "store.h"

struct store_vfuncs {
	void (*close)(struct store *st);
	int (*begin)(struct store *st, const char **error_r);
	int (*commit)(struct store *st, const char **error_r);
	void (*rollback)(struct store *st);
	/* the storm meter's steps, which store_meter_arrival() (store.c)
	   runs in order after meter_lock: within the caller's transaction
	   that lock must keep every other writer of the mailbox's rows
	   waiting until commit (SQLite: its one writer at a time already
	   does; PostgreSQL: an advisory transaction lock) */
	int (*meter_lock)(struct store *st, const char *mailbox,
			  const char **error_r);
	int (*arrival_add)(struct store *st, const char *mailbox,
			   const char *queue_id, long long now,
			   const char **error_r);
	/* forget arrivals before `before`, and all but the newest keep */
	int (*arrival_prune)(struct store *st, const char *mailbox,
			     long long before, unsigned int keep,
			     const char **error_r);
	/* arrivals after `since`, counted up to cap at most */
	int (*arrival_count)(struct store *st, const char *mailbox,
			     long long since, unsigned int cap,
			     unsigned int *count_r, const char **error_r);
	int (*arrival_nth_recent)(struct store *st, const char *mailbox,
				  unsigned int n, long long *when_r,
				  const char **error_r);
	int (*storm_get_open)(struct store *st, const char *mailbox,
			      struct store_storm *storm_r,
			      const char **error_r);
	int (*storm_start)(struct store *st, const char *mailbox,
			   long long now, long long *id_r,
			   const char **error_r);
	int (*storm_hit)(struct store *st, long long id, long long now,
			 const char **error_r);
	int (*storm_end)(struct store *st, long long id, long long ended,
			 const char **error_r);
	int (*item_add)(struct store *st, const struct store_item *item,
			long long *id_r, int *duplicate_r,
			const char **error_r);
	/* newest first */
	int (*item_list)(struct store *st, const struct store_filter *filter,
			 store_record_cb *cb, void *context,
			 const char **error_r);
	/* *rec_r is NULL when there is no such id */
	int (*item_get)(struct store *st, long long id, int want_raw,
			struct store_record **rec_r, const char **error_r);
	/* change the state only if it is from_state; *changed_r says if it
	   was, and an audit line records who did it */
	int (*item_set_state)(struct store *st, long long id,
			      const char *from_state, const char *to_state,
			      const char *actor, long long now, int *changed_r,
			      const char **error_r);
	/* expire up to batch held items that arrived before `before`: the
	   row and its audit trail stay, the message bytes go */
	int (*item_expire)(struct store *st, long long before,
			   unsigned int batch, long long now,
			   unsigned int *count_r, const char **error_r);
	/* the outbound Message-ID index (sql/0008-outbound-index.sql):
	   see store_outbound_add() and the others in store.h */
	int (*outbound_add)(struct store *st, const char *message_id,
			    const char *sender, long long sent,
			    const char **error_r);
	int (*outbound_find)(struct store *st, const char *const *ids,
			     size_t count, struct store_outbound *rec_r,
			     int *found_r, const char **error_r);
	int (*outbound_expire)(struct store *st, long long before,
			       unsigned int batch, unsigned int *count_r,
			       const char **error_r);
	/* give freed pages back to the file system, a few at a time */
	int (*reclaim)(struct store *st, const char **error_r);
	/* statistics: held messages by kind and
	   state; the most targeted mailboxes (or domains) by messages held
	   since `since`, at most limit; storms, newest first */
	int (*stats_kinds)(struct store *st, store_count_cb *cb, void *context,
			   const char **error_r);
	int (*stats_top)(struct store *st, int by_domain, long long since,
			 unsigned int limit, store_count_cb *cb, void *context,
			 const char **error_r);
	int (*storm_list)(struct store *st, const struct store_calm *calm,
			  int active_only, unsigned int limit,
			  store_storm_row_cb *cb, void *context,
			  const char **error_r);
	/* for /metrics: (group, name, value) rows: "audit" by action,
	   "storm" "active", "digest" "sent"/"pending"/"failed_sends",
	   "database" "bytes" */
	int (*stats_totals)(struct store *st, const struct store_calm *calm,
			    store_count_cb *cb, void *context,
			    const char **error_r);
	/* messages held since `since`, by state, in buckets of step
	   seconds from since; buckets without messages are left out */
	int (*stats_series)(struct store *st, long long since,
			    unsigned int step, store_series_cb *cb,
			    void *context, const char **error_r);
	/* storms still going or that ended at or after since, oldest
	   first, at most limit */
	int (*storm_since)(struct store *st, const struct store_calm *calm,
			   long long since, unsigned int limit,
			   store_storm_row_cb *cb, void *context,
			   const char **error_r);
	/* digests (sql/0002-digest.sql). Mailboxes (all, or only mailbox
	   when not NULL) with held messages no digest covers yet */
	int (*digest_mailboxes)(struct store *st, const char *mailbox,
				store_mailbox_cb *cb, void *context,
				const char **error_r);
	/* those messages of one mailbox: verdict legit, then unknown,
	   then backscatter; newest first within each */
	int (*digest_items)(struct store *st, const char *mailbox,
			    store_record_cb *cb, void *context,
			    const char **error_r);
	/* when the newest sent digest to mailbox went out (0: never) */
	int (*digest_last_sent)(struct store *st, const char *mailbox,
				long long *sent_r, const char **error_r);
	/* record a pending digest (with its bytes) covering items[];
	   fails if one of them is covered already. Call it inside a
	   transaction: the digest and its items go in together */
	int (*digest_add)(struct store *st, const struct store_digest *dg,
			  const long long *items, size_t count,
			  long long *id_r, const char **error_r);
	/* release by reply (sql/0010-digest-reply.sql): the digest whose
	   reply address carries ref, and the items it covers */
	int (*digest_reply_find)(struct store *st, const char *ref,
				 struct store_digest *dg_r, int *found_r,
				 const char **error_r);
	int (*digest_reply_items)(struct store *st, long long digest_id,
				  store_reply_item_cb *cb, void *context,
				  const char **error_r);
	/* pending digests (of mailbox, or all), oldest first */
	int (*digest_pending)(struct store *st, const char *mailbox,
			      store_digest_cb *cb, void *context,
			      const char **error_r);
	/* the relay accepted it: pending -> sent, its bytes dropped */
	int (*digest_sent)(struct store *st, long long id, long long now,
			   const char **error_r);
	/* a send of a pending digest failed: count it, keep the digest */
	int (*digest_attempted)(struct store *st, long long id,
				const char **error_r);
	/* the relay refused a first send: forget the pending digest and
	   its items, so the next run lists them again */
	int (*digest_drop)(struct store *st, long long id,
			   const char **error_r);
	/* the mailbox's storms that held messages no digest covers yet,
	   or that started at or after since; oldest first */
	int (*digest_storms)(struct store *st, const char *mailbox,
			     long long since, store_storm_cb *cb,
			     void *context, const char **error_r);
	/* the mailbox's own digest time, "HH:MM" (sql/0004-digest-time.sql);
	   time_r[0] is '\0' when it has none */
	int (*digest_time_get)(struct store *st, const char *mailbox,
			       char time_r[6], const char **error_r);
	/* set it, or with hhmm NULL go back to digest_time */
	int (*digest_time_set)(struct store *st, const char *mailbox,
			       const char *hhmm, long long now,
			       const char **error_r);
	/* the mailbox's preferences; the defaults when it has none */
	int (*pref_get)(struct store *st, const char *mailbox,
			struct store_pref *pref_r, const char **error_r);
	int (*pref_set)(struct store *st, const char *mailbox,
			const struct store_pref *pref, long long now,
			const char **error_r);
	/* record a pending request unless one is pending: *created_r */
	int (*request_add)(struct store *st, long long quarantine_id,
			   const char *actor, long long now, int *created_r,
			   const char **error_r);
	/* the item's newest request (req_r->id == 0 when none) */
	int (*request_get)(struct store *st, long long quarantine_id,
			   struct store_request *req_r, const char **error_r);
	/* requests in state (NULL: all), oldest first */
	int (*request_list)(struct store *st, const char *state,
			    unsigned int limit, store_request_cb *cb,
			    void *context, const char **error_r);
	/* pending -> to_state; *changed_r is 0 if it was not pending */
	int (*request_decide)(struct store *st, long long request_id,
			      const char *to_state, const char *actor,
			      long long now, int *changed_r,
			      const char **error_r);
	/* release claims; the caller wraps each write in
	   store_begin()/store_commit(). The item's claim
	   (claim_r->quarantine_id == 0 when none) */
	int (*claim_get)(struct store *st, long long id,
			 struct store_claim *claim_r, const char **error_r);
	/* held -> releasing under claim (prev_owner NULL), or take over
	   the claim of prev_owner: only one never handed on unless force;
	   *taken_r is 0 when the item or claim was not as expected */
	int (*claim_take)(struct store *st, const struct store_claim *claim,
			  const char *prev_owner, int force, int *taken_r,
			  const char **error_r);
	/* set handed (when > 0) and reply (when not NULL) of owner's claim;
	   *changed_r is 0 when owner holds no claim on id */
	int (*claim_update)(struct store *st, long long id, const char *owner,
			    long long handed, const char *reply,
			    int *changed_r, const char **error_r);
	/* owner's attempt ended with the claim left (in doubt, or not put
	   back): its lease ends now, so others need not wait for it */
	int (*claim_expire)(struct store *st, long long id, const char *owner,
			    long long now, const char **error_r);
	/* releasing -> held, forgetting owner's claim */
	int (*claim_drop)(struct store *st, long long id, const char *owner,
			  int *changed_r, const char **error_r);
	/* store_digest_lock(), store_digest_unlock() (store.h) */
	int (*digest_lock)(struct store *st, const char **error_r);
	void (*digest_unlock)(struct store *st);
	/* record a mail to release_notify for mailbox's request of count
	   items unless cap mails went out since `since`: *allowed_r */
	int (*notice_take)(struct store *st, const char *mailbox,
			   long long since, unsigned int cap,
			   unsigned int count, long long now, int *allowed_r,
			   const char **error_r);
	/* the audit trail: see store_audit_list() */
	int (*audit_list)(struct store *st, const struct store_filter *filter,
			  store_audit_cb *cb, void *context,
			  const char **error_r);
};

struct store {
	const struct store_vfuncs *v;
};

/* store_sqlite_open - the SQLite backend (store-sqlite.c) */
int store_sqlite_open(const char *path, const struct store_options *opts,
		      struct store **store_r, const char **error_r);
/* store_sqlite_schema_version - newest SQLite schema this build knows */
int store_sqlite_schema_version(void);

/* store_pgsql_open - the PostgreSQL backend (store-pgsql.c), given a
   libpq connection URI; without libpq at build time it fails, saying so */
int store_pgsql_open(const char *uri, const struct store_options *opts,
		     struct store **store_r, const char **error_r);
/* store_pgsql_schema_version - newest PostgreSQL schema this build knows */
int store_pgsql_schema_version(void);

#endif
