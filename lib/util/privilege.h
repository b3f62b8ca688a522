/*
 * privilege.h - become daemon_user after binding, as root
 *
 * SYNOPSIS
 *	privilege_user(set->daemon_user, &pw, &error);
 *	... bind listeners, load or create secret_file ...
 *	privilege_give(set->secret_file, pw, &error);
 *	privilege_drop(pw, &error);
 *
 * DESCRIPTION
 *	A program started as root takes what only root may (a port below
 *	1024, a key in a directory of root's), then becomes daemon_user for
 *	good: its groups, group and user, real, effective and saved. When
 *	not started as root, *pw_r is NULL and the other two do nothing.
 *
 * OWNERSHIP
 *	*pw_r points into getpwnam()'s static storage: use it before any
 *	other getpw* call.
 */
#ifndef NDRGUARD_PRIVILEGE_H
#define NDRGUARD_PRIVILEGE_H

struct passwd;

/* privilege_user - the account to become, NULL when we are not root;
   -1 with *error_r when it is unknown or is root */
int privilege_user(const char *user, struct passwd **pw_r,
		   const char **error_r);
/* privilege_give - a file root owns (a key root just created) becomes
   pw's, like the database; 0 when there is nothing to do */
int privilege_give(const char *path, const struct passwd *pw,
		   const char **error_r);
/* privilege_drop - become pw for good; -1 with *error_r when that, or
   any part of it, failed (the caller must then exit) */
int privilege_drop(const struct passwd *pw, const char **error_r);

#endif
