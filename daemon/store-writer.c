/*
 * store-writer.c - group commit: a single writer thread and its queue
 *
 * Jobs wait in a FIFO list. The writer takes up to STORE_WRITER_BATCH of
 * them at once: the longer a commit takes, the more connections queue
 * behind it and the more share the next commit, so the batch size adapts
 * to the load by itself.
 *
 * A commit also waits, at most STORE_WRITER_DELAY_US, for jobs that are
 * announced (store_writer_expect(): a connection is receiving a message)
 * but not queued yet, as PostgreSQL's commit_delay does when other
 * transactions are active. Under load that turns several fsyncs into one;
 * a lone message has nothing announced beside it and is not delayed.
 *
 * Each job has its own condition variable, so a finished commit wakes
 * exactly the connections whose jobs it decided.
 */
#include "autoconfig.h"
#include "store-writer.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define STORE_WRITER_BATCH 128
#define STORE_WRITER_DELAY_US 1000

struct store_writer_job {
	struct deliver_batch_item *item;
	struct store_writer_job *next;
	pthread_cond_t done_cond;
	int done;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a job was queued or withdrawn, or stop */
	struct store_writer_job *head, **tail;
	unsigned int expected;	/* announced, not queued yet */
	int stopping;
	pthread_t thread;
	int running;
	char *database;
	unsigned int busy_timeout_ms;
	struct store *store;
} store_writer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
};

/* store_writer_open - the store, opened on first need; NULL on failure */
static struct store *store_writer_open(const char **error_r)
{
	struct store_options opts = {
		.busy_timeout_ms = store_writer.busy_timeout_ms,
		.create = 1,
	};

	if (store_writer.store == NULL
	    && store_open(store_writer.database, &opts, &store_writer.store,
			  error_r) < 0) {
		store_writer.store = NULL;
		return NULL;
	}
	return store_writer.store;
}

/* store_writer_take - detach up to max queued jobs (lock held) */
static size_t store_writer_take(struct store_writer_job **jobs, size_t max)
{
	size_t n = 0;

	while (n < max && store_writer.head != NULL) {
		jobs[n] = store_writer.head;
		store_writer.head = jobs[n]->next;
		n++;
	}
	if (store_writer.head == NULL)
		store_writer.tail = &store_writer.head;
	return n;
}

static void store_writer_run_batch(struct store_writer_job **jobs, size_t n)
{
	struct deliver_batch_item *items = xcalloc(n, sizeof(*items));
	struct store *st;
	const char *error;

	for (size_t i = 0; i < n; i++)
		items[i] = *jobs[i]->item;
	st = store_writer_open(&error);
	if (st == NULL) {
		log_error("open %s: %s", store_writer.database, error);
		for (size_t i = 0; i < n; i++) {
			items[i].status = -1;
			snprintf(items[i].error, sizeof(items[i].error),
				 "quarantine store unavailable: %s", error);
		}
	} else {
		deliver_batch_decide(st, items, n);
	}
	for (size_t i = 0; i < n; i++)
		*jobs[i]->item = items[i];
	free(items);
}

/*
 * store_writer_gather - wait up to STORE_WRITER_DELAY_US for announced
 * jobs to join the batch (lock held); returns the number of jobs taken
 */
static size_t store_writer_gather(struct store_writer_job **jobs)
{
	size_t n = store_writer_take(jobs, STORE_WRITER_BATCH);
	struct timespec deadline;

	if (store_writer.expected == 0 || n == STORE_WRITER_BATCH)
		return n;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += STORE_WRITER_DELAY_US * 1000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (store_writer.expected > 0 && n < STORE_WRITER_BATCH
	       && !store_writer.stopping) {
		if (pthread_cond_timedwait(&store_writer.work,
					   &store_writer.lock, &deadline) != 0)
			break;
		n += store_writer_take(jobs + n, STORE_WRITER_BATCH - n);
	}
	return n + store_writer_take(jobs + n, STORE_WRITER_BATCH - n);
}

static void *store_writer_main(void *arg)
{
	struct store_writer_job *jobs[STORE_WRITER_BATCH];
	size_t n;

	pthread_mutex_lock(&store_writer.lock);
	for (;;) {
		while (store_writer.head == NULL && !store_writer.stopping)
			pthread_cond_wait(&store_writer.work,
					  &store_writer.lock);
		if (store_writer.head == NULL)
			break;	/* stopping, and nothing left to do */
		n = store_writer_gather(jobs);
		pthread_mutex_unlock(&store_writer.lock);
		store_writer_run_batch(jobs, n);
		pthread_mutex_lock(&store_writer.lock);
		for (size_t i = 0; i < n; i++) {
			jobs[i]->done = 1;
			pthread_cond_signal(&jobs[i]->done_cond);
		}
	}
	pthread_mutex_unlock(&store_writer.lock);
	return NULL;
}

void store_writer_start(const char *database, unsigned int busy_timeout_ms)
{
	const char *error;
	int rc;

	store_writer.database = xstrdup(database);
	store_writer.busy_timeout_ms = busy_timeout_ms;
	store_writer.tail = &store_writer.head;
	if (store_writer_open(&error) == NULL)
		log_error("open %s: %s (will try again for each message)",
			  database, error);
	rc = pthread_create(&store_writer.thread, NULL, store_writer_main,
			    NULL);
	if (rc != 0) {
		log_error("cannot start the store writer: %s", strerror(rc));
		exit(75);
	}
	store_writer.running = 1;
}

void store_writer_expect(void)
{
	pthread_mutex_lock(&store_writer.lock);
	store_writer.expected++;
	pthread_mutex_unlock(&store_writer.lock);
}

void store_writer_unexpect(void)
{
	pthread_mutex_lock(&store_writer.lock);
	store_writer.expected--;
	/* a commit may be waiting for just this one */
	pthread_cond_signal(&store_writer.work);
	pthread_mutex_unlock(&store_writer.lock);
}

void store_writer_decide(struct deliver_batch_item *item, int announced)
{
	struct store_writer_job job = { .item = item };

	pthread_cond_init(&job.done_cond, NULL);
	pthread_mutex_lock(&store_writer.lock);
	if (announced)
		store_writer.expected--;
	*store_writer.tail = &job;
	store_writer.tail = &job.next;
	pthread_cond_signal(&store_writer.work);
	while (!job.done)
		pthread_cond_wait(&job.done_cond, &store_writer.lock);
	pthread_mutex_unlock(&store_writer.lock);
	pthread_cond_destroy(&job.done_cond);
}

void store_writer_stop(void)
{
	if (!store_writer.running)
		return;
	pthread_mutex_lock(&store_writer.lock);
	store_writer.stopping = 1;
	pthread_cond_signal(&store_writer.work);
	pthread_mutex_unlock(&store_writer.lock);
	pthread_join(store_writer.thread, NULL);
	store_writer.running = 0;
	store_close(&store_writer.store);
	free(store_writer.database);
	store_writer.database = NULL;
}
