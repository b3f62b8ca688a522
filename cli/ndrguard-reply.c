/*
 * ndrguard-reply.c - release by reply: act on an owner's answer to a digest
 *
 * SYNOPSIS
 *	ndrguard-reply [-c FILE] -f SENDER -- RECIPIENT < message
 *
 * DESCRIPTION
 *	The pipe(8) transport's program for the digests' reply addresses
 *	(reply_address, doc/postfix/reply-*.cf): it checks the token in
 *	RECIPIENT, releases the items the owner's text names (the numbers
 *	the digest shows) or attaches, and mails the digest's mailbox what
 *	it did (lib/release/reply.h). `ndrguard reply` execs this program,
 *	so that the pipe agent never loads OpenSSL.
 *
 *	One log line per decision (syslog, or `log`).
 *
 * DIAGNOSTICS
 *	Exit 0 when the reply was dealt with, refusals included (a forged
 *	or automatic reply is dropped, logged); 75 (EX_TEMPFAIL) when the
 *	store, the link key or the answer's hop failed (Postfix retries;
 *	what was released is not released again); 78 (EX_CONFIG) for a bad
 *	configuration or reply_address off; 64 for bad usage.
 */
#include "autoconfig.h"
#include "config.h"
#include "log.h"
#include "reply.h"
#include "settings.h"
#include "store.h"
#include "strbuf.h"
#include "token.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* reply_read_stdin - the message, at most limit + 1 bytes kept (the
   rest is read and dropped: a huge reply is refused, not held in
   memory); -1 on a read error */
static int reply_read_stdin(struct strbuf *msg, size_t limit)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (msg->len <= limit)
			strbuf_append(msg, buf, n < limit + 1 - msg->len
				      ? n : limit + 1 - msg->len);
	return ferror(stdin) ? -1 : 0;
}

static int reply_usage(void)
{
	fprintf(stderr, "usage: ndrguard-reply [-c FILE] -f SENDER -- "
		"RECIPIENT < message\n");
	return EX_USAGE;
}

/* reply_load - the settings, checked; EX_OK or the exit status */
static int reply_load(const char *path, struct settings *set)
{
	const char *error;

	if (path == NULL && access(config_default_path, F_OK) == 0)
		path = config_default_path;
	if (path == NULL)
		config_defaults(set);
	else if (config_load(set, path, &error) < 0) {
		fprintf(stderr, "ndrguard reply: %s\n", error);
		return EX_CONFIG;
	}
	log_init(set->syslog_name, set->syslog_facility,
		 getenv("NDRGUARD_LOG_STDERR") != NULL);
	if (log_target(set->log, &error) < 0)
		fprintf(stderr, "ndrguard reply: log = %s: %s\n", set->log,
			error);
	if (set->reply_address == NULL || *set->reply_address == '\0') {
		log_error("reply: reply_address is not set: replies to "
			  "digests are off");
		return EX_CONFIG;
	}
	return EX_OK;
}

/* reply_run - open key and store, handle the message */
static int reply_run(const struct settings *set, const char *sender,
		     const char *rcpt, const struct strbuf *msg)
{
	struct store_options opts = { .busy_timeout_ms =
		settings_busy_timeout_ms(set), .create = 1 };
	struct token_key *key = NULL;
	struct store *st = NULL;
	const char *error;
	int status = EX_OK;

	if (token_key_load(set->secret_file, 0, &key, &error) < 0
	    || store_open(set->database, &opts, &st, &error) < 0) {
		log_error("reply: to=<%s>: %s", rcpt, error);
		fprintf(stderr, "4.3.0 %s\n", error);
		status = EX_TEMPFAIL;
	} else if (reply_handle(set, key, st, sender, rcpt,
				msg->data ? msg->data : "", msg->len,
				(long long)time(NULL), &error) < 0) {
		fprintf(stderr, "4.3.0 %s\n", error);
		status = EX_TEMPFAIL;
	}
	if (st != NULL)
		store_close(&st);
	token_key_free(&key);
	return status;
}

int main(int argc, char **argv)
{
	struct strbuf msg = STRBUF_INIT;
	struct settings set;
	const char *path = NULL, *sender = NULL;
	int c, status;

	while ((c = getopt(argc, argv, "c:f:")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'f': sender = optarg; break;
		default: return reply_usage();
		}
	}
	if (sender == NULL || optind + 1 != argc)
		return reply_usage();
	status = reply_load(path, &set);
	if (status == EX_OK && reply_read_stdin(&msg, set.message_size_limit) < 0) {
		fprintf(stderr, "4.3.0 cannot read the message\n");
		status = EX_TEMPFAIL;
	}
	if (status == EX_OK)
		status = reply_run(&set, sender, argv[optind], &msg);
	strbuf_free(&msg);
	settings_free(&set);
	return status;
}
