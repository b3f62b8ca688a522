#ifndef NDRGUARD_SECRET_FILE_H
#define NDRGUARD_SECRET_FILE_H
/*
 * secret-file.h - opening a key file that others may neither read nor
 * change
 *
 * Ownership: *fd_r is the caller's to close; *error_r points to static
 * text valid until the next call.
 */

/* secret_file_open - open path read-only (no symlink); refused when it
   is not a regular file or when group or others may write it or others
   read it */
int secret_file_open(const char *path, int *fd_r, const char **error_r);

#endif
