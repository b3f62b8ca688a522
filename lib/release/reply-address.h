/*
 * reply-address.h - the form of a digest's reply address
 *
 * With `reply_address = LOCAL@DOMAIN` each digest carries a Reply-To of
 * its own:
 *	LOCAL+REF.TOKEN@DOMAIN
 * REF (REPLY_REF_LEN lower-case hex digits, random) names the digest in
 * the store; TOKEN is the compact capability token (token.h) for action
 * "reply" on subject "REF MAILBOX", so it binds the digest, its mailbox
 * and an expiry. These functions only take the address apart: they need
 * no key, so the pipe agent can tell a reply address from any other
 * recipient without loading libcrypto (it passes such mail on
 * unclassified; see deliver.h).
 *
 * Ownership: reply_address_split() fills caller buffers.
 */
#ifndef NDRGUARD_REPLY_ADDRESS_H
#define NDRGUARD_REPLY_ADDRESS_H

#include <stddef.h>

#define REPLY_REF_LEN 12
/* 18 + "+" + 12 + "." + 32 = 64, RFC 5321's limit for a local part */
#define REPLY_ADDRESS_LOCAL_MAX 18
#define REPLY_TOKEN_MAX 32

/* reply_address_is - 1 when rcpt has the form of a reply address of
   reply_address (NULL or "": never) */
int reply_address_is(const char *reply_address, const char *rcpt);
/* reply_address_split - REF and TOKEN of rcpt: 0, or -1 with *error_r
   when rcpt is not a reply address of reply_address */
int reply_address_split(const char *reply_address, const char *rcpt,
			char ref_r[REPLY_REF_LEN + 1],
			char token_r[REPLY_TOKEN_MAX + 1],
			const char **error_r);

#endif
