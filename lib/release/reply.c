/*
 * reply.c - release by reply: check the address, release, answer (reply.h)
 */
#include "autoconfig.h"
#include "reply.h"
#include "reply-address.h"
#include "reply-text.h"
#include "release.h"
#include "reinject.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"
#include "token.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define REPLY_ACTION "reply"

/* reply_subject - the token's subject: "REF mailbox", mailbox lower-cased */
static char *reply_subject(const char *ref, const char *mailbox)
{
	size_t n = strlen(ref) + 1 + strlen(mailbox) + 1;
	char *s = xmalloc(n);

	snprintf(s, n, "%s %s", ref, mailbox);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* reply_address_make - a new digest's reply address (reply.h) */
char *reply_address_make(const struct settings *set,
			 const struct token_key *key, const char *mailbox,
			 long long expires, char *ref_r, size_t ref_size)
{
	const char *ra = set->reply_address, *at;
	unsigned char r[REPLY_REF_LEN / 2];
	char ref[REPLY_REF_LEN + 1], *subject, *token, *addr;
	size_t n;

	if (ra == NULL || *ra == '\0' || (at = strchr(ra, '@')) == NULL
	    || ref_size <= REPLY_REF_LEN)
		return NULL;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;	/* no reply address rather than a guessable one */
	for (size_t i = 0; i < sizeof(r); i++)
		sprintf(ref + 2 * i, "%02x", r[i]);
	subject = reply_subject(ref, mailbox);
	token = token_make_compact(key, REPLY_ACTION, subject, expires);
	n = strlen(ra) + REPLY_REF_LEN + strlen(token) + 3;
	addr = xmalloc(n);
	snprintf(addr, n, "%.*s+%s.%s%s", (int)(at - ra), ra, ref, token, at);
	snprintf(ref_r, ref_size, "%s", ref);
	free(subject);
	free(token);
	return addr;
}

/* one item of the digest replied to */
struct reply_item {
	unsigned int number;
	long long id;
	char *orig_message_id;
	char *own_message_id;		/* read from its bytes at first need */
};

struct reply_items {
	struct reply_item *v;
	size_t count;
	unsigned int numbered;		/* the highest number shown */
};

static int reply_copy_item(const struct store_reply_item *it, void *context)
{
	struct reply_items *l = context;

	l->v = xrealloc(l->v, (l->count + 1) * sizeof(*l->v));
	l->v[l->count].number = it->number;
	l->v[l->count].id = it->quarantine_id;
	l->v[l->count].orig_message_id =
		xstrdup(it->orig_message_id ? it->orig_message_id : "");
	l->v[l->count].own_message_id = NULL;
	l->count++;
	if (it->number > l->numbered)
		l->numbered = it->number;
	return 0;
}

static void reply_items_free(struct reply_items *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->v[i].orig_message_id);
		free(l->v[i].own_message_id);
	}
	free(l->v);
}

/* the answer being written: three lists */
struct reply_answer {
	struct strbuf released, already, refused;
	unsigned int n_released, n_already, n_refused;
	const char *note;		/* a sentence instead of the lists */
};

/* reply_item_subject - the held bounce's original subject, one line */
static void reply_item_line(struct store *st, struct strbuf *out,
			    unsigned int number, long long id,
			    const char *why)
{
	struct store_record *rec = NULL;
	const char *error, *subject = "";

	if (id > 0 && store_item_get(st, id, 0, &rec, &error) == 0
	    && rec != NULL && rec->orig_subject != NULL)
		subject = rec->orig_subject;
	if (number > 0)
		strbuf_printf(out, "  %u. ", number);
	else
		strbuf_puts(out, "  (attached) ");
	for (size_t i = 0; subject[i] != '\0' && i < 120; i++)
		strbuf_putc(out, (unsigned char)subject[i] < 0x20
			    ? ' ' : subject[i]);
	if (why != NULL)
		strbuf_printf(out, "%s%s", *subject ? " - " : "", why);
	strbuf_puts(out, "\r\n");
	store_record_free(&rec);
}

/* reply_release_one - release item id, log it, put it in a list */
static int reply_release_one(const struct settings *set, struct store *st,
			     unsigned int number, long long id,
			     const char *mailbox, const char *actor,
			     long long now, struct reply_answer *a,
			     const char **error_r)
{
	struct release_result res;
	const char *why = NULL;

	memset(&res, 0, sizeof(res));
	if (strcmp(set->release_mode, "direct") != 0) {
		log_info("reply: %s: item %lld (number %u) refused: "
			 "release_mode is %s", mailbox, id, number,
			 set->release_mode);
		a->n_refused++;
		reply_item_line(st, &a->refused, number, id,
				"releases need the postmaster's approval here; "
				"ask on the release page");
		return 0;
	}
	if (release_item(st, set->reinject, id, actor, now, &res,
			 error_r) < 0) {
		log_warning("reply: %s: item %lld (number %u) not released: "
			    "%s", mailbox, id, number, *error_r);
		return -1;
	}
	switch (res.outcome) {
	case RELEASE_DONE:
		a->n_released++;
		reply_item_line(st, &a->released, number, id, NULL);
		log_info("reply: %s: item %lld (number %u) released by %s: %s",
			 mailbox, id, number, actor, res.reply);
		return 0;
	case RELEASE_ALREADY:
		a->n_already++;
		reply_item_line(st, &a->already, number, id, NULL);
		log_info("reply: %s: item %lld (number %u) already released",
			 mailbox, id, number);
		return 0;
	case RELEASE_NOT_HELD:
		why = "deleted or expired";
		break;
	case RELEASE_BUSY:
	case RELEASE_IN_DOUBT:
		why = "being released just now; look in your mailbox";
		break;
	default:
		why = "not found";
		break;
	}
	a->n_refused++;
	reply_item_line(st, &a->refused, number, id, why);
	log_info("reply: %s: item %lld (number %u) not released: %s",
		 mailbox, id, number, why);
	return 0;
}

