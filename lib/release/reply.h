/*
 * reply.h - release by reply: the owner answers a digest with numbers
 *
 * A digest has a Reply-To of its own (reply-address.h): its reference
 * and a token binding it to the digest's mailbox until the links expire.
 * The reply is handed to reply_handle() (by ndrguard-reply, the pipe(8)
 * transport's program); it releases what the owner's text names (the
 * numbers the digest shows) and the items attached as messages, through
 * release_item(), so a reply handled twice releases each item once: the
 * second answer says "already released".
 *
 * The token is the whole capability, as the links in the same digest
 * are: the reply's From is not checked against the mailbox, because an
 * owner whose mail is forwarded elsewhere replies from that other
 * address, and a From is as easy to forge as it is to copy. What a
 * stranger holding the address can do is no more than the links allow:
 * move the owner's own held bounces into the owner's mailbox. The
 * answer therefore never goes to the reply's sender: it goes to the
 * digest's mailbox, so the owner always sees what was done.
 *
 * Refused without an answer (logged, and the mail is taken: exit 0):
 * an address that is not a reply address, an unknown reference or a
 * wrong signature (a forgery; answering it would be backscatter), and
 * automatic replies (null sender, Auto-Submitted, Precedence bulk). An
 * expired token is answered: the signature proves the mailbox.
 */
#ifndef NDRGUARD_REPLY_H
#define NDRGUARD_REPLY_H

#include <stddef.h>

struct settings;
struct store;
struct token_key;

/* reply_address_make - the Reply-To of a new digest: LOCAL+REF.TOKEN@DOMAIN
   (NULL when reply_address is off); ref_r gets the new random REF */
char *reply_address_make(const struct settings *set,
			 const struct token_key *key, const char *mailbox,
			 long long expires, char *ref_r, size_t ref_size);

/* reply_handle - act on one reply sent to rcpt. 0 when done with it
   (even when refused); -1 with *error_r when it must be retried (the
   store or the answer's hop failed; what was released stays released) */
int reply_handle(const struct settings *set, const struct token_key *key,
		 struct store *st, const char *sender, const char *rcpt,
		 const char *msg, size_t len, long long now,
		 const char **error_r);

#endif
