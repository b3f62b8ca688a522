/*
 * web-pages.c - the pages a mailbox owner sees: item, mailbox, settings
 *
 * NAME
 *	web_page_item, web_page_mailbox, web_page_settings - the release page
 * DESCRIPTION
 *	Each page first checks the link's token (token.h) for its action and
 *	subject: "item" and the id for /item/ID, "mailbox" or "settings" and
 *	the address for the others. Anything wrong gets the same plain 403.
 *
 *	GET shows; only POST acts, and only with the anti-forgery field
 *	"csrf" that the page's own form carries (a token for "csrf" bound to
 *	the page's subject, valid a few hours) and a same-origin request.
 *	A release claims the item in the store first (release.h), so a
 *	second POST for the same message, from this process or any other,
 *	finds it being released or released and re-injects nothing.
 *
 *	A mailbox page may mint links to its own items and settings: whoever
 *	holds a mailbox link may see all of that mailbox anyway. An item
 *	link never leads further than its item.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "classify.h"
#include "links.h"
#include "log.h"
#include "mime.h"
#include "release.h"
#include "reporter.h"
#include "store.h"
#include "token.h"
#include "xalloc.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WEB_PAGE_SIZE 25
#define WEB_REPORT_MAX 6000
#define WEB_LEGIT_MAX 500

/* web_token_ok - check the link's token; a 403 (set later) when bad */
static int web_token_ok(struct web_request *req, const char *action,
			const char *subject)
{
	const char *token = web_request_arg(req, "t");
	const char *err = "no token";

	if (subject != NULL && token != NULL &&
	    token_verify(req->server->key, token, action, subject, req->now,
			 &err) == 0)
		return 1;
	log_info("http: %s %s from %s refused: %s", req->method, req->log_path,
		 req->client, err);
	req->status = MHD_HTTP_FORBIDDEN;
	return 0;
}

static void web_fail(struct web_request *req, const char *what,
		     const char *error)
{
	log_warning("http: %s %s: %s: %s", req->method, req->log_path, what,
		    error);
	req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
	strbuf_reset(&req->out);
}

/* web_mailbox_lang - use the mailbox's chosen language, if any */
static void web_mailbox_lang(struct web_request *req, struct store *st,
			     const char *mailbox, struct store_pref *pref_r)
{
	struct store_pref pref;
	const struct web_lang *lang;
	const char *err;

	if (store_pref_get(st, mailbox, &pref, &err) < 0)
		return;
	if (pref_r != NULL)
		*pref_r = pref;
	lang = web_lang_find(req->server->langs, pref.lang);
	if (lang != NULL) {
		req->lang = lang;
		req->lang_fixed = 1;
	}
}

/* web_pages_note - a note box of class cls (ok, warn, err) with text,
   escaped (web-private.h) */
void web_pages_note(struct web_request *req, const char *cls,
		    const char *text)
{
	web_put(req, "<p class=\"note ");
	web_put(req, cls);
	web_put(req, "\">");
	web_text(req, text);
	web_put(req, "</p>\n");
}

/* web_hidden - <input type=hidden> with an escaped value */
static void web_hidden(struct web_request *req, const char *name,
		       const char *value)
{
	web_put(req, "<input type=\"hidden\" name=\"");
	web_put(req, name);
	web_put(req, "\" value=\"");
	web_text(req, value);
	web_put(req, "\">");
}

static const char *web_kind_text(struct web_request *req, const char *kind)
{
	static const struct { const char *name; enum web_text text; } kinds[] = {
		{ "ndr_failed", W_KIND_NDR_FAILED },
		{ "ndr_delayed", W_KIND_NDR_DELAYED },
		{ "dsn_success", W_KIND_DSN_SUCCESS },
		{ "autoreply", W_KIND_AUTOREPLY },
		{ "challenge", W_KIND_CHALLENGE },
		{ "av_notice", W_KIND_AV_NOTICE },
	};

	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			return T(kinds[i].text);
	return T(W_KIND_OTHER);
}

/* web_verdict - the verdict's class name and its two texts */
static const char *web_verdict(struct web_request *req, const char *verdict,
			       const char **label_r, const char **text_r)
{
	if (verdict != NULL && strcmp(verdict, "legit") == 0) {
		*label_r = T(W_V_LEGIT);
		*text_r = T(W_V_LEGIT_TEXT);
		return "legit";
	}
	if (verdict != NULL && strcmp(verdict, "backscatter") == 0) {
		*label_r = T(W_V_BACKSCATTER);
		*text_r = T(W_V_BACKSCATTER_TEXT);
		return "backscatter";
	}
	*label_r = T(W_V_UNKNOWN);
	*text_r = T(W_V_UNKNOWN_TEXT);
	return "unknown";
}

static void web_badge(struct web_request *req, const char *verdict)
{
	const char *label, *text;
	const char *cls = web_verdict(req, verdict, &label, &text);

	web_put(req, "<span class=\"badge ");
	web_put(req, cls);
	web_put(req, "\">");
	web_text(req, label);
	web_put(req, "</span>");
}

/* web_cut - at most max bytes of s, not splitting a UTF-8 character */
static size_t web_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* web_report_walk - the human-readable text and the delivery-status
   fields of a bounce, not descending into the returned original */
