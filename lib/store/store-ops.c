/*
 * store-ops.c - every store_*() operation of store.h, handed on to the
 * backend the store was opened with (store-private.h)
 */
#include "autoconfig.h"
#include "store.h"
#include "store-private.h"

/* store_begin - the backend's begin (store.h) */
int store_begin(struct store *st, const char **error_r)
{
	return st->v->begin(st, error_r);
}

/* store_commit - the backend's commit (store.h) */
int store_commit(struct store *st, const char **error_r)
{
	return st->v->commit(st, error_r);
}

/* store_rollback - the backend's rollback (store.h) */
void store_rollback(struct store *st)
{
	st->v->rollback(st);
}

/* store_digest_lock - the backend's digest_lock (store.h) */
int store_digest_lock(struct store *st, const char **error_r)
{
	return st->v->digest_lock(st, error_r);
}

/* store_digest_unlock - the backend's digest_unlock (store.h) */
void store_digest_unlock(struct store *st)
{
	st->v->digest_unlock(st);
}

/* store_item_add - the backend's item_add (store.h) */
int store_item_add(struct store *st, const struct store_item *item,
		   long long *id_r, int *duplicate_r, const char **error_r)
{
	return st->v->item_add(st, item, id_r, duplicate_r, error_r);
}

/* store_item_list - the backend's item_list (store.h) */
int store_item_list(struct store *st, const struct store_filter *filter,
		    store_record_cb *cb, void *context, const char **error_r)
{
	return st->v->item_list(st, filter, cb, context, error_r);
}

/* store_item_get - the backend's item_get (store.h) */
int store_item_get(struct store *st, long long id, int want_raw,
		   struct store_record **rec_r, const char **error_r)
{
	return st->v->item_get(st, id, want_raw, rec_r, error_r);
}

/* store_item_set_state - the backend's item_set_state (store.h) */
int store_item_set_state(struct store *st, long long id,
			 const char *from_state, const char *to_state,
			 const char *actor, long long now, int *changed_r,
			 const char **error_r)
{
	return st->v->item_set_state(st, id, from_state, to_state, actor, now,
				     changed_r, error_r);
}

/* store_item_expire - the backend's item_expire (store.h) */
int store_item_expire(struct store *st, long long before, unsigned int batch,
		      long long now, unsigned int *count_r,
		      const char **error_r)
{
	return st->v->item_expire(st, before, batch, now, count_r, error_r);
}

/* store_outbound_add - the backend's outbound_add (store.h) */
int store_outbound_add(struct store *st, const char *message_id,
		       const char *sender, long long sent,
		       const char **error_r)
{
	return st->v->outbound_add(st, message_id, sender, sent, error_r);
}

/* store_outbound_find - the backend's outbound_find (store.h) */
int store_outbound_find(struct store *st, const char *const *ids,
			size_t count, struct store_outbound *rec_r,
			int *found_r, const char **error_r)
{
	return st->v->outbound_find(st, ids, count, rec_r, found_r, error_r);
}

/* store_outbound_expire - the backend's outbound_expire (store.h) */
int store_outbound_expire(struct store *st, long long before,
			  unsigned int batch, unsigned int *count_r,
			  const char **error_r)
{
	return st->v->outbound_expire(st, before, batch, count_r, error_r);
}

/* store_outbound_expire_all - short transactions, so deliveries
   waiting for the store are never held up for long (store.h) */
int store_outbound_expire_all(struct store *st, long long before,
			      unsigned int batch, unsigned long long *total_r,
			      const char **error_r)
{
	unsigned int n;

	do {
		if (store_begin(st, error_r) < 0)
			return -1;
		if (store_outbound_expire(st, before, batch, &n, error_r) < 0
		    || store_commit(st, error_r) < 0) {
			store_rollback(st);
			return -1;
		}
		*total_r += n;
	} while (n == batch);
	return 0;
}

/* store_reclaim - the backend's reclaim (store.h) */
int store_reclaim(struct store *st, const char **error_r)
{
	return st->v->reclaim(st, error_r);
}

/* store_stats_kinds - the backend's stats_kinds (store.h) */
int store_stats_kinds(struct store *st, store_count_cb *cb, void *context,
		      const char **error_r)
{
	return st->v->stats_kinds(st, cb, context, error_r);
}

