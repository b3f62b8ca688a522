/*
 * release.c - claim a held message, re-inject it, record that it was
 * released (the steps and their reasons are in release.h)
 */
#include "autoconfig.h"
#include "release.h"
#include "reinject.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RELEASE_ACTIVE_MAX 64
#define RELEASE_TAKE_TRIES 3
#define RELEASE_DROP_TRIES 3

/* the claims this process is working on, so that a claim of this very
   process whose attempt has ended is known to be stale */
static pthread_mutex_t release_active_lock = PTHREAD_MUTEX_INITIALIZER;
static char release_active[RELEASE_ACTIVE_MAX][128];

/* release_active_set - note (on) or forget (off) owner as working */
static void release_active_set(const char *owner, int on)
{
	pthread_mutex_lock(&release_active_lock);
	for (int i = 0; i < RELEASE_ACTIVE_MAX; i++) {
		char *slot = release_active[i];

		if (on && slot[0] == '\0') {
			snprintf(slot, sizeof(release_active[i]), "%s", owner);
			break;
		}
		if (!on && strcmp(slot, owner) == 0) {
			slot[0] = '\0';
			break;
		}
	}
	pthread_mutex_unlock(&release_active_lock);
}

/* release_active_has - is owner an attempt of this process still going?
   (a full table answers yes: a claim is then left to its lease) */
static int release_active_has(const char *owner)
{
	int found = 0, used = 0;

	pthread_mutex_lock(&release_active_lock);
	for (int i = 0; i < RELEASE_ACTIVE_MAX; i++) {
		used += release_active[i][0] != '\0';
		found |= strcmp(release_active[i], owner) == 0;
	}
	pthread_mutex_unlock(&release_active_lock);
	return found || used == RELEASE_ACTIVE_MAX;
}

/* release_owner_make - "host:pid:random" for one attempt */
static void release_owner_make(char *buf, size_t size)
{
	char host[64] = "localhost";
	unsigned int r[2] = { 0, 0 };

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		r[0] = (unsigned int)time(NULL);
		r[1] = (unsigned int)clock();
	}
	snprintf(buf, size, "%s:%ld:%08x%08x", host, (long)getpid(), r[0],
		 r[1]);
}

/* release_owner_gone - is owner (host:pid:random) certainly not
   working any more? Only answerable on its own host. */
