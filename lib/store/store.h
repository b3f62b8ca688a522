/*
 * store.h - the quarantine store: held messages, storm meter data, audit
 *
 * Callers see only these functions; the backend (store-sqlite*.c, one
 * file shared by the processes of one host, or store-pgsql*.c, one
 * PostgreSQL database shared by several MX hosts) is chosen by the
 * location's form and stays behind them (store-private.h). Every
 * function returns 0 on success or -1 with *error_r
 * (valid until the next call on the same store). A failure means "try
 * again later": callers tempfail, they never bounce.
 *
 * Writes happen inside store_begin()/store_commit(); store_commit()
 * returns only once the transaction is durable. store_rollback() is safe
 * to call after a failed step.
 *
 * Ownership: store_open() returns a store the caller closes with
 * store_close(), which NULLs the caller's pointer. Strings passed in are
 * copied by the backend as needed; strings returned in a struct
 * store_storm are not used (storms carry numbers only).
 */
#ifndef NDRGUARD_STORE_H
#define NDRGUARD_STORE_H

#include <stddef.h>

struct store;

struct store_options {
	unsigned int busy_timeout_ms;
	int create;		/* create and migrate the database if needed */
	/* WAL pages before a commit checkpoints; 0: a mark for a
	   short-lived process (see store-sqlite.c) */
	unsigned int checkpoint_pages;
};

/* what a held message is stored with */
struct store_item {
	const char *queue_id;	/* may be NULL */
	const char *sender;
	const char *recipient;
	long long arrived;
	const char *kind, *status, *reason, *reporting_mta;
	const char *verdict, *evidence;
	const char *orig_subject, *orig_from, *orig_message_id;
	long long storm_id;	/* 0: none */
	const char *raw;
	size_t size;
};

struct store_storm {
	long long id;		/* 0: no open storm */
	long long started;
	long long last_seen;
	long long count;
};

/* a held message as read back; every string may be NULL */
struct store_record {
	long long id;
	char *queue_id, *sender, *recipient;
	long long arrived;
	char *kind, *status, *reason, *reporting_mta;
	char *verdict, *evidence;
	char *orig_subject, *orig_from, *orig_message_id;
	char *state;
	long long state_changed;
	long long storm_id;
	long long size;
	char *raw;		/* only when asked for; size bytes */
};

struct store_filter {
	const char *mailbox;	/* NULL: every mailbox */
	const char *state;	/* NULL: every state */
	long long since;	/* arrived at or after; 0: any time */
	unsigned int limit;	/* 0: no limit */
	unsigned int offset;	/* skip this many first (paging) */
};

/* a message we sent, as the outbound index holds it */
struct store_outbound {
	char message_id[256];	/* normalised (msgid.h) */
	char sender[256];	/* envelope sender; "" for the null sender */
	long long sent;		/* unix time */
};

/* a mailbox owner's choices (sql/0003-release.sql) */
struct store_pref {
	char digest[8];		/* "daily", "storms" or "never" */
	char lang[4];		/* "en", "es" or "" (the browser's) */
};

/* a release request (release_mode = request) */
struct store_request {
	long long id;		/* 0: none */
	long long quarantine_id;
	long long requested;
	long long decided;	/* 0: pending */
	char state[12];		/* "pending", "approved" or "refused" */
	char requested_by[96];
	char decided_by[96];
};

/* the claim of an item being released (sql/0007-release-claim.sql) */
struct store_claim {
	long long quarantine_id;	/* 0: none */
	char owner[128];		/* "host:pid:random" */
	char actor[96];
	long long claimed;
	long long lease;		/* stands until then */
	long long handed;		/* 0: not handed on yet */
	char reply[512];		/* the hop's answer; "": none yet */
};

/* store_request_cb - called per listed request; return -1 to stop */
typedef int store_request_cb(const struct store_request *req, void *context);

