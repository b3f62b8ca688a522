/*
 * secret-file.c - a key file opened only when no one else may read or
 * change it: the one place where the modes of every key file (the link
 * key, BATV's keys) are checked. No OpenSSL here, so the pipe agent can
 * check BATV's key file without linking libcrypto.
 */
#include "autoconfig.h"
#include "secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_file_open(const char *path, int *fd_r, const char **error_r)
{
	static char err[512];
	struct stat st;
	int fd;

	*fd_r = -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, sizeof(err), "open %s: %s", path,
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, sizeof(err), "%s: not a regular file", path);
		*error_r = err;
		close(fd);
		return -1;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
		snprintf(err, sizeof(err),
			 "%s: mode %04o lets other users read or change the "
			 "key; chmod 600 it", path,
			 (unsigned int)(st.st_mode & 07777));
		*error_r = err;
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}
