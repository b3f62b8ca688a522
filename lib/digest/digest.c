/*
 * digest.c - the daily digest pass: who is due, what to list, send once
 *
 * This module implements digest.h. A pass first sends again the digests
 * an earlier pass left pending (their fate unknown), then, for each
 * mailbox with held messages no digest covers, decides whether a digest
 * is due, builds it from the templates, records it pending with the
 * messages it covers, hands it to the relay and records the outcome.
 * See digest.h for why this gives each held message exactly one digest.
 */
#include "autoconfig.h"
#include "digest.h"
#include "digest-mail.h"
#include "digest-private.h"
#include "classify.h"
#include "links.h"
#include "reply.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"
#include "template.h"
#include "token.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DIGEST_TOP 3			/* MTAs and subjects in the summary */
#define DIGEST_SUBJECT_CHARS 120	/* a subject as listed */
#define DIGEST_TOP_SUBJECT_CHARS 80
/* digests per SMTP session: each still has its own MAIL, RCPT, DATA and
   outcome; the session's set-up is paid once per batch */
#define DIGEST_BATCH 50

struct digest {
	const struct settings *set;
	struct digest_langs *langs;
	struct token_key *key;
	char *from;			/* digest_from's address, with a domain */
	char *from_name;		/* its display name, or NULL */
	char *domain;			/* for Message-IDs */
};

static __thread char digest_error_buf[1024];

long long digest_due_since(const char *digest_time, long long now)
{
	time_t t = (time_t)now, slot;
	struct tm tm;
	int h = 7, m = 0;

	if (digest_time != NULL)
		sscanf(digest_time, "%d:%d", &h, &m);
	localtime_r(&t, &tm);
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	slot = mktime(&tm);
	if ((long long)slot > now) {
		/* today's time is still ahead: yesterday's counts */
		localtime_r(&t, &tm);
		tm.tm_mday -= 1;
		tm.tm_hour = h;
		tm.tm_min = m;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		slot = mktime(&tm);
	}
	return (long long)slot;
}

int digest_create(const struct settings *set, struct digest **dg_r,
		  const char **error_r)
{
	struct digest *dg = xcalloc(1, sizeof(*dg));
	char host[256] = "localhost";
	const char *at;
	char *addr = NULL;

	dg->set = set;
	*dg_r = NULL;
	if (digest_langs_load(set->digest_templates, set->digest_locale,
			      &dg->langs, error_r) < 0)
		goto fail;
	if (token_key_load(set->secret_file, 1, &dg->key, error_r) < 0)
		goto fail;
	if (settings_from_split(set->digest_from ? set->digest_from
				: "postmaster", &dg->from_name, &addr,
				error_r) < 0)
		goto fail;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	at = strchr(addr, '@');
	if (at != NULL) {
		dg->from = addr;
		dg->domain = xstrdup(at + 1);
	} else {
		struct strbuf sb = STRBUF_INIT;
		strbuf_printf(&sb, "%s@%s", addr, host);
		dg->from = strbuf_steal(&sb);
		dg->domain = xstrdup(host);
		free(addr);
	}
	if (!digest_mail_address_ok(dg->from)) {
		snprintf(digest_error_buf, sizeof(digest_error_buf),
			 "digest_from: '%s' is not a plain address", dg->from);
		*error_r = digest_error_buf;
		goto fail;
	}
	*dg_r = dg;
	return 0;
fail:
	digest_destroy(&dg);
	return -1;
}

int digest_check_templates(const struct settings *set, const char **error_r)
{
	struct digest_langs *langs = NULL;

	if (digest_langs_load(set->digest_templates, set->digest_locale,
			      &langs, error_r) < 0)
		return -1;
	digest_langs_free(&langs);
	return 0;
}

void digest_destroy(struct digest **_dg)
{
	struct digest *dg = *_dg;

	if (dg == NULL)
		return;
	*_dg = NULL;
	digest_langs_free(&dg->langs);
	token_key_free(&dg->key);
	free(dg->from);
	free(dg->from_name);
	free(dg->domain);
	free(dg);
}

/* ---- what one mailbox's digest lists ---- */

struct digest_listed {
	long long id;
	long long arrived;
	char *mta, *subject, *reason, *verdict;
};

struct digest_count {
	char *text;
	unsigned int n;
};

struct digest_storm {
	long long id, started, last_seen, ended;
	unsigned int held;		/* of its messages, those listed here */
	unsigned int servers;		/* distinct reporting servers of those */
};

/* one message's storm and reporting server, for the storm lines */
struct digest_origin {
	long long storm;
	const char *mta;		/* the collect's copy */
};

