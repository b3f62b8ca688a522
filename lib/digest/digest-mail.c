/*
 * digest-mail.c - build the digest message: clean values, headers, MIME
 *
 * This module implements digest-mail.h. The rule it keeps: bytes from
 * held messages (subjects, MTA names, addresses) are data, and data
 * never decides where a line or a header ends. Values are cleaned to one
 * line of valid UTF-8; headers are folded here only; bodies go out as
 * quoted-printable, so no bare LF, no line over 76 characters and no
 * line that starts with a dot or "From " reaches the wire.
 */
#include "autoconfig.h"
#include "digest-mail.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIGEST_MAIL_FOLD 78
/* input bytes per RFC 2047 encoded word: 52 base64 chars, 64 in all */
#define DIGEST_MAIL_WORD_BYTES 39

/* digest_mail_utf8_len - length of the valid UTF-8 sequence at s, with
   its code point, or 0 when the bytes there are not valid UTF-8 */
static size_t digest_mail_utf8_len(const unsigned char *s, uint32_t *cp_r)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
	    || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* digest_mail_invisible - code points that move or hide text: C0/C1
   controls, line and paragraph separators, bidirectional overrides */
static int digest_mail_invisible(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
		|| cp == 0x2028 || cp == 0x2029
		|| (cp >= 0x202a && cp <= 0x202e)
		|| (cp >= 0x2066 && cp <= 0x2069);
}

char *digest_mail_clean(const char *s, size_t max_chars)
{
	struct strbuf out = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t chars = 0;

	while (*p != '\0') {
		uint32_t cp;
		size_t n = digest_mail_utf8_len(p, &cp);

		if (chars == max_chars) {
			strbuf_puts(&out, "...");
			break;
		}
		if (n == 0) {
			strbuf_puts(&out, "\xef\xbf\xbd");
			n = 1;
		} else if (digest_mail_invisible(cp)) {
			strbuf_putc(&out, ' ');
		} else {
			strbuf_append(&out, p, n);
		}
		p += n;
		chars++;
	}
	return strbuf_steal(&out);
}

int digest_mail_address_ok(const char *addr)
{
	const char *at = strchr(addr, '@');

	if (at == NULL || at == addr || at[1] == '\0'
	    || strchr(at + 1, '@') != NULL || strlen(addr) > 254)
		return 0;
	for (const char *p = addr; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p))
			return 0;
	return 1;
}

static int digest_mail_printable(const char *s)
{
	for (; *s; s++)
		if (*s < ' ' || *s > '~')
			return 0;
	return 1;
}

static void digest_mail_base64(struct strbuf *out, const unsigned char *in,
			       size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		strbuf_putc(out, b64[(v >> 18) & 63]);
		strbuf_putc(out, b64[(v >> 12) & 63]);
		strbuf_putc(out, i + 1 < len ? b64[(v >> 6) & 63] : '=');
		strbuf_putc(out, i + 2 < len ? b64[v & 63] : '=');
	}
}

/* digest_mail_encoded_words - value as RFC 2047 B-encoded words, whole
   UTF-8 characters in each, one per folded line, from column col; no
   line end after the last. Returns the column it ends at */
static size_t digest_mail_encoded_words(struct strbuf *out, const char *value,
					size_t col)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t len = strlen(value), before;
	int first = 1;

	while (len > 0) {
		size_t n = len < DIGEST_MAIL_WORD_BYTES ? len
			: DIGEST_MAIL_WORD_BYTES;
		while (n < len && n > 1 && (p[n] & 0xc0) == 0x80)
			n--;
		strbuf_puts(out, first ? " " : "\r\n ");
		col = first ? col + 1 : 1;
		before = out->len;
		strbuf_puts(out, "=?UTF-8?B?");
		digest_mail_base64(out, p, n);
		strbuf_puts(out, "?=");
		col += out->len - before;
		first = 0;
		p += n;
		len -= n;
	}
	return col;
}

void digest_mail_header(struct strbuf *out, const char *name,
			const char *value)
{
	size_t line = strlen(name) + 1;

	strbuf_puts(out, name);
	strbuf_putc(out, ':');
	if (digest_mail_printable(value)) {
		/* fold between words; a word longer than a line stays whole */
		const char *p = value;
		while (*p == ' ')
			p++;
		while (*p != '\0') {
			const char *end = strchr(p, ' ');
			size_t wlen = end ? (size_t)(end - p) : strlen(p);
			if (line + 1 + wlen > DIGEST_MAIL_FOLD
			    && line > strlen(name) + 1) {
				strbuf_puts(out, "\r\n");
				line = 0;
			}
			strbuf_putc(out, ' ');
			strbuf_append(out, p, wlen);
			line += 1 + wlen;
			p += wlen;
			while (*p == ' ')
				p++;
		}
		strbuf_puts(out, "\r\n");
		return;
	}
	digest_mail_encoded_words(out, value, strlen(name) + 1);
	strbuf_puts(out, "\r\n");
}

/* digest_mail_atext - 1 when name can stand in a From phrase as it is:
   letters, digits, blanks and the atext specials of RFC 5322 */
static int digest_mail_atext(const char *name)
{
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		      || (*p >= '0' && *p <= '9') || *p == ' '
		      || strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL))
			return 0;
	return *name != '\0';
}

