#ifndef NDRGUARD_CRYPTO_LOAD_H
#define NDRGUARD_CRYPTO_LOAD_H
/*
 * crypto-load.h - the libcrypto functions the deliver path calls (the
 * DKIM check, BATV tags), loaded on first use
 *
 * The pipe agent starts once per message; linking OpenSSL into it cost
 * every start 0.4 ms (static: its 20,000 relocations) to 0.8 ms (shared)
 * for checks that run only where dkim_keys or batv_key_file is set. So
 * libcrypto is opened with dlopen(3) when the first such key is read,
 * once per process (thread-safe), and never closed.
 *
 * Ownership: the table is static; callers never free it.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

struct crypto_load {
	EVP_MD_CTX *(*md_ctx_new)(void);
	void (*md_ctx_free)(EVP_MD_CTX *ctx);
	int (*digest_verify_init)(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx,
				  const EVP_MD *type, ENGINE *e,
				  EVP_PKEY *pkey);
	int (*digest_verify)(EVP_MD_CTX *ctx, const unsigned char *sig,
			     size_t siglen, const unsigned char *tbs,
			     size_t tbslen);
	int (*digest)(const void *data, size_t count, unsigned char *md,
		      unsigned int *size, const EVP_MD *type, ENGINE *impl);
	const EVP_MD *(*sha256)(void);
	int (*decode_block)(unsigned char *t, const unsigned char *f, int n);
	int (*pkey_base_id)(const EVP_PKEY *pkey);
	void (*pkey_free)(EVP_PKEY *pkey);
	EVP_PKEY *(*read_pubkey)(FILE *fp, EVP_PKEY **x, pem_password_cb *cb,
				 void *u);
	unsigned char *(*hmac)(const EVP_MD *md, const void *key, int key_len,
			       const unsigned char *data, size_t data_len,
			       unsigned char *out, unsigned int *out_len);
	const EVP_MD *(*sha1)(void);
	int (*memcmp)(const void *a, const void *b, size_t len);
};

/* crypto_load_get - the table, loading libcrypto the first time; NULL
   (with *error_r) when it cannot be loaded */
const struct crypto_load *crypto_load_get(const char **error_r);

#endif