struct digest_collect {
	unsigned int max_items;
	long long *ids;
	size_t count, alloc;
	struct digest_listed *listed;
	size_t listed_count;
	unsigned int by_verdict[3];	/* legit, unknown, backscatter */
	long long first, last;
	char **mtas, **subjects;	/* one per message, for the top lists */
	struct digest_origin *origins;	/* one per message */
	struct digest_storm *storms;
	size_t storm_count;
	int new_storm;
	long long since;		/* the last digest */
};

static int digest_verdict_rank(const char *verdict)
{
	if (verdict && strcmp(verdict, "legit") == 0)
		return 0;
	if (verdict && strcmp(verdict, "unknown") == 0)
		return 1;
	return 2;
}

static int digest_collect_item(const struct store_record *r, void *context)
{
	struct digest_collect *c = context;

	if (c->count == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 64;
		c->ids = xrealloc(c->ids, c->alloc * sizeof(*c->ids));
		c->mtas = xrealloc(c->mtas, c->alloc * sizeof(*c->mtas));
		c->subjects = xrealloc(c->subjects,
				       c->alloc * sizeof(*c->subjects));
		c->origins = xrealloc(c->origins,
				      c->alloc * sizeof(*c->origins));
	}
	c->ids[c->count] = r->id;
	c->mtas[c->count] = digest_mail_clean(r->reporting_mta, 100);
	c->subjects[c->count] = digest_mail_clean(r->orig_subject,
						  DIGEST_TOP_SUBJECT_CHARS);
	c->origins[c->count] = (struct digest_origin){ r->storm_id,
						       c->mtas[c->count] };
	c->count++;
	c->by_verdict[digest_verdict_rank(r->verdict)]++;
	if (c->first == 0 || r->arrived < c->first)
		c->first = r->arrived;
	if (r->arrived > c->last)
		c->last = r->arrived;
	if (c->listed_count < c->max_items) {
		struct digest_listed *l = &c->listed[c->listed_count++];
		l->id = r->id;
		l->arrived = r->arrived;
		l->mta = digest_mail_clean(r->reporting_mta, 100);
		l->subject = digest_mail_clean(r->orig_subject,
					       DIGEST_SUBJECT_CHARS);
		l->reason = xstrdup(r->reason ? r->reason : "");
		l->verdict = xstrdup(r->verdict ? r->verdict : "unknown");
	}
	return 0;
}

static int digest_collect_storm(const struct store_storm *storm,
				long long ended, void *context)
{
	struct digest_collect *c = context;
	struct digest_storm *s;

	c->storms = xrealloc(c->storms,
			     (c->storm_count + 1) * sizeof(*c->storms));
	s = &c->storms[c->storm_count++];
	memset(s, 0, sizeof(*s));
	s->id = storm->id;
	s->started = storm->started;
	s->last_seen = storm->last_seen;
	s->ended = ended;
	if (storm->started > c->since)
		c->new_storm = 1;
	return 0;
}

static void digest_collect_free(struct digest_collect *c)
{
	for (size_t i = 0; i < c->count; i++) {
		free(c->mtas[i]);
		free(c->subjects[i]);
	}
	for (size_t i = 0; i < c->listed_count; i++) {
		free(c->listed[i].mta);
		free(c->listed[i].subject);
		free(c->listed[i].reason);
		free(c->listed[i].verdict);
	}
	free(c->ids);
	free(c->mtas);
	free(c->subjects);
	free(c->origins);
	free(c->listed);
	free(c->storms);
}

static int digest_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int digest_count_cmp(const void *a, const void *b)
{
	const struct digest_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->text, y->text);
}

/* digest_top - the most frequent non-empty strings of texts (sorted in
   place) seen at least min times, as list `name` of {field, count} */
static void digest_top(struct template_data *data, const char *name,
		       const char *has, const char *field, char **texts,
		       size_t n, unsigned int min)
{
	struct digest_count *runs = xcalloc(n ? n : 1, sizeof(*runs));
	size_t nruns = 0;

	qsort(texts, n, sizeof(*texts), digest_strcmp);
	for (size_t i = 0; i < n; i++) {
		if (texts[i][0] == '\0')
			continue;
		if (nruns > 0 && strcmp(runs[nruns - 1].text, texts[i]) == 0)
			runs[nruns - 1].n++;
		else
			runs[nruns++] = (struct digest_count){ texts[i], 1 };
	}
	qsort(runs, nruns, sizeof(*runs), digest_count_cmp);
	while (nruns > 0 && runs[nruns - 1].n < min)
		nruns--;
	template_data_set_list(data, name);
	for (size_t i = 0; i < nruns && i < DIGEST_TOP; i++) {
		struct template_data *e = template_data_add(data, name);
		template_data_set(e, field, runs[i].text);
		template_data_setf(e, "count", "%u", runs[i].n);
	}
	template_data_set_bool(data, has, nruns > 0);
	free(runs);
}