/* reply_find_number - the item shown under number n, or NULL */
static const struct reply_item *reply_find_number(const struct reply_items *l,
						  unsigned int n)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->v[i].number == n)
			return &l->v[i];
	return NULL;
}

/* reply_item_own_id - the held message's own Message-ID, or "" */
static char *reply_item_own_id(struct store *st, long long id)
{
	struct store_record *rec = NULL;
	struct reply_request r;
	const char *error;
	char *mid = xstrdup("");

	if (store_item_get(st, id, 1, &rec, &error) == 0 && rec != NULL
	    && rec->raw != NULL
	    && reply_request_parse(rec->raw, (size_t)rec->size, &r,
				   &error) == 0) {
		free(mid);
		mid = xstrdup(r.message_id);
		reply_request_free(&r);
	}
	store_record_free(&rec);
	return mid;
}

/* reply_find_attached - the item an attached message is (or is about) */
static const struct reply_item *reply_find_attached(struct store *st,
						    struct reply_items *l,
						    const char *mid)
{
	for (size_t i = 0; i < l->count; i++) {
		struct reply_item *it = &l->v[i];

		/* each item's bytes are parsed once, however many
		   attachments the reply has */
		if (it->own_message_id == NULL)
			it->own_message_id = reply_item_own_id(st, it->id);
		if (strcmp(it->own_message_id, mid) == 0
		    || strcmp(it->orig_message_id, mid) == 0)
			return it;
	}
	return NULL;
}

/* reply_act - release what req names among the digest's items */
static int reply_act(const struct settings *set, struct store *st,
		     struct reply_items *l,
		     const struct reply_request *req, const char *mailbox,
		     const char *actor, long long now, struct reply_answer *a,
		     const char **error_r)
{
	for (size_t i = 0; i < req->number_count; i++) {
		const struct reply_item *it =
			reply_find_number(l, req->numbers[i]);
		char why[96];

		if (it == NULL) {
			snprintf(why, sizeof(why), "there is no number %u in "
				 "this digest (1 to %u)", req->numbers[i],
				 l->numbered);
			a->n_refused++;
			reply_item_line(st, &a->refused, req->numbers[i], 0,
					why);
			log_info("reply: %s: number %u refused: out of range "
				 "(1-%u)", mailbox, req->numbers[i],
				 l->numbered);
			continue;
		}
		if (reply_release_one(set, st, it->number, it->id, mailbox,
				      actor, now, a, error_r) < 0)
			return -1;
	}
	for (size_t i = 0; i < req->message_id_count; i++) {
		const struct reply_item *it =
			reply_find_attached(st, l, req->message_ids[i]);

		if (it == NULL) {
			a->n_refused++;
			reply_item_line(st, &a->refused, 0, 0, "the attached "
					"message is not one this digest lists");
			log_info("reply: %s: attached %s refused: not an item "
				 "of this digest", mailbox,
				 req->message_ids[i]);
			continue;
		}
		if (reply_release_one(set, st, it->number, it->id, mailbox,
				      actor, now, a, error_r) < 0)
			return -1;
	}
	return 0;
}

/* reply_answer_send - tell the mailbox what was done */
static int reply_answer_send(const struct settings *set, const char *mailbox,
			     const struct reply_request *req,
			     const struct reply_answer *a, long long now,
			     const char **error_r)
{
	struct strbuf msg = STRBUF_INIT;
	const char *from = set->digest_from ? set->digest_from : "postmaster";
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	unsigned char r[8];
	int ret;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0, sizeof(r));
	strbuf_printf(&msg, strchr(from, '<') ? "From: %s\r\n"
		      : "From: ndrguard <%s>\r\n", from);
	strbuf_printf(&msg, "To: <%s>\r\nSubject: Your reply to the "
		      "quarantine digest\r\nDate: %s\r\nMessage-ID: "
		      "<reply.%lld.%02x%02x%02x%02x%02x%02x%02x%02x@ndrguard>"
		      "\r\n", mailbox, date, now, r[0], r[1], r[2], r[3],
		      r[4], r[5], r[6], r[7]);
	if (req != NULL && req->message_id[0] != '\0')
		strbuf_printf(&msg, "In-Reply-To: %s\r\n", req->message_id);
	strbuf_puts(&msg, "Auto-Submitted: auto-replied\r\nX-Ndrguard: "
		    "reply-answer\r\nMIME-Version: 1.0\r\nContent-Type: "
		    "text/plain; charset=utf-8\r\n\r\n");
	if (a->note != NULL)
		strbuf_printf(&msg, "%s\r\n", a->note);
	if (a->n_released > 0)
		strbuf_printf(&msg, "Released to your mailbox:\r\n%s\r\n",
			      a->released.data);
	if (a->n_already > 0)
		strbuf_printf(&msg, "Already released before (not sent "
			      "again):\r\n%s\r\n", a->already.data);
	if (a->n_refused > 0)
		strbuf_printf(&msg, "Not released:\r\n%s\r\n",
			      a->refused.data);
	strbuf_puts(&msg, "To release more, reply to your latest digest with "
		    "the numbers of the messages, e.g. \"1, 3\".\r\n");
	ret = reinject_message(set->reinject, "", &mailbox, 1, msg.data,
			       msg.len, error_r);
	strbuf_free(&msg);
	return ret;
}