/*
 * When an open storm counts as over for what is shown: its last message
 * came more than cooldown (storm_cooldown) seconds before now. The row
 * stays open until the next message ends it (storm.c), but it ended then
 * already: it is listed as ended at last_seen + cooldown.
 */
struct store_calm {
	long long now;
	unsigned int cooldown;
};

/* a storm as `ndrguard storms` lists it */
struct store_storm_row {
	long long id;
	const char *mailbox;
	long long started, last_seen;
	long long ended;	/* 0: still going */
	long long count;	/* messages held in it */
};

/* a line of the audit trail, with what it is about; strings may be NULL */
struct store_audit {
	long long id, at;
	long long quarantine_id;
	const char *action;	/* quarantined, released, deleted, expired */
	const char *actor, *detail;
	const char *mailbox, *sender, *queue_id;
	const char *kind, *reason, *verdict;
};

/* store_audit_cb - called per audit line; return -1 to stop */
typedef int store_audit_cb(const struct store_audit *line, void *context);

/* store_count_cb - one (name, state, count) row of a statistic */
typedef int store_count_cb(const char *name, const char *state,
			   long long count, void *context);
typedef int store_storm_row_cb(const struct store_storm_row *storm,
			       void *context);

/* store_series_cb - held messages in state that arrived in the bucket
   starting at `bucket` (a unix time) */
typedef int store_series_cb(long long bucket, const char *state,
			    long long count, void *context);

/* store_record_cb - called per listed record; return -1 to stop */
typedef int store_record_cb(const struct store_record *rec, void *context);

/* a digest as recorded (sql/0002-digest.sql); strings are borrowed */
struct store_digest {
	long long id;
	const char *mailbox;
	const char *message_id;
	long long created;
	long long sent;			/* 0: pending */
	unsigned int item_count;	/* held messages it covers */
	unsigned int attempts;		/* sends that failed so far */
	const char *message;		/* pending: the exact bytes; else NULL */
	size_t size;
	/* release by reply (sql/0010-digest-reply.sql): the reference in
	   its reply address (NULL: none), and how many of the items, from
	   the first, the digest lists under the numbers 1, 2, ... */
	const char *reply_ref;
	unsigned int numbered;
};

/* an item of a digest as a reply names it: its number and its id */
struct store_reply_item {
	unsigned int number;		/* 0: covered but not listed */
	long long quarantine_id;
	const char *state;		/* "held", "released", ... */
	const char *orig_message_id;	/* may be NULL */
};
/* store_reply_item_cb - called per item; return -1 to stop */
typedef int store_reply_item_cb(const struct store_reply_item *item,
				void *context);

/* store_digest_cb - called per listed digest; return -1 to stop */
typedef int store_digest_cb(const struct store_digest *dg, void *context);
/* store_mailbox_cb - a mailbox with count held messages no digest
   covers yet; return -1 to stop */
typedef int store_mailbox_cb(const char *mailbox, unsigned int count,
			     void *context);
/* store_storm_cb - a storm (ended: 0 while it goes on); -1 to stop */
typedef int store_storm_cb(const struct store_storm *storm, long long ended,
			   void *context);

/*
 * store_open - open the store named by location: a file path or
 * "sqlite:/path" (SQLite), or a libpq URI "postgresql://..." or
 * "postgres://..." (PostgreSQL, when built with libpq); create (SQLite)
 * and migrate the schema when opts->create is set.
 */
int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, const char **error_r);
void store_close(struct store **_st);
void store_record_free(struct store_record **_rec);

/*
 * store_raw_hash - a 64-bit FNV-1a hash of the message bytes as 16 hex
 * digits: with the queue id and recipient it tells a retry of a held
 * message (same bytes) from another message under a reused queue id
 */
#define STORE_RAW_HASH_LEN 17
void store_raw_hash(const char *raw, size_t size,
		    char out[STORE_RAW_HASH_LEN]);

/*
 * store_begin, store_commit, store_rollback - a write transaction.
 * store_commit() returns once it is durable; store_rollback() is safe
 * after any failed step, and a no-op outside a transaction.
 */
