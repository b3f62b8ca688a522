/*
 * msgid.h - Message-IDs in the one form the outbound index keys them by
 *
 * The milter records what the outbound message carried; a bounce quotes
 * it back, sometimes with other spacing, without angle brackets, or
 * with the domain part in another case (domains are not case-sensitive;
 * the local part is left as it is). Both sides go through
 * msgid_normalize() so that they compare equal.
 */
#ifndef NDRGUARD_MSGID_H
#define NDRGUARD_MSGID_H

#include <stddef.h>

/* longest normalised Message-ID kept (RFC 5322 lines are 998 bytes) */
#define MSGID_MAX 250

/*
 * msgid_normalize - the first Message-ID in value ("<a@B>" or "a@B",
 * comments and white space around it ignored) as "a@b" into out (size
 * bytes, at least MSGID_MAX + 1). Returns the bytes consumed from value
 * (> 0), or 0 with out "" when there is none, it lacks an '@', holds
 * white space or control bytes, or is longer than MSGID_MAX.
 */
size_t msgid_normalize(const char *value, char *out, size_t size);

/*
 * msgid_list - up to max Message-IDs of a header that holds several
 * (References, In-Reply-To), each into ids[i] (MSGID_MAX + 1 bytes),
 * newest (the last written) first; returns how many
 */
size_t msgid_list(const char *value, char ids[][MSGID_MAX + 1], size_t max);

#endif
