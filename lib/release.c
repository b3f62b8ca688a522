/*
 * release.c - re-inject a held message, then record that it was released
 */
#include "autoconfig.h"
#include "release.h"
#include "reinject.h"
#include "store.h"

#include <string.h>

/* release_mark - held -> to_state in its own transaction */
static int release_mark(struct store *st, long long id, const char *to_state,
			const char *actor, long long now, int *changed_r,
			const char **error_r)
{
	if (store_begin(st, error_r) < 0)
		return -1;
	if (st->v->item_set_state(st, id, "held", to_state, actor, now,
				  changed_r, error_r) < 0
	    || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int release_item(struct store *st, const char *reinject, long long id,
		 const char *actor, long long now,
		 enum release_outcome *outcome_r, const char **error_r)
{
	struct store_record *rec;
	const char *rcpt;
	int changed, ret;

	if (st->v->item_get(st, id, 1, &rec, error_r) < 0)
		return -1;
	if (rec == NULL) {
		*outcome_r = RELEASE_NOT_FOUND;
		return 0;
	}
	if (rec->state == NULL || strcmp(rec->state, "held") != 0) {
		*outcome_r = RELEASE_NOT_HELD;
		store_record_free(&rec);
		return 0;
	}
	rcpt = rec->recipient;
	ret = reinject_message(reinject, rec->sender ? rec->sender : "",
			       &rcpt, 1, rec->raw, (size_t)rec->size, error_r);
	if (ret == 0)
		ret = release_mark(st, id, "released", actor, now, &changed,
				   error_r);
	/* changed == 0: someone else released it meanwhile */
	*outcome_r = RELEASE_DONE;
	store_record_free(&rec);
	return ret;
}

int release_delete(struct store *st, long long id, const char *actor,
		   long long now, enum release_outcome *outcome_r,
		   const char **error_r)
{
	struct store_record *rec;
	int changed;

	if (st->v->item_get(st, id, 0, &rec, error_r) < 0)
		return -1;
	if (rec == NULL) {
		*outcome_r = RELEASE_NOT_FOUND;
		return 0;
	}
	store_record_free(&rec);
	if (release_mark(st, id, "deleted", actor, now, &changed, error_r) < 0)
		return -1;
	*outcome_r = changed ? RELEASE_DONE : RELEASE_NOT_HELD;
	return 0;
}
