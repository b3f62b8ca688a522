/*
 * milter-writer.h - the milter's records, written by one thread in groups
 *
 * A durable commit per message would make every submission wait for a
 * disk flush (about 100 messages a second on one disk instead of
 * Postfix's several hundred; bench/results/milter.md). The milter's
 * callbacks only queue a record and answer at once; one thread writes
 * what has queued in one transaction, so the commits keep up with any
 * rate. A record still queued when the process dies is lost: the index
 * then lacks it, and a bounce of that message is judged as before the
 * index existed. No mail waits on the store, none is lost.
 */
#ifndef NDRGUARD_MILTER_WRITER_H
#define NDRGUARD_MILTER_WRITER_H

/* milter_writer_start - the thread, writing into database */
int milter_writer_start(const char *database, const char **error_r);
/*
 * milter_writer_add - queue one record (strings copied); when the queue
 * is full (the store is far behind) the record is dropped with a log
 * line, never waited for
 */
void milter_writer_add(const char *queue_id, const char *message_id,
		       const char *sender, long long sent);

#endif
