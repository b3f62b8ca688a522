/*
 * store.c - choose a store backend from its location
 */
#include "autoconfig.h"
#include "store.h"

#include <stddef.h>

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