/* digest_origin_cmp - by storm, then by server without case */
static int digest_origin_cmp(const void *a, const void *b)
{
	const struct digest_origin *x = a, *y = b;

	if (x->storm != y->storm)
		return x->storm < y->storm ? -1 : 1;
	return strcasecmp(x->mta, y->mta);
}

/* digest_storm_find - the collected storm with id, or NULL */
static struct digest_storm *digest_storm_find(struct digest_collect *c,
					      long long id)
{
	for (size_t i = 0; i < c->storm_count; i++)
		if (c->storms[i].id == id)
			return &c->storms[i];
	return NULL;
}

/* digest_storm_counts - per storm, its messages this digest covers and
   from how many distinct reporting servers they came (a message whose
   server is unnamed counts as one more server) */
static void digest_storm_counts(struct digest_collect *c)
{
	struct digest_storm *s;

	if (c->count == 0)
		return;
	qsort(c->origins, c->count, sizeof(*c->origins), digest_origin_cmp);
	for (size_t i = 0; i < c->count; i++) {
		if ((s = digest_storm_find(c, c->origins[i].storm)) == NULL)
			continue;
		s->held++;
		if (i == 0 || digest_origin_cmp(&c->origins[i - 1],
						&c->origins[i]) != 0)
			s->servers++;
	}
}

/* digest_format_time - t as the owner reads it, with its zone: every
   time in the digest says which clock it is on */
static void digest_format_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M %Z", &tm);
}

/* digest_bounced_to - whom the listed message bounced for, from its
   bytes (the store keeps only the mailbox it was held for) */
static char *digest_bounced_to(struct store *st, long long id)
{
	struct store_record *rec = NULL;
	struct classify_result *cr = NULL;
	const char *error;
	char *to = NULL;

	if (store_item_get(st, id, 1, &rec, &error) < 0 || rec == NULL
	    || rec->raw == NULL || rec->size == 0)
		goto out;
	if (classify_message(rec->raw, (size_t)rec->size, NULL, &cr,
			     &error) < 0)
		goto out;
	if (cr->recipient_count > 0 && cr->recipients[0].address)
		to = digest_mail_clean(cr->recipients[0].address, 100);
	else if (cr->original.to)
		to = digest_mail_clean(cr->original.to, 100);
out:
	classify_result_free(&cr);
	store_record_free(&rec);
	return to ? to : xstrdup("");
}

/* digest_model_storms - one line per storm: when it began and ended,
   how many it held here, from how many servers */
static void digest_model_storms(struct template_data *d,
				struct digest_collect *c)
{
	char when[64];

	digest_storm_counts(c);
	template_data_set_list(d, "storms");
	for (size_t i = 0; i < c->storm_count; i++) {
		const struct digest_storm *st = &c->storms[i];
		struct template_data *s;

		if (st->held == 0)
			continue;
		s = template_data_add(d, "storms");
		digest_format_time(st->started, when, sizeof(when));
		template_data_set(s, "began", when);
		digest_format_time(st->last_seen, when, sizeof(when));
		template_data_set(s, "ended", when);
		template_data_setf(s, "held", "%u", st->held);
		template_data_setf(s, "servers", "%u", st->servers);
		template_data_set_bool(s, "open", st->ended == 0);
	}
	template_data_set_bool(d, "has_storms", c->storm_count > 0);
}

