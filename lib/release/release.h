/*
 * release.h - give a held message back to its mailbox, exactly once
 *
 * The one release path for the command line, the release page and the
 * admin page: the stored bytes are re-injected unchanged with their
 * original envelope (so the copy keeps its own Message-ID), and an audit
 * line names who released it. The re-injected copy does not pass through
 * ndrguard again: it enters Postfix through sendmail or the re-injection
 * listener, where no FILTER sends it back.
 *
 * Exactly once, across processes and hosts sharing one store:
 *
 *  1. claim: in one transaction, held -> releasing, with a claim row
 *     naming its owner ("host:pid:random"), the actor and a lease
 *     (RELEASE_LEASE seconds, longer than re-injection can take). A
 *     second caller finds the claim and is told "already being
 *     released"; nothing is sent twice because only the claim's owner
 *     hands the item on.
 *  2. hand on: just before the step that lets the hop take the message
 *     (the final "." over SMTP; starting sendmail on the fully written
 *     message), the claim is marked "handed" in its own, durable
 *     transaction, and only if its owner still holds it.
 *  3. record: the hop's answer ("250 2.0.0 Ok: queued as ...") goes into
 *     the claim, then releasing -> released with the audit line. A
 *     failure here is retried (RELEASE_RECORD_TRIES); if it still fails
 *     the caller is told the truth, that the message went out, and the
 *     next look at the item finishes the record (a claim with an answer
 *     is released).
 *
 * A claim is stale when its lease has passed or, on the same host, its
 * owner process is gone (or, in the same process, its attempt ended). An
 * attempt that ends leaving its claim behind (in doubt, or the database
 * would not take the claim back) ends the lease itself, so that other
 * processes and hosts see it stale at once rather than after the lease. A
 * stale claim never handed on is certainly safe to send again: the next
 * release takes it over and sends one copy. A stale claim handed on with
 * no answer recorded is "in doubt": the hop may have the message. It is
 * never sent again on its own; the caller gets RELEASE_IN_DOUBT with the
 * Message-ID to look for in the mail log, and the postmaster settles it
 * with release_settle() (`ndrguard release --resend` or
 * `--mark-released`).
 *
 * If the hop refuses the message after the hand-over mark (a 4xx/5xx
 * answer to the final dot, sendmail exiting non-zero), the claim is
 * dropped and the item is held again, as before any attempt.
 */
#ifndef NDRGUARD_RELEASE_H
#define NDRGUARD_RELEASE_H

struct store;

/* seconds a claim stands without a sign of its owner; well above
   reinject_timeout_bound() */
#define RELEASE_LEASE 900
/* attempts to record a release the hop accepted, a second apart */
#define RELEASE_RECORD_TRIES 5

enum release_outcome {
	RELEASE_DONE,		/* handed on now */
	RELEASE_NOT_FOUND,
	RELEASE_NOT_HELD,	/* deleted or expired */
	RELEASE_ALREADY,	/* released before */
	RELEASE_BUSY,		/* another caller is releasing it now */
	RELEASE_IN_DOUBT,	/* handed on once, the hop's answer unknown */
	RELEASE_NOT_IN_DOUBT,	/* release_settle(): nothing to settle */
};

/* what happened, for the caller to tell the user */
struct release_result {
	enum release_outcome outcome;
	int unrecorded;		/* DONE, but not recorded yet (see above) */
	char reply[512];	/* DONE/ALREADY: what the hop answered */
	char message_id[256];	/* the item's own Message-ID (or "") */
	char owner[128];	/* BUSY, IN_DOUBT: the claim's owner */
	char actor[96];		/* BUSY, IN_DOUBT: who asked for it */
	long long since;	/* BUSY: claimed; IN_DOUBT: handed on */
	/* optional: told of each failed try to record (step 3) */
	void (*retrying)(long long id, const char *error, void *context);
	void *context;
};

/* release_item - release one item. -1 with *error_r: nothing was sent
   and the item is held (or left to be taken over) */
int release_item(struct store *st, const char *reinject, long long id,
		 const char *actor, long long now, struct release_result *res,
		 const char **error_r);
/* release_settle - an item in doubt: send it again (resend) or record
   it released without sending (the postmaster found it in the log) */
int release_settle(struct store *st, const char *reinject, long long id,
		   int resend, const char *actor, long long now,
		   struct release_result *res, const char **error_r);
/* release_look - what a release of id would find, changing nothing
   but finishing the record of a claim that has the hop's answer:
   RELEASE_NOT_IN_DOUBT when it may be released (held, or a stale claim
   never handed on), else BUSY, IN_DOUBT, ALREADY, NOT_HELD, NOT_FOUND */
int release_look(struct store *st, long long id, long long now,
		 struct release_result *res, const char **error_r);
/* release_delete - mark a held item deleted (its bytes are kept until
   it expires, so a mistaken delete can still be looked at) */
int release_delete(struct store *st, long long id, const char *actor,
		   long long now, enum release_outcome *outcome_r,
		   const char **error_r);

#endif
