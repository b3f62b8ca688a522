/*
 * store-pgsql-none.c - the PostgreSQL backend where ndrguard was built
 * without libpq (configure --without-pgsql): a clear error, not a
 * missing symbol
 */
#include "autoconfig.h"
#include "store.h"
#include "store-private.h"

int store_pgsql_open(const char *uri, const struct store_options *opts,
		     struct store **store_r, const char **error_r)
{
	(void)uri;
	(void)opts;
	(void)store_r;
	*error_r = "this ndrguard was built without PostgreSQL (libpq): "
		"rebuild with libpq-dev installed, or use a SQLite database";
	return -1;
}

int store_pgsql_schema_version(void)
{
	return 0;
}
