/*
 * lmtp-deliver.c - one received message: a decision and a reply per recipient
 *
 * The message is classified in a decision thread (lmtp_deliver_begin);
 * a message that may be backscatter goes to the store writer, which
 * meters and holds it in a transaction shared with the other messages of
 * its batch and whatever other threads are waiting (store-writer.h);
 * then what is not held is re-injected (lmtp_deliver_end). Only then are
 * the replies written, one per recipient (RFC 2033 4.2):
 *
 *	held, committed			250 2.0.0 held in quarantine
 *	passed on, next hop said 250	250 2.0.0 passed on
 *	anything failed			451 4.3.0 (Postfix keeps it and retries)
 *
 * A message over message_size_limit is too big to examine; it was
 * spooled to a file (lmtp-session.c) and is passed on unexamined, as
 * the pipe agent does: a bounce refused with 552 would be lost.
 *
 * Each recipient gets one maillog line keyed by the Postfix queue id,
 * which comes from XFORWARD IDENT or else from the Received: header that
 * Postfix's smtpd put on top of the message.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "store-writer.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

/* lmtp_deliver_header_end - where the header section ends */
static size_t lmtp_deliver_header_end(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (msg[i] == '\n' && (i + 1 == len || msg[i + 1] == '\n'))
			return i + 1;
	return len;
}

/* lmtp_deliver_received - the first Received: field, unfolded */
static char *lmtp_deliver_received(const char *msg, size_t len)
{
	size_t end = lmtp_deliver_header_end(msg, len);

	for (size_t i = 0; i < end; ) {
		const char *nl = memchr(msg + i, '\n', end - i);
		size_t next = nl ? (size_t)(nl - msg) + 1 : end;

		if (next - i > 9 && strncasecmp(msg + i, "Received:", 9) == 0) {
			struct strbuf field = STRBUF_INIT;
			size_t j = i + 9;

			/* the field and its continuation lines */
			while (j < end) {
				const char *e = memchr(msg + j, '\n', end - j);
				size_t stop = e ? (size_t)(e - msg) : end;

				strbuf_append(&field, msg + j, stop - j);
				strbuf_putc(&field, ' ');
				j = stop + 1;
				if (j >= end || (msg[j] != ' ' && msg[j] != '\t'))
					break;
			}
			return strbuf_steal(&field);
		}
		i = next;
	}
	return NULL;
}

char *lmtp_deliver_queue_id(const char *msg, size_t len)
{
	char *field = lmtp_deliver_received(msg, len);
	const char *p, *id = NULL;
	size_t n;
	char *result = NULL;

	/* only a Received: line Postfix wrote names a Postfix queue id */
	if (field == NULL || strstr(field, "(Postfix") == NULL) {
		free(field);
		return NULL;
	}
	for (p = strstr(field, " id "); p != NULL; p = strstr(p + 1, " id "))
		id = p + 4;
	if (id != NULL) {
		while (*id == ' ')
			id++;
		n = 0;
		while (isalnum((unsigned char)id[n]))
			n++;
		if (n > 0 && n < 64)
			result = xstrndup(id, n);
	}
	free(field);
	return result;
}

/* lmtp_deliver_clean - a one-line, bounded copy of an error text */
static void lmtp_deliver_clean(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < size; in++)
		out[n++] = (*in == '\r' || *in == '\n') ? ' ' : *in;
	out[n] = '\0';
}

/* lmtp_deliver_reply - the reply and maillog line for one recipient */
static void lmtp_deliver_reply(struct lmtp_session *s,
			       const struct deliver_env *env,
			       const struct deliver_request *req,
			       const struct deliver_result *res, size_t i,
			       const char *failure)
{
	const struct deliver_outcome *o = &res->outcomes[i];
	struct strbuf line = STRBUF_INIT;
	char why[300];

	if (failure != NULL && o->action == DELIVER_HOLD)
		failure = NULL;	/* its copy is committed: a pass failed */
	if (failure == NULL || o->metered || res->classified != NULL)
		deliver_format_log(env, req, res, o, &line);
	else
		strbuf_printf(&line, "%s: to=<%s>, from=<%s>",
			      req->queue_id ? req->queue_id : "NOQUEUE",
			      o->recipient, req->sender);
	if (failure != NULL) {
		lmtp_deliver_clean(failure, why, sizeof(why));
		log_warning("%s, status=deferred (%s)", strbuf_cstr(&line), why);
		metrics_count(METRIC_DECISION_DEFERRED);
		lmtp_session_reply(s, "451 4.3.0 <%s> %s", o->recipient, why);
	} else if (o->action == DELIVER_HOLD) {
		log_info("%s", strbuf_cstr(&line));
		metrics_count(METRIC_DECISION_HELD);
		lmtp_session_reply(s, "250 2.0.0 <%s> held in quarantine as "
				   "%lld", o->recipient, o->item_id);
	} else {
		log_info("%s", strbuf_cstr(&line));
		metrics_count(METRIC_DECISION_PASSED);
		lmtp_session_reply(s, "250 2.0.0 <%s> passed on", o->recipient);
	}
	strbuf_free(&line);
}

