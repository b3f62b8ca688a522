/*
 * digest-mail.h - the digest as an RFC 5322 message: headers and MIME
 *
 * Pure functions, no I/O: they turn rendered text into bytes that are
 * safe on the wire whatever the data held. Every line ends in CRLF and
 * is at most 78 characters in the body (quoted-printable); a header
 * value never contains a CR or LF from the data, because every value
 * that came from data passes digest_mail_clean() first and headers are
 * folded only here; non-ASCII header text is RFC 2047 encoded.
 *
 * Ownership: functions append to a caller's strbuf, or return a string
 * the caller frees.
 */
#ifndef NDRGUARD_DIGEST_MAIL_H
#define NDRGUARD_DIGEST_MAIL_H

#include <stddef.h>

struct strbuf;

struct digest_mail {
	const char *date;		/* RFC 5322 date-time */
	const char *from;		/* addr-spec */
	const char *from_name;		/* UTF-8 display name, or NULL */
	const char *to;			/* addr-spec */
	const char *subject;		/* UTF-8, one line */
	const char *message_id;		/* with <> */
	const char *language;		/* Content-Language, e.g. "es" */
	const char *unsubscribe_url;	/* RFC 8058 one-click target */
	const char *reply_to;		/* release by reply, or NULL */
	const char *boundary;		/* never in quoted-printable text */
	const char *text;		/* text/plain body, UTF-8, LF lines */
	const char *html;		/* text/html body, UTF-8, LF lines */
};

/*
 * digest_mail_clean - s as valid UTF-8 on one line: invalid bytes become
 * U+FFFD, control characters (CR, LF, TAB, ...) a space; at most
 * max_chars characters (then "..."). NULL gives "".
 */
char *digest_mail_clean(const char *s, size_t max_chars);
/* digest_mail_address_ok - a printable ASCII addr-spec with one '@' */
int digest_mail_address_ok(const char *addr);
/* digest_mail_header - "Name: value" CRLF, folded; RFC 2047 B-encoded
   words when value is not all printable ASCII */
void digest_mail_header(struct strbuf *out, const char *name,
			const char *value);
/* digest_mail_from - "From: NAME <addr>" CRLF, folded before the
   address; the name as it is, quoted, or RFC 2047 encoded when it is not
   ASCII; without a name "From: addr" */
void digest_mail_from(struct strbuf *out, const char *name,
		      const char *addr);
/* digest_mail_qp - quoted-printable with CRLF line ends */
void digest_mail_qp(struct strbuf *out, const char *text, size_t len);
/* digest_mail_date - RFC 5322 date-time of t in local time */
void digest_mail_date(long long t, char *buf, size_t size);
/* digest_mail_compose - the whole message */
void digest_mail_compose(const struct digest_mail *m, struct strbuf *out);

#endif
