/*
 * privilege.c - become daemon_user after binding, as root
 *
 * ndrguardd and ndrguard-web both bind as root and then give root up;
 * this is the one place that does it, so both do it the same way.
 */
#include "autoconfig.h"
#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread char privilege_error_buf[512];

int privilege_user(const char *user, struct passwd **pw_r,
		   const char **error_r)
{
	*pw_r = NULL;
	if (geteuid() != 0)
		return 0;
	errno = 0;
	*pw_r = getpwnam(user);
	if (*pw_r == NULL) {
		*error_r = "daemon_user: no such user";
		return -1;
	}
	if ((*pw_r)->pw_uid == 0) {
		*pw_r = NULL;
		*error_r = "daemon_user must not be root";
		return -1;
	}
	return 0;
}

int privilege_give(const char *path, const struct passwd *pw,
		   const char **error_r)
{
	struct stat st;

	if (pw == NULL || path == NULL || stat(path, &st) < 0 ||
	    st.st_uid != 0)
		return 0;
	if (chown(path, pw->pw_uid, pw->pw_gid) < 0) {
		snprintf(privilege_error_buf, sizeof(privilege_error_buf),
			 "chown %s: %s", path, strerror(errno));
		*error_r = privilege_error_buf;
		return -1;
	}
	return 0;
}

int privilege_drop(const struct passwd *pw, const char **error_r)
{
	if (pw == NULL)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
	    || setuid(pw->pw_uid) < 0) {
		snprintf(privilege_error_buf, sizeof(privilege_error_buf),
			 "become %s: %s", pw->pw_name, strerror(errno));
		*error_r = privilege_error_buf;
		return -1;
	}
	/* setuid() as root sets all three ids; make sure it did */
	if (setuid(0) == 0) {
		*error_r = "could drop root privileges only in part";
		return -1;
	}
	return 0;
}