static void web_report_walk(const struct mime_part *part, struct strbuf *human,
			    struct strbuf *fields)
{
	if (strcmp(part->type, "message/rfc822") == 0 ||
	    strcmp(part->type, "text/rfc822-headers") == 0 ||
	    part->headers_only)
		return;
	if (part->child_count > 0) {
		for (size_t i = 0; i < part->child_count; i++)
			web_report_walk(part->children[i], human, fields);
		return;
	}
	if (strstr(part->type, "delivery-status") != NULL) {
		if (fields->len == 0)
			mime_part_text(part, fields);
	} else if (strcmp(part->type, "text/plain") == 0 && human->len == 0) {
		mime_part_text(part, human);
	}
}

static void web_pre(struct strbuf *out, const struct strbuf *text)
{
	size_t len = web_cut(text->data, text->len, WEB_REPORT_MAX);

	strbuf_puts(out, "<pre>");
	web_html_escape_len(out, text->data, len);
	if (len < text->len)
		strbuf_puts(out, "\n[...]");
	strbuf_puts(out, "</pre>\n");
}

static char *web_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

/* web_item_extra_fill - what the page shows from the message's bytes:
   the classifier's reading and the report's text, escaped */
static void web_item_extra_fill(struct web_item_extra *x,
				const struct store_record *rec)
{
	struct strbuf human = STRBUF_INIT, fields = STRBUF_INIT;
	struct strbuf html = STRBUF_INIT;
	struct classify_result *res = NULL;
	struct mime_message *msg;
	const char *err;

	if (rec->raw == NULL || rec->size <= 0)
		return;
	if (classify_message(rec->raw, (size_t)rec->size, NULL, &res,
			     &err) == 0) {
		if (res->recipient_count > 0) {
			x->diagnostic = web_dup(res->recipients[0].diagnostic);
			x->failed = web_dup(res->recipients[0].address);
		}
		x->to = web_dup(res->original.to);
		x->date = web_dup(res->original.date);
		x->subject = web_dup(res->original.subject);
		x->from = web_dup(res->original.from);
		classify_result_free(&res);
	}
	x->reporter = reporter_host(rec->raw, (size_t)rec->size,
				    rec->reporting_mta);
	msg = mime_parse(rec->raw, (size_t)rec->size);
	if (msg != NULL && msg->root != NULL)
		web_report_walk(msg->root, &human, &fields);
	mime_message_free(&msg);
	if (human.len > 0)
		web_pre(&html, &human);
	if (human.len > 0 && fields.len > 0)
		strbuf_puts(&html, "<br>");
	if (fields.len > 0)
		web_pre(&html, &fields);
	if (html.len > 0)
		x->report_html = strbuf_steal(&html);
	strbuf_free(&html);
	strbuf_free(&human);
	strbuf_free(&fields);
}

/* web_item_extra - the cached reading of item rec, made on a miss */
static const struct web_item_extra *web_item_extra(struct web_thread *th,
						   const struct store_record *rec,
						   const char **error_r)
{
	struct web_item_extra *x = &th->cache[rec->id % WEB_CACHE_SLOTS];
	struct store_record *full = NULL;

	if (x->id == rec->id && x->size == rec->size)
		return x;
	web_thread_extra_clear(x);
	if (store_item_get(th->store, rec->id, 1, &full, error_r) < 0)
		return NULL;
	if (full != NULL)
		web_item_extra_fill(x, full);
	x->id = rec->id;
	x->size = rec->size;	/* as read without the bytes */
	store_record_free(&full);
	return x;
}

/* web_release_retrying - the hop took it; recording it is retried */
static void web_release_retrying(long long id, const char *error,
				 void *context)
{
	log_warning("id=%lld: released by %s, recording it failed (%s); "
		    "retrying", id, (const char *)context, error);
}

/* web_release_now - release_item() for the page, logged; the text id of
   the outcome, and the Message-ID when it is in doubt */
static enum web_text web_release_now(struct web_request *req,
				     struct store *st, long long id,
				     const char *actor, char *doubt_id,
				     size_t doubt_size)
{
	struct web_server *server = req->server;
	struct release_result r = { .retrying = web_release_retrying,
				    .context = (void *)actor };
	const char *err;
	int ret;

	pthread_mutex_lock(&server->release_lock);
	ret = release_item(st, server->reinject, id, actor, req->now, &r,
			   &err);
	pthread_mutex_unlock(&server->release_lock);
	if (ret < 0) {
		log_warning("id=%lld: release by %s failed, nothing sent, "
			    "still held: %s", id, actor, err);
		return W_RELEASE_FAILED;
	}
	switch (r.outcome) {
	case RELEASE_DONE:
		log_info("id=%lld: released by %s: %s%s", id, actor, r.reply,
			 r.unrecorded ? " (not recorded yet)" : "");
		return W_DONE_RELEASED;
	case RELEASE_ALREADY:
		return W_ALREADY;
	case RELEASE_BUSY:
		return W_BUSY;
	case RELEASE_IN_DOUBT:
		log_warning("id=%lld: in doubt: handed on by %s (%s), no "
			    "answer recorded; Message-ID %s", id, r.owner,
			    r.actor, r.message_id);
		if (doubt_id != NULL)
			snprintf(doubt_id, doubt_size, "%s", r.message_id);
		return W_IN_DOUBT;
	case RELEASE_NOT_FOUND:
	case RELEASE_NOT_HELD:
	case RELEASE_NOT_IN_DOUBT:
		break;
	}
	return W_NOT_HELD;
}

