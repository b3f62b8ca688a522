/*
 * dkim-openssl.c - libcrypto opened with dlopen(3) when the DKIM check
 * first needs it (dkim-openssl.h says why)
 */
#include "autoconfig.h"
#include "dkim-openssl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static struct dkim_openssl dkim_openssl_table;
static const char *dkim_openssl_error;
static pthread_once_t dkim_openssl_once = PTHREAD_ONCE_INIT;

/* the shared library of the OpenSSL the build was made with: its
   major version is the soname's (3 -> libcrypto.so.3) */
#define DKIM_OPENSSL_STR2(x) #x
#define DKIM_OPENSSL_STR(x) DKIM_OPENSSL_STR2(x)
#define DKIM_OPENSSL_SONAME "libcrypto.so." DKIM_OPENSSL_STR(OPENSSL_VERSION_MAJOR)

/* dkim_openssl_sym - one function of the library, or NULL */
static void *dkim_openssl_sym(void *lib, const char *name, int *missing)
{
	void *f = dlsym(lib, name);

	if (f == NULL)
		*missing = 1;
	return f;
}

/* dkim_openssl_load - open the library and fill the table, once */
static void dkim_openssl_load(void)
{
	struct dkim_openssl *t = &dkim_openssl_table;
	void *lib = dlopen(DKIM_OPENSSL_SONAME, RTLD_NOW | RTLD_LOCAL);
	int missing = 0;

	if (lib == NULL) {
		dkim_openssl_error = "cannot load " DKIM_OPENSSL_SONAME
			" for the DKIM check";
		return;
	}
	t->md_ctx_new = dkim_openssl_sym(lib, "EVP_MD_CTX_new", &missing);
	t->md_ctx_free = dkim_openssl_sym(lib, "EVP_MD_CTX_free", &missing);
	t->digest_verify_init = dkim_openssl_sym(lib, "EVP_DigestVerifyInit",
						 &missing);
	t->digest_verify = dkim_openssl_sym(lib, "EVP_DigestVerify", &missing);
	t->digest = dkim_openssl_sym(lib, "EVP_Digest", &missing);
	t->sha256 = dkim_openssl_sym(lib, "EVP_sha256", &missing);
	t->decode_block = dkim_openssl_sym(lib, "EVP_DecodeBlock", &missing);
	t->pkey_base_id = dkim_openssl_sym(lib, "EVP_PKEY_get_base_id",
					   &missing);
	t->pkey_free = dkim_openssl_sym(lib, "EVP_PKEY_free", &missing);
	t->read_pubkey = dkim_openssl_sym(lib, "PEM_read_PUBKEY", &missing);
	if (missing)
		dkim_openssl_error = DKIM_OPENSSL_SONAME " lacks a function"
			" the DKIM check needs";
}

const struct dkim_openssl *dkim_openssl_get(const char **error_r)
{
	pthread_once(&dkim_openssl_once, dkim_openssl_load);
	if (dkim_openssl_error != NULL) {
		*error_r = dkim_openssl_error;
		return NULL;
	}
	return &dkim_openssl_table;
}
