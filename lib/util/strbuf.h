/*
 * strbuf.h - growable byte buffer, always NUL-terminated
 *
 * A strbuf owns its bytes. strbuf_init() starts it empty without
 * allocating; strbuf_free() releases the bytes; strbuf_steal() hands them
 * to the caller, who frees them with free(). Allocation failure is fatal
 * (xalloc.h): a mail filter that cannot allocate a few KB cannot do
 * anything useful, and callers tempfail through the process exit status.
 */
#ifndef NDRGUARD_STRBUF_H
#define NDRGUARD_STRBUF_H

#include <stddef.h>
#include <stdarg.h>

struct strbuf {
	char *data;
	size_t len;
	size_t size;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
char *strbuf_steal(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const void *data, size_t len);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* strbuf_cstr - the contents as a C string ("" when empty, never NULL) */
const char *strbuf_cstr(const struct strbuf *sb);

/* strbuf_hexval - the value of one hex digit (either case), or -1: for
   the decoders of %XX and =XX that write into a strbuf */
int strbuf_hexval(char c);

#endif