/* web_item_request_one - record the owner's request for rec; a new one goes
   into batch, for one mail to release_notify after the whole POST */
static enum web_text web_item_request_one(struct web_request *req,
				     struct store *st,
				     const struct store_record *rec,
				     const char *actor,
				     struct web_notice_batch *batch)
{
	const char *err;
	int created = 0;

	if (store_request_add(st, rec->id, actor, req->now, &created,
			      &err) < 0) {
		log_warning("id=%lld: release request failed: %s", rec->id,
			    err);
		return W_RELEASE_FAILED;
	}
	if (!created)
		return W_REQ_PENDING;
	log_info("id=%lld: release requested by %s", rec->id, actor);
	web_notice_add(batch, rec->id, rec->recipient,
			      rec->orig_subject);
	return W_REQUESTED;
}

/* web_release_one - release or request one item of mailbox (NULL: any);
   returns the text id of the outcome */
static enum web_text web_release_one(struct web_request *req,
				     struct store *st, long long id,
				     const char *mailbox,
				     struct web_notice_batch *batch,
				     char *doubt_id, size_t doubt_size)
{
	struct store_record *rec = NULL;
	enum web_text result;
	const char *err, *state;
	char actor[96];

	snprintf(actor, sizeof(actor), "web:%s", req->client);
	if (store_item_get(st, id, 0, &rec, &err) < 0) {
		log_warning("id=%lld: release from the web failed: %s", id,
			    err);
		return W_RELEASE_FAILED;
	}
	if (rec == NULL || (mailbox != NULL && (rec->recipient == NULL ||
			    strcasecmp(rec->recipient, mailbox) != 0))) {
		store_record_free(&rec);
		return W_NOT_HELD;
	}
	state = rec->state ? rec->state : "";
	if (req->server->request_mode)
		result = strcmp(state, "held") == 0
			? web_item_request_one(req, st, rec, actor, batch)
			: strcmp(state, "released") == 0 ? W_ALREADY
			: W_NOT_HELD;
	else if (strcmp(state, "held") == 0
		 || strcmp(state, "releasing") == 0)
		/* release_item() tells a claim at work from one in doubt */
		result = web_release_now(req, st, id, actor, doubt_id,
					 doubt_size);
	else
		result = strcmp(state, "released") == 0 ? W_ALREADY
			: W_NOT_HELD;
	store_record_free(&rec);
	return result;
}

/* web_doubt_note - the in-doubt text with the Message-ID to look for */
static void web_doubt_note(struct web_request *req, const char *message_id)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_printf(&sb, "%s %s", T(W_IN_DOUBT),
		      message_id && *message_id ? message_id : "-");
	web_pages_note(req, "err", strbuf_cstr(&sb));
	strbuf_free(&sb);
}

/* web_parse_id - a canonical decimal id (no sign, no leading zero) */
static long long web_parse_id(const char *s)
{
	long long v = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 18 || s[0] == '0' ||
	    strspn(s, "0123456789") != len)
		return -1;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static void web_item_request_state(struct web_request *req, struct store *st,
				   long long id)
{
	struct store_request rq;
	const char *err;

	if (store_request_get(st, id, &rq, &err) < 0 || rq.id == 0)
		return;
	if (strcmp(rq.state, "pending") == 0)
		web_pages_note(req, "warn", T(W_REQ_PENDING));
	else if (strcmp(rq.state, "refused") == 0)
		web_pages_note(req, "err", T(W_REQ_REFUSED));
}

/* web_item_releasing - the note for an item in state releasing; 1 when
   it may be released again (a stale claim never handed on) */
static int web_item_releasing(struct web_request *req, struct store *st,
			      long long id)
{
	struct release_result r;
	const char *err;

	if (release_look(st, id, req->now, &r, &err) < 0) {
		log_warning("id=%lld: read release claim: %s", id, err);
		web_pages_note(req, "warn", T(W_STATE_RELEASING));
		return 0;
	}
	if (r.outcome == RELEASE_IN_DOUBT)
		web_doubt_note(req, r.message_id);
	else if (r.outcome == RELEASE_ALREADY)
		web_pages_note(req, "ok", T(W_STATE_RELEASED));
	else if (r.outcome != RELEASE_NOT_IN_DOUBT)
		web_pages_note(req, "warn", T(W_STATE_RELEASING));
	return r.outcome == RELEASE_NOT_IN_DOUBT && !req->server->request_mode;
}

/* the outcome of an item page's POST, for the notes above the page */
struct web_item_done {
	enum web_text text;	/* W_COUNT: nothing was posted */
	unsigned int count;	/* a storm's delete: how many */
	char doubt_id[256];
};