int store_begin(struct store *st, const char **error_r);
int store_commit(struct store *st, const char **error_r);
void store_rollback(struct store *st);

/* what store_meter_arrival() decided for one arrival */
struct store_meter {
	unsigned int window_count;	/* arrivals in the window, capped at
					   the threshold */
	int hold;			/* hold this message */
	int started;			/* ... which opened a new storm */
	long long storm_id;		/* the storm it counts in; 0: none */
};

/*
 * store_meter_arrival - count one backscatter arrival for mailbox (the
 * lower-cased address) and decide, under storm_decide()'s rules, whether
 * it is held; open, count or end the mailbox's storm to match. Call it
 * inside store_begin()/store_commit(). It is one step for every writer
 * of the store: two processes, or two hosts on a shared database,
 * metering the same mailbox at once see each other's arrivals, never a
 * count taken before the other's write.
 */
struct storm_params;
int store_meter_arrival(struct store *st, const char *mailbox,
			const char *queue_id, long long now,
			const struct storm_params *params,
			struct store_meter *meter_r, const char **error_r);

/*
 * store_digest_lock - one digest pass (or purge) at a time over the whole
 * store, whichever process or host runs it: a pass must tell a pending
 * digest another live pass is sending from one a crash left. Returns 1
 * when the lock is now held, 0 when another holder has it, -1 with
 * *error_r. The lock goes when its holder's process dies or its
 * connection ends. store_digest_unlock() releases it (a no-op when not
 * held).
 */
int store_digest_lock(struct store *st, const char **error_r);
void store_digest_unlock(struct store *st);

/* store_location_is_server - a libpq URI rather than a file
   (store-location.c, as the three below) */
int store_location_is_server(const char *location);
/*
 * store_location_file - the SQLite file a `database` value names (the
 * value itself, or what follows "sqlite:"), or NULL when it names a
 * server (postgresql://, postgres://). Points into location.
 */
const char *store_location_file(const char *location);
/*
 * store_location_check - NULL when location is a form store_open()
 * takes, else why not; *has_password_r says whether it carries a
 * password that whoever reads the config file can read too.
 */
const char *store_location_check(const char *location, int *has_password_r);
/* store_exists - 0 when location is a SQLite file not made yet (nothing
   was ever held), else 1: a server is asked when opened */
int store_exists(const char *location);

int store_item_add(struct store *st, const struct store_item *item,
		   long long *id_r, int *duplicate_r, const char **error_r);
/* newest first */
int store_item_list(struct store *st, const struct store_filter *filter,
		    store_record_cb *cb, void *context, const char **error_r);
/* *rec_r is NULL when there is no such id */
int store_item_get(struct store *st, long long id, int want_raw,
		   struct store_record **rec_r, const char **error_r);
/* change the state only if it is from_state; *changed_r says if it
   was, and an audit line records who did it */
int store_item_set_state(struct store *st, long long id,
			 const char *from_state, const char *to_state,
			 const char *actor, long long now, int *changed_r,
			 const char **error_r);
/* expire up to batch held items that arrived before `before`: the
   row and its audit trail stay, the message bytes go */
int store_item_expire(struct store *st, long long before, unsigned int batch,
		      long long now, unsigned int *count_r,
		      const char **error_r);
/*
 * The outbound Message-ID index (sql/0008-outbound-index.sql), filled
 * by ndrguard-milter. Message-IDs are passed normalised (msgid.h).
 *
 * store_outbound_add - record a message we sent; a Message-ID already
 * recorded keeps its first record (a retry is not an error). A write:
 * inside store_begin()/store_commit().
 */
int store_outbound_add(struct store *st, const char *message_id,
		       const char *sender, long long sent,
		       const char **error_r);
/*
 * store_outbound_find - is any of ids[0..count) ours? One indexed read
 * for up to STORE_OUTBOUND_FIND_MAX of them (more are ignored); *found_r
 * says, and *rec_r is the record found
 */
