/*
 * web-owner.c - what a mailbox owner does besides releasing: delete one
 * item or a storm's held items, and keep allow rules
 *
 * Every action is a POST that the calling page (web-pages.c) has checked
 * for its link token and anti-forgery field; here each action is kept to
 * the link's own mailbox: an item link deletes its item, or the held
 * items of its item's storm and mailbox, and adds rules for its item's
 * mailbox only; a settings link removes that mailbox's rules only. The
 * rule's value is read from the held message here, never taken from the
 * form. Each change is one transaction with its audit line, and each
 * repeats harmlessly: a second delete finds the item gone and says so.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "log.h"
#include "release.h"
#include "reporter.h"
#include "store.h"
#include "xalloc.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* web_owner_actor - "web:CLIENT", for the audit trail */
static void web_owner_actor(const struct web_request *req, char *buf,
			    size_t size)
{
	snprintf(buf, size, "web:%s", req->client);
}

/* web_owner_fill - text with {{name}} replaced by value; caller frees */
char *web_owner_fill(const char *text, const char *name, const char *value)
{
	struct strbuf sb = STRBUF_INIT;
	char mark[40];
	const char *p;
	size_t mlen;

	snprintf(mark, sizeof(mark), "{{%s}}", name);
	mlen = strlen(mark);
	while ((p = strstr(text, mark)) != NULL) {
		strbuf_append(&sb, text, (size_t)(p - text));
		strbuf_puts(&sb, value ? value : "");
		text = p + mlen;
	}
	strbuf_puts(&sb, text);
	return strbuf_steal(&sb);
}

/* web_owner_state_text - what a second delete of an item in state says */
static enum web_text web_owner_state_text(const char *state)
{
	if (state != NULL && strcmp(state, "deleted") == 0)
		return W_ALREADY_DELETED;
	if (state != NULL && strcmp(state, "released") == 0)
		return W_ALREADY;
	return W_NOT_HELD;
}

enum web_text web_owner_delete_one(struct web_request *req, struct store *st,
				   long long id, const char *mailbox)
{
	struct store_record *rec = NULL;
	enum release_outcome outcome;
	enum web_text text;
	const char *err;
	char actor[96];

	web_owner_actor(req, actor, sizeof(actor));
	if (store_item_get(st, id, 0, &rec, &err) < 0) {
		log_warning("id=%lld: delete from the web failed: %s", id, err);
		return W_DELETE_FAILED;
	}
	if (rec == NULL || (mailbox != NULL && (rec->recipient == NULL ||
			    strcasecmp(rec->recipient, mailbox) != 0))) {
		store_record_free(&rec);
		return W_NOT_HELD;
	}
	if (release_delete(st, id, actor, req->now, &outcome, &err) < 0) {
		log_warning("id=%lld: delete by %s failed, still held: %s", id,
			    actor, err);
		text = W_DELETE_FAILED;
	} else if (outcome == RELEASE_DONE) {
		log_info("id=%lld: deleted by %s", id, actor);
		text = W_DONE_DELETED;
	} else {
		text = web_owner_state_text(rec->state);
	}
	store_record_free(&rec);
	return text;
}

/* web_owner_delete_storm - the held items of rec's storm and mailbox */
static enum web_text web_owner_delete_storm(struct web_request *req,
					    struct store *st,
					    const struct store_record *rec,
					    unsigned int *count_r)
{
	const char *err;
	char actor[96];

	*count_r = 0;
	web_owner_actor(req, actor, sizeof(actor));
	if (rec->storm_id <= 0)
		return web_owner_delete_one(req, st, rec->id, rec->recipient);
	if (store_begin(st, &err) < 0 ||
	    store_storm_delete_held(st, rec->storm_id, rec->recipient, actor,
				    req->now, count_r, &err) < 0 ||
	    store_commit(st, &err) < 0) {
		store_rollback(st);
		log_warning("storm %lld: delete by %s failed, still held: %s",
			    rec->storm_id, actor, err);
		*count_r = 0;
		return W_DELETE_FAILED;
	}
	log_info("storm %lld: %u held items of %s deleted by %s",
		 rec->storm_id, *count_r, rec->recipient, actor);
	return W_STORM_DELETED;
}

/* web_owner_rule_value - the value a rule of kind takes from the item:
   its reporting domain, or its first bounced recipient; caller frees */
