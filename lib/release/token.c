/*
 * token.c - capability tokens: HMAC-SHA256 over action, subject and expiry
 *
 * NAME
 *	token - make and check the tokens in digest links
 * DESCRIPTION
 *	A token is 40 bytes, written as 54 characters of unpadded URL-safe
 *	base64: the expiry (8 bytes, big-endian unix time) followed by
 *	HMAC-SHA256(key, "ndrguard-token-1" NUL action NUL subject NUL
 *	expiry). The action and subject are not in the token: the page that
 *	checks it knows what it is being asked to do and to what, so a
 *	token for one item cannot be replayed against another, nor an
 *	"item" token used as a "mailbox" one.
 *
 *	The key file is read whole (16 to 1024 bytes). It is refused when
 *	other users may read or write it: either would let them forge links.
 *	With create set, a missing file is made with 32 bytes from
 *	RAND_bytes(), mode 0600, O_EXCL so two processes starting at once
 *	cannot both write one.
 * DIAGNOSTICS
 *	token_verify() gives a reason for the log only; callers must show
 *	nothing of it to the client.
 */
#include "autoconfig.h"
#include "token.h"
#include "secret-file.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define TOKEN_KEY_MIN 16
#define TOKEN_KEY_MAX 1024
#define TOKEN_KEY_NEW 32
#define TOKEN_MAC_LEN 32
#define TOKEN_RAW_LEN (8 + TOKEN_MAC_LEN)
#define TOKEN_TEXT_LEN 54		/* ceil(40 * 4 / 3), unpadded */
#define TOKEN_DOMAIN "ndrguard-token-1"

struct token_key {
	size_t len;
	unsigned char bytes[TOKEN_KEY_MAX];
};

static const char token_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* token_b64_encode - unpadded URL-safe base64 of len bytes into out */
static void token_b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			in[i + 2];
		out[o++] = token_b64[v >> 18 & 63];
		out[o++] = token_b64[v >> 12 & 63];
		out[o++] = token_b64[v >> 6 & 63];
		out[o++] = token_b64[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = token_b64[v >> 18 & 63];
		out[o++] = token_b64[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = token_b64[v >> 18 & 63];
		out[o++] = token_b64[v >> 12 & 63];
		out[o++] = token_b64[v >> 6 & 63];
	}
	out[o] = '\0';
}

