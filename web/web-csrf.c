/*
 * web-csrf.c - the anti-forgery field of every form that acts
 *
 * This module implements web_csrf_make() and web_csrf_check(): the field
 * is a token (token.h) for "scope:subject" that lasts WEB_CSRF_LIFETIME,
 * and a POST must also come from one of our pages
 * (web_request_same_origin()). Release, delete, the mailbox's batch
 * actions, the settings and the admin's decisions all use it.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "log.h"
#include "token.h"

#include <microhttpd.h>

#define WEB_CSRF_LIFETIME (4 * 3600)

/* web_csrf_make - the field for scope and subject; caller frees */
char *web_csrf_make(const struct web_request *req, const char *scope,
		    const char *subject)
{
	struct strbuf sb = STRBUF_INIT;
	char *token;

	strbuf_printf(&sb, "%s:%s", scope, subject);
	token = token_make(req->server->key, "csrf", strbuf_cstr(&sb),
			   req->now + WEB_CSRF_LIFETIME);
	strbuf_free(&sb);
	return token;
}

/* web_csrf_check - 0 when the form carries a good field from our origin;
   else a 403 page is prepared and -1 returned */
int web_csrf_check(struct web_request *req, const char *scope,
		   const char *subject)
{
	const char *field = web_request_field(req, "csrf");
	struct strbuf sb = STRBUF_INIT;
	const char *err = "no anti-forgery field";
	int ret = -1;

	strbuf_printf(&sb, "%s:%s", scope, subject);
	if (!web_request_same_origin(req))
		err = "cross-site request";
	else if (field != NULL &&
		 token_verify(req->server->key, field, "csrf",
			      strbuf_cstr(&sb), req->now, &err) == 0)
		ret = 0;
	strbuf_free(&sb);
	if (ret < 0) {
		log_info("http: POST %s from %s refused: %s", req->log_path,
			 req->client, err);
		req->status = MHD_HTTP_FORBIDDEN;
		strbuf_reset(&req->out);
		web_html_begin(req, T(W_FORBIDDEN_TITLE));
		web_put(req, "<p class=\"note err\">");
		web_text(req, T(W_FORGED));
		web_put(req, "</p>");
		web_html_end(req);
	}
	return ret;
}
