/*
 * dkim.c - the header signature of a DKIM-Signature, checked with OpenSSL
 *
 * This module implements the check of dkim.h: it canonicalises the
 * signed header fields (RFC 6376 section 3.4.1 simple, 3.4.2 relaxed),
 * appends the DKIM-Signature with its b= value emptied, and verifies b=
 * over that with EVP_DigestVerify.
 *
 * Why not libopendkim: it takes a whole message (dkim_header() for each
 * raw header line, dkim_eoh(), dkim_body(), dkim_eom()) and reports the
 * header signature (DKIM_SIGFLAG_PASSED) and the body hash
 * (dkim_sig_getbh()) separately, so a header-only verdict could be read
 * from it. But what a bounce returns is not a message it can take as it
 * was signed: an original quoted inline has lost its line quoting, and
 * our MIME reader keeps fields unfolded, so the raw header bytes would
 * have to be rebuilt first; and the pipe agent, started once per
 * message, would load libopendkim and what it needs (libbsd, the
 * resolver) for a check that is, once the fields are canonical, one
 * signature verification with OpenSSL (loaded only when dkim_keys is
 * set: crypto-load.h).
 */
#include "autoconfig.h"
#include "dkim.h"
#include "crypto-load.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define DKIM_MAX_KEYS 16
#define DKIM_MAX_SIGNED 64

struct dkim_key {
	char *selector;
	EVP_PKEY *pkey;
};

struct dkim_keys {
	struct dkim_key key[DKIM_MAX_KEYS];
	size_t count;
};

/* dkim_key_read - one PEM public key file */
static EVP_PKEY *dkim_key_read(const char *path, const char **error_r)
{
	const struct crypto_load *o = crypto_load_get(error_r);
	FILE *f;
	EVP_PKEY *pkey;

	if (o == NULL)
		return NULL;
	if ((f = fopen(path, "r")) == NULL) {
		*error_r = "cannot open a dkim_keys file";
		return NULL;
	}
	pkey = o->read_pubkey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL)
		*error_r = "a dkim_keys file holds no PEM public key";
	return pkey;
}

int dkim_keys_load(const char *spec, struct dkim_keys **keys_r,
		   const char **error_r)
{
	struct dkim_keys *keys = xcalloc(1, sizeof(*keys));
	const char *p = spec != NULL ? spec : "";

	while (*p != '\0') {
		size_t n = strcspn(p, ", \t");
		const char *eq = memchr(p, '=', n);

		if (n > 0) {
			char *path = eq != NULL ? xstrndup(eq + 1,
						(size_t)(p + n - eq - 1)) : NULL;
			struct dkim_key *k = &keys->key[keys->count];

			if (eq == NULL || eq == p || keys->count == DKIM_MAX_KEYS ||
			    (k->pkey = dkim_key_read(path, error_r)) == NULL) {
				if (eq == NULL || eq == p)
					*error_r = "dkim_keys: expected selector=/path";
				else if (keys->count == DKIM_MAX_KEYS)
					*error_r = "dkim_keys: too many keys";
				free(path);
				dkim_keys_free(&keys);
				return -1;
			}
			free(path);
			k->selector = xstrndup(p, (size_t)(eq - p));
			keys->count++;
		}
		p += n;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
	}
	*keys_r = keys;
	return 0;
}

void dkim_keys_free(struct dkim_keys **_keys)
{
	struct dkim_keys *keys = *_keys;
	const struct crypto_load *o;
	const char *error;

	if (keys == NULL)
		return;
	*_keys = NULL;
	/* a key was read, so the library is loaded */
	o = keys->count > 0 ? crypto_load_get(&error) : NULL;
	for (size_t i = 0; i < keys->count; i++) {
		free(keys->key[i].selector);
		if (o != NULL && keys->key[i].pkey != NULL)
			o->pkey_free(keys->key[i].pkey);
	}
	free(keys);
}

/* dkim_key_find - the key of a selector, or NULL */
static EVP_PKEY *dkim_key_find(const struct dkim_keys *keys, const char *s)
{
	for (size_t i = 0; keys != NULL && i < keys->count; i++)
		if (strcasecmp(keys->key[i].selector, s) == 0)
			return keys->key[i].pkey;
	return NULL;
}

