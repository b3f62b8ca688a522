/*
 * crypto-load.c - libcrypto opened with dlopen(3) when the deliver path
 * first needs it (crypto-load.h says why)
 */
#include "autoconfig.h"
#include "crypto-load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static struct crypto_load crypto_load_table;
static const char *crypto_load_error;
static pthread_once_t crypto_load_once = PTHREAD_ONCE_INIT;

/* the shared library of the OpenSSL the build was made with: its
   major version is the soname's (3 -> libcrypto.so.3) */
#define CRYPTO_LOAD_STR2(x) #x
#define CRYPTO_LOAD_STR(x) CRYPTO_LOAD_STR2(x)
#define CRYPTO_LOAD_SONAME "libcrypto.so." CRYPTO_LOAD_STR(OPENSSL_VERSION_MAJOR)

/* crypto_load_sym - one function of the library, or NULL */
static void *crypto_load_sym(void *lib, const char *name, int *missing)
{
	void *f = dlsym(lib, name);

	if (f == NULL)
		*missing = 1;
	return f;
}

/* crypto_load_load - open the library and fill the table, once */
static void crypto_load_load(void)
{
	struct crypto_load *t = &crypto_load_table;
	void *lib = dlopen(CRYPTO_LOAD_SONAME, RTLD_NOW | RTLD_LOCAL);
	int missing = 0;

	if (lib == NULL) {
		crypto_load_error = "cannot load " CRYPTO_LOAD_SONAME
			" (for dkim_keys and batv_key_file)";
		return;
	}
	t->md_ctx_new = crypto_load_sym(lib, "EVP_MD_CTX_new", &missing);
	t->md_ctx_free = crypto_load_sym(lib, "EVP_MD_CTX_free", &missing);
	t->digest_verify_init = crypto_load_sym(lib, "EVP_DigestVerifyInit",
						 &missing);
	t->digest_verify = crypto_load_sym(lib, "EVP_DigestVerify", &missing);
	t->digest = crypto_load_sym(lib, "EVP_Digest", &missing);
	t->sha256 = crypto_load_sym(lib, "EVP_sha256", &missing);
	t->decode_block = crypto_load_sym(lib, "EVP_DecodeBlock", &missing);
	t->pkey_base_id = crypto_load_sym(lib, "EVP_PKEY_get_base_id",
					   &missing);
	t->pkey_free = crypto_load_sym(lib, "EVP_PKEY_free", &missing);
	t->read_pubkey = crypto_load_sym(lib, "PEM_read_PUBKEY", &missing);
	t->hmac = crypto_load_sym(lib, "HMAC", &missing);
	t->sha1 = crypto_load_sym(lib, "EVP_sha1", &missing);
	t->memcmp = crypto_load_sym(lib, "CRYPTO_memcmp", &missing);
	if (missing)
		crypto_load_error = CRYPTO_LOAD_SONAME " lacks a function"
			" ndrguard needs";
}

const struct crypto_load *crypto_load_get(const char **error_r)
{
	pthread_once(&crypto_load_once, crypto_load_load);
	if (crypto_load_error != NULL) {
		*error_r = crypto_load_error;
		return NULL;
	}
	return &crypto_load_table;
}
