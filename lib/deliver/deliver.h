/*
 * deliver.h - the decision for one message: hold it, or pass it on
 *
 * Shared by the pipe agent (ndrguard deliver) and the LMTP server. For
 * each recipient: a message that can be backscatter (classify.h) and is
 * not provably ours counts toward that mailbox's storm meter (storm.h);
 * when the mailbox is in a storm the message is held in the store, else
 * it is passed on unchanged through `reinject`. A bounce that one of the
 * mailbox owner's allow rules names (its reporting domain, or a bounced
 * recipient: store_allow_match()) is passed on without being metered,
 * and its log line says "evidence=owner rule N".
 *
 * Order of durability: the store transaction (arrivals, storms, held
 * copies) commits before anything is re-injected, and deliver_message()
 * returns 0 only when every recipient's copy is committed or accepted by
 * the next hop. On -1 nothing must be acknowledged: the caller tempfails
 * and Postfix retries. A retry is safe: arrivals and held copies are
 * keyed by queue id and recipient, so they are not counted or stored
 * twice.
 *
 * Ownership: the caller owns the request and the store; the outcome
 * array (one per recipient) and the classification belong to the
 * struct deliver_result, freed by deliver_result_free().
 */
#ifndef NDRGUARD_DELIVER_H
#define NDRGUARD_DELIVER_H

#include <stddef.h>
#include "classify.h"
#include "storm.h"

struct settings;
struct store;
struct strbuf;

struct dkim_keys;
struct deliver_batv;

struct deliver_env {
	const char *database;		/* store location */
	unsigned int busy_timeout_ms;
	const char *reinject;		/* reinject.h spec */
	struct storm_params storm;
	const struct relays *relays;	/* may be NULL */
	size_t classify_limit;		/* larger messages are passed on
					   unclassified */
	const struct dkim_keys *dkim_keys;	/* may be NULL: no keys */
	int dkim_required;		/* dkim_required = yes */
	const char *reply_address;	/* its reply addresses pass on
					   unclassified (reply-address.h) */
	const struct deliver_batv *batv;	/* NULL: BATV off
						   (deliver-batv.h) */
	struct store *store;		/* opened on first need, then kept;
					   the caller closes it */
};

struct deliver_request {
	const char *queue_id;	/* may be NULL */
	const char *sender;	/* "" for the null sender */
	const char *const *recipients;
	size_t recipient_count;
	const char *msg;
	size_t len;
	long long now;
};

/* what a recipient's BATV tag decided (deliver-batv.h) */
enum deliver_batv_verdict {
	DELIVER_BATV_NONE = 0,	/* not judged: metered as ever */
	DELIVER_BATV_LEGIT,	/* valid tag: passed on untagged */
	DELIVER_BATV_HOLD,	/* failing tag, or untagged: held at once */
};

enum deliver_action {
	DELIVER_PASS,		/* re-injected unchanged */
	DELIVER_HOLD,		/* held in quarantine */
};

struct deliver_outcome {
	const char *recipient;
	enum deliver_action action;
	int metered;		/* counted toward the storm meter */
	unsigned int window_count;	/* counted up to the threshold */
	long long item_id;	/* held: the quarantine id */
	int duplicate;		/* held earlier (a retry) */
	int storm_started;
	int reply;		/* a digest's reply address: passed on,
				   never metered nor held */
	long long owner_rule;	/* passed by this owner's allow rule
				   (sql/0009-owner-actions.sql); 0: none */
	enum deliver_batv_verdict batv;
	const char *batv_evidence;	/* static; NULL: not judged */
	char *mailbox;		/* the recipient without its BATV tag:
				   metered, held and passed on as that
				   mailbox; NULL: the recipient */
};

struct deliver_result {
	struct classify_result *classified;	/* NULL: not classified */
	struct deliver_outcome *outcomes;
	size_t outcome_count;
	/* the original is forged (deliver-outbound.h): held from the
	   first message, storm or not */
	int forged;
};

/*
 * deliver_env_init - the env the settings describe (database, reinject,
 * storm_*, message_size_limit), with relays (may be NULL) and no store
 * open yet; it points into set and relays, which must outlive it
 */
void deliver_env_init(struct deliver_env *env, const struct settings *set,
		      const struct relays *relays);
int deliver_message(struct deliver_env *env, const struct deliver_request *req,
		    struct deliver_result *result_r, const char **error_r);
void deliver_result_free(struct deliver_result *result);

/*
 * The steps of deliver_message(), for a caller that batches several
 * messages' decisions into one transaction (group commit, as the LMTP
 * daemon does):
 *
 * deliver_prepare - fill result_r with one outcome per recipient
 * (DELIVER_PASS) and classify the message; it touches no store and is
 * safe to run in many threads at once. Returns 1 when the store must
 * decide (the message may be backscatter), 0 when everything passes.
 * The caller frees result_r with deliver_result_free() in either case.
 *
 * deliver_decide - meter and hold for every recipient, inside a
 * transaction the caller began on st and commits; nothing of it counts
 * before that commit. On -1 the caller rolls back, and may call
 * deliver_undecide() to forget the outcomes before trying again.
 *
 * deliver_pass_on - re-inject for the recipients not held; call only
 * after the commit (a pass must never precede the durable decision).
 */
int deliver_prepare(const struct deliver_env *env,
		    const struct deliver_request *req,
		    struct deliver_result *result_r);
int deliver_decide(const struct deliver_env *env, struct store *st,
		   const struct deliver_request *req,
		   struct deliver_result *result, const char **error_r);
void deliver_undecide(struct deliver_result *result);
int deliver_pass_on(const struct deliver_env *env,
		    const struct deliver_request *req,
		    const struct deliver_result *result, const char **error_r);

/*
 * deliver_format_log - the maillog line for one outcome, e.g.
 * "4F3A2: to=<alice@example.com>, from=<>, kind=ndr_failed,
 * verdict=backscatter, action=quarantine, storm=57/10m, id=123"
 */
void deliver_format_log(const struct deliver_env *env,
			const struct deliver_request *req,
			const struct deliver_result *result,
			const struct deliver_outcome *outcome,
			struct strbuf *out);

#endif
