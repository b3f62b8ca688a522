/*
 * batv.h - Bounce Address Tag Validation, the prvs= scheme
 *
 * An envelope sender user@example.org leaves as
 * prvs=KDDDSSSSSS=user@example.org: K is the key number (0-9), DDD the
 * day the tag expires (days since 1970, modulo 1000), SSSSSS the first
 * three bytes, in hex, of HMAC-SHA1(key K, "KDDD" + the address in lower
 * case). A bounce to such an address proves the original left us.
 *
 * The key file holds one key a line, "N SECRET" (N 0-9, SECRET 16 to
 * 255 bytes); the first line signs, every line verifies, so a new key
 * is put first and the old one kept until its tags have expired.
 *
 * Ownership: batv_keys_load() returns keys freed by batv_keys_free().
 */
#ifndef NDRGUARD_BATV_H
#define NDRGUARD_BATV_H

#include <stddef.h>

#define BATV_ADDRESS_MAX 512

struct batv_keys;

enum batv_result {
	BATV_VALID = 0,
	BATV_UNTAGGED,		/* no prvs= tag at all */
	BATV_MALFORMED,		/* prvs= but not KDDDSSSSSS=local@domain */
	BATV_UNKNOWN_KEY,	/* key number not in the key file */
	BATV_BAD_SIGNATURE,	/* the HMAC does not match this address */
	BATV_EXPIRED,		/* the expiry day is past (or too far ahead) */
};

int batv_keys_load(const char *path, struct batv_keys **keys_r,
		   const char **error_r);
void batv_keys_free(struct batv_keys **_keys);

/* the tagged form of address into out (BATV_ADDRESS_MAX + 16 bytes);
   the tag expires days after day (days since 1970); 0 or -1 */
int batv_sign(const struct batv_keys *keys, const char *address,
	      long long day, unsigned int days, char *out, size_t outlen,
	      const char **error_r);
/* check a tag on address at day today; untagged_r (BATV_ADDRESS_MAX)
   gets the address without its tag when there is a tag */
enum batv_result batv_verify(const struct batv_keys *keys,
			     const char *address, long long today,
			     unsigned int days, char *untagged_r,
			     size_t untagged_len);
/* the words for a result, for evidence and logs */
const char *batv_result_name(enum batv_result result);
/* 1 when address starts with a prvs= tag (case-insensitive) */
int batv_is_tagged(const char *address);
/* days since 1970 of a unix time */
long long batv_day(long long unix_time);

#endif