/* web_item_post - the item page's action: release (the default), or
   one of the owner's others (web-owner.c); 0, or -1 when the page is
   already an error */
static int web_item_post(struct web_request *req, struct web_thread *th,
			 long long id, const char *id_text,
			 struct web_item_done *done)
{
	const char *what = web_request_field(req, "do");
	struct store *st = th->store;
	struct store_record *rec = NULL;
	const struct web_item_extra *x;
	const char *err;

	if (web_csrf_check(req, "item", id_text) < 0)
		return -1;
	if (what == NULL || strcmp(what, "release") == 0) {
		struct web_notice_batch *batch = xcalloc(1, sizeof(*batch));

		done->text = web_release_one(req, st, id, NULL, batch,
					     done->doubt_id,
					     sizeof(done->doubt_id));
		web_notice_send(req, st, batch);
		free(batch);
		if (done->text == W_RELEASE_FAILED)
			req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return 0;
	}
	if (store_item_get(st, id, 0, &rec, &err) < 0) {
		web_fail(req, "read item", err);
		return -1;
	}
	if (rec == NULL) {
		req->status = MHD_HTTP_NOT_FOUND;
		return -1;
	}
	if ((x = web_item_extra(th, rec, &err)) == NULL) {
		web_fail(req, "read item", err);
		store_record_free(&rec);
		return -1;
	}
	done->text = web_owner_item_post(req, st, rec, x, what, &done->count);
	if (done->text == W_DELETE_FAILED)
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
	store_record_free(&rec);
	return req->status == MHD_HTTP_BAD_REQUEST ? -1 : 0;
}

/* web_item_title - the heading: it says when the item was released or
   deleted, so the page's first line tells what happened */
static enum web_text web_item_title(const char *state)
{
	if (strcmp(state, "released") == 0)
		return W_ITEM_TITLE_RELEASED;
	if (strcmp(state, "deleted") == 0)
		return W_ITEM_TITLE_DELETED;
	return W_ITEM_TITLE;
}

/* web_item_notes - the POST's outcome, or the item's state */
static int web_item_notes(struct web_request *req, struct store *st,
			  const struct store_record *rec,
			  const struct web_item_done *done)
{
	const char *state = rec->state ? rec->state : "";
	int may_release = strcmp(state, "held") == 0;
	enum web_text t = done->text;

	if (t == W_IN_DOUBT)
		web_doubt_note(req, done->doubt_id);
	else if (t == W_DONE_RELEASED || t == W_REQUESTED)
		web_pages_note(req, "ok", T(t));
	else if (t == W_RELEASE_FAILED)
		web_pages_note(req, "err", T(t));
	else if (t == W_ALREADY || t == W_BUSY || t == W_NOT_HELD ||
		 t == W_REQ_PENDING)
		web_pages_note(req, "warn", T(t));
	else if (t != W_COUNT)
		web_owner_result_note(req, t, done->count);
	if (t != W_COUNT)
		return may_release;
	if (strcmp(state, "released") == 0)
		web_pages_note(req, "ok", T(W_STATE_RELEASED));
	else if (strcmp(state, "releasing") == 0)
		may_release = web_item_releasing(req, st, rec->id);
	else if (strcmp(state, "deleted") == 0)
		web_pages_note(req, "warn", T(W_STATE_DELETED));
	else if (strcmp(state, "expired") == 0)
		web_pages_note(req, "warn", T(W_STATE_EXPIRED));
	else if (req->server->request_mode)
		web_item_request_state(req, st, rec->id);
	return may_release;
}