/* reply_verify - the digest rcpt names, when its token is right:
   1 valid, 0 forged (logged), 2 expired; -1 store error */
static int reply_verify(const struct settings *set,
			const struct token_key *key, struct store *st,
			const char *rcpt, long long now,
			struct store_digest *dg_r, const char **error_r)
{
	char ref[REPLY_REF_LEN + 1], token[REPLY_TOKEN_MAX + 1], *subject;
	const char *why;
	int found, expired, ok;

	memset(dg_r, 0, sizeof(*dg_r));
	if (reply_address_split(set->reply_address, rcpt, ref, token,
				&why) < 0) {
		log_warning("reply: to=<%s> refused: %s", rcpt, why);
		return 0;
	}
	if (store_digest_reply_find(st, ref, dg_r, &found, error_r) < 0) {
		free((char *)dg_r->mailbox);
		dg_r->mailbox = NULL;
		return -1;
	}
	if (!found) {
		log_warning("reply: to=<%s> refused: no digest has this "
			    "reply address", rcpt);
		return 0;
	}
	subject = reply_subject(ref, dg_r->mailbox);
	ok = token_verify_compact(key, token, REPLY_ACTION, subject, now,
				  &expired, &why);
	free(subject);
	if (ok == 0)
		return 1;
	log_warning("reply: to=<%s> (%s) refused: %s", rcpt, dg_r->mailbox,
		    why);
	if (expired)
		return 2;
	free((char *)dg_r->mailbox);
	dg_r->mailbox = NULL;
	return 0;
}

/* reply_handle - act on one reply (reply.h) */
int reply_handle(const struct settings *set, const struct token_key *key,
		 struct store *st, const char *sender, const char *rcpt,
		 const char *msg, size_t len, long long now,
		 const char **error_r)
{
	struct reply_answer a = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
				  0, 0, 0, NULL };
	struct reply_items l = { NULL, 0, 0 };
	struct reply_request req;
	struct store_digest dg;
	char actor[320];
	int v, ret = 0, parsed = 0;

	memset(&req, 0, sizeof(req));
	v = reply_verify(set, key, st, rcpt, now, &dg, error_r);
	if (v <= 0)
		return v;
	if (len <= set->message_size_limit
	    && reply_request_parse(msg, len, &req, error_r) == 0)
		parsed = 1;
	if (sender == NULL || *sender == '\0' || (parsed && req.auto_reply)) {
		log_info("reply: %s: automatic reply from <%s> ignored",
			 dg.mailbox, sender ? sender : "");
		goto out;
	}
	if (v == 2) {
		a.note = "This digest is too old: its reply address has "
			 "expired, so nothing was released.";
	} else if (!parsed) {
		a.note = len > set->message_size_limit
			? "Your reply was too large to read, so nothing was "
			  "released. Reply with only the numbers."
			: "Your reply could not be read, so nothing was "
			  "released.";
		log_info("reply: %s: %zu bytes not read: %s", dg.mailbox, len,
			 len > set->message_size_limit ? "too large"
			 : *error_r);
	} else if (req.number_count == 0 && req.message_id_count == 0) {
		a.note = "Your reply named no item numbers, so nothing was "
			 "released.";
		log_info("reply: %s: no item numbers in the reply from <%s>",
			 dg.mailbox, sender);
	} else {
		snprintf(actor, sizeof(actor), "reply from %s",
			 req.from[0] ? req.from : sender);
		if (store_digest_reply_items(st, dg.id, reply_copy_item, &l,
					     error_r) < 0
		    || reply_act(set, st, &l, &req, dg.mailbox, actor, now,
				 &a, error_r) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (reply_answer_send(set, dg.mailbox, parsed ? &req : NULL, &a, now,
			      error_r) < 0) {
		log_warning("reply: %s: the answer could not be sent: %s",
			    dg.mailbox, *error_r);
		ret = -1;
	}
out:
	reply_items_free(&l);
	if (parsed)
		reply_request_free(&req);
	strbuf_free(&a.released);
	strbuf_free(&a.already);
	strbuf_free(&a.refused);
	free((char *)dg.mailbox);
	return ret;
}
