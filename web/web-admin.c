/*
 * web-admin.c - release requests: the postmaster's mail and admin page
 *
 * NAME
 *	web_page_admin - decide release requests (release_mode = request)
 * DESCRIPTION
 *	/admin asks for HTTP Basic credentials: admin_user and the password
 *	whose PBKDF2-HMAC-SHA256 hash is admin_password_hash. The page lists
 *	pending requests, oldest first; Approve re-injects the message the
 *	same way a direct release does, Refuse leaves it held. Forms carry
 *	the same anti-forgery field as the owner's pages, since a browser
 *	resends Basic credentials to any site that links here.
 *
 *	A hash costs about a tenth of a second to check on purpose; the
 *	credentials last verified are remembered (as a SHA-256 digest) so
 *	that the page itself stays quick. Failed checks are metered per
 *	client network (/24, /64) and per user name, and one check runs at
 *	a time: a guesser gets 429 or 503 at once instead of CPU.
 */
#include "autoconfig.h"
#include "web.h"
#include "web-private.h"
#include "links.h"
#include "log.h"
#include "reinject.h"
#include "settings.h"
#include "release.h"
#include "store.h"
#include "token.h"
#include "xalloc.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEB_PBKDF2_ITER 210000
#define WEB_SALT_LEN 16
#define WEB_HASH_LEN 32
#define WEB_ADMIN_LIST_MAX 200

#define T(id) web_text_get(req->lang, (id))

static pthread_mutex_t web_admin_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char web_admin_verified[WEB_HASH_LEN];
static int web_admin_have_verified;

char *web_password_hash(const char *password)
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

/* web_b64_decode - standard base64 (with padding) into out; length or -1 */
static int web_b64_decode(const char *in, size_t len, unsigned char *out,
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

int web_password_check(const char *password, const char *hash)
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
	salt_len = web_b64_decode(salt64, (size_t)(hash64 - salt64), salt,
				  sizeof(salt));
	hash64++;
	want_len = web_b64_decode(hash64, strlen(hash64), want, sizeof(want));
	if (salt_len <= 0 || want_len != WEB_HASH_LEN)
		return 0;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len,
			      (int)iter, EVP_sha256(), WEB_HASH_LEN,
			      got) != 1)
		return 0;
	return CRYPTO_memcmp(got, want, WEB_HASH_LEN) == 0;
}

/*
 * web_admin_check - the password check proper, for a sign-in the cache
 * did not know: refused at once (429) when the client's network or the
 * user name has used up its failures, or (503) while another check
 * runs, so that guessing costs at most one core and never queues up
 * the threads that serve the public pages; 1 if the password is right
 */