#define STORE_OUTBOUND_FIND_MAX 8
int store_outbound_find(struct store *st, const char *const *ids,
			size_t count, struct store_outbound *rec_r,
			int *found_r, const char **error_r);
/* store_outbound_expire - forget up to batch records sent before
   `before`; *count_r says how many went */
int store_outbound_expire(struct store *st, long long before,
			  unsigned int batch, unsigned int *count_r,
			  const char **error_r);
/* store_outbound_expire_all - store_outbound_expire() in transactions
   of `batch` records each until none is left; *total_r adds up what
   went, also when an error ends it */
int store_outbound_expire_all(struct store *st, long long before,
			      unsigned int batch, unsigned long long *total_r,
			      const char **error_r);
/* give freed pages back to the file system, a few at a time */
int store_reclaim(struct store *st, const char **error_r);
/* statistics (store-sqlite-stats.c): held messages by kind and
   state; the most targeted mailboxes (or domains) by messages held
   since `since`, at most limit; storms, newest first */
int store_stats_kinds(struct store *st, store_count_cb *cb, void *context,
		      const char **error_r);
int store_stats_top(struct store *st, int by_domain, long long since,
		    unsigned int limit, store_count_cb *cb, void *context,
		    const char **error_r);
int store_storm_list(struct store *st, const struct store_calm *calm,
		     int active_only, unsigned int limit,
		     store_storm_row_cb *cb, void *context,
		     const char **error_r);
/* for /metrics: (group, name, value) rows: "audit" by action,
   "storm" "active", "digest" "sent"/"pending"/"failed_sends",
   "database" "bytes" */
int store_stats_totals(struct store *st, const struct store_calm *calm,
		       store_count_cb *cb, void *context,
		       const char **error_r);
/* messages held since `since`, by state, in buckets of step
   seconds from since; buckets without messages are left out */
int store_stats_series(struct store *st, long long since, unsigned int step,
		       store_series_cb *cb, void *context,
		       const char **error_r);
/* storms still going or that ended at or after since, oldest
   first, at most limit */
int store_storm_since(struct store *st, const struct store_calm *calm,
		      long long since, unsigned int limit,
		      store_storm_row_cb *cb, void *context,
		      const char **error_r);
/* digests (sql/0002-digest.sql). Mailboxes (all, or only mailbox
   when not NULL) with held messages no digest covers yet */
int store_digest_mailboxes(struct store *st, const char *mailbox,
			   store_mailbox_cb *cb, void *context,
			   const char **error_r);
/* those messages of one mailbox: verdict legit, then unknown,
   then backscatter; newest first within each */
int store_digest_items(struct store *st, const char *mailbox,
		       store_record_cb *cb, void *context,
		       const char **error_r);
/* when the newest sent digest to mailbox went out (0: never) */
int store_digest_last_sent(struct store *st, const char *mailbox,
			   long long *sent_r, const char **error_r);
/* record a pending digest (with its bytes) covering items[];
   fails if one of them is covered already. Call it inside a
   transaction: the digest and its items go in together */
int store_digest_add(struct store *st, const struct store_digest *dg,
		     const long long *items, size_t count, long long *id_r,
		     const char **error_r);
/* store_digest_reply_find - the digest whose reply address carries ref:
   *found_r 0 when none; else dg_r's id, mailbox (caller frees with
   free((char *)dg_r->mailbox)), created, item_count */
int store_digest_reply_find(struct store *st, const char *ref,
			    struct store_digest *dg_r, int *found_r,
			    const char **error_r);
/* store_digest_reply_items - the items digest_id covers, numbered ones
   first in their order */
int store_digest_reply_items(struct store *st, long long digest_id,
			     store_reply_item_cb *cb, void *context,
			     const char **error_r);
/* pending digests (of mailbox, or all), oldest first */
int store_digest_pending(struct store *st, const char *mailbox,
			 store_digest_cb *cb, void *context,
			 const char **error_r);
