/*
 * milter-writer.c - group commits of outbound records (milter-writer.h)
 */
#include "autoconfig.h"
#include "milter-writer.h"
#include "log.h"
#include "msgid.h"
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* a short wait for a locked store: the queue must keep moving */
#define MILTER_WRITER_BUSY_MS 250
#define MILTER_WRITER_QUEUE 4096

struct milter_record {
	char queue_id[32];
	char message_id[MSGID_MAX + 1];
	char sender[256];
	long long sent;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct milter_record queue[MILTER_WRITER_QUEUE];
	size_t count;
	const char *database;
	struct store *store;
} writer = { .lock = PTHREAD_MUTEX_INITIALIZER,
	     .wake = PTHREAD_COND_INITIALIZER };

/* the batch being written, taken out of the queue under the lock */
static struct milter_record milter_writer_batch[MILTER_WRITER_QUEUE];

void milter_writer_add(const char *queue_id, const char *message_id,
		       const char *sender, long long sent)
{
	struct milter_record *r;

	pthread_mutex_lock(&writer.lock);
	if (writer.count == MILTER_WRITER_QUEUE) {
		pthread_mutex_unlock(&writer.lock);
		log_warning("%s: outbound index: %u records wait for the store"
			    " (message accepted unrecorded)", queue_id,
			    MILTER_WRITER_QUEUE);
		return;
	}
	r = &writer.queue[writer.count++];
	snprintf(r->queue_id, sizeof(r->queue_id), "%s", queue_id);
	snprintf(r->message_id, sizeof(r->message_id), "%s", message_id);
	snprintf(r->sender, sizeof(r->sender), "%s", sender);
	r->sent = sent;
	pthread_cond_signal(&writer.wake);
	pthread_mutex_unlock(&writer.lock);
}

/* milter_writer_write - one transaction for the batch; -1 with *error_r */
static int milter_writer_write(size_t n, const char **error_r)
{
	struct store_options opts = {
		.busy_timeout_ms = MILTER_WRITER_BUSY_MS,
		.create = 1,
	};

	if (writer.store == NULL &&
	    store_open(writer.database, &opts, &writer.store, error_r) < 0)
		return -1;
	if (store_begin(writer.store, error_r) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct milter_record *r = &milter_writer_batch[i];

		if (store_outbound_add(writer.store, r->message_id, r->sender,
				       r->sent, error_r) < 0) {
			store_rollback(writer.store);
			goto fail;
		}
	}
	if (store_commit(writer.store, error_r) < 0) {
		store_rollback(writer.store);
		goto fail;
	}
	return 0;
fail:
	/* opened again next time: the file may have come back */
	store_close(&writer.store);
	return -1;
}

/* milter_writer_run - the thread: take what queued, write it, again */
static void *milter_writer_run(void *arg)
{
	const char *error;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&writer.lock);
		while (writer.count == 0)
			pthread_cond_wait(&writer.wake, &writer.lock);
		size_t n = writer.count;
		memcpy(milter_writer_batch, writer.queue, n * sizeof(writer.queue[0]));
		writer.count = 0;
		pthread_mutex_unlock(&writer.lock);
		if (milter_writer_write(n, &error) == 0)
			continue;
		/* one line per message, keyed by its queue id */
		for (size_t i = 0; i < n; i++)
			log_warning("%s: outbound index: %s (message accepted"
				    " unrecorded)", milter_writer_batch[i].queue_id,
				    error);
	}
	return NULL;
}

int milter_writer_start(const char *database, const char **error_r)
{
	pthread_t tid;

	writer.database = database;
	if (pthread_create(&tid, NULL, milter_writer_run, NULL) != 0) {
		*error_r = "cannot start the writer thread";
		return -1;
	}
	pthread_detach(tid);
	return 0;
}