/* store_stats_top - the backend's stats_top (store.h) */
int store_stats_top(struct store *st, int by_domain, long long since,
		    unsigned int limit, store_count_cb *cb, void *context,
		    const char **error_r)
{
	return st->v->stats_top(st, by_domain, since, limit, cb, context,
				error_r);
}

/* store_storm_list - the backend's storm_list (store.h) */
int store_storm_list(struct store *st, const struct store_calm *calm,
		     int active_only, unsigned int limit,
		     store_storm_row_cb *cb, void *context,
		     const char **error_r)
{
	return st->v->storm_list(st, calm, active_only, limit, cb, context,
				 error_r);
}

/* store_stats_totals - the backend's stats_totals (store.h) */
int store_stats_totals(struct store *st, const struct store_calm *calm,
		       store_count_cb *cb, void *context,
		       const char **error_r)
{
	return st->v->stats_totals(st, calm, cb, context, error_r);
}

/* store_stats_series - the backend's stats_series (store.h) */
int store_stats_series(struct store *st, long long since, unsigned int step,
		       store_series_cb *cb, void *context,
		       const char **error_r)
{
	return st->v->stats_series(st, since, step, cb, context, error_r);
}

/* store_storm_since - the backend's storm_since (store.h) */
int store_storm_since(struct store *st, const struct store_calm *calm,
		      long long since, unsigned int limit,
		      store_storm_row_cb *cb, void *context,
		      const char **error_r)
{
	return st->v->storm_since(st, calm, since, limit, cb, context,
				  error_r);
}

/* store_digest_mailboxes - the backend's digest_mailboxes (store.h) */
int store_digest_mailboxes(struct store *st, const char *mailbox,
			   store_mailbox_cb *cb, void *context,
			   const char **error_r)
{
	return st->v->digest_mailboxes(st, mailbox, cb, context, error_r);
}

/* store_digest_items - the backend's digest_items (store.h) */
int store_digest_items(struct store *st, const char *mailbox,
		       store_record_cb *cb, void *context,
		       const char **error_r)
{
	return st->v->digest_items(st, mailbox, cb, context, error_r);
}

/* store_digest_last_sent - the backend's digest_last_sent (store.h) */
int store_digest_last_sent(struct store *st, const char *mailbox,
			   long long *sent_r, const char **error_r)
{
	return st->v->digest_last_sent(st, mailbox, sent_r, error_r);
}

/* store_digest_add - the backend's digest_add (store.h) */
int store_digest_add(struct store *st, const struct store_digest *dg,
		     const long long *items, size_t count, long long *id_r,
		     const char **error_r)
{
	return st->v->digest_add(st, dg, items, count, id_r, error_r);
}

/* store_digest_reply_find - the backend's digest_reply_find (store.h) */
int store_digest_reply_find(struct store *st, const char *ref,
			    struct store_digest *dg_r, int *found_r,
			    const char **error_r)
{
	return st->v->digest_reply_find(st, ref, dg_r, found_r, error_r);
}

/* store_digest_reply_items - the backend's digest_reply_items (store.h) */
int store_digest_reply_items(struct store *st, long long digest_id,
			     store_reply_item_cb *cb, void *context,
			     const char **error_r)
{
	return st->v->digest_reply_items(st, digest_id, cb, context, error_r);
}

/* store_digest_pending - the backend's digest_pending (store.h) */
int store_digest_pending(struct store *st, const char *mailbox,
			 store_digest_cb *cb, void *context,
			 const char **error_r)
{
	return st->v->digest_pending(st, mailbox, cb, context, error_r);
}

/* store_digest_sent - the backend's digest_sent (store.h) */
int store_digest_sent(struct store *st, long long id, long long now,
		      const char **error_r)
{
	return st->v->digest_sent(st, id, now, error_r);
}

/* store_digest_attempted - the backend's digest_attempted (store.h) */
int store_digest_attempted(struct store *st, long long id,
			   const char **error_r)
{
	return st->v->digest_attempted(st, id, error_r);
}

/* store_digest_drop - the backend's digest_drop (store.h) */
int store_digest_drop(struct store *st, long long id, const char **error_r)
{
	return st->v->digest_drop(st, id, error_r);
}