/*
 * dkim_tag - the value of tag name in a tag list, white space removed
 * (tag values here never hold meaningful white space); NULL if absent
 */
static char *dkim_tag(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = p + strcspn(p, ";");
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (eq != NULL) {
			const char *ne = eq;
			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if ((size_t)(ne - p) == len && strncasecmp(p, name, len) == 0) {
				struct strbuf sb = STRBUF_INIT;
				for (const char *v = eq + 1; v < end; v++)
					if (!isspace((unsigned char)*v))
						strbuf_putc(&sb, *v);
				return strbuf_steal(&sb);
			}
		}
		p = end;
	}
	return NULL;
}

/* dkim_strip_b - the signature field's value with b='s value emptied */
static char *dkim_strip_b(const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = value;

	while (*p != '\0') {
		const char *end = p + strcspn(p, ";");
		const char *n = p, *eq = memchr(p, '=', (size_t)(end - p));

		while (n < end && (*n == ' ' || *n == '\t'))
			n++;
		const char *ne = eq;
		while (ne != NULL && ne > n && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (eq != NULL && ne - n == 1 && (*n == 'b' || *n == 'B'))
			strbuf_append(&sb, p, (size_t)(eq + 1 - p));
		else
			strbuf_append(&sb, p, (size_t)(end - p));
		if (*end == ';')
			strbuf_putc(&sb, ';');
		p = *end == ';' ? end + 1 : end;
	}
	return strbuf_steal(&sb);
}

/* dkim_canon - one field canonicalised onto out (no line end) */
static void dkim_canon(const char *name, const char *value, int relaxed,
		       struct strbuf *out)
{
	if (!relaxed) {
		strbuf_printf(out, "%s: %s", name, value);
		return;
	}
	for (const char *p = name; *p; p++)
		strbuf_putc(out, (char)tolower((unsigned char)*p));
	strbuf_putc(out, ':');
	const char *v = value;
	while (*v == ' ' || *v == '\t')
		v++;
	int space = 0;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = 1;
			continue;
		}
		if (space)
			strbuf_putc(out, ' ');
		space = 0;
		strbuf_putc(out, *v);
	}
}

/*
 * dkim_signed_data - what the signature covers: each field h= names,
 * the bottom-most one not yet used first (RFC 6376 5.4.2), then the
 * signature field itself without b='s value and without a line end
 */
static void dkim_signed_data(const char *const *names,
			     const char *const *values, size_t count,
			     size_t sig, const char *h, int relaxed,
			     struct strbuf *out)
{
	unsigned char used[DKIM_MAX_SIGNED * 4] = { 0 };
	const char *p = h;

	while (*p != '\0') {
		size_t n = strcspn(p, ":");

		for (size_t i = count; n > 0 && i-- > 0;) {
			if (i < sizeof(used) && !used[i] && strlen(names[i]) == n &&
			    strncasecmp(names[i], p, n) == 0) {
				used[i] = 1;
				dkim_canon(names[i], values[i], relaxed, out);
				strbuf_puts(out, "\r\n");
				break;
			}
		}
		p += n;
		if (*p == ':')
			p++;
	}
	char *stripped = dkim_strip_b(values[sig]);
	dkim_canon(names[sig], stripped, relaxed, out);
	free(stripped);
}

