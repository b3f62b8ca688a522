/*
 * web-admin.c - the admin page: the owners' release requests
 *
 * NAME
 *	web_page_admin - decide release requests (release_mode = request)
 * DESCRIPTION
 *	/admin asks for HTTP Basic credentials: admin_user and the password
 *	whose PBKDF2-HMAC-SHA256 hash is admin_password_hash. The page lists
 *	pending requests, oldest first; Approve re-injects the message the
 *	same way a direct release does, Refuse leaves it held. Forms carry
 *	the same anti-forgery field as the owner's pages (web-csrf.c), since
 *	a browser resends Basic credentials to any site that links here.
 *	The sign-in itself is web-login.c's.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEB_ADMIN_LIST_MAX 200

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
	const char *item = web_request_field(req, "item");
	const char *what = web_request_field(req, "do");
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
	if (!web_login_auth(req))
		return;
	if ((st = web_thread_store(req, &err)) == NULL) {
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
