/*
 * store-writer.h - the one connection of the daemon to the quarantine store
 *
 * Connections do not open the database themselves: they queue their
 * prepared decision (deliver_prepare()) and wait. One of them at a time
 * is the writer: it takes everything that queued up while the previous
 * commit ran and decides it in one transaction (deliver-batch.h), so
 * concurrent connections share one fsync per commit instead of queueing
 * for the lock one by one. The queue holds typed jobs (store-writer.c):
 * deliveries today, each kind with an entry point of its own here.
 *
 * Ownership: a job belongs to the connection that submits it; the writer
 * only fills in its batch item and wakes the connection up.
 */
#ifndef NDRGUARD_STORE_WRITER_H
#define NDRGUARD_STORE_WRITER_H

#include "deliver-batch.h"

/*
 * store_writer_start - open the store at database (created when missing).
 * A store that cannot be opened yet is not fatal: the writer tries again
 * for each batch and fails its jobs meanwhile.
 */
void store_writer_start(const char *database, unsigned int busy_timeout_ms);
/*
 * store_writer_expect - announce a job that is on its way (a connection
 * has begun to receive a message): a commit starting meanwhile waits a
 * moment for it. Every announcement ends with exactly one item counted
 * in the announced argument of store_writer_decide_many(), or with one
 * store_writer_unexpect().
 */
void store_writer_expect(void);
void store_writer_unexpect(void);
/*
 * store_writer_decide_many - queue n items, wait until each is decided
 * and committed (item->status 0) or failed (-1, item->error). announced:
 * how many of them are the jobs of a store_writer_expect().
 */
void store_writer_decide_many(struct deliver_batch_item **items, size_t n,
			      unsigned int announced);
/* store_writer_stop - wait for the commit under way, close the store */
void store_writer_stop(void);

#endif
