/*
 * reporter.c - which mail system sent a bounce (reporter.h)
 */
#include "autoconfig.h"
#include "reporter.h"
#include "mime.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPORTER_HEADERS_MAX 65536

static int reporter_host_char(int c)
{
	return isalnum(c) || c == '-' || c == '.';
}

int reporter_name_ok(const char *s)
{
	size_t len = s ? strlen(s) : 0, label = 0;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!reporter_host_char((unsigned char)s[i]))
			return 0;
		if (s[i] != '.') {
			if (++label > 63)
				return 0;
		} else if (label == 0) {
			return 0;	/* ".." */
		} else {
			label = 0;
		}
	}
	return 1;
}

/* reporter_take - the host name at p (up to len bytes), lower-cased, if
   it is one; a bare address literal or a single label is not */
static char *reporter_take(const char *p, size_t len)
{
	size_t n = 0;
	char *host;

	while (n < len && reporter_host_char((unsigned char)p[n]))
		n++;
	while (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || memchr(p, '.', n) == NULL)
		return NULL;
	host = xstrndup(p, n);
	for (char *q = host; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (!reporter_name_ok(host) ||
	    strspn(host, "0123456789.") == strlen(host)) {
		free(host);
		return NULL;
	}
	return host;
}

/* reporter_received_from - the host after "from " in a Received value */
static char *reporter_received_from(const char *value)
{
	while (*value == ' ' || *value == '\t')
		value++;
	if (strncasecmp(value, "from ", 5) != 0)
		return NULL;
	value += 5;
	while (*value == ' ')
		value++;
	return reporter_take(value, strlen(value));
}

/* reporter_from_domain - the domain of the From address */
static char *reporter_from_domain(const char *value)
{
	const char *at = strrchr(value, '@');

	return at == NULL ? NULL : reporter_take(at + 1, strlen(at + 1));
}

/* reporter_headers - the oldest Received's host, else From's domain */
static char *reporter_headers(const char *msg, size_t len)
{
	struct mime_header *h = NULL;
	size_t count = 0, nlen;
	char *host = NULL;
	/* the parser reads LF line ends; held bytes may have CRLF */
	char *lf = mime_normalize(msg, len < REPORTER_HEADERS_MAX ? len
				  : REPORTER_HEADERS_MAX, &nlen);

	mime_headers_parse(lf, nlen, &h, &count);
	for (size_t i = count; host == NULL && i > 0; i--)
		if (strcasecmp(h[i - 1].name, "Received") == 0)
			host = reporter_received_from(h[i - 1].value);
	if (host == NULL) {
		const char *from = mime_headers_find(h, count, "From");

		host = from ? reporter_from_domain(from) : NULL;
	}
	mime_headers_free(h, count);
	free(lf);
	return host;
}

char *reporter_host(const char *msg, size_t len, const char *reporting_mta)
{
	char *host = reporting_mta
		? reporter_take(reporting_mta, strlen(reporting_mta)) : NULL;

	if (host == NULL && msg != NULL && len > 0)
		host = reporter_headers(msg, len);
	return host;
}

char *reporter_domain(const char *host)
{
	const char *dot = host ? strchr(host, '.') : NULL;

	if (host == NULL)
		return NULL;
	if (dot != NULL && strchr(dot + 1, '.') != NULL)
		return xstrdup(dot + 1);
	return xstrdup(host);
}

/* reporter_local_ok - an address's local part ndrguard keeps in a rule:
   printable ASCII without blanks, quotes or angle brackets */
static int reporter_local_ok(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || strchr("\"<>()[]\\,;:@", c))
			return 0;
	}
	return 1;
}

int reporter_rule_value(const char *kind, const char *value, char **value_r,
			const char **error_r)
{
	const char *at;
	char *v;

	*value_r = NULL;
	if (kind == NULL || value == NULL ||
	    (strcmp(kind, "domain") != 0 && strcmp(kind, "recipient") != 0)) {
		*error_r = "the kind of rule is domain or recipient";
		return -1;
	}
	at = strrchr(value, '@');
	if (strcmp(kind, "domain") == 0 ? !reporter_name_ok(value)
	    : at == NULL || strlen(value) > 254 ||
	      !reporter_local_ok(value, (size_t)(at - value)) ||
	      !reporter_name_ok(at + 1)) {
		*error_r = strcmp(kind, "domain") == 0
			? "not a domain name (letters, digits, '-' and '.', "
			  "at most 253 bytes)"
			: "not a mail address (local@domain, at most 254 bytes)";
		return -1;
	}
	v = xstrdup(value);
	for (char *q = v; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	*value_r = v;
	return 0;
}
