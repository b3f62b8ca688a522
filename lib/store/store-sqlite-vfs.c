/*
 * store-sqlite-vfs.c - SQLite's unix VFS, less a directory fsync per
 * process
 *
 * SQLite opens the WAL with "create" every time, and the unix VFS then
 * fsyncs the directory on the first sync of the file, in case the file
 * was just made. ndrguard keeps its WAL between processes
 * (SQLITE_FCNTL_PERSIST_WAL), so the directory entry has long been
 * durable, yet each pipe agent - one per message - paid that fsync
 * again. This VFS passes everything to the default one, except that a
 * WAL which already exists is opened without "create". Files are the
 * same and locking is the same: other programs (the sqlite3 shell) that
 * open the database with the default VFS work beside it.
 */
#include "autoconfig.h"
#include "store-sqlite-private.h"

#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

static sqlite3_vfs sqlite_vfs;
static sqlite3_vfs *sqlite_vfs_real;
static pthread_once_t sqlite_vfs_once = PTHREAD_ONCE_INIT;
static int sqlite_vfs_ok;

/* sqlite_vfs_open - an existing WAL opens without SQLITE_OPEN_CREATE */
static int sqlite_vfs_open(sqlite3_vfs *vfs, const char *name,
			   sqlite3_file *file, int flags, int *out_flags)
{
	sqlite3_vfs *real = sqlite_vfs_real;

	(void)vfs;
	if ((flags & SQLITE_OPEN_WAL) != 0 && (flags & SQLITE_OPEN_CREATE) != 0
	    && name != NULL && access(name, F_OK) == 0
	    && real->xOpen(real, name, file, flags & ~SQLITE_OPEN_CREATE,
			   out_flags) == SQLITE_OK)
		return SQLITE_OK;
	/* gone meanwhile (a last connection deleted it): create it */
	return real->xOpen(real, name, file, flags, out_flags);
}

/* sqlite_vfs_register - set SQLite up once per process, before its
   first use: without memory statistics its allocations take no global
   lock, which the threads of ndrguardd and ndrguard-web would contend
   for; then our VFS */
static void sqlite_vfs_register(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite_vfs_real = sqlite3_vfs_find(NULL);
	if (sqlite_vfs_real == NULL)
		return;
	sqlite_vfs = *sqlite_vfs_real;
	sqlite_vfs.pNext = NULL;
	sqlite_vfs.zName = STORE_SQLITE_VFS;
	sqlite_vfs.xOpen = sqlite_vfs_open;
	sqlite_vfs_ok = sqlite3_vfs_register(&sqlite_vfs, 0) == SQLITE_OK;
}

const char *store_sqlite_vfs(void)
{
	pthread_once(&sqlite_vfs_once, sqlite_vfs_register);
	return sqlite_vfs_ok ? STORE_SQLITE_VFS : NULL;
}
