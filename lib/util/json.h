/*
 * json.h - JSON text output: string escaping
 *
 * json_append_string() writes a C string as a JSON string literal. Input
 * is taken as UTF-8; bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON whatever a mail message contained. NULL
 * becomes the literal null.
 */
#ifndef NDRGUARD_JSON_H
#define NDRGUARD_JSON_H

#include <stddef.h>

struct strbuf;

/* json_append_string - "s" escaped, or null when s is NULL */
void json_append_string(struct strbuf *out, const char *s);
/* json_append_string_n - the same for len bytes (may hold NUL) */
void json_append_string_n(struct strbuf *out, const char *s, size_t len);
/* json_append_member - ,"name":"value" (comma unless first) */
void json_append_member(struct strbuf *out, int first, const char *name,
			const char *value);
/* json_utf8_valid_len - length of the valid UTF-8 sequence at s, 0 if none */
size_t json_utf8_valid_len(const unsigned char *s, size_t left);

#endif