/* lmtp_deliver_unspooled - an oversized message that could not be
   spooled or read back: 451 for each recipient, Postfix retries */
static void lmtp_deliver_unspooled(struct lmtp_session *s,
				   const char *queue_id, const char *why)
{
	for (size_t i = 0; i < s->rcpt_count; i++) {
		log_warning("%s: to=<%s>, from=<%s>, status=deferred (%s)",
			    queue_id ? queue_id : "NOQUEUE", s->rcpts[i],
			    s->sender, why);
		metrics_count(METRIC_DECISION_DEFERRED);
		lmtp_session_reply(s, "451 4.3.0 <%s> %s", s->rcpts[i], why);
	}
}

/* what one message's decision holds between its two halves */
struct lmtp_delivery {
	struct deliver_env env;
	struct deliver_request req;
	struct deliver_batch_item item;
	struct deliver_result res;
	char *parsed_id;
	int prepared;		/* res is filled in */
	const char *map;	/* an oversized message's spool, mapped */
	size_t map_len;
	const char *unspooled;	/* why it could not be had */
};

/* lmtp_deliver_begin - classify; *item_r is set when the store decides */
static struct lmtp_delivery *
lmtp_deliver_begin(struct lmtp_session *s, struct deliver_batch_item **item_r)
{
	struct lmtp_delivery *d = xcalloc(1, sizeof(*d));

	*item_r = NULL;
	metrics_count(METRIC_LMTP_MESSAGES);
	d->req.sender = s->sender;
	d->req.recipients = (const char *const *)s->rcpts;
	d->req.recipient_count = s->rcpt_count;
	d->req.msg = strbuf_cstr(&s->msg);
	d->req.len = s->msg.len;
	d->req.now = (long long)time(NULL);
	d->req.queue_id = s->xforward_ident;
	if (s->spooled || s->spool_failed) {
		/* too big to examine: it is passed on as it is (deliver.h
		   leaves a message over classify_limit unclassified) */
		d->map = lmtp_session_spool_map(s, &d->map_len, &d->unspooled);
		if (d->map == NULL)
			return d;
		d->req.msg = d->map;
		d->req.len = d->map_len;
	}
	if (d->req.queue_id == NULL)
		d->req.queue_id = d->parsed_id =
			lmtp_deliver_queue_id(d->req.msg, d->req.len);
	deliver_env_init(&d->env, &s->cfg->set, s->cfg->relays);
	d->env.dkim_keys = s->cfg->dkim_keys;
	d->env.batv = s->cfg->batv;
	d->prepared = 1;
	if (deliver_prepare(&d->env, &d->req, &d->res) > 0) {
		d->item.env = &d->env;
		d->item.req = &d->req;
		d->item.result = &d->res;
		*item_r = &d->item;
	}
	return d;
}

/* lmtp_deliver_end - re-inject what is not held, reply, free d */
static void lmtp_deliver_end(struct lmtp_session *s, struct lmtp_delivery *d)
{
	const char *failure = NULL, *error;

	if (!d->prepared) {
		lmtp_deliver_unspooled(s, d->req.queue_id, d->unspooled);
	} else {
		if (d->item.req != NULL && d->item.status < 0)
			failure = d->item.error;
		if (failure == NULL
		    && deliver_pass_on(&d->env, &d->req, &d->res, &error) < 0)
			failure = error;
		for (size_t i = 0; i < d->res.outcome_count; i++)
			lmtp_deliver_reply(s, &d->env, &d->req, &d->res, i,
					   failure);
		deliver_result_free(&d->res);
	}
	if (d->map != NULL)
		munmap((void *)d->map, d->map_len);
	free(d->parsed_id);
	free(d);
}

void lmtp_deliver_batch(struct lmtp_session *list)
{
	struct deliver_batch_item **items;
	struct lmtp_delivery **ds;
	struct lmtp_session *s;
	size_t n = 0, m = 0, i;
	unsigned int announced = 0;

	for (s = list; s != NULL; s = s->next)
		n++;
	items = xcalloc(n, sizeof(*items));
	ds = xcalloc(n, sizeof(*ds));
	for (s = list, i = 0; s != NULL; s = s->next, i++) {
		ds[i] = lmtp_deliver_begin(s, &items[m]);
		if (items[m] == NULL)
			continue;
		m++;
		announced += s->store_announced != 0;
		s->store_announced = 0;
	}
	if (m > 0)
		store_writer_decide_many(items, m, announced);
	for (s = list, i = 0; s != NULL; s = s->next, i++)
		lmtp_deliver_end(s, ds[i]);
	free(items);
	free(ds);
}
