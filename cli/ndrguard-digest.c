/*
 * ndrguard-digest.c - send the daily quarantine digests
 *
 * SYNOPSIS
 *	ndrguard-digest [-c FILE] [--dry-run] [--mailbox ADDR] [--now]
 *	ndrguard-digest [-c FILE] --mailbox ADDR --set-time HH:MM|default
 *
 * DESCRIPTION
 *	One pass of the digest engine (lib/digest/digest.h): each mailbox with
 *	held messages that no digest covered yet and whose digest is due
 *	gets one, through digest_relay. `ndrguard digest` execs this
 *	program, so that the per-message pipe agent never loads libESMTP
 *	or OpenSSL; ndrguardd calls the same library from its scheduler.
 *
 *	--dry-run	build the digests and write them to stdout as an
 *			mbox; send and record nothing
 *	--mailbox ADDR	only this mailbox
 *	--now		ignore digest_time: send what is waiting now
 *	--set-time	give the mailbox its own time of day for its digest
 *			("default": back to digest_time), and do nothing else
 *
 *	One syslog line per decision; the problems (deferred, errors) also
 *	on stderr, and every line when stderr is a terminal or
 *	NDRGUARD_LOG_STDERR is set. Then a summary on stdout: "digest:
 *	N mailboxes, N sent, N resent, N deferred, N skipped, N errors,
 *	N items, N bytes" (from cron: ndrguard digest >/dev/null, so that
 *	cron mails only the problems).
 *
 * ENVIRONMENT
 *	NDRGUARD_DIGEST_CRASH=accepted makes the program exit (status 70)
 *	right after the relay accepted a digest and before it is recorded
 *	as sent: the test suite uses it to check crash recovery.
 *
 *	Started as root, the program first becomes the owner of the
 *	database (the user the pipe agents and ndrguardd run as), so that
 *	nothing it creates - SQLite's WAL and shared-memory files, the link
 *	key in secret_file - locks them out. Without a database (nothing
 *	was ever held) there is nothing to do.
 *
 * DIAGNOSTICS
 *	Exit 0 when every due digest went out; 75 (EX_TEMPFAIL) when one
 *	was deferred, failed, or the database could not be opened (run
 *	again later: nothing is sent twice); 78 (EX_CONFIG) for a bad
 *	configuration or template (naming FILE:LINE); 64 for bad usage; 65
 *	(EX_DATAERR) for a --set-time that is not HH:MM.
 */
#include "autoconfig.h"
#include "config.h"
#include "digest.h"
#include "log.h"
#include "settings.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static const char *const digest_event_names[] = {
	[DIGEST_EVENT_SENT] = "sent",
	[DIGEST_EVENT_RESENT] = "resent",
	[DIGEST_EVENT_DEFERRED] = "deferred",
	[DIGEST_EVENT_UNKNOWN] = "unknown",
	[DIGEST_EVENT_SKIPPED] = "skipped",
	[DIGEST_EVENT_DRY_RUN] = "dry-run",
	[DIGEST_EVENT_ERROR] = "error",
};

/* digest_print_mbox - a dry-run digest as one mbox entry, LF lines */
static void digest_print_mbox(const struct digest_event *ev)
{
	time_t now = time(NULL);
	char date[64];
	const char *p = ev->message, *end = ev->message + ev->size;

	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", gmtime(&now));
	printf("From ndrguard-digest %s\n", date);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		size_t n = (size_t)(stop - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		printf("%.*s\n", (int)n, p);
		p = eol ? eol + 1 : end;
	}
	printf("\n");
}

/* every log line goes to stderr too when this is set (a terminal, or
   NDRGUARD_LOG_STDERR); otherwise only problems do, so cron mails them */
static int digest_log_stderr;