static int release_owner_gone(const char *owner)
{
	char host[64] = "localhost", *end;
	const char *rnd = strrchr(owner, ':'), *pid_at;
	long pid;

	if (rnd == NULL)
		return 0;
	for (pid_at = rnd; pid_at > owner && pid_at[-1] != ':'; pid_at--)
		;
	if (pid_at == owner)
		return 0;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if ((size_t)(pid_at - 1 - owner) != strlen(host)
	    || strncmp(owner, host, strlen(host)) != 0)
		return 0;
	pid = strtol(pid_at, &end, 10);
	if (end != rnd || pid <= 0)
		return 0;
	if (pid == (long)getpid())
		return !release_active_has(owner);
	/* EPERM: it exists, under another user */
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int release_claim_stale(const struct store_claim *c, long long now)
{
	return c->lease <= now || release_owner_gone(c->owner);
}

/* release_message_id - the stored message's own Message-ID header (the
   copy that goes out carries it), "" when it has none */
static void release_message_id(const char *raw, long long size, char *buf,
			       size_t bufsize)
{
	const char *p = raw, *end = raw + (size > 0 ? size : 0);

	buf[0] = '\0';
	while (p != NULL && p < end && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
			const char *v = p + 11;
			while (v < p + len && (*v == ' ' || *v == '\t'))
				v++;
			len -= (size_t)(v - p);
			while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == ' '))
				len--;
			snprintf(buf, bufsize, "%.*s", (int)len, v);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

static void release_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* release_take - claim rec (held) or take over prev_owner's claim, in
   one transaction */
static int release_take(struct store *st, long long id, const char *owner,
			const char *actor, long long now,
			const char *prev_owner, int force, int *taken_r,
			const char **error_r)
{
	struct store_claim c = { .quarantine_id = id, .claimed = now,
				 .lease = now + RELEASE_LEASE };

	release_copy(c.owner, sizeof(c.owner), owner);
	release_copy(c.actor, sizeof(c.actor), actor);
	if (store_begin(st, error_r) < 0)
		return -1;
	if (store_claim_take(st, &c, prev_owner, force, taken_r,
			     error_r) < 0 || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* release_finish - releasing -> released with the audit line, and the
   hop's answer into the claim first when reply is given */
static int release_finish(struct store *st, long long id, const char *owner,
			  const char *reply, const char *actor, long long now,
			  const char **error_r)
{
	int changed;

	if (store_begin(st, error_r) < 0)
		return -1;
	if ((reply != NULL && store_claim_update(st, id, owner, 0, reply,
						 &changed, error_r) < 0)
	    || store_item_set_state(st, id, "releasing", "released", actor,
				    now, &changed, error_r) < 0
	    || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* release_save_reply - the hop's answer into owner's claim, alone: once
   it is there the item counts as released whatever happens next */
static int release_save_reply(struct store *st, long long id,
			      const char *owner, const char *reply,
			      const char **error_r)
{
	int changed;

	if (store_begin(st, error_r) < 0)
		return -1;
	if (store_claim_update(st, id, owner, 0, reply, &changed,
			       error_r) < 0 || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

/* release_record - after the hop took it: answer, then state, retried;
   res->unrecorded when it could not be done */
static void release_record(struct store *st, long long id, const char *owner,
			   const char *actor, struct release_result *res)
{
	const char *err;
	int saved = 0;

	for (int i = 0; i < RELEASE_RECORD_TRIES; i++) {
		if (i > 0)
			sleep(1);
		if (!saved && release_save_reply(st, id, owner, res->reply,
						 &err) == 0)
			saved = 1;
		if (saved && release_finish(st, id, owner, NULL, actor,
					    (long long)time(NULL), &err) == 0)
			return;
		if (res->retrying != NULL)
			res->retrying(id, err, res->context);
	}
	res->unrecorded = 1;
}

/* release_let_go - this attempt is over but its claim stays: make it
   stale now for every process and host (best effort; the lease ends on
   its own otherwise) */
static void release_let_go(struct store *st, long long id, const char *owner)
{
	const char *err;

	if (store_begin(st, &err) == 0
	    && store_claim_expire(st, id, owner, (long long)time(NULL),
				  &err) == 0
	    && store_commit(st, &err) == 0)
		return;
	store_rollback(st);
}

/* release_drop - the hop did not take it: held again, retried */
static void release_drop(struct store *st, long long id, const char *owner)
{
	const char *err;
	int changed;

	for (int i = 0; i < RELEASE_DROP_TRIES; i++) {
		if (store_begin(st, &err) == 0
		    && store_claim_drop(st, id, owner, &changed, &err) == 0
		    && store_commit(st, &err) == 0)
			return;
		store_rollback(st);
	}
	/* left as a claim never handed on: stale once this attempt ends,
	   and then taken over by the next release */
	release_let_go(st, id, owner);
}

struct release_handing {
	struct store *st;
	long long id;
	const char *owner;
};

/* release_handing - the durable "handed" mark, just before the hop can
   take the message; refuses if the claim is no longer ours */
static int release_handing(void *context, const char **error_r)
{
	struct release_handing *h = context;
	int changed = 0;

	if (store_begin(h->st, error_r) < 0)
		return -1;
	if (store_claim_update(h->st, h->id, h->owner,
			       (long long)time(NULL), NULL, &changed,
			       error_r) < 0
	    || store_commit(h->st, error_r) < 0) {
		store_rollback(h->st);
		return -1;
	}
	if (!changed) {
		*error_r = "another release took the claim over";
		return -1;
	}
	return 0;
}

/* release_send - hand rec on under owner's claim and record the result */
static int release_send(struct store *st, const char *reinject,
			const struct store_record *rec, const char *owner,
			const char *actor, struct release_result *res,
			const char **error_r)
{
	struct release_handing h = { st, rec->id, owner };
	struct reinject_hand hand = { .handing = release_handing,
				      .context = &h };
	const char *rcpt = rec->recipient;
	int ret;

	release_active_set(owner, 1);
	ret = reinject_message_hand(reinject, rec->sender ? rec->sender : "",
				    &rcpt, 1, rec->raw, (size_t)rec->size,
				    &hand, error_r);
	release_copy(res->reply, sizeof(res->reply), hand.reply);
	if (ret == 0) {
		res->outcome = RELEASE_DONE;
		release_record(st, rec->id, owner, actor, res);
	} else if (hand.doubt) {
		res->outcome = RELEASE_IN_DOUBT;
		release_copy(res->owner, sizeof(res->owner), owner);
		release_copy(res->actor, sizeof(res->actor), actor);
		res->since = (long long)time(NULL);
		release_let_go(st, rec->id, owner);
		ret = 0;
	} else {
		release_drop(st, rec->id, owner);
	}
	release_active_set(owner, 0);
	return ret;
}

/* release_claimed - rec is releasing: say what its claim means, and
   finish a claim that has the hop's answer. *takeable_r (and no
   outcome) when the claim is stale and was never handed on */
static int release_claimed(struct store *st, const struct store_record *rec,
			   long long now, struct release_result *res,
			   struct store_claim *c, int *takeable_r,
			   const char **error_r)
{
	*takeable_r = 0;
	if (store_claim_get(st, rec->id, c, error_r) < 0)
		return -1;
	release_copy(res->owner, sizeof(res->owner), c->owner);
	release_copy(res->actor, sizeof(res->actor), c->actor);
	release_copy(res->reply, sizeof(res->reply), c->reply);
	if (c->quarantine_id != 0 && c->reply[0] != '\0') {
		/* the hop took it; if the record cannot be finished now,
		   the next look tries again */
		const char *ignored;

		res->outcome = RELEASE_ALREADY;
		release_finish(st, rec->id, c->owner, NULL, c->actor, now,
			       &ignored);
		return 0;
	}
	res->since = c->handed ? c->handed : c->claimed;
	if (c->quarantine_id == 0 || !release_claim_stale(c, now))
		res->outcome = RELEASE_BUSY;
	else if (c->handed != 0)
		res->outcome = RELEASE_IN_DOUBT;
	else
		*takeable_r = 1;
	return 0;
}

/* release_state - the outcome for an item not held and not releasing */
static enum release_outcome release_state(const char *state)
{
	return strcmp(state, "released") == 0 ? RELEASE_ALREADY
		: RELEASE_NOT_HELD;
}

/* release_fetch - the item with its bytes, and its Message-ID in res:
   1 found, 0 not found (res->outcome says so, *rec_r NULL), -1 error */
static int release_fetch(struct store *st, long long id,
			 struct store_record **rec_r,
			 struct release_result *res, const char **error_r)
{
	*rec_r = NULL;
	if (store_item_get(st, id, 1, rec_r, error_r) < 0)
		return -1;
	if (*rec_r == NULL) {
		res->outcome = RELEASE_NOT_FOUND;
		return 0;
	}
	release_message_id((*rec_r)->raw, (*rec_r)->size, res->message_id,
			   sizeof(res->message_id));
	return 1;
}

/* release_try - one look at the item, and one claim if it is free;
   *again_r when someone changed it between the look and the claim */
static int release_try(struct store *st, const char *reinject, long long id,
		       const char *actor, long long now, int settle,
		       struct release_result *res, int *again_r,
		       const char **error_r)
{
	struct store_record *rec;
	struct store_claim c;
	char owner[128];
	const char *prev = NULL, *state;
	int taken = 0, takeable = 1, ret = 0, found;

	*again_r = 0;
	if ((found = release_fetch(st, id, &rec, res, error_r)) <= 0)
		return found;	/* 0: not found, res says so */
	state = rec->state ? rec->state : "";
	if (strcmp(state, "releasing") == 0) {
		ret = release_claimed(st, rec, now, res, &c, &takeable,
				      error_r);
		if (settle && res->outcome == RELEASE_IN_DOUBT) {
			takeable = 1;
			res->outcome = RELEASE_DONE;
		}
		prev = c.owner;
	} else if (strcmp(state, "held") != 0) {
		res->outcome = release_state(state);
		takeable = 0;
	}
	release_owner_make(owner, sizeof(owner));
	if (ret == 0 && takeable)
		ret = release_take(st, id, owner, actor, now, prev, settle,
				   &taken, error_r);
	if (ret == 0 && takeable && !taken)
		*again_r = 1;
	else if (ret == 0 && taken)
		ret = release_send(st, reinject, rec, owner, actor, res,
				   error_r);
	store_record_free(&rec);
	return ret;
}

/* release_run - release_try() until it is not disturbed (bounded) */
static int release_run(struct store *st, const char *reinject, long long id,
		       const char *actor, long long now, int settle,
		       struct release_result *res, const char **error_r)
{
	void (*retrying)(long long, const char *, void *) = res->retrying;
	void *context = res->context;
	int again = 1, ret = 0;

	for (int i = 0; again && ret == 0 && i < RELEASE_TAKE_TRIES; i++) {
		memset(res, 0, sizeof(*res));
		res->retrying = retrying;
		res->context = context;
		ret = release_try(st, reinject, id, actor, now, settle, res,
				  &again, error_r);
	}
	if (ret == 0 && again) {
		*error_r = "the item keeps changing state; try again";
		return -1;
	}
	return ret;
}

int release_item(struct store *st, const char *reinject, long long id,
		 const char *actor, long long now, struct release_result *res,
		 const char **error_r)
{
	return release_run(st, reinject, id, actor, now, 0, res, error_r);
}

/* release_mark - an item in doubt recorded released, nothing sent */
static int release_mark(struct store *st, long long id, const char *actor,
			long long now, struct release_result *res,
			const char **error_r)
{
	struct store_record *rec;
	struct store_claim c;
	int takeable, ret;

	memset(res, 0, sizeof(*res));
	if (store_item_get(st, id, 0, &rec, error_r) < 0)
		return -1;
	if (rec == NULL) {
		res->outcome = RELEASE_NOT_FOUND;
		return 0;
	}
	if (strcmp(rec->state ? rec->state : "", "releasing") != 0) {
		res->outcome = strcmp(rec->state ? rec->state : "", "held") == 0
			? RELEASE_NOT_IN_DOUBT : release_state(rec->state);
		store_record_free(&rec);
		return 0;
	}
	ret = release_claimed(st, rec, now, res, &c, &takeable, error_r);
	store_record_free(&rec);
	if (ret < 0 || res->outcome != RELEASE_IN_DOUBT) {
		if (ret == 0 && takeable)
			res->outcome = RELEASE_NOT_IN_DOUBT;
		return ret;
	}
	char note[160];

	snprintf(note, sizeof(note), "no answer recorded; marked released by %s",
		 actor);
	if (release_finish(st, id, c.owner, note, actor, now, error_r) < 0)
		return -1;
	res->outcome = RELEASE_DONE;
	release_copy(res->reply, sizeof(res->reply), note);
	return 0;
}

int release_settle(struct store *st, const char *reinject, long long id,
		   int resend, const char *actor, long long now,
		   struct release_result *res, const char **error_r)
{
	if (!resend)
		return release_mark(st, id, actor, now, res, error_r);
	return release_run(st, reinject, id, actor, now, 1, res, error_r);
}

int release_look(struct store *st, long long id, long long now,
		 struct release_result *res, const char **error_r)
{
	struct store_record *rec;
	struct store_claim c;
	int takeable, ret = 0, found;

	memset(res, 0, sizeof(*res));
	if ((found = release_fetch(st, id, &rec, res, error_r)) <= 0)
		return found;	/* 0: not found, res says so */
	if (strcmp(rec->state ? rec->state : "", "releasing") == 0) {
		ret = release_claimed(st, rec, now, res, &c, &takeable,
				      error_r);
		if (ret == 0 && takeable)
			res->outcome = RELEASE_NOT_IN_DOUBT;
	} else {
		res->outcome = strcmp(rec->state ? rec->state : "", "held") == 0
			? RELEASE_NOT_IN_DOUBT : release_state(rec->state);
	}
	store_record_free(&rec);
	return ret;
}

int release_delete(struct store *st, long long id, const char *actor,
		   long long now, enum release_outcome *outcome_r,
		   const char **error_r)
{
	struct store_record *rec;
	int changed;

	if (store_item_get(st, id, 0, &rec, error_r) < 0)
		return -1;
	if (rec == NULL) {
		*outcome_r = RELEASE_NOT_FOUND;
		return 0;
	}
	store_record_free(&rec);
	if (store_begin(st, error_r) < 0)
		return -1;
	if (store_item_set_state(st, id, "held", "deleted", actor, now,
				 &changed, error_r) < 0
	    || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	*outcome_r = changed ? RELEASE_DONE : RELEASE_NOT_HELD;
	return 0;
}
