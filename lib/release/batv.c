/*
 * batv.c - sign and verify prvs= bounce address tags (HMAC-SHA1)
 *
 * NAME
 *	batv - the prvs= tags of our envelope senders
 * DESCRIPTION
 *	The layout is the BATV draft's: prvs=KDDDSSSSSS=local@domain, with
 *	DDD the expiry day modulo 1000 and SSSSSS the first three bytes of
 *	HMAC-SHA1(key K, "KDDD" local@domain). The address is lower-cased
 *	before it is signed: relays may change the case of either part,
 *	and a bounce must still verify.
 *
 *	The key file is opened by secret_file_open(), so it is refused on
 *	the same modes as the link key (secret_file).
 * DIAGNOSTICS
 *	batv_verify() says why a tag failed: malformed, unknown key, bad
 *	signature, expired.
 */
#include "autoconfig.h"
#include "batv.h"
#include "crypto-load.h"
#include "secret-file.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>


#define BATV_KEY_MIN 16
#define BATV_KEY_MAX 255
#define BATV_FILE_MAX 8192
#define BATV_PREFIX "prvs="
#define BATV_PREFIX_LEN 5
#define BATV_TAG_LEN 10		/* KDDDSSSSSS */

struct batv_key {
	int number;
	size_t len;
	unsigned char bytes[BATV_KEY_MAX];
};

struct batv_keys {
	int count;		/* keys[0] signs */
	struct batv_key keys[10];
};

/* batv_keys_parse_line - one "N SECRET" line into keys; 0 or -1 */
static int batv_keys_parse_line(struct batv_keys *keys, const char *line,
				size_t len, const char **error_r)
{
	size_t i = 2;

	if (len < 2 || !isdigit((unsigned char)line[0]) ||
	    (line[1] != ' ' && line[1] != '\t')) {
		*error_r = "a line must be a key number 0-9, a space, the key";
		return -1;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < BATV_KEY_MIN || len - i > BATV_KEY_MAX) {
		*error_r = "a key must be 16 to 255 bytes";
		return -1;
	}
	for (int k = 0; k < keys->count; k++) {
		if (keys->keys[k].number == line[0] - '0') {
			*error_r = "a key number is given twice";
			return -1;
		}
	}
	struct batv_key *key = &keys->keys[keys->count++];

	key->number = line[0] - '0';
	key->len = len - i;
	memcpy(key->bytes, line + i, key->len);
	return 0;
}

/* batv_keys_parse - the lines of the file; '#' lines and blanks skipped */
static int batv_keys_parse(struct batv_keys *keys, const char *text,
			   size_t len, const char **error_r)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - pos;

		if (n > 0 && text[pos + n - 1] == '\r')
			n--;
		if (n > 0 && text[pos] != '#' &&
		    batv_keys_parse_line(keys, text + pos, n, error_r) < 0)
			return -1;
		pos = end + 1;
	}
	if (keys->count == 0) {
		*error_r = "no key in the file";
		return -1;
	}
	return 0;
}

/* batv_keys_load - read the key file, refused on loose modes */
int batv_keys_load(const char *path, struct batv_keys **keys_r,
		   const char **error_r)
{
	static char err[600];
	char *text;
	ssize_t n;
	int fd;

	*keys_r = NULL;
	if (path == NULL || *path == '\0') {
		*error_r = "batv_key_file is not set";
		return -1;
	}
	/* tags are checked with libcrypto's HMAC: load it with the keys */
	if (crypto_load_get(error_r) == NULL
	    || secret_file_open(path, &fd, error_r) < 0)
		return -1;
	text = xmalloc(BATV_FILE_MAX);
	n = read(fd, text, BATV_FILE_MAX);
	close(fd);
	if (n < 0 || n == BATV_FILE_MAX) {
		snprintf(err, sizeof(err), "%s: %s", path,
			 n < 0 ? strerror(errno) : "larger than 8 kB");
		*error_r = err;
		explicit_bzero(text, BATV_FILE_MAX);
		free(text);
		return -1;
	}
	struct batv_keys *keys = xcalloc(1, sizeof(*keys));
	const char *perr = NULL;

	if (batv_keys_parse(keys, text, (size_t)n, &perr) < 0) {
		snprintf(err, sizeof(err), "%s: %s", path, perr);
		*error_r = err;
		batv_keys_free(&keys);
	}
	explicit_bzero(text, BATV_FILE_MAX);
	free(text);
	*keys_r = keys;
	return keys ? 0 : -1;
}

/* batv_keys_free - wipe and free the keys, NULL the caller's pointer */
void batv_keys_free(struct batv_keys **_keys)
{
	if (*_keys == NULL)
		return;
	explicit_bzero(*_keys, sizeof(**_keys));
	free(*_keys);
	*_keys = NULL;
}

/* batv_day - days since 1970 of a unix time */
long long batv_day(long long unix_time)
{
	return unix_time >= 0 ? unix_time / 86400 : 0;
}

