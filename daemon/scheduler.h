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
 * reference to the config prepare() was given (the thread keeps it).
 * scheduler_reload() builds a digest engine for a reloaded config (its
 * templates, digest_from; the key as the daemon user) and hands both to
 * the thread, which takes them before its next pass and runs that pass
 * at once: a new digest_time, digest_relay or quarantine_days applies
 * from there. It keeps a reference to cfg of its own; -1 with *error_r
 * when the engine cannot be built, and the running one stays.
 * scheduler_stop() wakes the thread, waits for the pass in progress to
 * end, and frees everything.
 */
#ifndef NDRGUARD_SCHEDULER_H
#define NDRGUARD_SCHEDULER_H

struct settings;
struct daemon_config;

int scheduler_prepare(const struct settings *set, const char **error_r);
int scheduler_start(struct daemon_config *cfg);
int scheduler_reload(struct daemon_config *cfg, const char **error_r);
void scheduler_stop(void);

#endif