static char *web_owner_rule_value(const struct web_item_extra *x,
				  const char *kind)
{
	const char *err;
	char *value = NULL;

	if (strcmp(kind, "domain") == 0 && x->reporter != NULL)
		value = reporter_domain(x->reporter);
	else if (strcmp(kind, "recipient") == 0 && x->failed != NULL)
		value = xstrdup(x->failed);
	if (value != NULL) {
		char *ok = NULL;

		reporter_rule_value(kind, value, &ok, &err);
		free(value);
		value = ok;
	}
	return value;
}

/* web_owner_allow - add rec's mailbox's rule of kind from the item */
static enum web_text web_owner_allow(struct web_request *req,
				     struct store *st,
				     const struct store_record *rec,
				     const struct web_item_extra *x,
				     const char *kind)
{
	char *value = web_owner_rule_value(x, kind);
	const char *err;
	char actor[96];
	long long id;
	int created = 0;

	if (value == NULL || rec->recipient == NULL) {
		free(value);
		req->status = MHD_HTTP_BAD_REQUEST;
		return W_BAD_REQUEST;
	}
	web_owner_actor(req, actor, sizeof(actor));
	if (store_begin(st, &err) < 0 ||
	    store_allow_add(st, rec->recipient, kind, value, actor, req->now,
			    &id, &created, &err) < 0 ||
	    store_commit(st, &err) < 0) {
		store_rollback(st);
		log_warning("%s: allow %s %s failed: %s", rec->recipient, kind,
			    value, err);
		free(value);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return W_ERROR_TEXT;
	}
	if (created)
		log_info("%s: rule %lld: always deliver %s %s, set by %s",
			 rec->recipient, id, kind, value, actor);
	free(value);
	return created ? W_ALLOW_ADDED : W_ALLOW_EXISTS;
}

enum web_text web_owner_item_post(struct web_request *req, struct store *st,
				  const struct store_record *rec,
				  const struct web_item_extra *x,
				  const char *what, unsigned int *count_r)
{
	*count_r = 0;
	if (strcmp(what, "delete") == 0)
		return web_owner_delete_one(req, st, rec->id, NULL);
	if (strcmp(what, "delete_storm") == 0)
		return web_owner_delete_storm(req, st, rec, count_r);
	if (strcmp(what, "allow_domain") == 0)
		return web_owner_allow(req, st, rec, x, "domain");
	if (strcmp(what, "allow_recipient") == 0)
		return web_owner_allow(req, st, rec, x, "recipient");
	req->status = MHD_HTTP_BAD_REQUEST;
	return W_BAD_REQUEST;
}

/* web_owner_button - a submit button named do with value and label */
static void web_owner_button(struct web_request *req, const char *value,
			     const char *cls, const char *label)
{
	web_put(req, "<button type=\"submit\" name=\"do\" value=\"");
	web_put(req, value);
	web_put(req, "\" class=\"");
	web_put(req, cls);
	web_put(req, "\">");
	web_text(req, label);
	web_put(req, "</button>");
}

void web_owner_item_more(struct web_request *req,
			 const struct store_record *rec,
			 const struct web_item_extra *x, const char *form_open)
{
	char *domain = web_owner_rule_value(x, "domain");
	char *rcpt = web_owner_rule_value(x, "recipient");
	char *label;

	web_put(req, "<h2>");
	web_text(req, T(W_MORE_ACTIONS));
	web_put(req, "</h2>\n<div class=\"card actions\">");
	web_put(req, form_open);
	if (rec->storm_id > 0)
		web_owner_button(req, "delete_storm", "alt", T(W_DELETE_STORM));
	if (domain != NULL) {
		label = web_owner_fill(T(W_ALLOW_DOMAIN), "domain", domain);
		web_owner_button(req, "allow_domain", "alt", label);
		free(label);
	}
	if (rcpt != NULL) {
		label = web_owner_fill(T(W_ALLOW_RECIPIENT), "address", rcpt);
		web_owner_button(req, "allow_recipient", "alt", label);
		free(label);
	}
	web_put(req, "</form></div>\n");
	free(domain);
	free(rcpt);
}

/* the settings page's rule list while it is written */
struct web_owner_rules {
	struct web_request *req;
	const char *form_open;
	unsigned int count;
};

/* web_owner_rule_row - one rule with its Remove button */
static int web_owner_rule_row(const struct store_allow *rule, void *context)
{
	struct web_owner_rules *rl = context;
	struct web_request *req = rl->req;
	char idbuf[32];

	snprintf(idbuf, sizeof(idbuf), "%lld", rule->id);
	web_put(req, "<li><span>");
	web_text(req, strcmp(rule->kind, "domain") == 0
		 ? T(W_ALLOW_KIND_DOMAIN) : T(W_ALLOW_KIND_RECIPIENT));
	web_put(req, " <strong class=\"rule\">");
	web_text(req, rule->value);
	web_put(req, "</strong></span>");
	web_put(req, rl->form_open);
	web_put(req, "<input type=\"hidden\" name=\"rule\" value=\"");
	web_put(req, idbuf);
	web_put(req, "\">");
	web_owner_button(req, "allow_remove", "alt", T(W_ALLOW_REMOVE));
	web_put(req, "</form></li>\n");
	rl->count++;
	return rl->count >= 200 ? -1 : 0;
}

