/*
 * store-location.c - what a `database` value names
 *
 * "postgresql://" or "postgres://" is a libpq URI, anything else a SQLite
 * file (optionally written "sqlite:/path"). Plain string work, with no
 * backend behind it: the config checks use it too.
 */
#include "autoconfig.h"
#include "store.h"

#include <string.h>
#include <unistd.h>

/* store_location_is_server - a libpq URI rather than a file */
int store_location_is_server(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0
		|| strncmp(location, "postgres://", 11) == 0;
}

const char *store_location_file(const char *location)
{
	if (store_location_is_server(location))
		return NULL;
	if (strncmp(location, "sqlite:", 7) == 0)
		return location + 7;
	return location;
}

/* store_uri_has_password - user:password@ in the authority, or a
   password= parameter: either is readable by whoever reads the value */
static int store_uri_has_password(const char *uri)
{
	const char *auth = strstr(uri, "://") + 3;
	size_t auth_len = strcspn(auth, "/?");
	const char *at = memchr(auth, '@', auth_len);
	const char *query = strchr(uri, '?');

	if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
		return 1;
	for (const char *p = query; p != NULL; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, "password=", 9) == 0)
			return 1;
	return 0;
}

const char *store_location_check(const char *location, int *has_password_r)
{
	const char *file = store_location_file(location);

	*has_password_r = 0;
	if (file != NULL)
		return file[0] == '/' ? NULL : "must be an absolute path, "
			"sqlite:/path or postgresql://...";
	*has_password_r = store_uri_has_password(location);
	return NULL;
}

int store_exists(const char *location)
{
	const char *file = store_location_file(location);

	return file == NULL || access(file, F_OK) == 0;
}