/* digest_model - the template data for one mailbox's digest */
static struct template_data *
digest_model(struct digest *dg, struct store *st, const char *mailbox,
	     const struct digest_lang *lang, struct digest_collect *c,
	     const char *reply_to, long long now)
{
	static const char *const lists[] = {
		"legit_items", "unknown_items", "backscatter_items" };
	static const char *const flags[] = { "legit", "unknown", "backscatter" };
	const struct settings *set = dg->set;
	struct template_data *d = template_data_create();
	long long expires = now + (long long)set->quarantine_days * 86400;
	unsigned int listed[3] = { 0, 0, 0 };
	char when[64];
	char *url;

	template_data_set(d, "mailbox", mailbox);
	template_data_set(d, "lang", lang->name);
	template_data_setf(d, "total", "%zu", c->count);
	template_data_setf(d, "keep_days", "%u", set->quarantine_days);
	digest_format_time(c->first, when, sizeof(when));
	template_data_set(d, "first_time", when);
	digest_format_time(c->last, when, sizeof(when));
	template_data_set(d, "last_time", when);
	{
		char first[64];
		digest_format_time(c->first, first, sizeof(first));
		template_data_set_bool(d, "same_time", strcmp(first, when) == 0);
	}
	/* "may be real": not known to be backscatter */
	if (c->by_verdict[0] + c->by_verdict[1] > 0)
		template_data_setf(d, "legit_count", "%u",
				   c->by_verdict[0] + c->by_verdict[1]);
	template_data_set_bool(d, "forged", c->by_verdict[2] > 0
			       || c->storm_count > 0);
	digest_model_storms(d, c);
	digest_top(d, "top_mtas", "has_top_mtas", "name", c->mtas, c->count,
		   1);
	/* a subject seen once says nothing about the spam run */
	digest_top(d, "top_subjects", "has_top_subjects", "subject",
		   c->subjects, c->count, 2);
	for (int v = 0; v < 3; v++)
		template_data_set_list(d, lists[v]);
	for (size_t i = 0; i < c->listed_count; i++) {
		const struct digest_listed *l = &c->listed[i];
		int v = digest_verdict_rank(l->verdict);
		struct template_data *e = template_data_add(d, lists[v]);
		char *to = digest_bounced_to(st, l->id);

		listed[v]++;
		/* the number an owner may reply with (reply-text.h) */
		template_data_setf(e, "number", "%zu", i + 1);
		digest_format_time(l->arrived, when, sizeof(when));
		template_data_set(e, "time", when);
		template_data_set(e, "mta", l->mta);
		template_data_set(e, "subject", l->subject);
		template_data_set(e, "recipient", to);
		template_data_set(e, "reason",
				  digest_lang_reason(lang, l->reason));
		url = links_item(set->base_url, dg->key, l->id, expires);
		template_data_set(e, "release_url", url);
		free(url);
		free(to);
	}
	for (int v = 0; v < 3; v++)
		template_data_set_bool(d, flags[v], listed[v] > 0);
	template_data_setf(d, "shown", "%zu", c->listed_count);
	template_data_set_bool(d, "reply", reply_to != NULL);
	if (reply_to != NULL)
		template_data_set(d, "reply_to", reply_to);
	if (c->count > c->listed_count)
		template_data_setf(d, "more", "%zu",
				   c->count - c->listed_count);
	url = links_mailbox(set->base_url, dg->key, mailbox, expires);
	template_data_set(d, "mailbox_url", url);
	free(url);
	url = links_settings(set->base_url, dg->key, mailbox, expires);
	template_data_set(d, "settings_url", url);
	free(url);
	return d;
}

static void digest_random_hex(char *buf, size_t bytes)
{
	unsigned char r[16];

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (getrandom(r, bytes, 0) != (ssize_t)bytes) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < bytes; i++)
			r[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8))
					       ^ (getpid() >> (i % 2 * 8)) ^ i);
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(buf + 2 * i, "%02x", r[i]);
}

/* digest_build - render and compose; message_id_r gets the Message-ID */
static char *digest_build(struct digest *dg, const struct digest_lang *lang,
			  const struct template_data *d, const char *mailbox,
			  const char *reply_to, long long now, long long expires,
			  char *message_id_r, size_t mid_size)
{
	struct strbuf subject = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf html = STRBUF_INIT, out = STRBUF_INIT;
	char date[64], rnd[33], boundary[64];
	char *unsub = links_unsubscribe(dg->set->base_url, dg->key, mailbox,
					expires);
	struct digest_mail m;

	template_render_lang(dg->langs->subject, d, lang->messages, &subject);
	template_render_lang(dg->langs->text, d, lang->messages, &text);
	template_render_lang(dg->langs->html, d, lang->messages, &html);
	digest_mail_date(now, date, sizeof(date));
	digest_random_hex(rnd, 12);
	snprintf(message_id_r, mid_size, "<digest.%lld.%s@%s>", now, rnd,
		 dg->domain);
	digest_random_hex(rnd, 8);
	snprintf(boundary, sizeof(boundary), "=_ndrguard_%s", rnd);
	/* the subject file is one line; a trailing newline is not data */
	while (subject.len > 0 && (subject.data[subject.len - 1] == '\n'
				   || subject.data[subject.len - 1] == '\r'))
		subject.data[--subject.len] = '\0';
	m = (struct digest_mail){
		.date = date, .from = dg->from, .from_name = dg->from_name,
		.to = mailbox,
		.subject = strbuf_cstr(&subject), .message_id = message_id_r,
		.language = lang->name, .unsubscribe_url = unsub,
		.reply_to = reply_to,
		.boundary = boundary, .text = strbuf_cstr(&text),
		.html = strbuf_cstr(&html),
	};
	digest_mail_compose(&m, &out);
	free(unsub);
	strbuf_free(&subject);
	strbuf_free(&text);
	strbuf_free(&html);
	return strbuf_steal(&out);
}

/* ---- one pass ---- */

/* a digest built and waiting for its batch to go out */
struct digest_outgoing {
	char *mailbox;
	char message_id[300];
	char *message;
	long long *ids;			/* the messages it covers */
	size_t count;
	size_t numbered;		/* the first ones, listed 1, 2, ... */
	char reply_ref[16];		/* in its Reply-To, or "" */
	long long id;			/* its row, once recorded; 0: not */
	size_t msg;			/* its place in the SMTP batch */
};

