/*
 * deliver.c - meter, hold or pass on one message for its recipients
 */
#include "autoconfig.h"
#include "deliver.h"
#include "deliver-batv.h"
#include "deliver-outbound.h"
#include "reinject.h"
#include "reply-address.h"
#include "reporter.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* deliver_env_init - the env the settings describe (deliver.h) */
void deliver_env_init(struct deliver_env *env, const struct settings *set,
		      const struct relays *relays)
{
	memset(env, 0, sizeof(*env));
	env->database = set->database;
	env->busy_timeout_ms = settings_busy_timeout_ms(set);
	env->reinject = set->reinject;
	env->storm.threshold = set->storm_threshold;
	env->storm.window = set->storm_window;
	env->storm.cooldown = set->storm_cooldown;
	env->relays = relays;
	env->classify_limit = set->message_size_limit;
	env->dkim_required = set->dkim_required != 0;
	env->reply_address = set->reply_address;
}

/* deliver_mailbox_key - the meter's key: the address, lower-cased */
static char *deliver_mailbox_key(const char *recipient)
{
	char *key = xstrdup(recipient);

	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return key;
}

static int deliver_open_store(struct deliver_env *env, const char **error_r)
{
	struct store_options opts = {
		.busy_timeout_ms = env->busy_timeout_ms,
		.create = 1,
	};

	if (env->store != NULL)
		return 0;
	return store_open(env->database, &opts, &env->store, error_r);
}

static int deliver_hold(struct deliver_env *env,
			const struct deliver_request *req,
			const struct classify_result *cr, long long storm_id,
			struct deliver_outcome *o, const char **error_r)
{
	const struct classify_recipient *first =
		cr->recipient_count > 0 ? &cr->recipients[0] : NULL;
	/* a failing BATV tag is this recipient's own certain verdict */
	int batv = o->batv == DELIVER_BATV_HOLD;
	struct store_item item = {
		.queue_id = req->queue_id,
		.sender = req->sender,
		.recipient = o->mailbox != NULL ? o->mailbox : o->recipient,
		.arrived = req->now,
		.kind = classify_kind_name(cr->kind),
		.status = first ? first->status : NULL,
		.reason = cr->reason,
		.reporting_mta = cr->reporting_mta,
		.verdict = classify_verdict_name(batv
			? CLASSIFY_VERDICT_BACKSCATTER : cr->verdict),
		.evidence = batv ? o->batv_evidence : cr->evidence,
		.orig_subject = cr->original.subject,
		.orig_from = cr->original.from,
		.orig_message_id = cr->original.message_id,
		.storm_id = storm_id,
		.raw = req->msg,
		.size = req->len,
	};

	return store_item_add(env->store, &item, &o->item_id,
			      &o->duplicate, error_r);
}

#define DELIVER_RULE_RCPTS 8

/* deliver_owner_rule - the owner's allow rule that lets this bounce to
   key through (0: none): its reporting domain, or a bounced recipient */
static int deliver_owner_rule(struct deliver_env *env,
			      const struct deliver_request *req,
			      const struct classify_result *cr,
			      const char *key, long long *rule_r,
			      const char **error_r)
{
	char *host = reporter_host(req->msg, req->len, cr->reporting_mta);
	int ret = 0;

	*rule_r = 0;
	for (size_t i = 0; ret == 0 && *rule_r == 0 &&
	     (i == 0 || (i < cr->recipient_count && i < DELIVER_RULE_RCPTS));
	     i++) {
		char *rcpt = i < cr->recipient_count && cr->recipients[i].address
			? deliver_mailbox_key(cr->recipients[i].address) : NULL;

		ret = store_allow_match(env->store, key, host, rcpt, rule_r,
					error_r);
		free(rcpt);
	}
	free(host);
	return ret;
}

/* deliver_decide_one - meter one recipient's arrival; hold it if so */
static int deliver_decide_one(struct deliver_env *env,
			      const struct deliver_request *req,
			      const struct deliver_result *res,
			      struct deliver_outcome *o, const char **error_r)
{
	const struct classify_result *cr = res->classified;
	struct store_meter m;
	char *key;
	int ret = -1;

	/* an owner's (or an auto-responder's) answer to a digest goes to
	   ndrguard-reply, whatever it looks like */
	if (o->reply || o->batv == DELIVER_BATV_LEGIT)
		return 0;
	key = deliver_mailbox_key(o->mailbox != NULL ? o->mailbox
				  : o->recipient);

