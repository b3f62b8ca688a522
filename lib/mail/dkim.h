/*
 * dkim.h - our own DKIM signature on a returned original, header only
 *
 * A bounce that returns the original's header block (often without its
 * body, or with the body cut) can still prove the original left us: the
 * DKIM-Signature covers the signed header fields and the body hash bh=
 * as written; checking the header signature against our public key
 * shows those fields, bh= included, are what we signed. The body hash
 * itself is never checked (the body is usually not there).
 *
 * The keys come from files (dkim_keys = selector=/path/key.pem, ...);
 * DNS is not consulted. Supported: a=rsa-sha256 and a=ed25519-sha256
 * (RFC 8463); c= relaxed or simple for the header. Header fields are
 * given unfolded (mime.h): relaxed canonicalisation is exact; simple is
 * exact only for fields written on one line with one space after the
 * colon, and fails otherwise (so a signer of ours should use relaxed).
 *
 * Ownership: dkim_keys_load() returns keys freed by dkim_keys_free().
 */
#ifndef NDRGUARD_DKIM_H
#define NDRGUARD_DKIM_H

#include <stddef.h>

struct dkim_keys;

enum dkim_result {
	DKIM_NONE = 0,		/* no signature of ours (d= not ours) */
	DKIM_PASS,		/* our signature verifies */
	DKIM_FAIL,		/* ours, and it does not verify */
	DKIM_UNKNOWN,		/* ours, but for a selector we have no key */
};

/* dkim_ours_cb - is domain (a d= value) one of ours? */
typedef int dkim_ours_cb(const char *domain, void *context);

/* dkim_keys_load - read each selector's PEM public key; spec may be
   NULL or "" (no keys) */
int dkim_keys_load(const char *spec, struct dkim_keys **keys_r,
		   const char **error_r);
void dkim_keys_free(struct dkim_keys **_keys);

/*
 * dkim_verify_headers - check the DKIM-Signatures among the header
 * fields names[i]: values[i] (top first) whose d= ours() accepts; PASS
 * when one verifies. *detail_r is a few static words on why.
 */
enum dkim_result dkim_verify_headers(const struct dkim_keys *keys,
				     const char *const *names,
				     const char *const *values, size_t count,
				     dkim_ours_cb *ours, void *context,
				     const char **detail_r);

#endif