struct digest_pass {
	struct digest_outgoing out[DIGEST_BATCH];
	size_t out_count;
	struct digest *dg;
	struct store *st;
	const struct digest_options *opts;
	struct digest_stats *stats;
	long long now;
	char **busy;			/* mailboxes with a pending digest */
	size_t busy_count;
};

static void digest_report(struct digest_pass *p, enum digest_event_type type,
			  const char *mailbox, const char *message_id,
			  unsigned int items, const char *detail,
			  const char *message, size_t size)
{
	struct digest_event ev = {
		.type = type, .mailbox = mailbox, .message_id = message_id,
		.items = items, .detail = detail, .message = message,
		.size = size,
	};

	if (p->opts->report != NULL)
		p->opts->report(&ev, p->opts->context);
}

static int digest_is_busy(const struct digest_pass *p, const char *mailbox)
{
	for (size_t i = 0; i < p->busy_count; i++)
		if (strcasecmp(p->busy[i], mailbox) == 0)
			return 1;
	return 0;
}

struct digest_pending_copy {
	long long id;
	char *mailbox, *message_id, *message;
	unsigned int items;
};

struct digest_pending_list {
	struct digest_pending_copy *v;
	size_t count;
};

static int digest_copy_pending(const struct store_digest *sd, void *context)
{
	struct digest_pending_list *l = context;
	struct digest_pending_copy *c;

	l->v = xrealloc(l->v, (l->count + 1) * sizeof(*l->v));
	c = &l->v[l->count++];
	c->id = sd->id;
	c->mailbox = xstrdup(sd->mailbox ? sd->mailbox : "");
	c->message_id = xstrdup(sd->message_id ? sd->message_id : "");
	c->message = xstrndup(sd->message ? sd->message : "", sd->size);
	c->items = sd->item_count;
	return 0;
}

/*
 * digest_resend_pending - digests an earlier pass recorded but never saw
 * accepted: send the same bytes again (see digest.h, EXACTLY ONCE)
 */
static void digest_resend_pending(struct digest_pass *p)
{
	struct digest_pending_list l = { NULL, 0 };
	const struct settings *set = p->dg->set;
	const char *error;
	char reply[512];

	if (store_digest_pending(p->st, p->opts->mailbox,
				 digest_copy_pending, &l, &error) < 0) {
		p->stats->errors++;
		digest_report(p, DIGEST_EVENT_ERROR, p->opts->mailbox
			      ? p->opts->mailbox : "*", NULL, 0, error, NULL, 0);
		return;
	}
	for (size_t i = 0; i < l.count; i++) {
		struct digest_pending_copy *c = &l.v[i];
		enum digest_smtp_result r;

		p->busy = xrealloc(p->busy, (p->busy_count + 1) * sizeof(char *));
		p->busy[p->busy_count++] = xstrdup(c->mailbox);
		if (p->opts->dry_run) {
			digest_report(p, DIGEST_EVENT_SKIPPED, c->mailbox,
				      c->message_id, c->items,
				      "a pending digest waits to be sent again",
				      NULL, 0);
			continue;
		}
		r = digest_smtp_send(set->digest_relay, set->digest_timeout,
				     p->dg->from, c->mailbox, c->message,
				     reply, sizeof(reply));
		if (r == DIGEST_SMTP_SENT) {
			if (p->opts->accepted)
				p->opts->accepted(c->message_id,
						  p->opts->context);
			if (store_digest_sent(p->st, c->id, p->now,
					      &error) < 0) {
				p->stats->errors++;
				digest_report(p, DIGEST_EVENT_ERROR, c->mailbox,
					      c->message_id, c->items, error,
					      NULL, 0);
				continue;
			}
			p->stats->resent++;
			p->stats->items += c->items;
			p->stats->bytes += strlen(c->message);
			digest_report(p, DIGEST_EVENT_RESENT, c->mailbox,
				      c->message_id, c->items, reply, NULL, 0);
		} else {
			store_digest_attempted(p->st, c->id, &error);
			p->stats->deferred++;
			digest_report(p, r == DIGEST_SMTP_UNKNOWN
				      ? DIGEST_EVENT_UNKNOWN
				      : DIGEST_EVENT_DEFERRED, c->mailbox,
				      c->message_id, c->items, reply, NULL, 0);
		}
	}
	for (size_t i = 0; i < l.count; i++) {
		free(l.v[i].mailbox);
		free(l.v[i].message_id);
		free(l.v[i].message);
	}
	free(l.v);
}

/* digest_record_one - one digest and the messages it covers, in one
   transaction of its own */
static int digest_record_one(struct digest_pass *p,
			     struct digest_outgoing *o, const char **error_r)
{
	struct store_digest sd = {
		.mailbox = o->mailbox, .message_id = o->message_id,
		.created = p->now, .message = o->message,
		.size = strlen(o->message),
		.reply_ref = o->reply_ref[0] ? o->reply_ref : NULL,
		.numbered = (unsigned int)o->numbered,
	};