void web_owner_rules(struct web_request *req, struct store *st,
		     const char *mailbox, const char *form_open)
{
	struct web_owner_rules rl = { .req = req, .form_open = form_open };
	const char *err;

	web_put(req, "<h2>");
	web_text(req, T(W_ALLOW_TITLE));
	web_put(req, "</h2>\n<div class=\"card\"><ul class=\"items rules\">\n");
	if (store_allow_list(st, mailbox, web_owner_rule_row, &rl, &err) < 0)
		log_warning("%s: list allow rules: %s", mailbox, err);
	web_put(req, "</ul>");
	if (rl.count == 0) {
		web_put(req, "<p class=\"muted\">");
		web_text(req, T(W_ALLOW_NONE));
		web_put(req, "</p>");
	}
	web_put(req, "</div>\n");
}

enum web_text web_owner_rule_remove(struct web_request *req, struct store *st,
				    const char *mailbox, const char *rule_text)
{
	const char *err;
	char actor[96];
	char *end;
	long long id;
	int removed = 0;

	id = rule_text ? strtoll(rule_text, &end, 10) : 0;
	if (rule_text == NULL || *end != '\0' || id <= 0 ||
	    strlen(rule_text) > 18) {
		req->status = MHD_HTTP_BAD_REQUEST;
		return W_BAD_REQUEST;
	}
	web_owner_actor(req, actor, sizeof(actor));
	if (store_begin(st, &err) < 0 ||
	    store_allow_remove(st, id, mailbox, actor, req->now, &removed,
			       &err) < 0 ||
	    store_commit(st, &err) < 0) {
		store_rollback(st);
		log_warning("%s: remove rule %lld failed: %s", mailbox, id, err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return W_ERROR_TEXT;
	}
	if (removed)
		log_info("%s: rule %lld removed by %s", mailbox, id, actor);
	return removed ? W_ALLOW_REMOVED : W_ALLOW_GONE;
}

/* the evidence codes of classify-verdict.c, classify-own.c and deliver.c */
static const struct { const char *code; enum web_text text; } web_owner_ev[] = {
	{ "not a bounce", W_EV_NOT_BOUNCE },
	{ "no our_relays configured", W_EV_NO_RELAYS },
	{ "no returned original", W_EV_NO_ORIGINAL },
	{ "original passed our relay", W_EV_PASSED_RELAY },
	{ "our Message-ID", W_EV_OUR_MSGID },
	{ "original not via our relays", W_EV_NOT_VIA_RELAYS },
	{ "original without our relays", W_EV_WITHOUT_RELAYS },
	{ "ndrguard's own digest", W_EV_OWN_DIGEST },
	{ "ndrguard's own release request", W_EV_OWN_REQUEST },
	{ "owner rule", W_EV_OWNER_RULE },
};

const char *web_owner_evidence(struct web_request *req, const char *code)
{
	for (size_t i = 0; code != NULL &&
	     i < sizeof(web_owner_ev) / sizeof(web_owner_ev[0]); i++)
		if (strcmp(code, web_owner_ev[i].code) == 0)
			return T(web_owner_ev[i].text);
	return code;
}

char *web_owner_sender(struct web_request *req, const struct web_item_extra *x)
{
	if (x->reporter == NULL)
		return xstrdup(T(W_SENDER_UNKNOWN));
	return web_owner_fill(T(W_SENDER_SYSTEM), "host", x->reporter);
}

/* web_owner_result_note - the note for an action's outcome */
void web_owner_result_note(struct web_request *req, enum web_text text,
			   unsigned int count)
{
	const char *cls = text == W_DONE_DELETED || text == W_ALLOW_ADDED ||
		text == W_ALLOW_REMOVED || text == W_STORM_DELETED ? "ok"
		: text == W_DELETE_FAILED || text == W_ERROR_TEXT ||
		text == W_BAD_REQUEST ? "err" : "warn";

	if (text == W_STORM_DELETED) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_printf(&sb, "%s: %u", T(text), count);
		web_pages_note(req, cls, strbuf_cstr(&sb));
		strbuf_free(&sb);
		return;
	}
	web_pages_note(req, cls, T(text));
}
