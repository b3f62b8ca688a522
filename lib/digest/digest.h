/*
 * digest.h - the daily digest: tell each mailbox owner what was held
 *
 * SYNOPSIS
 *	struct digest *dg;
 *	digest_create(set, &dg, &error);	templates, link key
 *	digest_run(dg, now, &opts, &stats, &error);	as often as wanted
 *	digest_destroy(&dg);
 *
 * DESCRIPTION
 *	A run looks at every mailbox (or opts->mailbox) with held messages
 *	that no digest covered yet, and sends those that are due one
 *	digest through digest_relay with libESMTP: a multipart/alternative
 *	message (text and HTML from the one markup in digest_templates,
 *	its words from LANG/messages: the mailbox's language else
 *	digest_locale) listing the messages most likely
 *	legitimate first, at most digest_max_items of them, each with a
 *	signed release link.
 *
 *	Due: once a day at digest_time (local time), or the mailbox's own
 *	time (digest_set_time()), unless opts->now;
 *	never for mailboxes whose owner chose "never"; for "storms" only
 *	when a storm started since the mailbox's last digest.
 *
 * EXACTLY ONCE
 *	Before the SMTP transaction the digest is recorded as pending,
 *	with its exact bytes and the held messages it covers, in one
 *	transaction. The relay's 250 turns it into "sent"; a refusal or
 *	an unreachable relay drops it, so its messages are listed again by
 *	the next run. When the outcome is unknown - the process died
 *	between the relay's 250 and our update, or the connection broke
 *	after the data went out - the pending digest stays, and the next
 *	run sends it again before anything else for that mailbox, byte
 *	for byte with the same Message-ID (so a mail store that already
 *	has it can recognise the copy), never rebuilt with other contents.
 *	A message is therefore never listed in two different digests.
 *
 *	Digests go out in batches (up to 50 per SMTP session, each with its
 *	own MAIL, RCPT, DATA and outcome): the batch is recorded pending in
 *	one transaction, sent, and the accepted ones marked sent in one
 *	more. The rules above hold per digest.
 *
 *	One pass at a time per database (an flock on DATABASE.digest-lock):
 *	a pass started while another runs - cron and ndrguardd - returns at
 *	once with a SKIPPED event for mailbox "*". So every pending digest a
 *	pass finds was left by a pass that is gone.
 *
 * THREADS
 *	A struct digest is used by one thread at a time. The library never
 *	logs: each decision is handed to opts->report.
 *
 * OWNERSHIP
 *	digest_create() returns an engine the caller frees with
 *	digest_destroy(), which NULLs the pointer. The settings must
 *	outlive it. Strings in a struct digest_event are valid during the
 *	callback only.
 */
#ifndef NDRGUARD_DIGEST_H
#define NDRGUARD_DIGEST_H

#include <stddef.h>

struct settings;
struct digest;

enum digest_event_type {
	DIGEST_EVENT_SENT,		/* the relay accepted a new digest */
	DIGEST_EVENT_RESENT,		/* ... a pending one, sent again */
	DIGEST_EVENT_DEFERRED,		/* refused or unreachable: next run */
	DIGEST_EVENT_UNKNOWN,		/* no answer after the data: kept
					   pending, sent again next run */
	DIGEST_EVENT_SKIPPED,		/* not due, or the owner said no */
	DIGEST_EVENT_DRY_RUN,		/* built, not sent (opts->dry_run) */
	DIGEST_EVENT_ERROR,		/* this mailbox failed; others go on */
};

struct digest_event {
	enum digest_event_type type;
	const char *mailbox;
	const char *message_id;		/* NULL when none was built */
	unsigned int items;		/* held messages covered */
	const char *detail;		/* relay reply, reason for skipping */
	const char *message;		/* DRY_RUN: the whole message */
	size_t size;			/* its length in bytes */
};

struct digest_options {
	const char *mailbox;	/* only this mailbox; NULL: every one */
	int dry_run;		/* build and report, send and record nothing */
	int now;		/* send now, whatever digest_time says */
	void (*report)(const struct digest_event *ev, void *context);
	/* called once the relay accepted a digest, before it is recorded
	   as sent: the crash tests stop the process here */
	void (*accepted)(const char *message_id, void *context);
	void *context;
};

struct digest_stats {
	unsigned int mailboxes;		/* with messages no digest covered */
	unsigned int sent;		/* new digests accepted by the relay */
	unsigned int resent;		/* pending digests sent again */
	unsigned int deferred;		/* refused, unreachable or unknown */
	unsigned int skipped;		/* not due, or mode "never"/"storms" */
	unsigned int errors;
	unsigned long long items;	/* held messages covered by sent ones */
	unsigned long long bytes;	/* size of the digests sent */
};

/*
 * digest_create - load every language's templates under
 * digest_templates (digest_locale's must be there) and the link key
 * (secret_file). Returns 0, or -1 with *error_r ("FILE:LINE: ..." for a
 * broken template; valid until the next call in this thread).
 */
int digest_create(const struct settings *set, struct digest **dg_r,
		  const char **error_r);
void digest_destroy(struct digest **_dg);
/* digest_check_templates - load digest_templates as digest_create()
   does, and let them go: 0, or -1 with *error_r (FILE:LINE) */
int digest_check_templates(const struct settings *set, const char **error_r);
/*
 * digest_run - one pass at time now. Returns 0 when the pass ran (even if
 * some mailboxes were deferred: see stats and the events), -1 with
 * *error_r when it could not start (the database cannot be opened).
 */
int digest_run(struct digest *dg, long long now,
	       const struct digest_options *opts, struct digest_stats *stats,
	       const char **error_r);
/* digest_run_once - digest_create + digest_run + digest_destroy */
int digest_run_once(const struct settings *set, long long now,
		    const struct digest_options *opts,
		    struct digest_stats *stats, const char **error_r);
/* digest_due_since - the last digest_time ("HH:MM") at or before now,
   local time: a mailbox whose last digest is older is due */
long long digest_due_since(const char *digest_time, long long now);
/* digest_time_valid - "HH:MM", 00:00 to 23:59 */
int digest_time_valid(const char *hhmm);
/*
 * digest_set_time - the mailbox's own digest time instead of digest_time
 * (hhmm NULL: back to digest_time). Returns 0, or -1 with *error_r.
 */
int digest_set_time(const struct settings *set, const char *mailbox,
		    const char *hhmm, long long now, const char **error_r);

#endif
