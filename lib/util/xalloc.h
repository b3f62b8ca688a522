/*
 * xalloc.h - allocation that never returns NULL
 *
 * On allocation failure these print a message and exit with EX_TEMPFAIL
 * (75): for a pipe(8) agent that is exactly "try again later", and the
 * message stays safely in the Postfix queue.
 */
#ifndef NDRGUARD_XALLOC_H
#define NDRGUARD_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