/* the relay accepted it: pending -> sent, its bytes dropped */
int store_digest_sent(struct store *st, long long id, long long now,
		      const char **error_r);
/* a send of a pending digest failed: count it, keep the digest */
int store_digest_attempted(struct store *st, long long id,
			   const char **error_r);
/* the relay refused a first send: forget the pending digest and
   its items, so the next run lists them again */
int store_digest_drop(struct store *st, long long id, const char **error_r);
/* the mailbox's storms that held messages no digest covers yet,
   or that started at or after since; oldest first */
int store_digest_storms(struct store *st, const char *mailbox, long long since,
			store_storm_cb *cb, void *context,
			const char **error_r);
/* the mailbox's own digest time, "HH:MM" (sql/0004-digest-time.sql);
   time_r[0] is '\0' when it has none */
int store_digest_time_get(struct store *st, const char *mailbox,
			  char time_r[6], const char **error_r);
/* set it, or with hhmm NULL go back to digest_time */
int store_digest_time_set(struct store *st, const char *mailbox,
			  const char *hhmm, long long now,
			  const char **error_r);
/* the mailbox's preferences; the defaults when it has none */
int store_pref_get(struct store *st, const char *mailbox,
		   struct store_pref *pref_r, const char **error_r);
int store_pref_set(struct store *st, const char *mailbox,
		   const struct store_pref *pref, long long now,
		   const char **error_r);
/* record a pending request unless one is pending: *created_r */
int store_request_add(struct store *st, long long quarantine_id,
		      const char *actor, long long now, int *created_r,
		      const char **error_r);
/* the item's newest request (req_r->id == 0 when none) */
int store_request_get(struct store *st, long long quarantine_id,
		      struct store_request *req_r, const char **error_r);
/* requests in state (NULL: all), oldest first */
int store_request_list(struct store *st, const char *state, unsigned int limit,
		       store_request_cb *cb, void *context,
		       const char **error_r);
/* pending -> to_state; *changed_r is 0 if it was not pending */
int store_request_decide(struct store *st, long long request_id,
			 const char *to_state, const char *actor,
			 long long now, int *changed_r, const char **error_r);
/* release claims (store-sqlite-release.c); the caller wraps each
   write in store_begin()/store_commit(). The item's claim
   (claim_r->quarantine_id == 0 when none) */
int store_claim_get(struct store *st, long long id,
		    struct store_claim *claim_r, const char **error_r);
/* held -> releasing under claim (prev_owner NULL), or take over
   the claim of prev_owner: only one never handed on unless force;
   *taken_r is 0 when the item or claim was not as expected */
int store_claim_take(struct store *st, const struct store_claim *claim,
		     const char *prev_owner, int force, int *taken_r,
		     const char **error_r);
/* set handed (when > 0) and reply (when not NULL) of owner's claim;
   *changed_r is 0 when owner holds no claim on id */
int store_claim_update(struct store *st, long long id, const char *owner,
		       long long handed, const char *reply, int *changed_r,
		       const char **error_r);
/* owner's attempt ended with the claim left (in doubt, or not put
   back): its lease ends now, so others need not wait for it */
int store_claim_expire(struct store *st, long long id, const char *owner,
		       long long now, const char **error_r);
/* releasing -> held, forgetting owner's claim */
int store_claim_drop(struct store *st, long long id, const char *owner,
		     int *changed_r, const char **error_r);
/* record a mail to release_notify for mailbox's request of count
   items unless cap mails went out since `since`: *allowed_r */
int store_notice_take(struct store *st, const char *mailbox, long long since,
		      unsigned int cap, unsigned int count, long long now,
		      int *allowed_r, const char **error_r);
/* the audit trail (`ndrguard log`): decisions at or after
   filter->since about filter->mailbox's messages (NULL: all), oldest
   first; with a limit, the newest limit of them */
int store_audit_list(struct store *st, const struct store_filter *filter,
		     store_audit_cb *cb, void *context, const char **error_r);

#endif