	if (deliver_owner_rule(env, req, cr, key, &o->owner_rule,
			       error_r) < 0) {
		free(key);
		return -1;
	}
	if (o->owner_rule != 0) {
		/* wanted by the owner: delivered, storm or not, not counted */
		o->action = DELIVER_PASS;
		free(key);
		return 0;
	}
	if (store_meter_arrival(env->store, key, req->queue_id, req->now,
				&env->storm, &m, error_r) == 0) {
		o->metered = 1;
		o->window_count = m.window_count;
		o->storm_started = m.started;
		/* a forged original, or a failing BATV tag, is held
		   without waiting for a storm */
		int hold = m.hold || res->forged ||
			o->batv == DELIVER_BATV_HOLD;
		o->action = hold ? DELIVER_HOLD : DELIVER_PASS;
		ret = hold ? deliver_hold(env, req, cr, m.storm_id, o,
					  error_r) : 0;
	}
	free(key);
	return ret;
}

/* deliver_decide_all - one transaction for all recipients' decisions */
static int deliver_decide_all(struct deliver_env *env,
			      const struct deliver_request *req,
			      struct deliver_result *res, const char **error_r)
{
	if (deliver_open_store(env, error_r) < 0
	    || store_begin(env->store, error_r) < 0)
		return -1;
	if (deliver_decide(env, env->store, req, res, error_r) < 0) {
		store_rollback(env->store);
		return -1;
	}
	if (store_commit(env->store, error_r) < 0) {
		store_rollback(env->store);
		return -1;
	}
	return 0;
}

int deliver_pass_on(const struct deliver_env *env,
		    const struct deliver_request *req,
		    const struct deliver_result *res, const char **error_r)
{
	const char **rcpts = xcalloc(res->outcome_count, sizeof(*rcpts));
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < res->outcome_count; i++)
		if (res->outcomes[i].action == DELIVER_PASS)
			rcpts[n++] = res->outcomes[i].mailbox != NULL
				? res->outcomes[i].mailbox
				: res->outcomes[i].recipient;
	if (n > 0)
		ret = reinject_message(env->reinject, req->sender, rcpts, n,
				       req->msg, req->len, error_r);
	free(rcpts);
	return ret;
}

static int deliver_may_be_backscatter(const struct classify_result *cr)
{
	return cr != NULL && classify_kind_is_backscatter(cr->kind)
		&& cr->verdict != CLASSIFY_VERDICT_LEGIT;
}

/* deliver_prepare_batv - each recipient's BATV tag, for a bounce; a
   failing tag holds only what is not already known to be legitimate */
static void deliver_prepare_batv(const struct deliver_env *env,
				 const struct deliver_request *req,
				 struct deliver_result *res)
{
	int legit = res->classified->verdict == CLASSIFY_VERDICT_LEGIT;

	for (size_t i = 0; i < res->outcome_count; i++) {
		struct deliver_outcome *o = &res->outcomes[i];

		deliver_batv_judge(env->batv, req->now, o);
		if (o->batv == DELIVER_BATV_HOLD && legit) {
			o->batv = DELIVER_BATV_NONE;
			o->batv_evidence = NULL;
		}
	}
}

int deliver_prepare(const struct deliver_env *env,
		    const struct deliver_request *req,
		    struct deliver_result *res)
{
	const char *error;
	size_t replies = 0;

	memset(res, 0, sizeof(*res));
	res->outcome_count = req->recipient_count;
	res->outcomes = xcalloc(req->recipient_count, sizeof(*res->outcomes));
	for (size_t i = 0; i < req->recipient_count; i++) {
		res->outcomes[i].recipient = req->recipients[i];
		res->outcomes[i].reply = reply_address_is(env->reply_address,
							  req->recipients[i]);
		replies += (size_t)res->outcomes[i].reply;
	}
	/* mail only to reply addresses is never classified */
	if (replies == req->recipient_count)
		return 0;
	/* a message classify cannot take is passed on unclassified */
	if (req->len <= env->classify_limit
	    && classify_message_from(req->msg, req->len, env->relays,
				     req->sender, &res->classified,
				     &error) < 0)
		res->classified = NULL;
	if (res->classified != NULL &&
	    classify_kind_is_backscatter(res->classified->kind)) {
		res->forged = deliver_outbound_dkim(env, res->classified);
		deliver_prepare_batv(env, req, res);
	}
	return deliver_may_be_backscatter(res->classified) ? 1 : 0;
}

int deliver_decide(const struct deliver_env *env, struct store *st,
		   const struct deliver_request *req,
		   struct deliver_result *res, const char **error_r)
{
	/* the steps below find the store in the env */
	struct deliver_env local = *env;