/* batv_mac - the six hex digits of the tag for "KDDD" and address */
static int batv_mac(const struct batv_key *key, const char kddd[4],
		    const char *address, char hex[7])
{
	unsigned char msg[4 + BATV_ADDRESS_MAX];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t alen = strlen(address);
	const char *error;
	const struct crypto_load *c = crypto_load_get(&error);

	if (alen > BATV_ADDRESS_MAX || c == NULL)
		return -1;
	memcpy(msg, kddd, 4);
	for (size_t i = 0; i < alen; i++)
		msg[4 + i] = (unsigned char)tolower((unsigned char)address[i]);
	if (c->hmac(c->sha1(), key->bytes, (int)key->len, msg, 4 + alen, mac,
		 &maclen) == NULL || maclen < 3)
		return -1;
	snprintf(hex, 7, "%02x%02x%02x", mac[0], mac[1], mac[2]);
	return 0;
}

/* batv_same6 - the six hex digits equal, in time that does not say
   where they differ */
static int batv_same6(const char *a, const char *b)
{
	unsigned char d = 0;

	for (int i = 0; i < 6; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* batv_address_ok - local@domain, both parts non-empty, no tag inside */
static int batv_address_ok(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL && at != address && at[1] != '\0' &&
		strlen(address) <= BATV_ADDRESS_MAX;
}

/* batv_sign - tag address with the first key, expiring days after day */
int batv_sign(const struct batv_keys *keys, const char *address,
	      long long day, unsigned int days, char *out, size_t outlen,
	      const char **error_r)
{
	char kddd[5], hex[7];

	if (!batv_address_ok(address) || batv_is_tagged(address)) {
		*error_r = "not an untagged local@domain address";
		return -1;
	}
	unsigned int ddd = (unsigned int)((day < 0 ? 0 : day) + days) % 1000;

	kddd[0] = (char)('0' + keys->keys[0].number);
	kddd[1] = (char)('0' + ddd / 100);
	kddd[2] = (char)('0' + ddd / 10 % 10);
	kddd[3] = (char)('0' + ddd % 10);
	kddd[4] = '\0';
	if (batv_mac(&keys->keys[0], kddd, address, hex) < 0) {
		*error_r = "HMAC-SHA1 failed";
		return -1;
	}
	if ((size_t)snprintf(out, outlen, BATV_PREFIX "%s%s=%s", kddd, hex,
			     address) >= outlen) {
		*error_r = "the tagged address is too long";
		return -1;
	}
	return 0;
}

/* batv_is_tagged - the address starts with prvs= */
int batv_is_tagged(const char *address)
{
	return strncasecmp(address, BATV_PREFIX, BATV_PREFIX_LEN) == 0;
}

/* batv_find_key - the key numbered n, or NULL */
static const struct batv_key *batv_find_key(const struct batv_keys *keys,
					    int n)
{
	for (int i = 0; i < keys->count; i++)
		if (keys->keys[i].number == n)
			return &keys->keys[i];
	return NULL;
}

/* batv_tag_syntax - KDDDSSSSSS= then an address; 0 or -1 */
static int batv_tag_syntax(const char *tag)
{
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)tag[i]))
			return -1;
	for (int i = 4; i < BATV_TAG_LEN; i++)
		if (!isxdigit((unsigned char)tag[i]))
			return -1;
	if (tag[BATV_TAG_LEN] != '=' || !batv_address_ok(tag + BATV_TAG_LEN + 1))
		return -1;
	return 0;
}

/* batv_verify - check the tag on address at day today */
enum batv_result batv_verify(const struct batv_keys *keys,
			     const char *address, long long today,
			     unsigned int days, char *untagged_r,
			     size_t untagged_len)
{
	const char *tag = address + BATV_PREFIX_LEN;
	const struct batv_key *key;
	char hex[7];

	if (!batv_is_tagged(address))
		return BATV_UNTAGGED;
	if (strlen(address) > BATV_PREFIX_LEN + BATV_TAG_LEN + 1 +
	    BATV_ADDRESS_MAX || batv_tag_syntax(tag) < 0)
		return BATV_MALFORMED;
	if (untagged_r != NULL)
		snprintf(untagged_r, untagged_len, "%s", tag + BATV_TAG_LEN + 1);
	key = batv_find_key(keys, tag[0] - '0');
	if (key == NULL)
		return BATV_UNKNOWN_KEY;
	if (batv_mac(key, tag, tag + BATV_TAG_LEN + 1, hex) < 0 ||
	    !batv_same6(hex, tag + 4)) {
		/* a tag's hex may come back upper-cased: compare both ways */
		char lower[6];

		for (int i = 0; i < 6; i++)
			lower[i] = (char)tolower((unsigned char)tag[4 + i]);
		if (!batv_same6(hex, lower))
			return BATV_BAD_SIGNATURE;
	}
	long long expiry = (tag[1] - '0') * 100 + (tag[2] - '0') * 10 +
		(tag[3] - '0');
	long long ahead = ((expiry - today % 1000) % 1000 + 1000) % 1000;

	if (ahead > (long long)days)
		return BATV_EXPIRED;
	return BATV_VALID;
}

/* batv_result_name - the words for a result */
const char *batv_result_name(enum batv_result result)
{
	switch (result) {
	case BATV_VALID: return "valid tag";
	case BATV_UNTAGGED: return "untagged";
	case BATV_MALFORMED: return "malformed tag";
	case BATV_UNKNOWN_KEY: return "unknown key";
	case BATV_BAD_SIGNATURE: return "bad signature";
	case BATV_EXPIRED: return "expired tag";
	}
	return "?";
}