/* web_item_form_open - the markup that opens the item's action form */
static char *web_item_form_open(struct web_request *req, long long id,
				const char *id_text)
{
	struct strbuf action = STRBUF_INIT, sb = STRBUF_INIT;
	char *csrf = web_csrf_make(req, "item", id_text);

	strbuf_printf(&action, "/item/%lld?t=%s", id, web_request_arg(req, "t"));
	strbuf_puts(&sb, "<form method=\"post\" action=\"");
	web_html_escape(&sb, strbuf_cstr(&action));
	strbuf_puts(&sb, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	web_html_escape(&sb, csrf);
	strbuf_puts(&sb, "\">");
	free(csrf);
	strbuf_free(&action);
	return strbuf_steal(&sb);
}

/* web_item_buttons - Release and Delete, first on the page so that a
   phone shows them without scrolling */
static void web_item_buttons(struct web_request *req, const char *form_open)
{
	web_put(req, form_open);
	web_put(req, "<button type=\"submit\" name=\"do\" value=\"release\" "
		"class=\"release\">");
	web_text(req, req->server->request_mode ? T(W_REQUEST)
		 : T(W_RELEASE));
	web_put(req, "</button><button type=\"submit\" name=\"do\" "
		"value=\"delete\" class=\"alt delete\">");
	web_text(req, T(W_DELETE));
	web_put(req, "</button></form>\n");
}

/* web_item_rows - the card about the notice itself */
static void web_item_rows(struct web_request *req,
			  const struct store_record *rec,
			  const struct web_item_extra *x, const char *zone)
{
	struct strbuf when = STRBUF_INIT;
	char *sender = web_owner_sender(req, x);

	web_put(req, "<div class=\"card\"><dl>");
	web_html_date_zone(&when, rec->arrived, zone);
	web_row(req, T(W_RECEIVED), strbuf_cstr(&when));
	web_row(req, T(W_MAILBOX), rec->recipient);
	web_row(req, T(W_SENDER), sender);
	web_row(req, T(W_KIND), web_kind_text(req, rec->kind));
	web_row(req, T(W_REPORTING), rec->reporting_mta);
	web_row(req, T(W_STATUS), rec->status);
	if (rec->reason != NULL && web_lang_reason(req->lang, rec->reason)) {
		struct strbuf reason = STRBUF_INIT;

		strbuf_printf(&reason, "%s (%s)",
			      web_lang_reason(req->lang, rec->reason), rec->reason);
		web_row(req, T(W_REASON), strbuf_cstr(&reason));
		strbuf_free(&reason);
	} else {
		web_row(req, T(W_REASON), rec->reason);
	}
	web_row(req, T(W_DIAGNOSTIC), x->diagnostic);
	web_put(req, "</dl></div>\n");
	free(sender);
	strbuf_free(&when);
}

/* web_item_original - the card about the message the notice is about */
static void web_item_original(struct web_request *req,
			      const struct store_record *rec,
			      const struct web_item_extra *x)
{
	const char *label, *vtext;

	web_put(req, "<h2>");
	web_text(req, T(W_ORIGINAL));
	web_put(req, "</h2>\n<div class=\"card\"><dl>");
	web_row(req, T(W_SUBJECT), rec->orig_subject ? rec->orig_subject
		: x->subject);
	web_row(req, T(W_FROM), rec->orig_from ? rec->orig_from : x->from);
	web_row(req, T(W_TO), x->to);
	web_row(req, T(W_DATE), x->date);
	web_put(req, "<dt>");
	web_text(req, T(W_VERDICT));
	web_put(req, "</dt><dd>");
	web_badge(req, rec->verdict);
	web_verdict(req, rec->verdict, &label, &vtext);
	web_put(req, " ");
	web_text(req, vtext);
	web_put(req, "</dd>");
	web_row(req, T(W_EVIDENCE), web_owner_evidence(req, rec->evidence));
	web_put(req, "</dl></div>\n");
}

void web_page_item(struct web_request *req, const char *id_text)
{
	long long id = web_parse_id(id_text);
	struct web_item_done done = { .text = W_COUNT };
	struct store_record *rec = NULL;
	const struct web_item_extra *x;
	struct store_pref pref = { .timezone = "" };
	struct web_thread *th;
	const char *err;
	char *form_open;
	int may_release;

	if (id <= 0 || !web_token_ok(req, "item", id_text)) {
		req->status = MHD_HTTP_FORBIDDEN;
		return;
	}
	if ((th = web_thread_get(req, &err)) == NULL) {
		web_fail(req, "open database", err);
		return;
	}
	if (req->is_post && web_item_post(req, th, id, id_text, &done) < 0)
		return;
	if (store_item_get(th->store, id, 0, &rec, &err) < 0) {
		web_fail(req, "read item", err);
		return;
	}
	if (rec == NULL) {
		req->status = MHD_HTTP_NOT_FOUND;
		return;
	}
	if ((x = web_item_extra(th, rec, &err)) == NULL) {
		web_fail(req, "read item", err);
		store_record_free(&rec);
		return;
	}
	if (rec->recipient != NULL)
		web_mailbox_lang(req, th->store, rec->recipient, &pref);

	web_html_begin(req, T(web_item_title(rec->state ? rec->state : "")));
	may_release = web_item_notes(req, th->store, rec, &done);
	form_open = web_item_form_open(req, id, id_text);
	if (may_release) {
		web_put(req, "<p>");
		web_text(req, T(W_ITEM_INTRO));
		web_put(req, "</p>\n");
		web_item_buttons(req, form_open);
	}
	web_item_rows(req, rec, x, pref.timezone);
	web_item_original(req, rec, x);
	if (may_release)
		web_owner_item_more(req, rec, x, form_open);
	if (x->report_html != NULL) {
		web_put(req, "<h2>");
		web_text(req, T(W_REPORT));
		web_put(req, "</h2>\n<div class=\"card\">");
		web_put(req, x->report_html);
		web_put(req, "</div>\n");
	}
	web_html_end(req);
	free(form_open);
	store_record_free(&rec);
}

/* a page of a mailbox's held items, copied out of the store's callback */
struct web_list {
	long long ids[WEB_LEGIT_MAX];
	struct store_record *recs[WEB_PAGE_SIZE + 1];
	unsigned int count;
	const char *only_verdict;	/* collect ids of this verdict */
};

static int web_list_cb(const struct store_record *rec, void *context)
{
	struct web_list *list = context;

	if (list->only_verdict != NULL) {
		if (rec->verdict && strcmp(rec->verdict, list->only_verdict) == 0
		    && list->count < WEB_LEGIT_MAX)
			list->ids[list->count++] = rec->id;
		return 0;
	}
	if (list->count > WEB_PAGE_SIZE)
		return -1;
	struct store_record *copy = xcalloc(1, sizeof(*copy));
	copy->id = rec->id;
	copy->arrived = rec->arrived;
	copy->kind = rec->kind ? xstrdup(rec->kind) : NULL;
	copy->reason = rec->reason ? xstrdup(rec->reason) : NULL;
	copy->verdict = rec->verdict ? xstrdup(rec->verdict) : NULL;
	copy->orig_subject = rec->orig_subject ? xstrdup(rec->orig_subject)
		: NULL;
	copy->reporting_mta = rec->reporting_mta ? xstrdup(rec->reporting_mta)
		: NULL;
	list->recs[list->count++] = copy;
	return 0;
}

/* web_mailbox_url - /PATH?m=ADDR&t=TOKEN[&p=N], for href (escape it) */
static void web_mailbox_url(struct strbuf *out, const char *path,
			    const char *mailbox, const char *token, int page)
{
	char *addr = links_url_encode(mailbox);

	strbuf_printf(out, "/%s?m=%s&t=%s", path, addr, token);
	if (page > 0)
		strbuf_printf(out, "&p=%d", page);
	free(addr);
}

static void web_link(struct web_request *req, const char *url,
		     const char *text)
{
	web_put(req, "<a href=\"");
	web_text(req, url);
	web_put(req, "\">");
	web_text(req, text);
	web_put(req, "</a>");
}

/* web_mailbox_post - release the selected, or all legitimate, items */
static void web_mailbox_post(struct web_request *req, struct store *st,
			     const char *mailbox)
{
	unsigned int done = 0, skipped = 0, failed = 0, doubt = 0;
	const char *what = web_request_field(req, "do");
	struct web_list *list = xcalloc(1, sizeof(*list));
	struct web_notice_batch *batch;
	struct strbuf sb = STRBUF_INIT;
	const char *err;

	if (what != NULL && strcmp(what, "legit") == 0) {
		struct store_filter f = { .mailbox = mailbox, .state = "held" };

		list->only_verdict = "legit";
		if (store_item_list(st, &f, web_list_cb, list, &err) < 0) {
			web_fail(req, "list items", err);
			free(list);
			return;
		}
	} else {
		for (size_t i = 0; i < req->field_count &&
		     list->count < WEB_LEGIT_MAX; i++) {
			long long id;

			if (strcmp(req->fields[i].name, "id") != 0)
				continue;
			id = web_parse_id(req->fields[i].value);
			if (id > 0)
				list->ids[list->count++] = id;
		}
	}
	if (list->count == 0 && (what == NULL || strcmp(what, "legit") != 0)) {
		web_pages_note(req, "warn", T(W_NONE_SELECTED));
		free(list);
		return;
	}
	batch = xcalloc(1, sizeof(*batch));
	for (unsigned int i = 0; i < list->count; i++) {
		enum web_text r = web_release_one(req, st, list->ids[i],
						  mailbox, batch, NULL, 0);
		if (r == W_DONE_RELEASED || r == W_REQUESTED)
			done++;
		else if (r == W_RELEASE_FAILED)
			failed++;
		else if (r == W_IN_DOUBT)
			doubt++;
		else
			skipped++;
	}
	web_notice_send(req, st, batch);
	free(batch);
	strbuf_printf(&sb, "%s: %u", req->server->request_mode
		      ? T(W_COUNT_REQUESTED) : T(W_COUNT_RELEASED), done);
	if (skipped > 0)
		strbuf_printf(&sb, " \xc2\xb7 %s: %u", T(W_COUNT_SKIPPED),
			      skipped);
	if (doubt > 0)
		strbuf_printf(&sb, " \xc2\xb7 %s: %u", T(W_COUNT_DOUBT), doubt);
	if (failed > 0) {
		strbuf_printf(&sb, " \xc2\xb7 %s: %u", T(W_COUNT_FAILED), failed);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	web_pages_note(req, failed || doubt ? "err" : "ok", strbuf_cstr(&sb));
	strbuf_free(&sb);
	free(list);
}

void web_page_mailbox(struct web_request *req)
{
	const char *mailbox = web_request_arg(req, "m");
	const char *token = web_request_arg(req, "t");
	const char *page_arg = web_request_arg(req, "p");
	struct store_filter f = { .state = "held" };
	struct web_list *list;
	struct strbuf notes = STRBUF_INIT, url = STRBUF_INIT;
	struct store *st;
	const char *err;
	long long page = 0;
	char *csrf, *settings_token;
	long long link_expires;

	if (!web_token_ok(req, "mailbox", mailbox))
		return;
	if (page_arg != NULL) {
		page = strcmp(page_arg, "0") == 0 ? 0 : web_parse_id(page_arg);
		if (page < 0 || page > 100000) {
			req->status = MHD_HTTP_BAD_REQUEST;
			return;
		}
	}
	if ((st = web_thread_store(req, &err)) == NULL) {
		web_fail(req, "open database", err);
		return;
	}
	web_mailbox_lang(req, st, mailbox, NULL);
	if (req->is_post) {
		if (web_csrf_check(req, "mailbox", mailbox) < 0)
			return;
		/* the notes go above the list: render them aside first */
		struct strbuf saved = req->out;

		strbuf_init(&req->out);
		web_mailbox_post(req, st, mailbox);
		if (req->status == MHD_HTTP_SERVICE_UNAVAILABLE &&
		    req->out.len == 0) {
			strbuf_free(&saved);
			return;
		}
		notes = req->out;
		req->out = saved;
	}

	list = xcalloc(1, sizeof(*list));
	f.mailbox = mailbox;
	f.limit = WEB_PAGE_SIZE + 1;
	f.offset = (unsigned int)(page * WEB_PAGE_SIZE);
	if (store_item_list(st, &f, web_list_cb, list, &err) < 0) {
		web_fail(req, "list items", err);
		strbuf_free(&notes);
		free(list);
		return;
	}

	web_html_begin(req, T(W_MAILBOX_TITLE));
	web_put(req, "<p class=\"muted\">");
	web_text(req, mailbox);
	web_put(req, "</p>\n");
	strbuf_append(&req->out, notes.data, notes.len);
	link_expires = req->now + 86400LL * req->server->quarantine_days;
	if (list->count == 0) {
		web_pages_note(req, "ok", T(W_MAILBOX_EMPTY));
	} else {
		csrf = web_csrf_make(req, "mailbox", mailbox);
		web_mailbox_url(&url, "mailbox", mailbox, token, 0);
		web_put(req, "<form method=\"post\" action=\"");
		web_text(req, strbuf_cstr(&url));
		web_put(req, "\">");
		web_hidden(req, "csrf", csrf);
		web_put(req, "<div class=\"card\"><ul class=\"items\">\n");
		for (unsigned int i = 0; i < list->count && i < WEB_PAGE_SIZE;
		     i++) {
			const struct store_record *r = list->recs[i];
			long long expires = r->arrived +
				86400LL * req->server->quarantine_days;
			char *item = links_item("", req->server->key, r->id,
						expires < link_expires ? expires
						: link_expires);
			char idbuf[32];

			snprintf(idbuf, sizeof(idbuf), "%lld", r->id);
			strbuf_reset(&url);
			web_html_date(&url, r->arrived);
			web_put(req, "<li><input type=\"checkbox\" name=\"id\" "
				"value=\"");
			web_put(req, idbuf);
			web_put(req, "\" id=\"i");
			web_put(req, idbuf);
			web_put(req, "\"><label for=\"i");
			web_put(req, idbuf);
			web_put(req, "\"><strong>");
			web_text_cut(req, r->orig_subject && *r->orig_subject
				     ? r->orig_subject : T(W_NO_SUBJECT),
				     WEB_LIST_TEXT_MAX);
			web_put(req, "</strong><br><small>");
			web_text(req, strbuf_cstr(&url));
			web_put(req, " \xc2\xb7 ");
			web_text(req, web_kind_text(req, r->kind));
			if (r->reason) {
				const char *why = web_lang_reason(req->lang,
								  r->reason);
				web_put(req, " (");
				web_text(req, why ? why : r->reason);
				web_put(req, ")");
			}
			web_put(req, "</small> ");
			web_badge(req, r->verdict);
			web_put(req, " ");
			web_link(req, item, T(W_DETAILS));
			web_put(req, "</label></li>\n");
			free(item);
		}
		web_put(req, "</ul></div><button type=\"submit\" name=\"do\" "
			"value=\"selected\">");
		web_text(req, req->server->request_mode
			 ? T(W_REQUEST_SELECTED) : T(W_RELEASE_SELECTED));
		web_put(req, "</button><button type=\"submit\" class=\"alt\" "
			"name=\"do\" value=\"legit\">");
		web_text(req, T(W_RELEASE_LEGIT));
		web_put(req, "</button></form>\n");
		free(csrf);
	}
	if (page > 0 || list->count > WEB_PAGE_SIZE) {
		web_put(req, "<nav><span>");
		if (page > 0) {
			strbuf_reset(&url);
			web_mailbox_url(&url, "mailbox", mailbox, token,
					(int)page - 1);
			web_link(req, strbuf_cstr(&url), T(W_NEWER));
		}
		web_put(req, "</span><span>");
		if (list->count > WEB_PAGE_SIZE) {
			strbuf_reset(&url);
			web_mailbox_url(&url, "mailbox", mailbox, token,
					(int)page + 1);
			web_link(req, strbuf_cstr(&url), T(W_OLDER));
		}
		web_put(req, "</span></nav>\n");
	}
	settings_token = token_make(req->server->key, "settings", mailbox,
				    link_expires);
	strbuf_reset(&url);
	web_mailbox_url(&url, "settings", mailbox, settings_token, 0);
	web_put(req, "<p>");
	web_link(req, strbuf_cstr(&url), T(W_SETTINGS_TITLE));
	web_put(req, "</p>\n");
	web_html_end(req);
	free(settings_token);
	for (unsigned int i = 0; i < list->count; i++)
		store_record_free(&list->recs[i]);
	free(list);
	strbuf_free(&notes);
	strbuf_free(&url);
}

static void web_radio(struct web_request *req, const char *name,
		      const char *value, const char *current,
		      const char *label)
{
	web_put(req, "<label><input type=\"radio\" name=\"");
	web_put(req, name);
	web_put(req, "\" value=\"");
	web_put(req, value);
	web_put(req, strcmp(value, current) == 0 ? "\" checked> " : "\"> ");
	web_text(req, label);
	web_put(req, "</label>");
}

static void web_option(struct web_request *req, const char *value,
		       const char *current, const char *label)
{
	web_put(req, "<option value=\"");
	web_put(req, value);
	web_put(req, strcmp(value, current) == 0 ? "\" selected>" : "\">");
	web_text(req, label);
	web_put(req, "</option>");
}

void web_page_settings(struct web_request *req, int unsubscribe)
{
	const char *mailbox = web_request_arg(req, "m");
	const char *token = web_request_arg(req, "t");
	struct store_pref pref;
	struct strbuf url = STRBUF_INIT;
	enum web_text note = W_COUNT;
	struct store *st;
	const char *err;
	char *csrf;

	if (!web_token_ok(req, "settings", mailbox))
		return;
	if ((st = web_thread_store(req, &err)) == NULL) {
		web_fail(req, "open database", err);
		return;
	}
	if (store_pref_get(st, mailbox, &pref, &err) < 0) {
		web_fail(req, "read preferences", err);
		return;
	}
	web_mailbox_lang(req, st, mailbox, NULL);
	if (req->is_post) {
		const char *one_click = web_request_field(req, "List-Unsubscribe");

		if (unsubscribe && one_click != NULL &&
		    strcmp(one_click, "One-Click") == 0) {
			/* RFC 8058: the mail client posts this by itself;
			   the token is the capability */
			snprintf(pref.digest, sizeof(pref.digest), "never");
			note = W_UNSUBSCRIBED;
		} else {
			const char *digest = web_request_field(req, "digest");
			const char *lang = web_request_field(req, "lang");

			if (web_csrf_check(req, "settings", mailbox) < 0)
				return;
			if (digest == NULL || (strcmp(digest, "daily") != 0 &&
			    strcmp(digest, "storms") != 0 &&
			    strcmp(digest, "never") != 0) ||
			    (lang != NULL && *lang != '\0' &&
			     web_lang_find(req->server->langs, lang) == NULL)) {
				req->status = MHD_HTTP_BAD_REQUEST;
				return;
			}
			snprintf(pref.digest, sizeof(pref.digest), "%s", digest);
			snprintf(pref.lang, sizeof(pref.lang), "%s",
				 lang && *lang ? web_lang_code(web_lang_find(
					req->server->langs, lang)) : "");
			note = W_SAVED;
		}
		if (store_pref_set(st, mailbox, &pref, req->now, &err) < 0) {
			web_fail(req, "save preferences", err);
			return;
		}
		log_info("http: %s: digest=%s lang=%s set from %s", mailbox,
			 pref.digest, pref.lang[0] ? pref.lang : "auto",
			 req->client);
		if (pref.lang[0] != '\0') {
			req->lang = web_lang_find(req->server->langs,
						  pref.lang);
		} else if (req->lang_fixed) {
			req->lang = web_lang_accept(req->server->langs,
						    web_request_header(req,
				MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
		}
	}

	web_html_begin(req, T(W_SETTINGS_TITLE));
	web_put(req, "<p class=\"muted\">");
	web_text(req, mailbox);
	web_put(req, "</p>\n");
	if (note != W_COUNT)
		web_pages_note(req, "ok", T(note));
	else if (unsubscribe)
		web_pages_note(req, "warn", T(W_UNSUB_NOTE));
	csrf = web_csrf_make(req, "settings", mailbox);
	web_mailbox_url(&url, "settings", mailbox, token, 0);
	web_put(req, "<form method=\"post\" action=\"");
	web_text(req, strbuf_cstr(&url));
	web_put(req, "\"><div class=\"card\">");
	web_hidden(req, "csrf", csrf);
	web_put(req, "<fieldset><legend>");
	web_text(req, T(W_DIGEST_Q));
	web_put(req, "</legend>");
	web_radio(req, "digest", "daily", pref.digest, T(W_DAILY));
	web_radio(req, "digest", "storms", pref.digest, T(W_STORMS));
	web_radio(req, "digest", "never", pref.digest, T(W_NEVER));
	web_put(req, "</fieldset><label>");
	web_text(req, T(W_LANG_Q));
	web_put(req, " <select name=\"lang\">");
	web_option(req, "", pref.lang, T(W_LANG_AUTO));
	for (size_t i = 0; i < req->server->langs->count; i++) {
		const struct web_lang *l = &req->server->langs->langs[i];

		web_option(req, l->code, pref.lang, web_text_get(l, W_LANG_NAME));
	}
	web_put(req, "</select></label></div><button type=\"submit\">");
	web_text(req, T(W_SAVE));
	web_put(req, "</button></form>\n");
	web_html_end(req);
	free(csrf);
	strbuf_free(&url);
}

void web_page_home(struct web_request *req)
{
	web_html_begin(req, T(W_SITE));
	web_put(req, "<p>");
	web_text(req, T(W_HOME_TEXT));
	web_put(req, "</p>\n");
	web_html_end(req);
}