void digest_mail_from(struct strbuf *out, const char *name, const char *addr)
{
	size_t col = 5;			/* "From:" */

	if (name == NULL || *name == '\0') {
		digest_mail_header(out, "From", addr);
		return;
	}
	strbuf_puts(out, "From:");
	if (!digest_mail_printable(name)) {
		col = digest_mail_encoded_words(out, name, col);
	} else if (digest_mail_atext(name)) {
		strbuf_printf(out, " %s", name);
		col += 1 + strlen(name);
	} else {
		/* a quoted-string; settings refuse '"' and '\\' in names,
		   escaped here all the same */
		size_t before = out->len;
		strbuf_puts(out, " \"");
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_putc(out, '\\');
			strbuf_putc(out, *p);
		}
		strbuf_putc(out, '"');
		col += out->len - before;
	}
	/* the address after the name, never inside an encoded word; on a
	   line of its own when the last line has no room left */
	strbuf_printf(out, "%s<%s>\r\n", col + 3 + strlen(addr)
		      > DIGEST_MAIL_FOLD ? "\r\n " : " ", addr);
}

void digest_mail_qp(struct strbuf *out, const char *text, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + len;

	while (p < end) {
		const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *stop = eol ? eol : end;
		size_t col = 0;

		if (stop > p && stop[-1] == '\r')
			stop--;
		for (const unsigned char *c = p; c < stop; c++) {
			char tok[4];
			size_t tlen;
			int encode = !((*c >= 33 && *c <= 126 && *c != '=')
				       || *c == ' ' || *c == '\t');
			if (c == stop - 1 && (*c == ' ' || *c == '\t'))
				encode = 1;
			if (col == 0 && (*c == '.' || (*c == 'F'
			    && stop - c >= 5 && memcmp(c, "From ", 5) == 0)))
				encode = 1;
			if (encode) {
				tok[0] = '=';
				tok[1] = hex[*c >> 4];
				tok[2] = hex[*c & 15];
				tlen = 3;
			} else {
				tok[0] = (char)*c;
				tlen = 1;
			}
			/* a soft break leaves room for the '=' */
			if (col + tlen > 75) {
				strbuf_puts(out, "=\r\n");
				col = 0;
				if (!encode && (*c == '.' || (*c == 'F'
				    && stop - c >= 5
				    && memcmp(c, "From ", 5) == 0))) {
					tok[0] = '=';
					tok[1] = hex[*c >> 4];
					tok[2] = hex[*c & 15];
					tlen = 3;
				}
			}
			strbuf_append(out, tok, tlen);
			col += tlen;
		}
		strbuf_puts(out, "\r\n");
		if (eol == NULL)
			break;
		p = eol + 1;
	}
}

void digest_mail_date(long long t, char *buf, size_t size)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf, size, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
		 (off < 0 ? -off : off) % 60);
}

/* digest_mail_url_ok - safe inside <...> in a header */
static int digest_mail_url_ok(const char *url)
{
	return url != NULL && *url != '\0' && digest_mail_printable(url)
		&& strpbrk(url, " <>\"") == NULL && strlen(url) < 900;
}

static void digest_mail_part(struct strbuf *out, const char *boundary,
			     const char *type, const char *body)
{
	strbuf_printf(out, "--%s\r\n", boundary);
	strbuf_printf(out, "Content-Type: %s; charset=utf-8\r\n", type);
	strbuf_puts(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	digest_mail_qp(out, body, strlen(body));
}

void digest_mail_compose(const struct digest_mail *m, struct strbuf *out)
{
	char *subject = digest_mail_clean(m->subject, 400);

	digest_mail_header(out, "Date", m->date);
	digest_mail_from(out, m->from_name, m->from);
	digest_mail_header(out, "To", m->to);
	digest_mail_header(out, "Subject", subject);
	digest_mail_header(out, "Message-ID", m->message_id);
	/* the owner may answer with item numbers (lib/release/reply.h) */
	if (m->reply_to != NULL && digest_mail_address_ok(m->reply_to))
		digest_mail_header(out, "Reply-To", m->reply_to);
	strbuf_puts(out, "MIME-Version: 1.0\r\n");
	if (m->language && digest_mail_printable(m->language))
		digest_mail_header(out, "Content-Language", m->language);
	/* RFC 3834: vacation responders and the like must stay quiet */
	strbuf_puts(out, "Auto-Submitted: auto-generated\r\n");
	/* ndrguard knows its own digest by it and never holds it
	   (classify-own.c) */
	strbuf_puts(out, "X-Ndrguard: digest\r\n");
	strbuf_puts(out, "Precedence: bulk\r\n");
	strbuf_puts(out, "X-Auto-Response-Suppress: All\r\n");
	if (digest_mail_url_ok(m->unsubscribe_url)) {
		strbuf_printf(out, "List-Unsubscribe: <%s>\r\n",
			      m->unsubscribe_url);
		strbuf_puts(out, "List-Unsubscribe-Post: "
			    "List-Unsubscribe=One-Click\r\n");
	}
	strbuf_printf(out, "Content-Type: multipart/alternative;\r\n"
		      "\tboundary=\"%s\"\r\n\r\n", m->boundary);
	strbuf_puts(out, "This is a message in MIME format: a plain text"
		    " and an HTML version.\r\n\r\n");
	digest_mail_part(out, m->boundary, "text/plain", m->text);
	strbuf_puts(out, "\r\n");
	digest_mail_part(out, m->boundary, "text/html", m->html);
	strbuf_printf(out, "\r\n--%s--\r\n", m->boundary);
	free(subject);
}
