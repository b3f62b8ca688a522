/*
 * reply-address.c - take a digest's reply address apart (reply-address.h)
 *
 * The local part and the domain compare without regard to case (MTAs
 * and clients may change either); REF is hex and TOKEN base32, both
 * decoded case-insensitively, so a case-folded address still works.
 */
#include "autoconfig.h"
#include "reply-address.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* reply_address_split - REF and TOKEN of LOCAL+REF.TOKEN@DOMAIN */
int reply_address_split(const char *reply_address, const char *rcpt,
			char ref_r[REPLY_REF_LEN + 1],
			char token_r[REPLY_TOKEN_MAX + 1],
			const char **error_r)
{
	const char *at, *rat, *p;
	size_t local;

	*error_r = "not a reply address";
	if (reply_address == NULL || rcpt == NULL
	    || (at = strchr(reply_address, '@')) == NULL
	    || (rat = strrchr(rcpt, '@')) == NULL)
		return -1;
	local = (size_t)(at - reply_address);
	if (strncasecmp(rcpt, reply_address, local) != 0 || rcpt[local] != '+'
	    || strcasecmp(rat, at) != 0)
		return -1;
	p = rcpt + local + 1;
	for (size_t i = 0; i < REPLY_REF_LEN; i++)
		if (!isxdigit((unsigned char)p[i]))
			return -1;
	if (p[REPLY_REF_LEN] != '.'
	    || rat - (p + REPLY_REF_LEN + 1) != REPLY_TOKEN_MAX)
		return -1;
	for (size_t i = 0; i < REPLY_REF_LEN; i++)
		ref_r[i] = (char)tolower((unsigned char)p[i]);
	ref_r[REPLY_REF_LEN] = '\0';
	memcpy(token_r, p + REPLY_REF_LEN + 1, REPLY_TOKEN_MAX);
	token_r[REPLY_TOKEN_MAX] = '\0';
	return 0;
}

/* reply_address_is - does rcpt have the form of a reply address? */
int reply_address_is(const char *reply_address, const char *rcpt)
{
	char ref[REPLY_REF_LEN + 1], token[REPLY_TOKEN_MAX + 1];
	const char *error;

	if (reply_address == NULL || *reply_address == '\0')
		return 0;
	return reply_address_split(reply_address, rcpt, ref, token,
				   &error) == 0;
}