	if (store_begin(p->st, error_r) < 0)
		return -1;
	if (store_digest_add(p->st, &sd, o->ids, o->count, &o->id,
			     error_r) < 0
	    || store_commit(p->st, error_r) < 0) {
		store_rollback(p->st);
		o->id = 0;
		return -1;
	}
	return 0;
}

/*
 * digest_record_batch - record every digest of the batch pending, with
 * the messages each covers: one transaction for all, or, when that fails
 * (another run covered a message meanwhile), one each, so that only the
 * digest in conflict is left out
 */
static void digest_record_batch(struct digest_pass *p)
{
	const char *error;
	size_t i;

	if (store_begin(p->st, &error) == 0) {
		for (i = 0; i < p->out_count; i++) {
			struct digest_outgoing *o = &p->out[i];
			struct store_digest sd = {
				.mailbox = o->mailbox,
				.message_id = o->message_id,
				.created = p->now, .message = o->message,
				.size = strlen(o->message),
				.reply_ref = o->reply_ref[0]
					? o->reply_ref : NULL,
				.numbered = (unsigned int)o->numbered,
			};
			if (store_digest_add(p->st, &sd, o->ids, o->count,
					     &o->id, &error) < 0)
				break;
		}
		if (i == p->out_count && store_commit(p->st, &error) == 0)
			return;
		store_rollback(p->st);
	}
	for (i = 0; i < p->out_count; i++) {
		struct digest_outgoing *o = &p->out[i];
		if (digest_record_one(p, o, &error) < 0) {
			p->stats->errors++;
			digest_report(p, DIGEST_EVENT_ERROR, o->mailbox,
				      o->message_id, (unsigned int)o->count,
				      error, NULL, 0);
		}
	}
}

/*
 * digest_flush - record the batch pending, send it in one SMTP session,
 * then record what the relay said about each digest
 */
static void digest_flush(struct digest_pass *p)
{
	const struct settings *set = p->dg->set;
	struct digest_smtp_msg *msgs;
	const char *error;
	size_t n = 0, sent = 0;

	if (p->out_count == 0)
		return;
	digest_record_batch(p);
	msgs = xcalloc(p->out_count, sizeof(*msgs));
	for (size_t i = 0; i < p->out_count; i++) {
		if (p->out[i].id == 0)
			continue;
		msgs[n].to = p->out[i].mailbox;
		msgs[n].message = p->out[i].message;
		p->out[i].msg = n++;
	}
	digest_smtp_send_batch(set->digest_relay, set->digest_timeout,
			       p->dg->from, msgs, n);
	/* the accepted ones become "sent" in one commit; should it fail,
	   they stay pending and the next pass sends the same bytes again
	   rather than lose them */
	for (size_t i = 0; i < p->out_count; i++) {
		struct digest_outgoing *o = &p->out[i];
		if (o->id != 0 && msgs[o->msg].result == DIGEST_SMTP_SENT
		    && p->opts->accepted)
			p->opts->accepted(o->message_id, p->opts->context);
	}
	int in_txn = store_begin(p->st, &error) == 0;
	for (size_t i = 0; in_txn && i < p->out_count; i++) {
		struct digest_outgoing *o = &p->out[i];
		if (o->id != 0 && msgs[o->msg].result == DIGEST_SMTP_SENT) {
			if (store_digest_sent(p->st, o->id, p->now,
					      &error) < 0)
				in_txn = 0;
			sent++;
		}
	}
	if (in_txn && sent > 0 && store_commit(p->st, &error) < 0)
		in_txn = 0;
	if (!in_txn || sent == 0)
		store_rollback(p->st);
	for (size_t i = 0; i < p->out_count; i++) {
		struct digest_outgoing *o = &p->out[i];
		struct digest_smtp_msg *m = &msgs[o->msg];
		unsigned int items = (unsigned int)o->count;

		if (o->id == 0)
			continue;
		switch (m->result) {
		case DIGEST_SMTP_SENT:
			if (!in_txn) {
				p->stats->errors++;
				digest_report(p, DIGEST_EVENT_ERROR, o->mailbox,
					      o->message_id, items, error,
					      NULL, 0);
				break;
			}
			p->stats->sent++;
			p->stats->items += items;
			p->stats->bytes += strlen(o->message);
			digest_report(p, DIGEST_EVENT_SENT, o->mailbox,
				      o->message_id, items, m->reply, NULL, 0);
			break;
		case DIGEST_SMTP_REFUSED:
			/* the relay cannot have it: uncover its messages */
			if (store_digest_drop(p->st, o->id, &error) < 0) {
				p->stats->errors++;
				digest_report(p, DIGEST_EVENT_ERROR, o->mailbox,
					      o->message_id, items, error,
					      NULL, 0);
			}
			p->stats->deferred++;
			digest_report(p, DIGEST_EVENT_DEFERRED, o->mailbox,
				      o->message_id, items, m->reply, NULL, 0);
			break;
		case DIGEST_SMTP_UNKNOWN:
			store_digest_attempted(p->st, o->id, &error);
			p->stats->deferred++;
			digest_report(p, DIGEST_EVENT_UNKNOWN, o->mailbox,
				      o->message_id, items, m->reply, NULL, 0);
			break;
		}
	}
	free(msgs);
	for (size_t i = 0; i < p->out_count; i++) {
		free(p->out[i].mailbox);
		free(p->out[i].message);
		free(p->out[i].ids);
	}
	p->out_count = 0;
}