static int token_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* token_b64_decode - decode exactly TOKEN_TEXT_LEN chars, 0 or -1 */
static int token_b64_decode(const char *in, unsigned char out[TOKEN_RAW_LEN])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < TOKEN_TEXT_LEN; i++) {
		int v = token_b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == TOKEN_RAW_LEN)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* the unused low bits of the last character must be zero, so each
	   token has exactly one spelling */
	if (o != TOKEN_RAW_LEN || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* token_mac - the HMAC of action, subject and the 8 expiry bytes */
static void token_mac(const struct token_key *key, const char *action,
		      const char *subject, const unsigned char expiry[8],
		      unsigned char mac[TOKEN_MAC_LEN])
{
	size_t alen = strlen(action), slen = strlen(subject);
	size_t dlen = sizeof(TOKEN_DOMAIN) + alen + 1 + slen + 1 + 8;
	unsigned char *msg = xmalloc(dlen), *p = msg;
	unsigned int maclen = TOKEN_MAC_LEN;

	memcpy(p, TOKEN_DOMAIN, sizeof(TOKEN_DOMAIN));
	p += sizeof(TOKEN_DOMAIN);
	memcpy(p, action, alen + 1);
	p += alen + 1;
	memcpy(p, subject, slen + 1);
	p += slen + 1;
	memcpy(p, expiry, 8);
	if (HMAC(EVP_sha256(), key->bytes, (int)key->len, msg, dlen,
		 mac, &maclen) == NULL || maclen != TOKEN_MAC_LEN) {
		/* SHA-256 is always there; failing here is a broken libcrypto */
		fprintf(stderr, "4.3.0 HMAC-SHA256 failed\n");
		abort();
	}
	OPENSSL_cleanse(msg, dlen);
	free(msg);
}

/* token_key_create - write a new random key file, O_EXCL, mode 0600 */
static int token_key_create(const char *path, const char **error_r)
{
	static char err[512];
	unsigned char bytes[TOKEN_KEY_NEW];
	int fd;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
		*error_r = "RAND_bytes failed: no randomness for a new key";
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;	/* someone else made it first: read theirs */
		snprintf(err, sizeof(err), "create %s: %s", path,
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	/* umask may have removed bits, never added any; make it exact */
	if (fchmod(fd, 0600) < 0 ||
	    write(fd, bytes, sizeof(bytes)) != (ssize_t)sizeof(bytes) ||
	    fsync(fd) < 0) {
		snprintf(err, sizeof(err), "write %s: %s", path,
			 strerror(errno));
		*error_r = err;
		close(fd);
		unlink(path);
		OPENSSL_cleanse(bytes, sizeof(bytes));
		return -1;
	}
	OPENSSL_cleanse(bytes, sizeof(bytes));
	if (close(fd) < 0) {
		snprintf(err, sizeof(err), "close %s: %s", path,
			 strerror(errno));
		*error_r = err;
		unlink(path);
		return -1;
	}
	return 0;
}

/* token_key_load - read the key from secret_file, creating it if asked */
int token_key_load(const char *secret_file, int create,
		   struct token_key **key_r, const char **error_r)
{
	static char err[512];
	struct token_key *key;
	ssize_t n;
	int fd;

	*key_r = NULL;
	if (secret_file == NULL || *secret_file == '\0') {
		*error_r = "secret_file is not set";
		return -1;
	}
	if (create && access(secret_file, F_OK) < 0 && errno == ENOENT &&
	    token_key_create(secret_file, error_r) < 0)
		return -1;
	if (secret_file_open(secret_file, &fd, error_r) < 0)
		return -1;
	key = xcalloc(1, sizeof(*key));
	n = read(fd, key->bytes, sizeof(key->bytes));
	if (n < 0 || (size_t)n < TOKEN_KEY_MIN || (size_t)n == TOKEN_KEY_MAX) {
		snprintf(err, sizeof(err), "%s: %s", secret_file,
			 n < 0 ? strerror(errno) :
			 "the key must be 16 to 1023 bytes");
		*error_r = err;
		close(fd);
		token_key_free(&key);
		return -1;
	}
	close(fd);
	key->len = (size_t)n;
	*key_r = key;
	return 0;
}

/* token_key_free - wipe and free the key, NULL the caller's pointer */
void token_key_free(struct token_key **_key)
{
	struct token_key *key = *_key;

	if (key == NULL)
		return;
	*_key = NULL;
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

static void token_expiry_bytes(long long expires, unsigned char out[8])
{
	uint64_t v = (uint64_t)expires;

	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* token_make - the token for action on subject until expires */
char *token_make(const struct token_key *key, const char *action,
		 const char *subject, long long expires)
{
	unsigned char raw[TOKEN_RAW_LEN];
	char *text = xmalloc(TOKEN_TEXT_LEN + 1);

	token_expiry_bytes(expires, raw);
	token_mac(key, action, subject, raw, raw + 8);
	token_b64_encode(raw, sizeof(raw), text);
	return text;
}

/* token_verify - 0 when token grants action on subject at now */
int token_verify(const struct token_key *key, const char *token,
		 const char *action, const char *subject, long long now,
		 const char **error_r)
{
	unsigned char raw[TOKEN_RAW_LEN], mac[TOKEN_MAC_LEN];
	uint64_t expires = 0;

	if (token == NULL || strlen(token) != TOKEN_TEXT_LEN ||
	    token_b64_decode(token, raw) < 0) {
		*error_r = "malformed token";
		return -1;
	}
	token_mac(key, action, subject, raw, mac);
	if (CRYPTO_memcmp(mac, raw + 8, TOKEN_MAC_LEN) != 0) {
		*error_r = "bad token signature";
		return -1;
	}
	for (int i = 0; i < 8; i++)
		expires = expires << 8 | raw[i];
	if ((long long)expires < now) {
		*error_r = "expired token";
		return -1;
	}
	return 0;
}

/* ---- the compact form (token.h) ---- */

#define TOKEN_COMPACT_EXPIRY 5
#define TOKEN_COMPACT_MAC 15
#define TOKEN_COMPACT_RAW (TOKEN_COMPACT_EXPIRY + TOKEN_COMPACT_MAC)

static const char token_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* token_b32_encode - 20 bytes as 32 lower-case base32 characters */
static void token_b32_encode(const unsigned char in[TOKEN_COMPACT_RAW],
			     char out[TOKEN_COMPACT_LEN + 1])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < TOKEN_COMPACT_RAW; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = token_b32[acc >> bits & 31];
		}
	}
	out[o] = '\0';
}

/* token_b32_decode - 32 characters (either case) back to 20 bytes */
static int token_b32_decode(const char *in,
			    unsigned char out[TOKEN_COMPACT_RAW])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < TOKEN_COMPACT_LEN; i++) {
		char c = in[i];
		int v;

		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o == TOKEN_COMPACT_RAW ? 0 : -1;
}

/* token_make_compact - the compact token for action on subject */
char *token_make_compact(const struct token_key *key, const char *action,
			 const char *subject, long long expires)
{
	unsigned char exp8[8], mac[TOKEN_MAC_LEN], raw[TOKEN_COMPACT_RAW];
	char *text = xmalloc(TOKEN_COMPACT_LEN + 1);

	token_expiry_bytes(expires, exp8);
	/* the MAC covers all 8 expiry bytes; only the low 5 are written */
	token_mac(key, action, subject, exp8, mac);
	memcpy(raw, exp8 + 8 - TOKEN_COMPACT_EXPIRY, TOKEN_COMPACT_EXPIRY);
	memcpy(raw + TOKEN_COMPACT_EXPIRY, mac, TOKEN_COMPACT_MAC);
	token_b32_encode(raw, text);
	return text;
}

/* token_verify_compact - 0 when the compact token grants action */
int token_verify_compact(const struct token_key *key, const char *token,
			 const char *action, const char *subject,
			 long long now, int *expired_r, const char **error_r)
{
	unsigned char raw[TOKEN_COMPACT_RAW], exp8[8], mac[TOKEN_MAC_LEN];
	uint64_t expires = 0;

	*expired_r = 0;
	if (token == NULL || strlen(token) != TOKEN_COMPACT_LEN ||
	    token_b32_decode(token, raw) < 0) {
		*error_r = "malformed token";
		return -1;
	}
	memset(exp8, 0, sizeof(exp8));
	memcpy(exp8 + 8 - TOKEN_COMPACT_EXPIRY, raw, TOKEN_COMPACT_EXPIRY);
	token_mac(key, action, subject, exp8, mac);
	if (CRYPTO_memcmp(mac, raw + TOKEN_COMPACT_EXPIRY,
			  TOKEN_COMPACT_MAC) != 0) {
		*error_r = "bad token signature";
		return -1;
	}
	for (int i = 0; i < 8; i++)
		expires = expires << 8 | exp8[i];
	if ((long long)expires < now) {
		*expired_r = 1;
		*error_r = "expired token";
		return -1;
	}
	return 0;
}