	local.store = st;
	/* the outbound index first: a message we sent is never held */
	int known = deliver_outbound_known(st, res->classified, error_r);
	if (known < 0)
		return -1;
	if (known > 0) {
		res->forged = 0;
		return 0;
	}
	for (size_t i = 0; i < res->outcome_count; i++)
		if (deliver_decide_one(&local, req, res, &res->outcomes[i],
				       error_r) < 0)
			return -1;
	return 0;
}

void deliver_undecide(struct deliver_result *res)
{
	for (size_t i = 0; i < res->outcome_count; i++) {
		/* what prepare found stays: the recipient, a reply address,
		   the BATV verdict */
		struct deliver_outcome *o = &res->outcomes[i];
		struct deliver_outcome kept = {
			.recipient = o->recipient,
			.reply = o->reply,
			.batv = o->batv,
			.batv_evidence = o->batv_evidence,
			.mailbox = o->mailbox,
		};

		*o = kept;
	}
}

int deliver_message(struct deliver_env *env, const struct deliver_request *req,
		    struct deliver_result *res, const char **error_r)
{
	if (deliver_prepare(env, req, res) > 0
	    && deliver_decide_all(env, req, res, error_r) < 0)
		return -1;
	return deliver_pass_on(env, req, res, error_r);
}

void deliver_result_free(struct deliver_result *res)
{
	classify_result_free(&res->classified);
	for (size_t i = 0; i < res->outcome_count; i++)
		free(res->outcomes[i].mailbox);
	free(res->outcomes);
	memset(res, 0, sizeof(*res));
}

static void deliver_format_window(unsigned int secs, struct strbuf *out)
{
	if (secs % 86400 == 0)
		strbuf_printf(out, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		strbuf_printf(out, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		strbuf_printf(out, "%um", secs / 60);
	else
		strbuf_printf(out, "%us", secs);
}

void deliver_format_log(const struct deliver_env *env,
			const struct deliver_request *req,
			const struct deliver_result *res,
			const struct deliver_outcome *o, struct strbuf *out)
{
	const struct classify_result *cr = res->classified;

	strbuf_printf(out, "%s: to=<%s>, from=<%s>, kind=%s",
		      req->queue_id ? req->queue_id : "NOQUEUE", o->recipient,
		      req->sender,
		      cr ? classify_kind_name(cr->kind) : "unclassified");
	if (cr != NULL && o->batv != DELIVER_BATV_NONE)
		/* the recipient's tag decided (deliver-batv.h) */
		strbuf_printf(out, ", verdict=%s, evidence=%s",
			      o->batv == DELIVER_BATV_LEGIT ? "legit"
			      : "backscatter", o->batv_evidence);
	else if (cr != NULL)
		strbuf_printf(out, ", verdict=%s",
			      classify_verdict_name(cr->verdict));
	/* the certain verdicts name what decided (deliver-outbound.h) */
	if (cr != NULL && o->batv == DELIVER_BATV_NONE &&
	    cr->evidence != NULL &&
	    (strcmp(cr->evidence, "outbound index") == 0 ||
	     strncmp(cr->evidence, "our DKIM", 8) == 0 ||
	     strncmp(cr->evidence, "forged:", 7) == 0))
		strbuf_printf(out, ", evidence=%s", cr->evidence);
	strbuf_printf(out, ", action=%s",
		      o->action == DELIVER_HOLD ? "quarantine" : "pass");
	if (cr == NULL && req->len > env->classify_limit)
		strbuf_printf(out, ", reason=too big to examine (%zu bytes, "
			      "message_size_limit %zu)", req->len,
			      env->classify_limit);
	if (o->mailbox != NULL && o->action == DELIVER_PASS)
		strbuf_printf(out, ", pass_to=<%s>", o->mailbox);
	if (o->metered) {
		/* the meter counts only as far as the threshold */
		strbuf_printf(out, ", storm=%u%s/", o->window_count,
			      o->window_count >= env->storm.threshold
			      ? "+" : "");
		deliver_format_window(env->storm.window, out);
	}
	if (o->reply)
		strbuf_puts(out, ", reason=reply to a digest");
	if (o->owner_rule != 0)
		strbuf_printf(out, ", evidence=owner rule %lld", o->owner_rule);
	if (o->storm_started)
		strbuf_puts(out, ", storm_started=yes");
	if (o->action == DELIVER_HOLD)
		strbuf_printf(out, ", id=%lld%s", o->item_id,
			      o->duplicate ? " (already held)" : "");
}