/* digest_queue - add a built digest to the batch; takes message and
   the collected ids */
static void digest_queue(struct digest_pass *p, const char *mailbox,
			 const char *message_id, char *message,
			 struct digest_collect *c, const char *reply_ref)
{
	struct digest_outgoing *o = &p->out[p->out_count++];

	memset(o, 0, sizeof(*o));
	o->mailbox = xstrdup(mailbox);
	snprintf(o->message_id, sizeof(o->message_id), "%s", message_id);
	o->message = message;
	o->ids = c->ids;
	o->count = c->count;
	o->numbered = c->listed_count;
	snprintf(o->reply_ref, sizeof(o->reply_ref), "%s", reply_ref);
	c->ids = NULL;
	if (p->out_count == DIGEST_BATCH)
		digest_flush(p);
}

static void digest_one_mailbox(struct digest_pass *p, const char *mailbox)
{
	struct digest *dg = p->dg;
	const struct settings *set = dg->set;
	struct store *st = p->st;
	struct store_pref pref;
	struct digest_collect c;
	const struct digest_lang *lang;
	struct template_data *d;
	const char *error;
	char message_id[300], detail[200], own_time[6], reply_ref[16] = "";
	const char *when;
	long long last = 0, slot, expires;
	char *message, *reply_to;

	memset(&c, 0, sizeof(c));
	if (!digest_mail_address_ok(mailbox)) {
		/* a permanent condition, not a failure to retry */
		p->stats->skipped++;
		digest_report(p, DIGEST_EVENT_SKIPPED, mailbox, NULL, 0,
			      "not an address a digest can go to", NULL, 0);
		return;
	}
	if (store_pref_get(st, mailbox, &pref, &error) < 0
	    || store_digest_time_get(st, mailbox, own_time, &error) < 0
	    || store_digest_last_sent(st, mailbox, &last, &error) < 0)
		goto fail;
	when = own_time[0] != '\0' ? own_time : set->digest_time;
	if (strcmp(pref.digest, "never") == 0) {
		p->stats->skipped++;
		digest_report(p, DIGEST_EVENT_SKIPPED, mailbox, NULL, 0,
			      "the owner chose no digests", NULL, 0);
		return;
	}
	c.max_items = set->digest_max_items;
	c.listed = xcalloc(c.max_items, sizeof(*c.listed));
	c.since = last;
	if (store_digest_storms(st, mailbox, LLONG_MAX, digest_collect_storm,
				&c, &error) < 0
	    || store_digest_items(st, mailbox, digest_collect_item, &c,
				  &error) < 0)
		goto fail;
	if (c.count == 0)
		goto out;
	/* a digest at digest_time lists what arrived before it, once a
	   day: due when the last digest is older than the latest such
	   time and something waiting arrived before it */
	slot = digest_due_since(when, p->now);
	if (!p->opts->now && (last >= slot || c.first >= slot)) {
		p->stats->skipped++;
		snprintf(detail, sizeof(detail), "not due before the next %s",
			 when);
		digest_report(p, DIGEST_EVENT_SKIPPED, mailbox, NULL,
			      (unsigned int)c.count, detail, NULL, 0);
		goto out;
	}
	if (strcmp(pref.digest, "storms") == 0 && !c.new_storm) {
		p->stats->skipped++;
		digest_report(p, DIGEST_EVENT_SKIPPED, mailbox, NULL,
			      (unsigned int)c.count,
			      "storms only, and no storm began since the last"
			      " digest", NULL, 0);
		goto out;
	}
	lang = digest_lang_find(dg->langs, pref.lang);
	if (lang == NULL)
		lang = digest_lang_find(dg->langs, set->digest_locale);
	expires = p->now + (long long)set->quarantine_days * 86400;
	reply_to = reply_address_make(set, dg->key, mailbox, expires,
				      reply_ref, sizeof(reply_ref));
	d = digest_model(dg, st, mailbox, lang, &c, reply_to, p->now);
	message = digest_build(dg, lang, d, mailbox, reply_to, p->now,
			       expires, message_id, sizeof(message_id));
	free(reply_to);
	template_data_free(&d);
	if (p->opts->dry_run) {
		digest_report(p, DIGEST_EVENT_DRY_RUN, mailbox, message_id,
			      (unsigned int)c.count, NULL, message,
			      strlen(message));
		free(message);
	} else {
		digest_queue(p, mailbox, message_id, message, &c,
			     reply_ref);
	}
	goto out;
fail:
	p->stats->errors++;
	digest_report(p, DIGEST_EVENT_ERROR, mailbox, NULL, 0, error, NULL, 0);
out:
	digest_collect_free(&c);
}