static int web_admin_check(struct web_request *req, const char *user,
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
	ok = web_password_check(pass, server->admin_password_hash) &&
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

/* web_admin_auth - 1 when the request carries the admin's credentials */
int web_admin_auth(struct web_request *req)
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
	pthread_mutex_lock(&web_admin_lock);
	ok = web_admin_have_verified &&
		CRYPTO_memcmp(digest, web_admin_verified, WEB_HASH_LEN) == 0;
	pthread_mutex_unlock(&web_admin_lock);
	if (!ok && web_admin_check(req, user, pass)) {
		ok = 1;
		pthread_mutex_lock(&web_admin_lock);
		memcpy(web_admin_verified, digest, WEB_HASH_LEN);
		web_admin_have_verified = 1;
		pthread_mutex_unlock(&web_admin_lock);
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

struct web_admin_list {
	struct store_request reqs[WEB_ADMIN_LIST_MAX];
	unsigned int count;
};

static int web_admin_list_cb(const struct store_request *rq, void *context)
{
	struct web_admin_list *list = context;

	if (list->count >= WEB_ADMIN_LIST_MAX)
		return -1;
	list->reqs[list->count++] = *rq;
	return 0;
}

/* web_admin_decide - approve (release) or refuse one pending request */
static void web_admin_decide(struct web_request *req, struct store *st,
			     const char *user)
{
	const char *item = web_field(req, "item");
	const char *what = web_field(req, "do");
	struct store_request rq;
	char actor[96];
	const char *err;
	long long id;
	int changed = 0, approve;

	if (item == NULL || what == NULL || (id = strtoll(item, NULL, 10)) <= 0
	    || (strcmp(what, "approve") != 0 && strcmp(what, "refuse") != 0)) {
		req->status = MHD_HTTP_BAD_REQUEST;
		return;
	}
	approve = strcmp(what, "approve") == 0;
	snprintf(actor, sizeof(actor), "admin:%s", user);
	if (store_request_get(st, id, &rq, &err) < 0) {
		log_warning("http: admin: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return;
	}
	if (rq.id == 0 || strcmp(rq.state, "pending") != 0) {
		strbuf_puts(&req->body, T(W_DECIDED_ALREADY));
		return;
	}
	if (approve) {
		struct release_result r = { 0 };

		pthread_mutex_lock(&req->server->release_lock);
		int ret = release_item(st, req->server->reinject, id, actor,
				       req->now, &r, &err);
		pthread_mutex_unlock(&req->server->release_lock);
		if (ret < 0) {
			log_warning("id=%lld: release by %s failed, nothing "
				    "sent, still held: %s", id, actor, err);
			strbuf_puts(&req->body, T(W_RELEASE_FAILED));
			req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
			return;
		}
		if (r.outcome == RELEASE_IN_DOUBT) {
			log_warning("id=%lld: in doubt: handed on by %s, no "
				    "answer recorded; Message-ID %s", id,
				    r.owner, r.message_id);
			strbuf_printf(&req->body, "%s %s", T(W_IN_DOUBT),
				      r.message_id);
			return;
		}
		if (r.outcome == RELEASE_DONE)
			log_info("id=%lld: released by %s: %s", id, actor,
				 r.reply);
	}
	if (store_request_decide(st, rq.id, approve ? "approved" : "refused",
				 actor, req->now, &changed, &err) < 0) {
		log_warning("http: admin: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return;
	}
	log_info("id=%lld: release request %s by %s", id,
		 approve ? "approved" : "refused", actor);
	strbuf_puts(&req->body, approve ? T(W_APPROVED) : T(W_REFUSED));
}

void web_page_admin(struct web_request *req)
{
	struct web_server *server = req->server;
	struct web_admin_list *list;
	struct store *st;
	const char *err;
	char *csrf;

	if (server->admin_user == NULL || server->admin_password_hash == NULL) {
		req->status = MHD_HTTP_NOT_FOUND;
		return;
	}
	if (!web_admin_auth(req))
		return;
	if ((st = web_store(req, &err)) == NULL) {
		log_warning("http: admin: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return;
	}
	/* the request body is consumed: reuse it for the outcome's text */
	strbuf_reset(&req->body);
	if (req->is_post) {
		if (web_csrf_check(req, "admin", server->admin_user) < 0)
			return;
		web_admin_decide(req, st, server->admin_user);
		if (req->body.len == 0 && req->status != 0)
			return;
	}
	list = xcalloc(1, sizeof(*list));
	if (store_request_list(st, "pending", WEB_ADMIN_LIST_MAX,
			       web_admin_list_cb, list, &err) < 0) {
		log_warning("http: admin: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		free(list);
		return;
	}
	web_html_begin(req, T(W_ADMIN_TITLE));
	if (req->body.len > 0) {
		web_put(req, req->status ? "<p class=\"note err\">"
			: "<p class=\"note ok\">");
		web_text(req, strbuf_cstr(&req->body));
		web_put(req, "</p>\n");
	}
	if (list->count == 0) {
		web_put(req, "<p class=\"note ok\">");
		web_text(req, T(W_ADMIN_EMPTY));
		web_put(req, "</p>\n");
	}
	csrf = web_csrf_make(req, "admin", server->admin_user);
	for (unsigned int i = 0; i < list->count; i++) {
		struct store_record *rec = NULL;
		struct strbuf when = STRBUF_INIT;
		char item[32];
		char *link;

		if (store_item_get(st, list->reqs[i].quarantine_id, 0, &rec,
				   &err) < 0 || rec == NULL) {
			store_record_free(&rec);
			continue;
		}
		snprintf(item, sizeof(item), "%lld", rec->id);
		web_html_date(&when, list->reqs[i].requested);
		web_put(req, "<div class=\"card\"><dl>");
		web_row(req, T(W_REQUESTED_AT), strbuf_cstr(&when));
		web_row(req, T(W_MAILBOX), rec->recipient);
		web_row(req, T(W_SUBJECT), rec->orig_subject);
		web_row(req, T(W_REASON), rec->reason);
		web_row(req, T(W_VERDICT), rec->verdict);
		web_row(req, T(W_EVIDENCE), rec->evidence);
		web_put(req, "</dl><form method=\"post\" action=\"/admin\">");
		web_put(req, "<input type=\"hidden\" name=\"csrf\" value=\"");
		web_text(req, csrf);
		web_put(req, "\"><input type=\"hidden\" name=\"item\" value=\"");
		web_put(req, item);
		web_put(req, "\"><button type=\"submit\" name=\"do\" "
			"value=\"approve\">");
		web_text(req, T(W_APPROVE));
		web_put(req, "</button><button type=\"submit\" class=\"alt\" "
			"name=\"do\" value=\"refuse\">");
		web_text(req, T(W_REFUSE));
		web_put(req, "</button> ");
		link = links_item("", server->key, rec->id, req->now + 86400);
		web_put(req, "<a href=\"");
		web_text(req, link);
		web_put(req, "\">");
		web_text(req, T(W_DETAILS));
		web_put(req, "</a></form></div>\n");
		free(link);
		strbuf_free(&when);
		store_record_free(&rec);
	}
	web_put(req, "<p><a href=\"/admin/stats\">");
	web_text(req, T(W_STATS_TITLE));
	web_put(req, "</a></p>\n");
	web_html_end(req);
	free(csrf);
	free(list);
}