/* store_digest_storms - the backend's digest_storms (store.h) */
int store_digest_storms(struct store *st, const char *mailbox, long long since,
			store_storm_cb *cb, void *context,
			const char **error_r)
{
	return st->v->digest_storms(st, mailbox, since, cb, context, error_r);
}

/* store_digest_time_get - the backend's digest_time_get (store.h) */
int store_digest_time_get(struct store *st, const char *mailbox,
			  char time_r[6], const char **error_r)
{
	return st->v->digest_time_get(st, mailbox, time_r, error_r);
}

/* store_digest_time_set - the backend's digest_time_set (store.h) */
int store_digest_time_set(struct store *st, const char *mailbox,
			  const char *hhmm, long long now,
			  const char **error_r)
{
	return st->v->digest_time_set(st, mailbox, hhmm, now, error_r);
}

/* store_pref_get - the backend's pref_get (store.h) */
int store_pref_get(struct store *st, const char *mailbox,
		   struct store_pref *pref_r, const char **error_r)
{
	return st->v->pref_get(st, mailbox, pref_r, error_r);
}

/* store_pref_set - the backend's pref_set (store.h) */
int store_pref_set(struct store *st, const char *mailbox,
		   const struct store_pref *pref, long long now,
		   const char **error_r)
{
	return st->v->pref_set(st, mailbox, pref, now, error_r);
}

/* store_request_add - the backend's request_add (store.h) */
int store_request_add(struct store *st, long long quarantine_id,
		      const char *actor, long long now, int *created_r,
		      const char **error_r)
{
	return st->v->request_add(st, quarantine_id, actor, now, created_r,
				  error_r);
}

/* store_request_get - the backend's request_get (store.h) */
int store_request_get(struct store *st, long long quarantine_id,
		      struct store_request *req_r, const char **error_r)
{
	return st->v->request_get(st, quarantine_id, req_r, error_r);
}

/* store_request_list - the backend's request_list (store.h) */
int store_request_list(struct store *st, const char *state, unsigned int limit,
		       store_request_cb *cb, void *context,
		       const char **error_r)
{
	return st->v->request_list(st, state, limit, cb, context, error_r);
}

/* store_request_decide - the backend's request_decide (store.h) */
int store_request_decide(struct store *st, long long request_id,
			 const char *to_state, const char *actor,
			 long long now, int *changed_r, const char **error_r)
{
	return st->v->request_decide(st, request_id, to_state, actor, now,
				     changed_r, error_r);
}

/* store_claim_get - the backend's claim_get (store.h) */
int store_claim_get(struct store *st, long long id,
		    struct store_claim *claim_r, const char **error_r)
{
	return st->v->claim_get(st, id, claim_r, error_r);
}

/* store_claim_take - the backend's claim_take (store.h) */
int store_claim_take(struct store *st, const struct store_claim *claim,
		     const char *prev_owner, int force, int *taken_r,
		     const char **error_r)
{
	return st->v->claim_take(st, claim, prev_owner, force, taken_r,
				 error_r);
}

/* store_claim_update - the backend's claim_update (store.h) */
int store_claim_update(struct store *st, long long id, const char *owner,
		       long long handed, const char *reply, int *changed_r,
		       const char **error_r)
{
	return st->v->claim_update(st, id, owner, handed, reply, changed_r,
				   error_r);
}

/* store_claim_expire - the backend's claim_expire (store.h) */
int store_claim_expire(struct store *st, long long id, const char *owner,
		       long long now, const char **error_r)
{
	return st->v->claim_expire(st, id, owner, now, error_r);
}

/* store_claim_drop - the backend's claim_drop (store.h) */
int store_claim_drop(struct store *st, long long id, const char *owner,
		     int *changed_r, const char **error_r)
{
	return st->v->claim_drop(st, id, owner, changed_r, error_r);
}

/* store_notice_take - the backend's notice_take (store.h) */
int store_notice_take(struct store *st, const char *mailbox, long long since,
		      unsigned int cap, unsigned int count, long long now,
		      int *allowed_r, const char **error_r)
{
	return st->v->notice_take(st, mailbox, since, cap, count, now,
				  allowed_r, error_r);
}

/* store_audit_list - the backend's audit_list (store.h) */
int store_audit_list(struct store *st, const struct store_filter *filter,
		     store_audit_cb *cb, void *context, const char **error_r)
{
	return st->v->audit_list(st, filter, cb, context, error_r);
}