struct digest_mailboxes {
	char **v;
	size_t count;
};

static int digest_copy_mailbox(const char *mailbox, unsigned int count,
			       void *context)
{
	struct digest_mailboxes *m = context;

	m->v = xrealloc(m->v, (m->count + 1) * sizeof(*m->v));
	m->v[m->count++] = xstrdup(mailbox);
	return 0;
}

int digest_run(struct digest *dg, long long now,
	       const struct digest_options *opts, struct digest_stats *stats,
	       const char **error_r)
{
	const struct settings *set = dg->set;
	/* never create the database: made here, by root from cron, it
	   would be one the pipe agents cannot write */
	struct store_options so = {
		.busy_timeout_ms = settings_busy_timeout_ms(set), .create = 0,
	};
	struct digest_pass p = {
		.dg = dg, .opts = opts, .stats = stats, .now = now,
	};
	struct digest_mailboxes m = { NULL, 0 };
	int locked;

	memset(stats, 0, sizeof(*stats));
	if (!store_exists(set->database))
		return 0;		/* nothing was ever held */
	if (store_open(set->database, &so, &p.st, error_r) < 0)
		return -1;
	/* one pass at a time over the store, from cron, ndrguardd or any
	   host: with the lock every pending digest it sees is one a crash
	   left, never one another live pass is sending */
	locked = store_digest_lock(p.st, error_r);
	if (locked <= 0) {
		store_close(&p.st);
		if (locked < 0)
			return -1;
		stats->skipped++;
		digest_report(&p, DIGEST_EVENT_SKIPPED, "*", NULL, 0,
			      "another digest run is in progress", NULL, 0);
		return 0;
	}
	digest_resend_pending(&p);
	if (store_digest_mailboxes(p.st, opts->mailbox, digest_copy_mailbox,
				   &m, error_r) < 0) {
		store_digest_unlock(p.st);
		store_close(&p.st);
		return -1;
	}
	stats->mailboxes = (unsigned int)m.count;
	for (size_t i = 0; i < m.count; i++) {
		if (digest_is_busy(&p, m.v[i])) {
			stats->skipped++;
			digest_report(&p, DIGEST_EVENT_SKIPPED, m.v[i], NULL, 0,
				      "its pending digest goes first", NULL, 0);
		} else {
			digest_one_mailbox(&p, m.v[i]);
		}
		free(m.v[i]);
	}
	digest_flush(&p);
	free(m.v);
	for (size_t i = 0; i < p.busy_count; i++)
		free(p.busy[i]);
	free(p.busy);
	store_digest_unlock(p.st);
	store_close(&p.st);
	return 0;
}

int digest_run_once(const struct settings *set, long long now,
		    const struct digest_options *opts,
		    struct digest_stats *stats, const char **error_r)
{
	struct digest *dg;
	int ret;

	if (digest_create(set, &dg, error_r) < 0)
		return -1;
	ret = digest_run(dg, now, opts, stats, error_r);
	digest_destroy(&dg);
	return ret;
}

int digest_time_valid(const char *hhmm)
{
	return hhmm != NULL && strlen(hhmm) == 5 && hhmm[2] == ':'
		&& hhmm[0] >= '0' && hhmm[0] <= '2'
		&& hhmm[1] >= '0' && hhmm[1] <= '9'
		&& hhmm[3] >= '0' && hhmm[3] <= '5'
		&& hhmm[4] >= '0' && hhmm[4] <= '9'
		&& strcmp(hhmm, "24:00") < 0;
}

int digest_set_time(const struct settings *set, const char *mailbox,
		    const char *hhmm, long long now, const char **error_r)
{
	struct store_options so = {
		.busy_timeout_ms = settings_busy_timeout_ms(set), .create = 0,
	};
	struct store *st;
	int ret;

	if (hhmm != NULL && !digest_time_valid(hhmm)) {
		*error_r = "expected HH:MM (00:00 to 23:59)";
		return -1;
	}
	if (store_open(set->database, &so, &st, error_r) < 0)
		return -1;
	ret = store_digest_time_set(st, mailbox, hhmm, now, error_r);
	store_close(&st);
	return ret;
}
