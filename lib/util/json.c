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

#include <stdint.h>
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

/* bytes written as they are: printable ASCII but '"' and '\\' */
static const unsigned char json_plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

void json_append_string_n(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	char *o;

	/*
	 * Written straight into the buffer, grown once for the worst case:
	 * six bytes for one ("\u001f"), three for a bad byte (U+FFFD)
	 */
	strbuf_grow(out, 6 * len + 2);
	o = out->data + out->len;
	*o++ = '"';
	while (i < len) {
		unsigned char c;
		size_t n;

		/* eight plain bytes at a time: none below 0x20, none from
		   0x7f, no '"' and no '\\' (a word that may hold one is done
		   byte by byte) */
		while (i + 8 <= len) {
			const uint64_t ones = 0x0101010101010101ULL;
			const uint64_t hi = 0x8080808080808080ULL;
			uint64_t x, q, b;

			memcpy(&x, p + i, 8);
			q = x ^ (ones * '"');
			b = x ^ (ones * '\\');
			if ((((x - ones * 0x20) & ~x) | (x + ones) | x |
			     ((q - ones) & ~q) | ((b - ones) & ~b)) & hi)
				break;
			memcpy(o, &x, 8);
			o += 8;
			i += 8;
		}
		if (i >= len)
			break;
		c = p[i];
		if (json_plain[c]) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*o++ = '\\';
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				/* below 0x20 or 0x7f */
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
			}
			i++;
			continue;
		}
		n = json_utf8_valid_len(p + i, len - i);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	*o++ = '"';
	*o = '\0';
	out->len = (size_t)(o - out->data);
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
