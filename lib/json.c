/*
 * json.c - JSON string escaping
 *
 * Mail is full of bytes that are not UTF-8 (8-bit garbage, undeclared
 * charsets, NULs), and one bad byte would make a whole `inspect --json`
 * line unparseable, so escaping also repairs: invalid sequences become
 * U+FFFD. Control characters are written as \uXXXX, and "/" is left alone.
 */
#include "autoconfig.h"
#include "json.h"
#include "strbuf.h"

#include <string.h>

/* json_utf8_valid_len - length of a well-formed UTF-8 sequence, else 0 */
size_t json_utf8_valid_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* json_escape_ascii - append the escaped form of one ASCII byte */
static void json_escape_ascii(struct strbuf *out, unsigned char c)
{
	switch (c) {
	case '"':
		strbuf_puts(out, "\\\"");
		break;
	case '\\':
		strbuf_puts(out, "\\\\");
		break;
	case '\n':
		strbuf_puts(out, "\\n");
		break;
	case '\r':
		strbuf_puts(out, "\\r");
		break;
	case '\t':
		strbuf_puts(out, "\\t");
		break;
	default:
		if (c < 0x20 || c == 0x7f)
			strbuf_printf(out, "\\u%04x", c);
		else
			strbuf_putc(out, (char)c);
	}
}

/* bytes written as they are: printable ASCII but '"' and '\\' */
static const unsigned char json_plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

void json_append_string_n(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	strbuf_grow(out, len + 2);
	strbuf_putc(out, '"');
	while (i < len) {
		size_t n;

		/* a run that needs no escaping is copied whole */
		for (n = i; n < len && json_plain[p[n]]; n++)
			;
		if (n > i) {
			strbuf_append(out, p + i, n - i);
			i = n;
			continue;
		}
		if (p[i] < 0x80) {
			json_escape_ascii(out, p[i]);
			i++;
			continue;
		}
		n = json_utf8_valid_len(p + i, len - i);
		if (n == 0) {
			strbuf_puts(out, "\xef\xbf\xbd");
			i++;
		} else {
			strbuf_append(out, p + i, n);
			i += n;
		}
	}
	strbuf_putc(out, '"');
}

void json_append_string(struct strbuf *out, const char *s)
{
	if (s == NULL)
		strbuf_puts(out, "null");
	else
		json_append_string_n(out, s, strlen(s));
}

void json_append_member(struct strbuf *out, int first, const char *name,
			const char *value)
{
	if (!first)
		strbuf_putc(out, ',');
	json_append_string(out, name);
	strbuf_putc(out, ':');
	json_append_string(out, value);
}
