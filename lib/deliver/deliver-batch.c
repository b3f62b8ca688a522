/*
 * deliver-batch.c - group commit: one transaction for many decisions
 *
 * The fast path is BEGIN, deliver_decide() for each item, COMMIT. A
 * failure to begin or to commit fails every item (the database itself is
 * in trouble; trying each again would only wait busy_timeout once per
 * item). A failure inside one item's decision is that item's own: the
 * batch is rolled back and each item gets a transaction of its own.
 */
#include "autoconfig.h"
#include "deliver-batch.h"
#include "store.h"

#include <stdio.h>

static void deliver_batch_fail(struct deliver_batch_item *item,
			       const char *error)
{
	item->status = -1;
	snprintf(item->error, sizeof(item->error), "%s", error);
	deliver_undecide(item->result);
}

static void deliver_batch_fail_all(struct deliver_batch_item *items,
				   size_t count, const char *error)
{
	for (size_t i = 0; i < count; i++)
		deliver_batch_fail(&items[i], error);
}

/*
 * deliver_batch_try - all items in one transaction. Returns 0 when every
 * item committed or when begin/commit failed (then every item is marked
 * failed); -1 when one item's decision failed: that item is marked, the
 * transaction rolled back and every outcome forgotten.
 */
static int deliver_batch_try(struct store *st, struct deliver_batch_item *items,
			     size_t count)
{
	const char *error;

	if (store_begin(st, &error) < 0) {
		store_rollback(st);
		deliver_batch_fail_all(items, count, error);
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		if (deliver_decide(items[i].env, st, items[i].req,
				   items[i].result, &error) < 0) {
			deliver_batch_fail(&items[i], error);
			store_rollback(st);
			for (size_t j = 0; j < i; j++)
				deliver_undecide(items[j].result);
			return -1;
		}
	}
	if (store_commit(st, &error) < 0) {
		store_rollback(st);
		deliver_batch_fail_all(items, count, error);
		return 0;
	}
	for (size_t i = 0; i < count; i++)
		items[i].status = 0;
	return 0;
}

size_t deliver_batch_decide(struct store *st, struct deliver_batch_item *items,
			    size_t count)
{
	size_t failed = 0;

	if (count == 1 || deliver_batch_try(st, items, count) < 0) {
		/* one by one: alone, or after one item spoilt the batch */
		for (size_t i = 0; i < count; i++)
			deliver_batch_try(st, &items[i], 1);
	}
	for (size_t i = 0; i < count; i++)
		if (items[i].status != 0)
			failed++;
	return failed;
}
