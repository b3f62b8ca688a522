/*
 * token.h - capability tokens for the links in digests (HMAC-SHA256)
 *
 * A digest link carries a token that grants one action on one subject
 * until a time: e.g. action "item" on subject "123" (view and release
 * held message 123), "mailbox" on "alice@example.com" (list its held
 * messages), "settings" on "alice@example.com" (digest preferences).
 * Nothing else is needed to use the link, so a token is as good as a
 * password for what it names, and no more.
 *
 * The key is the contents of `secret_file` (created with 32 random bytes,
 * mode 0600, when absent and create is set). Tokens are URL-safe base64
 * text; token_verify() compares in constant time, and says nothing about
 * why a token failed beyond the error text for the log.
 *
 * Ownership: token_key_load() returns a key freed by token_key_free();
 * token_make() returns a string the caller frees.
 */
#ifndef NDRGUARD_TOKEN_H
#define NDRGUARD_TOKEN_H

struct token_key;

int token_key_load(const char *secret_file, int create,
		   struct token_key **key_r, const char **error_r);
void token_key_free(struct token_key **_key);
/* open a secret file, refused when others may read or change it */
int token_secret_open(const char *path, int *fd_r, const char **error_r);

char *token_make(const struct token_key *key, const char *action,
		 const char *subject, long long expires);
/* 0 when valid for action+subject at time now; -1 with *error_r */
int token_verify(const struct token_key *key, const char *token,
		 const char *action, const char *subject, long long now,
		 const char **error_r);

/*
 * The compact form, for an address's local part (reply.h): the same HMAC
 * over the same fields, cut to TOKEN_COMPACT_MAC bytes after a 5-byte
 * expiry, written as TOKEN_COMPACT_LEN characters of lower-case base32,
 * so that an MTA that folds the case of a local part does not break it.
 * token_verify_compact() sets *expired_r when the signature is right
 * but the time has passed (the caller may then say so to the owner).
 */
#define TOKEN_COMPACT_LEN 32
char *token_make_compact(const struct token_key *key, const char *action,
			 const char *subject, long long expires);
int token_verify_compact(const struct token_key *key, const char *token,
			 const char *action, const char *subject,
			 long long now, int *expired_r, const char **error_r);

#endif
