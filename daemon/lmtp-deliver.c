/*
 * lmtp-deliver.c - one received message: a decision and a reply per recipient
 *
 * The message is classified in the session's own thread; a message that
 * may be backscatter goes to the store writer, which meters and holds it
 * in a transaction shared with whatever other connections are waiting
 * (store-writer.h); then what is not held is re-injected. Only then are
 * the replies written, one per recipient (RFC 2033 4.2):
 *
 *	held, committed			250 2.0.0 held in quarantine
 *	passed on, next hop said 250	250 2.0.0 passed on
 *	anything failed			451 4.3.0 (Postfix keeps it and retries)
 *	message too big			552 5.3.4
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

static void lmtp_deliver_env(const struct lmtp_session *s,
			     struct deliver_env *env)
{
	const struct settings *set = &s->cfg->set;

	memset(env, 0, sizeof(*env));
	env->database = set->database;
	env->busy_timeout_ms = set->busy_timeout * 1000;
	env->reinject = set->reinject;
	env->storm.threshold = set->storm_threshold;
	env->storm.window = set->storm_window;
	env->storm.cooldown = set->storm_cooldown;
	env->relays = s->cfg->relays;
	env->classify_limit = set->message_size_limit;
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

static void lmtp_deliver_too_big(struct lmtp_session *s, const char *queue_id)
{
	for (size_t i = 0; i < s->rcpt_count; i++) {
		log_warning("%s: to=<%s>, from=<%s>, status=rejected (message "
			    "larger than %u bytes)",
			    queue_id ? queue_id : "NOQUEUE", s->rcpts[i],
			    s->sender, s->cfg->set.message_size_limit);
		metrics_count(METRIC_DECISION_REJECTED);
		lmtp_session_reply(s, "552 5.3.4 <%s> Message too big for "
				   "system", s->rcpts[i]);
	}
}

void lmtp_deliver(struct lmtp_session *s)
{
	struct deliver_env env;
	struct deliver_request req = {
		.sender = s->sender,
		.recipients = (const char *const *)s->rcpts,
		.recipient_count = s->rcpt_count,
		.msg = strbuf_cstr(&s->msg),
		.len = s->msg.len,
		.now = (long long)time(NULL),
	};
	struct deliver_batch_item item = { .status = 0 };
	struct deliver_result res;
	char *parsed_id = NULL;
	const char *failure = NULL, *error;

	metrics_count(METRIC_LMTP_MESSAGES);
	req.queue_id = s->xforward_ident;
	if (req.queue_id == NULL && !s->msg_too_big)
		req.queue_id = parsed_id = lmtp_deliver_queue_id(req.msg, req.len);
	if (s->msg_too_big) {
		lmtp_deliver_too_big(s, req.queue_id);
		return;
	}
	lmtp_deliver_env(s, &env);
	if (deliver_prepare(&env, &req, &res) > 0) {
		item.env = &env;
		item.req = &req;
		item.result = &res;
		store_writer_decide(&item, s->store_announced);
		s->store_announced = 0;
		if (item.status < 0)
			failure = item.error;
	}
	if (failure == NULL && deliver_pass_on(&env, &req, &res, &error) < 0)
		failure = error;
	for (size_t i = 0; i < res.outcome_count; i++)
		lmtp_deliver_reply(s, &env, &req, &res, i, failure);
	deliver_result_free(&res);
	free(parsed_id);
}
