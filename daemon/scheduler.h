/*
 * scheduler.h - ndrguardd's periodic work: digests and retention
 *
 * One thread wakes every minute: it runs the digest engine (digest.h),
 * which sends what is due at digest_time and retries what a relay
 * refused, and once a day it expires held messages older than
 * quarantine_days, in short batches, as `ndrguard purge` does.
 *
 * scheduler_prepare() loads the templates and the link key, so call it
 * while still root; scheduler_start() after dropping privileges, with a
 * reference to the config prepare() was given (the thread keeps it, so
 * a SIGHUP reload does not free its settings: digest and retention
 * settings change with a restart); scheduler_stop() wakes the thread,
 * waits for the pass in progress to end, and frees everything.
 */
#ifndef NDRGUARD_SCHEDULER_H
#define NDRGUARD_SCHEDULER_H

struct settings;
struct daemon_config;

int scheduler_prepare(const struct settings *set, const char **error_r);
int scheduler_start(struct daemon_config *cfg);
void scheduler_stop(void);

#endif
