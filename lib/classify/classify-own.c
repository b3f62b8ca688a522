/*
 * classify-own.c - ndrguard's own mail: its digests and release requests
 *
 * A digest lists held bounces (recipients, reasons, "the address does not
 * exist"), and when digest_from is postmaster@ or the like the text
 * heuristics would read it as a bounce from the mail system; held in turn,
 * it would never reach its owner. ndrguard marks what it sends with an
 * X-Ndrguard header beside RFC 3834's Auto-Submitted: auto-generated. A
 * remote MTA's bounce carries the headers of what it returns only inside
 * the report, never on top, so a backscatter bounce cannot pass for one
 * of these; older digests, sent before the header, are known by their
 * Message-ID.
 */
#include "autoconfig.h"
#include "classify-private.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* classify_own_auto - Auto-Submitted says a program sent it */
static int classify_own_auto(const struct mime_part *root)
{
	const char *v = mime_part_header(root, "Auto-Submitted");

	if (v == NULL)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	return strncasecmp(v, "auto-generated", 14) == 0;
}

/* classify_own_legacy_id - "<digest.TIME.HEX@" as digests before the
   header had it */
static int classify_own_legacy_id(const char *id)
{
	size_t i = 8, digits, hex;

	if (strncmp(id, "<digest.", 8) != 0)
		return 0;
	for (digits = 0; isdigit((unsigned char)id[i]); i++)
		digits++;
	if (digits == 0 || id[i++] != '.')
		return 0;
	for (hex = 0; isxdigit((unsigned char)id[i]); i++)
		hex++;
	return hex >= 16 && id[i] == '@';
}

const char *classify_own_notice(const struct mime_part *root)
{
	const char *mark, *id;

	if (root == NULL || !classify_own_auto(root))
		return NULL;
	mark = mime_part_header(root, "X-Ndrguard");
	if (mark != NULL) {
		while (*mark == ' ' || *mark == '\t')
			mark++;
		if (strncasecmp(mark, "digest", 6) == 0)
			return "ndrguard's own digest";
		if (strncasecmp(mark, "release-request", 15) == 0)
			return "ndrguard's own release request";
	}
	id = mime_part_header(root, "Message-ID");
	if (id == NULL)
		return NULL;
	while (*id == ' ' || *id == '\t')
		id++;
	if (classify_own_legacy_id(id))
		return "ndrguard's own digest";
	if (strncmp(id, "<ndrguard-request-", 18) == 0)
		return "ndrguard's own release request";
	return NULL;
}
