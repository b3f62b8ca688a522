/*
 * scheduler.c - the digest and retention thread of ndrguardd
 *
 * Digests are sent from here rather than from cron so that a daemon
 * installation needs nothing else; `ndrguard digest` from cron does the
 * same and the two never send a digest twice (the digest engine takes a
 * lock in the database for its run).
 */
#include "autoconfig.h"
#include "scheduler.h"
#include "daemon-config.h"
#include "digest.h"
#include "log.h"
#include "settings.h"
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define SCHEDULER_INTERVAL 60
#define SCHEDULER_PURGE_BATCH 500

static struct {
	const struct settings *set;
	struct daemon_config *cfg;	/* keeps set alive */
	struct digest *dg;
	/* from a reload, under lock, until the thread takes them between
	   two passes (the engine is used by one thread at a time) */
	struct daemon_config *next_cfg;
	struct digest *next_dg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int started, stopping;
	long long last_purge;
} sched = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static const char *scheduler_event_name(enum digest_event_type type)
{
	switch (type) {
	case DIGEST_EVENT_SENT: return "sent";
	case DIGEST_EVENT_RESENT: return "resent";
	case DIGEST_EVENT_DEFERRED: return "deferred";
	case DIGEST_EVENT_UNKNOWN: return "unknown outcome, kept pending";
	case DIGEST_EVENT_SKIPPED: return "skipped";
	case DIGEST_EVENT_DRY_RUN: return "dry run";
	case DIGEST_EVENT_ERROR: return "error";
	}
	return "?";
}

/* scheduler_report - one log line per digest decision that did something */
static void scheduler_report(const struct digest_event *ev, void *context)
{
	(void)context;
	if (ev->type == DIGEST_EVENT_SKIPPED)
		return;
	log_info("digest: to=<%s>, items=%u, status=%s%s%s%s%s",
		 ev->mailbox, ev->items, scheduler_event_name(ev->type),
		 ev->message_id ? ", message_id=" : "",
		 ev->message_id ? ev->message_id : "",
		 ev->detail ? " " : "", ev->detail ? ev->detail : "");
}

static void scheduler_digest(long long now)
{
	struct digest_options opts = { .report = scheduler_report };
	struct digest_stats stats;
	const char *error;

	memset(&stats, 0, sizeof(stats));
	if (digest_run(sched.dg, now, &opts, &stats, &error) < 0)
		log_warning("digest run: %s", error);
	else if (stats.sent + stats.resent + stats.deferred + stats.errors > 0)
		log_info("digest run: sent=%u, resent=%u, deferred=%u, "
			 "errors=%u, items=%llu", stats.sent, stats.resent,
			 stats.deferred, stats.errors, stats.items);
}

/* scheduler_purge_batches - expire in short transactions until done */
static int scheduler_purge_batches(struct store *st, long long before,
				   long long now, unsigned long long *total_r,
				   const char **error_r)
{
	unsigned int n;

	do {
		if (store_begin(st, error_r) < 0)
			return -1;
		if (store_item_expire(st, before, SCHEDULER_PURGE_BATCH, now,
				      &n, error_r) < 0
		    || store_commit(st, error_r) < 0) {
			store_rollback(st);
			return -1;
		}
		*total_r += n;
	} while (n == SCHEDULER_PURGE_BATCH);
	return store_reclaim(st, error_r);
}

static void scheduler_purge(long long now)
{
	const struct settings *set = sched.set;
	struct store_options opts = {
		.busy_timeout_ms = settings_busy_timeout_ms(set),
	};
	unsigned long long total = 0;
	struct store *st;
	const char *error;

	if (store_open(set->database, &opts, &st, &error) < 0) {
		log_warning("purge: %s", error);
		return;
	}
	if (scheduler_purge_batches(st, now - (long long)set->quarantine_days
				    * 86400, now, &total, &error) < 0)
		log_warning("purge: %s (%llu expired so far)", error, total);
	else
		log_info("purge: expired=%llu, older_than=%ud", total,
			 set->quarantine_days);
	total = 0;
	if (store_outbound_expire_all(st, now - (long long)set->outbound_days
				      * 86400, SCHEDULER_PURGE_BATCH, &total,
				      &error) < 0)
		log_warning("purge: outbound index: %s", error);
	else if (total > 0)
		log_info("purge: outbound_expired=%llu, older_than=%ud", total,
			 set->outbound_days);
	store_close(&st);
	sched.last_purge = now;
}

/* scheduler_take_reload - a reload's settings and engine replace the
   running ones, before the pass it woke the thread for */
static void scheduler_take_reload(void)
{
	struct daemon_config *old_cfg = NULL;
	struct digest *old_dg = NULL;

	pthread_mutex_lock(&sched.lock);
	if (sched.next_dg != NULL) {
		old_cfg = sched.cfg;
		old_dg = sched.dg;
		sched.cfg = sched.next_cfg;
		sched.dg = sched.next_dg;
		sched.set = &sched.cfg->set;
		sched.next_cfg = NULL;
		sched.next_dg = NULL;
	}
	pthread_mutex_unlock(&sched.lock);
	digest_destroy(&old_dg);
	daemon_config_unref(&old_cfg);
}

static void *scheduler_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sched.lock);
	while (!sched.stopping) {
		pthread_mutex_unlock(&sched.lock);
		scheduler_take_reload();
		long long now = (long long)time(NULL);
		scheduler_digest(now);
		if (now - sched.last_purge >= 86400)
			scheduler_purge(now);

		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SCHEDULER_INTERVAL;
		pthread_mutex_lock(&sched.lock);
		while (!sched.stopping && sched.next_dg == NULL
		       && pthread_cond_timedwait(&sched.wake, &sched.lock,
						 &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&sched.lock);
	return NULL;
}

int scheduler_prepare(const struct settings *set, const char **error_r)
{
	sched.set = set;
	return digest_create(set, &sched.dg, error_r);
}

int scheduler_start(struct daemon_config *cfg)
{
	int rc;

	sched.cfg = cfg;
	rc = pthread_create(&sched.thread, NULL, scheduler_main, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	sched.started = 1;
	return 0;
}

int scheduler_reload(struct daemon_config *cfg, const char **error_r)
{
	struct daemon_config *old_cfg;
	struct digest *dg, *old_dg;

	if (digest_create(&cfg->set, &dg, error_r) < 0)
		return -1;
	pthread_mutex_lock(&sched.lock);
	old_cfg = sched.next_cfg;
	old_dg = sched.next_dg;
	sched.next_cfg = daemon_config_ref(cfg);
	sched.next_dg = dg;
	pthread_cond_signal(&sched.wake);
	pthread_mutex_unlock(&sched.lock);
	/* a reload the thread had not taken yet is simply replaced */
	digest_destroy(&old_dg);
	daemon_config_unref(&old_cfg);
	return 0;
}

void scheduler_stop(void)
{
	if (sched.started) {
		pthread_mutex_lock(&sched.lock);
		sched.stopping = 1;
		pthread_cond_signal(&sched.wake);
		pthread_mutex_unlock(&sched.lock);
		pthread_join(sched.thread, NULL);
		sched.started = 0;
	}
	digest_destroy(&sched.dg);
	digest_destroy(&sched.next_dg);
	daemon_config_unref(&sched.cfg);
	daemon_config_unref(&sched.next_cfg);
}
