/*
 * store.c - choose a store backend from its location
 */
#include "autoconfig.h"
#include "store.h"

#include <stddef.h>
#include <stdlib.h>

int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, const char **error_r)
{
	return store_sqlite_open(location, opts, store_r, error_r);
}

void store_close(struct store **_st)
{
	struct store *st = *_st;

	if (st == NULL)
		return;
	*_st = NULL;
	st->v->close(st);
}

void store_record_free(struct store_record **_rec)
{
	struct store_record *rec = *_rec;

	if (rec == NULL)
		return;
	*_rec = NULL;
	free(rec->queue_id);
	free(rec->sender);
	free(rec->recipient);
	free(rec->kind);
	free(rec->status);
	free(rec->reason);
	free(rec->reporting_mta);
	free(rec->verdict);
	free(rec->evidence);
	free(rec->orig_subject);
	free(rec->orig_from);
	free(rec->orig_message_id);
	free(rec->state);
	free(rec->raw);
	free(rec);
}
