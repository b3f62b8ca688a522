/*
 * links.h - the addresses digests link to, which the release page serves
 *
 * One place decides the URL forms, so the digest and the web server
 * cannot drift apart:
 *	BASE/item/ID?t=TOKEN			token: action "item", subject ID
 *	BASE/mailbox?m=ADDR&t=TOKEN		token: "mailbox", subject ADDR
 *	BASE/settings?m=ADDR&t=TOKEN		token: "settings", subject ADDR
 *	BASE/unsubscribe?m=ADDR&t=TOKEN		token: "settings", subject ADDR
 *						(RFC 8058 one-click POST target)
 * BASE is `base_url` without a trailing slash; ADDR is percent-encoded.
 *
 * Ownership: every function returns a string the caller frees.
 */
#ifndef NDRGUARD_LINKS_H
#define NDRGUARD_LINKS_H

struct token_key;

char *links_item(const char *base_url, const struct token_key *key,
		 long long id, long long expires);
char *links_mailbox(const char *base_url, const struct token_key *key,
		    const char *mailbox, long long expires);
char *links_settings(const char *base_url, const struct token_key *key,
		     const char *mailbox, long long expires);
char *links_unsubscribe(const char *base_url, const struct token_key *key,
			const char *mailbox, long long expires);
/* links_url_encode - percent-encode for a query value */
char *links_url_encode(const char *s);

#endif