static void digest_problem(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* digest_problem - a warning for syslog, and for cron's mail */
static void digest_problem(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warning("%s", line);
	if (!digest_log_stderr)
		fprintf(stderr, "ndrguard %s\n", line);
}

static void digest_report(const struct digest_event *ev, void *context)
{
	const char *name = digest_event_names[ev->type];

	if (ev->type == DIGEST_EVENT_DRY_RUN)
		digest_print_mbox(ev);
	if (ev->type == DIGEST_EVENT_ERROR || ev->type == DIGEST_EVENT_DEFERRED
	    || ev->type == DIGEST_EVENT_UNKNOWN)
		digest_problem("digest: to=<%s>, message-id=%s, items=%u, "
			       "status=%s (%s)", ev->mailbox,
			       ev->message_id ? ev->message_id : "none",
			       ev->items, name, ev->detail ? ev->detail : "");
	else
		log_info("digest: to=<%s>, message-id=%s, items=%u, "
			 "status=%s%s%s%s", ev->mailbox,
			 ev->message_id ? ev->message_id : "none", ev->items,
			 name, ev->detail ? " (" : "",
			 ev->detail ? ev->detail : "", ev->detail ? ")" : "");
}

static void digest_crash_after_accept(const char *message_id, void *context)
{
	const char *crash = getenv("NDRGUARD_DIGEST_CRASH");

	if (crash != NULL && strcmp(crash, "accepted") == 0) {
		fprintf(stderr, "ndrguard-digest: NDRGUARD_DIGEST_CRASH: "
			"exiting after the relay accepted %s\n", message_id);
		_exit(EX_SOFTWARE);
	}
}

/*
 * digest_drop_privileges - started as root (from cron), become the owner
 * of the database, as the pipe agents and ndrguardd are: SQLite files a
 * root process creates beside the database (the WAL, the shared memory
 * index) and a link key it creates would lock them out.
 */
static int digest_drop_privileges(const char *database)
{
	struct stat st;

	if (geteuid() != 0 || stat(database, &st) < 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0
	    || setuid(st.st_uid) < 0) {
		digest_problem("digest: cannot become uid %u gid %u, the owner "
			       "of %s: %s", (unsigned int)st.st_uid,
			       (unsigned int)st.st_gid, database,
			       strerror(errno));
		return -1;
	}
	return 0;
}

static int digest_usage(void)
{
	fprintf(stderr, "usage: ndrguard-digest [-c FILE] [--dry-run] "
		"[--mailbox ADDR] [--now]\n"
		"       ndrguard-digest [-c FILE] --mailbox ADDR "
		"--set-time HH:MM|default\n");
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "now", no_argument, NULL, 'N' },
		{ "set-time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct digest_options opts = {
		.report = digest_report,
		.accepted = digest_crash_after_accept,
	};
	struct digest_stats stats;
	struct settings set;
	struct digest *dg;
	const char *path = NULL, *error, *set_time = NULL;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'n': opts.dry_run = 1; break;
		case 'm': opts.mailbox = optarg; break;
		case 'N': opts.now = 1; break;
		case 't': set_time = optarg; break;
		case 'h': digest_usage(); return EX_OK;
		default: return digest_usage();
		}
	}
	if (optind != argc || (set_time != NULL && opts.mailbox == NULL))
		return digest_usage();
	if (path == NULL && access(config_default_path, F_OK) == 0)
		path = config_default_path;
	if (path == NULL)
		config_defaults(&set);
	else if (config_load(&set, path, &error) < 0) {
		fprintf(stderr, "ndrguard digest: %s\n", error);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (config_check_files(&set, path, &error) < 0) {
		fprintf(stderr, "ndrguard digest: %s\n", error);
		settings_free(&set);
		return EX_CONFIG;
	}
	digest_log_stderr = isatty(2) || getenv("NDRGUARD_LOG_STDERR") != NULL;
	log_init(set.syslog_name, set.syslog_facility, digest_log_stderr);
	if (log_target(set.log, &error) < 0)
		fprintf(stderr, "ndrguard digest: log = %s: %s\n", set.log, error);
	if (digest_drop_privileges(set.database) < 0) {
		settings_free(&set);
		return EX_TEMPFAIL;
	}
	if (set_time != NULL) {
		/* the mailbox's own time of day; "default": digest_time */
		if (digest_set_time(&set, opts.mailbox, strcmp(set_time,
				    "default") == 0 ? NULL : set_time,
				    (long long)time(NULL), &error) < 0) {
			fprintf(stderr, "ndrguard digest: %s: %s\n",
				opts.mailbox, error);
			settings_free(&set);
			return EX_DATAERR;
		}
		log_info("digest: to=<%s>, digest_time=%s", opts.mailbox,
			 set_time);
		settings_free(&set);
		return EX_OK;
	}
	if (digest_create(&set, &dg, &error) < 0) {
		digest_problem("digest: %s", error);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (digest_run(dg, (long long)time(NULL), &opts, &stats, &error) < 0) {
		digest_problem("digest: %s", error);
		status = EX_TEMPFAIL;
	} else {
		/* on stderr in a dry run: stdout is the mbox */
		fprintf(opts.dry_run ? stderr : stdout,
			"digest: %u mailboxes, %u sent, %u resent, "
			"%u deferred, %u skipped, %u errors, %llu items, "
			"%llu bytes\n", stats.mailboxes, stats.sent,
			stats.resent, stats.deferred, stats.skipped,
			stats.errors, stats.items, stats.bytes);
		status = stats.deferred || stats.errors ? EX_TEMPFAIL : EX_OK;
	}
	digest_destroy(&dg);
	settings_free(&set);
	return status;
}
