/*
 * store-writer.c - group commit: one writer at a time, and its queue
 *
 * Jobs wait in a FIFO list. A job is typed (enum store_writer_kind): a
 * message's decision today, a release or an index write later; the
 * leader gives each kind's jobs of its batch to that kind's handler
 * (store_writer_handlers), so that the jobs of one kind share one
 * transaction. The connection that finds no commit under way becomes
 * the writer (the leader): it takes up to STORE_WRITER_BATCH queued
 * jobs, its own among them, decides them in one transaction and wakes
 * their connections; the jobs that queued up meanwhile go to the
 * next leader, the first of them. The longer a commit takes, the more
 * connections queue behind it and share the next one, so the batch size
 * adapts to the load by itself. The leader is a connection thread, not a
 * thread of its own, so a message that finds the store idle is committed
 * without handing it to another thread and back.
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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_WRITER_BATCH 128
#define STORE_WRITER_DELAY_US 1000
/* WAL pages between checkpoints: SQLite's default; the mark the pipe
   agent uses is for processes that open the database once each */
#define STORE_WRITER_CHECKPOINT 1000

/* what a job asks of the store; each kind has its handler below */
enum store_writer_kind {
	STORE_WRITER_DELIVERY,	/* a message's decision (deliver-batch.h) */
	STORE_WRITER_KINDS
};

struct store_writer_job {
	enum store_writer_kind kind;
	union {
		struct deliver_batch_item *delivery;
	} u;
	struct store_writer_job *next;
	pthread_cond_t done_cond;
	int done;
};

/*
 * A handler does the jobs of its kind in a commit's batch, in their
 * order; st is NULL when the store cannot be opened (error says why),
 * and then it fails them.
 */
typedef void store_writer_handler(struct store *st, const char *error,
				  struct store_writer_job **jobs, size_t n);

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a job was queued or withdrawn */
	pthread_cond_t idle;	/* no leader, nothing queued */
	struct store_writer_job *head, **tail;
	unsigned int expected;	/* announced, not queued yet */
	int leading;		/* a commit is under way */
	char *database;
	unsigned int busy_timeout_ms;
	struct store *store;
} store_writer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

/* store_writer_open - the store, opened on first need; NULL on failure */
static struct store *store_writer_open(const char **error_r)
{
	struct store_options opts = {
		.busy_timeout_ms = store_writer.busy_timeout_ms,
		.create = 1,
		.checkpoint_pages = STORE_WRITER_CHECKPOINT,
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

/* store_writer_deliveries - decide messages in one transaction */
static void store_writer_deliveries(struct store *st, const char *error,
				    struct store_writer_job **jobs, size_t n)
{
	struct deliver_batch_item *items = xcalloc(n, sizeof(*items));

	for (size_t i = 0; i < n; i++)
		items[i] = *jobs[i]->u.delivery;
	if (st == NULL) {
		for (size_t i = 0; i < n; i++) {
			items[i].status = -1;
			snprintf(items[i].error, sizeof(items[i].error),
				 "quarantine store unavailable: %s", error);
		}
	} else {
		deliver_batch_decide(st, items, n);
	}
	for (size_t i = 0; i < n; i++)
		*jobs[i]->u.delivery = items[i];
	free(items);
}

static store_writer_handler *const store_writer_handlers[STORE_WRITER_KINDS] = {
	[STORE_WRITER_DELIVERY] = store_writer_deliveries,
};

/* store_writer_run_batch - each kind's jobs of the batch to its handler */
static void store_writer_run_batch(struct store_writer_job **jobs, size_t n)
{
	struct store_writer_job **same = xcalloc(n, sizeof(*same));
	const char *error = NULL;
	struct store *st;

	st = store_writer_open(&error);
	if (st == NULL)
		log_error("open %s: %s", store_writer.database, error);
	for (unsigned int kind = 0; kind < STORE_WRITER_KINDS; kind++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (jobs[i]->kind == kind)
				same[m++] = jobs[i];
		if (m > 0)
			store_writer_handlers[kind](st, error, same, m);
	}
	free(same);
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
	while (store_writer.expected > 0 && n < STORE_WRITER_BATCH) {
		if (pthread_cond_timedwait(&store_writer.work,
					   &store_writer.lock, &deadline) != 0)
			break;
		n += store_writer_take(jobs + n, STORE_WRITER_BATCH - n);
	}
	return n + store_writer_take(jobs + n, STORE_WRITER_BATCH - n);
}

/*
 * store_writer_lead - commit one batch as the leader (lock held, and
 * held again on return), then hand the lead to the first queued job
 */
static void store_writer_lead(void)
{
	struct store_writer_job *jobs[STORE_WRITER_BATCH];
	size_t n;

	store_writer.leading = 1;
	n = store_writer_gather(jobs);
	pthread_mutex_unlock(&store_writer.lock);
	store_writer_run_batch(jobs, n);
	pthread_mutex_lock(&store_writer.lock);
	for (size_t i = 0; i < n; i++) {
		jobs[i]->done = 1;
		pthread_cond_signal(&jobs[i]->done_cond);
	}
	store_writer.leading = 0;
	if (store_writer.head != NULL)
		pthread_cond_signal(&store_writer.head->done_cond);
	else
		pthread_cond_broadcast(&store_writer.idle);
}

void store_writer_start(const char *database, unsigned int busy_timeout_ms)
{
	const char *error;

	store_writer.database = xstrdup(database);
	store_writer.busy_timeout_ms = busy_timeout_ms;
	store_writer.tail = &store_writer.head;
	if (store_writer_open(&error) == NULL)
		log_error("open %s: %s (will try again for each message)",
			  database, error);
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

/*
 * store_writer_submit - queue n jobs, lead or wait until each is done;
 * announced of them were announced (store_writer_expect())
 */
static void store_writer_submit(struct store_writer_job *jobs, size_t n,
				unsigned int announced)
{
	pthread_mutex_lock(&store_writer.lock);
	store_writer.expected -= announced;
	for (size_t i = 0; i < n; i++) {
		pthread_cond_init(&jobs[i].done_cond, NULL);
		*store_writer.tail = &jobs[i];
		store_writer.tail = &jobs[i].next;
	}
	pthread_cond_signal(&store_writer.work);	/* for a gathering leader */
	for (size_t i = 0; i < n; i++) {
		while (!jobs[i].done) {
			if (!store_writer.leading)
				store_writer_lead();
			else
				pthread_cond_wait(&jobs[i].done_cond,
						  &store_writer.lock);
		}
	}
	pthread_mutex_unlock(&store_writer.lock);
	for (size_t i = 0; i < n; i++)
		pthread_cond_destroy(&jobs[i].done_cond);
}

void store_writer_decide_many(struct deliver_batch_item **items, size_t n,
			      unsigned int announced)
{
	struct store_writer_job *jobs = xcalloc(n, sizeof(*jobs));

	for (size_t i = 0; i < n; i++) {
		jobs[i].kind = STORE_WRITER_DELIVERY;
		jobs[i].u.delivery = items[i];
	}
	store_writer_submit(jobs, n, announced);
	free(jobs);
}

void store_writer_stop(void)
{
	if (store_writer.database == NULL)
		return;
	pthread_mutex_lock(&store_writer.lock);
	while (store_writer.leading || store_writer.head != NULL)
		pthread_cond_wait(&store_writer.idle, &store_writer.lock);
	pthread_mutex_unlock(&store_writer.lock);
	store_close(&store_writer.store);
	free(store_writer.database);
	store_writer.database = NULL;
}
