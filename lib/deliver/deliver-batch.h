/*
 * deliver-batch.h - several messages' decisions in one transaction
 *
 * A commit is durable only after an fsync, and the fsync is what limits
 * how many messages per second can be held. When several connections
 * wait for their decisions at the same moment, one transaction for all
 * of them costs one fsync instead of many (group commit) while each
 * decision stays exactly as deliver_decide() makes it, in arrival order.
 *
 * Each item's outcome is independent: one message whose decision fails
 * must not fail the others, so on such a failure the batch is rolled back
 * and every item is decided again in a transaction of its own.
 *
 * Ownership: the caller owns the items, their envs, requests and results;
 * the batch only fills in status and error.
 */
#ifndef NDRGUARD_DELIVER_BATCH_H
#define NDRGUARD_DELIVER_BATCH_H

#include <stddef.h>
#include "deliver.h"

struct store;

struct deliver_batch_item {
	const struct deliver_env *env;	/* storm parameters; its store is
					   not used */
	const struct deliver_request *req;
	struct deliver_result *result;	/* from deliver_prepare() */
	int status;			/* out: 0 committed, -1 failed */
	char error[256];		/* out: why, when status is -1 */
};

/*
 * deliver_batch_decide - decide every item on st and commit. Returns the
 * number of items that failed (0 when all committed); each item's status
 * says which.
 */
size_t deliver_batch_decide(struct store *st, struct deliver_batch_item *items,
			    size_t count);

#endif
