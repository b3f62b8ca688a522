/*
 * web-login.c - the admin's sign-in: password hashes and Basic auth
 *
 * This module implements web_login_auth(), which /admin and
 * /admin/stats call first, and the PBKDF2-HMAC-SHA256 hashes of
 * admin_password_hash (web_login_hash(), web_login_verify(), also used
 * by `ndrguard-web --hash-password`).
 *
 * A hash costs about a tenth of a second to check on purpose; the
 * credentials last verified are remembered (as a SHA-256 digest) so
 * that the page itself stays quick. Failed checks are metered per
 * client network (/24, /64) and per user name, and one check runs at a
 * time: a guesser gets 429 or 503 at once instead of CPU.
 */
#include "autoconfig.h"
#include "web.h"
#include "web-private.h"
#include "log.h"
#include "settings.h"
#include "xalloc.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_PBKDF2_ITER 210000
#define WEB_SALT_LEN 16
#define WEB_HASH_LEN 32

static pthread_mutex_t web_login_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char web_login_verified[WEB_HASH_LEN];
static int web_login_have_verified;

/* web_login_hash - a new salted hash of password (admin_password_hash) */
char *web_login_hash(const char *password)
{
	unsigned char salt[WEB_SALT_LEN], hash[WEB_HASH_LEN];
	unsigned char salt64[64], hash64[64];
	char *out = xmalloc(200);

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
			      sizeof(salt), WEB_PBKDF2_ITER, EVP_sha256(),
			      sizeof(hash), hash) != 1) {
		free(out);
		return NULL;
	}
	EVP_EncodeBlock(salt64, salt, sizeof(salt));
	EVP_EncodeBlock(hash64, hash, sizeof(hash));
	snprintf(out, 200, "pbkdf2-sha256$%d$%s$%s", WEB_PBKDF2_ITER,
		 (const char *)salt64, (const char *)hash64);
	return out;
}

/* web_login_b64_decode - standard base64 (with padding) into out; length or -1 */
static int web_login_b64_decode(const char *in, size_t len, unsigned char *out,
			  size_t size)
{
	int n;
	size_t pad = 0;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > size)
		return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0)
		return -1;
	while (pad < 2 && in[len - 1 - pad] == '=')
		pad++;
	return n - (int)pad;
}

int web_login_verify(const char *password, const char *hash)
{
	unsigned char salt[64], want[64], got[WEB_HASH_LEN];
	const char *p, *salt64, *hash64;
	long iter;
	int salt_len, want_len;

	if (hash == NULL || strncmp(hash, "pbkdf2-sha256$", 14) != 0)
		return 0;
	p = hash + 14;
	iter = strtol(p, NULL, 10);
	if (iter < SETTINGS_PBKDF2_ITER_MIN || iter > SETTINGS_PBKDF2_ITER_MAX ||
	    (salt64 = strchr(p, '$')) == NULL ||
	    (hash64 = strchr(++salt64, '$')) == NULL)
		return 0;
	salt_len = web_login_b64_decode(salt64, (size_t)(hash64 - salt64), salt,
				  sizeof(salt));
	hash64++;
	want_len = web_login_b64_decode(hash64, strlen(hash64), want, sizeof(want));
	if (salt_len <= 0 || want_len != WEB_HASH_LEN)
		return 0;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len,
			      (int)iter, EVP_sha256(), WEB_HASH_LEN,
			      got) != 1)
		return 0;
	return CRYPTO_memcmp(got, want, WEB_HASH_LEN) == 0;
}

/*
 * web_login_check - the password check proper, for a sign-in the cache
 * did not know: refused at once (429) when the client's network or the
 * user name has used up its failures, or (503) while another check
 * runs, so that guessing costs at most one core and never queues up
 * the threads that serve the public pages; 1 if the password is right
 */
static int web_login_check(struct web_request *req, const char *user,
			   const char *pass)
{
	struct web_server *server = req->server;
	char account[72];
	int ok;

	snprintf(account, sizeof(account), "%s", user);
	if (!web_buckets_use(server->login_net, req->who.net, 0) ||
	    !web_buckets_use(server->login_user, account, 0)) {
		log_info("http: admin sign-in from %s refused: too many "
			 "failures from its network or for that user",
			 req->client);
		req->status = MHD_HTTP_TOO_MANY_REQUESTS;
		return 0;
	}
	if (pthread_mutex_trylock(&server->login_lock) != 0) {
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return 0;
	}
	/* a wrong user name costs the same time as a wrong password */
	ok = web_login_verify(pass, server->admin_password_hash) &&
		strlen(user) == strlen(server->admin_user) &&
		CRYPTO_memcmp(user, server->admin_user, strlen(user)) == 0;
	pthread_mutex_unlock(&server->login_lock);
	if (!ok) {
		web_buckets_use(server->login_net, req->who.net, 1);
		web_buckets_use(server->login_user, account, 1);
		log_info("http: admin sign-in from %s refused", req->client);
		req->status = MHD_HTTP_UNAUTHORIZED;
		req->www_authenticate = 1;
	}
	return ok;
}

/* web_login_auth - 1 when the request carries the admin's credentials */
int web_login_auth(struct web_request *req)
{
	struct web_server *server = req->server;
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(req->conn, &pass);
	unsigned char digest[WEB_HASH_LEN];
	struct strbuf sb = STRBUF_INIT;
	unsigned int dlen = 0;
	int ok = 0;

	if (user == NULL || pass == NULL) {
		req->status = MHD_HTTP_UNAUTHORIZED;
		req->www_authenticate = 1;
		goto out;
	}
	strbuf_printf(&sb, "%s\n%s\n%s", user, pass,
		      server->admin_password_hash ? server->admin_password_hash
		      : "");
	EVP_Digest(sb.data, sb.len, digest, &dlen, EVP_sha256(), NULL);
	pthread_mutex_lock(&web_login_lock);
	ok = web_login_have_verified &&
		CRYPTO_memcmp(digest, web_login_verified, WEB_HASH_LEN) == 0;
	pthread_mutex_unlock(&web_login_lock);
	if (!ok && web_login_check(req, user, pass)) {
		ok = 1;
		pthread_mutex_lock(&web_login_lock);
		memcpy(web_login_verified, digest, WEB_HASH_LEN);
		web_login_have_verified = 1;
		pthread_mutex_unlock(&web_login_lock);
	}
out:
	if (sb.data != NULL) {
		OPENSSL_cleanse(sb.data, sb.len);
		strbuf_free(&sb);
	}
	if (pass != NULL) {
		OPENSSL_cleanse(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user != NULL)
		MHD_free(user);
	return ok;
}