/* dkim_base64 - decode b=; NULL when it is not base64 */
static unsigned char *dkim_base64(const char *b64, size_t *len_r)
{
	size_t len = strlen(b64), pad = 0;
	const struct crypto_load *o;
	const char *error;
	unsigned char *out;
	int n;

	if (len == 0 || len % 4 != 0 || len > 8192
	    || (o = crypto_load_get(&error)) == NULL)
		return NULL;
	out = xmalloc(len / 4 * 3 + 1);
	n = o->decode_block(out, (const unsigned char *)b64, (int)len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	while (pad < 2 && b64[len - 1 - pad] == '=')
		pad++;
	*len_r = (size_t)n - pad;
	return out;
}

/* dkim_verify_sig - does sig verify over data with pkey, for a= alg? */
static int dkim_verify_sig(EVP_PKEY *pkey, const char *alg,
			   const unsigned char *sig, size_t sig_len,
			   const struct strbuf *data)
{
	const char *error;
	const struct crypto_load *o = crypto_load_get(&error);
	EVP_MD_CTX *ctx = o != NULL ? o->md_ctx_new() : NULL;
	unsigned char hash[32];
	int ok = 0;

	if (ctx == NULL)
		return 0;
	if (strcmp(alg, "rsa-sha256") == 0 &&
	    o->pkey_base_id(pkey) == EVP_PKEY_RSA) {
		ok = o->digest_verify_init(ctx, NULL, o->sha256(), NULL, pkey) == 1
			&& o->digest_verify(ctx, sig, sig_len,
					    (const unsigned char *)data->data,
					    data->len) == 1;
	} else if (strcmp(alg, "ed25519-sha256") == 0 &&
		   o->pkey_base_id(pkey) == EVP_PKEY_ED25519) {
		/* RFC 8463: PureEdDSA over the SHA-256 of the data */
		ok = o->digest(data->data, data->len, hash, NULL,
			       o->sha256(), NULL) == 1
			&& o->digest_verify_init(ctx, NULL, NULL, NULL, pkey) == 1
			&& o->digest_verify(ctx, sig, sig_len, hash,
					    sizeof(hash)) == 1;
	}
	o->md_ctx_free(ctx);
	return ok;
}

/* dkim_check_one - verify the signature field at index sig */
static enum dkim_result dkim_check_one(const struct dkim_keys *keys,
				       const char *const *names,
				       const char *const *values,
				       size_t count, size_t sig,
				       const char **detail_r)
{
	char *a = dkim_tag(values[sig], "a"), *s = dkim_tag(values[sig], "s");
	char *h = dkim_tag(values[sig], "h"), *b = dkim_tag(values[sig], "b");
	char *c = dkim_tag(values[sig], "c");
	enum dkim_result ret = DKIM_FAIL;
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	EVP_PKEY *pkey;

	*detail_r = "our DKIM signature is malformed";
	if (a == NULL || s == NULL || h == NULL || b == NULL ||
	    (raw = dkim_base64(b, &raw_len)) == NULL)
		goto out;
	if ((pkey = dkim_key_find(keys, s)) == NULL) {
		*detail_r = "our DKIM signature, of a selector without a key";
		ret = DKIM_UNKNOWN;
		goto out;
	}
	struct strbuf data = STRBUF_INIT;
	dkim_signed_data(names, values, count, sig, h,
			 c != NULL && strncasecmp(c, "relaxed", 7) == 0, &data);
	if (dkim_verify_sig(pkey, a, raw, raw_len, &data)) {
		ret = DKIM_PASS;
		*detail_r = "our DKIM signature";
	} else {
		*detail_r = "our DKIM signature does not verify";
	}
	strbuf_free(&data);
out:
	free(a); free(s); free(h); free(b); free(c); free(raw);
	return ret;
}

enum dkim_result dkim_verify_headers(const struct dkim_keys *keys,
				     const char *const *names,
				     const char *const *values, size_t count,
				     dkim_ours_cb *ours, void *context,
				     const char **detail_r)
{
	enum dkim_result best = DKIM_NONE;

	*detail_r = "no DKIM signature of ours";
	for (size_t i = 0; i < count && i < DKIM_MAX_SIGNED * 4; i++) {
		if (strcasecmp(names[i], "DKIM-Signature") != 0)
			continue;
		char *d = dkim_tag(values[i], "d");
		int mine = d != NULL && ours(d, context);
		free(d);
		if (!mine)
			continue;
		const char *detail;
		enum dkim_result r = dkim_check_one(keys, names, values, count,
						    i, &detail);
		/* one that verifies settles it; else a failure outranks a
		   selector we cannot check */
		if (r == DKIM_PASS || best == DKIM_NONE ||
		    (r == DKIM_FAIL && best == DKIM_UNKNOWN)) {
			best = r;
			*detail_r = detail;
		}
		if (r == DKIM_PASS)
			break;
	}
	return best;
}
