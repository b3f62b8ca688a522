/*
 * msgid.c - Message-IDs normalised for the outbound index (msgid.h)
 */
#include "autoconfig.h"
#include "msgid.h"

#include <ctype.h>
#include <string.h>

/* msgid_skip - past white space and (nested) comments */
static const char *msgid_skip(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		       *p == ',')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		do {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			else if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		} while (*p != '\0' && depth > 0);
	}
}

/* msgid_valid - one token with an '@' that has text on both sides */
static int msgid_valid(const char *s, size_t n)
{
	const char *at = NULL;

	if (n == 0 || n > MSGID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return 0;
		if (c == '@')
			at = s + i;
	}
	return at != NULL && at > s && at < s + n - 1;
}

size_t msgid_normalize(const char *value, char *out, size_t size)
{
	const char *p = msgid_skip(value), *start, *end;
	size_t n;

	out[0] = '\0';
	if (*p == '<') {
		start = p + 1;
		end = strchr(start, '>');
		if (end == NULL)
			return 0;
	} else {
		start = p;
		end = p + strcspn(p, " \t\r\n,(");
	}
	n = (size_t)(end - start);
	if (size <= MSGID_MAX || !msgid_valid(start, n))
		return 0;
	memcpy(out, start, n);
	out[n] = '\0';
	for (char *d = strrchr(out, '@') + 1; *d; d++)
		*d = (char)tolower((unsigned char)*d);
	return (size_t)(end - value) + (*end == '>' ? 1 : 0);
}

size_t msgid_list(const char *value, char ids[][MSGID_MAX + 1], size_t max)
{
	char found[64][MSGID_MAX + 1];
	size_t count = 0, used;
	const char *p = value;

	/* a References header may list hundreds; the newest few count */
	while (*p != '\0') {
		used = msgid_normalize(p, found[count % 64], sizeof(found[0]));
		if (used == 0) {
			/* not one: step over this token and try the next */
			p = msgid_skip(p);
			if (*p == '<') {
				const char *close = strchr(p, '>');
				p = close != NULL ? close + 1 : p + strlen(p);
			} else if (*p != '\0') {
				size_t n = strcspn(p, " \t\r\n,(");
				p += n > 0 ? n : 1;
			}
			continue;
		}
		count++;
		p += used;
	}
	size_t n = count < max ? count : max;
	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], found[(count - 1 - i) % 64], sizeof(found[0]));
	return n;
}
