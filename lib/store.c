/*
 * store.c - choose a store backend from its location
 */
#include "autoconfig.h"
#include "store.h"

#include <stddef.h>
#include <stdio.h>
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

void store_raw_hash(const char *raw, size_t size,
		    char out[STORE_RAW_HASH_LEN])
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++) {
		h ^= (unsigned char)raw[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, STORE_RAW_HASH_LEN, "%016llx", h);
}
