/*
 * cmd-release.c - ndrguard release and ndrguard delete
 *
 * SYNOPSIS
 *	ndrguard release [--resend | --mark-released] ID...
 *	ndrguard delete ID...
 *
 * DESCRIPTION
 *	release re-injects each held message unchanged to its mailbox (the
 *	same path as the release page) exactly once: it claims the item,
 *	hands it on and records the hop's answer (release.h). delete marks
 *	it deleted. Each id gets one line of result; the audit log records
 *	the action with the invoking user's name.
 *
 *	An item "in doubt" was handed on by an attempt that died before the
 *	hop's answer was recorded: it is never sent again on its own. Look
 *	for its Message-ID in the mail log, then --mark-released (it went
 *	out) or --resend (it did not).
 *
 * DIAGNOSTICS
 *	Exit 0 when every id was released (or deleted); 66 (EX_NOINPUT)
 *	when an id does not exist or is no longer held (already released
 *	included); 75 (EX_TEMPFAIL) when nothing was sent and the message
 *	stays held, or another process is releasing it right now; 69
 *	(EX_UNAVAILABLE) when an item is in doubt. The worst one wins.
 */
#include "autoconfig.h"
#include "cli.h"
#include "log.h"
#include "release.h"
#include "store.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* cmd_release_actor - "cli:USER", for the audit log */
static const char *cmd_release_actor(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(buf, size, "cli:%s", pw ? pw->pw_name : "?");
	return buf;
}

/* cmd_release_retrying - the hop took it, the record is being retried */
static void cmd_release_retrying(long long id, const char *error,
				 void *context)
{
	(void)context;
	fprintf(stderr, "ndrguard release: %lld: handed on, recording it "
		"failed (%s); retrying\n", id, error);
}

/* cmd_release_doubt - the truth about an item in doubt, and what to do */
static int cmd_release_doubt(long long id, const struct release_result *r)
{
	fprintf(stderr, "ndrguard release: %lld: in doubt: handed on by %s "
		"(%s) with no answer recorded; it may have been delivered. "
		"Look for Message-ID %s in the mail log, then run ndrguard "
		"release --mark-released %lld (it went out) or --resend %lld "
		"(it did not)\n", id, r->owner, r->actor,
		r->message_id[0] ? r->message_id : "(none)", id, id);
	return EX_UNAVAILABLE;
}

/* cmd_release_said - one line on what release_item() found */
static int cmd_release_said(const char *verb, long long id,
			    const char *actor, const struct release_result *r)
{
	char t[32];

	switch (r->outcome) {
	case RELEASE_DONE:
		printf("%lld: released (%s)%s\n", id, r->reply, r->unrecorded
		       ? "; recording it failed: the next release of this id "
			 "records it, or reports it in doubt" : "");
		log_info("id=%lld: released by %s: %s%s", id, actor, r->reply,
			 r->unrecorded ? " (not recorded yet)" : "");
		return EX_OK;
	case RELEASE_ALREADY:
		fprintf(stderr, "ndrguard %s: %lld is not held any more: "
			"already released\n", verb, id);
		return EX_NOINPUT;
	case RELEASE_BUSY:
		fprintf(stderr, "ndrguard %s: %lld: already being released by "
			"%s since %s\n", verb, id, r->actor,
			cli_format_time(r->since, t, sizeof(t)));
		return EX_TEMPFAIL;
	case RELEASE_IN_DOUBT:
		return cmd_release_doubt(id, r);
	case RELEASE_NOT_IN_DOUBT:
		fprintf(stderr, "ndrguard %s: %lld is not in doubt; use "
			"ndrguard release %lld\n", verb, id, id);
		return EX_NOINPUT;
	case RELEASE_NOT_FOUND:
		fprintf(stderr, "ndrguard %s: no message with id %lld\n",
			verb, id);
		return EX_NOINPUT;
	case RELEASE_NOT_HELD:
		break;
	}
	fprintf(stderr, "ndrguard %s: %lld is not held any more\n", verb, id);
	return EX_NOINPUT;
}

/* cmd_release_item - release (or settle, when settle is "--resend" or
   "--mark-released") one id */
static int cmd_release_item(const struct cli_context *ctx, struct store *st,
			    long long id, const char *actor,
			    const char *settle)
{
	struct release_result r = { .retrying = cmd_release_retrying };
	const char *error;
	long long now = (long long)time(NULL);
	int ret = settle == NULL
		? release_item(st, ctx->set->reinject, id, actor, now, &r,
			       &error)
		: release_settle(st, ctx->set->reinject, id,
				 strcmp(settle, "--resend") == 0, actor, now,
				 &r, &error);

	if (ret < 0) {
		fprintf(stderr, "ndrguard release: %lld: %s (nothing sent, "
			"still held)\n", id, error);
		return EX_TEMPFAIL;
	}
	return cmd_release_said("release", id, actor, &r);
}

static int cmd_delete_item(struct store *st, long long id, const char *actor)
{
	enum release_outcome outcome;
	const char *error;

	if (release_delete(st, id, actor, (long long)time(NULL), &outcome,
			   &error) < 0) {
		fprintf(stderr, "ndrguard delete: %lld: %s (still held)\n", id,
			error);
		return EX_TEMPFAIL;
	}
	if (outcome != RELEASE_DONE) {
		struct release_result r = { .outcome = outcome };
		return cmd_release_said("delete", id, actor, &r);
	}
	printf("%lld: deleted\n", id);
	log_info("id=%lld: deleted by %s", id, actor);
	return EX_OK;
}

/* cmd_release_rank - which exit status of two wins */
static int cmd_release_rank(int status)
{
	return status == EX_UNAVAILABLE ? 3 : status == EX_TEMPFAIL ? 2
		: status != EX_OK ? 1 : 0;
}

static int cmd_release_run(const char *verb, int argc, char **argv,
			   const struct cli_context *ctx)
{
	const char *settle = NULL;
	struct store *st;
	char actor[64];
	long long id;
	int status = EX_OK, first = 1;

	if (argc >= 2 && strcmp(verb, "release") == 0
	    && (strcmp(argv[1], "--resend") == 0
		|| strcmp(argv[1], "--mark-released") == 0))
		settle = argv[first++];
	if (argc < first + 1 || strcmp(argv[1], "--help") == 0) {
		printf(strcmp(verb, "release") == 0
		       ? "usage: ndrguard release [--resend | --mark-released] ID...\n"
		       : "usage: ndrguard delete ID...\n");
		return argc < first + 1 ? EX_USAGE : EX_OK;
	}
	for (int i = first; i < argc; i++)
		if (cli_parse_id(verb, argv[i], &id) < 0)
			return EX_USAGE;
	/* NDRGUARD_LOG_STDERR: the log line on stderr too, as deliver does */
	cli_log_init(ctx, getenv("NDRGUARD_LOG_STDERR") != NULL);
	if ((status = cli_store_open(verb, ctx, &st)) != EX_OK)
		return status;
	cmd_release_actor(actor, sizeof(actor));
	for (int i = first; i < argc; i++) {
		cli_parse_id(verb, argv[i], &id);
		int one = strcmp(verb, "delete") == 0
			? cmd_delete_item(st, id, actor)
			: cmd_release_item(ctx, st, id, actor, settle);
		if (cmd_release_rank(one) > cmd_release_rank(status))
			status = one;
	}
	store_close(&st);
	return status;
}

int cmd_release(int argc, char **argv, const struct cli_context *ctx)
{
	return cmd_release_run("release", argc, argv, ctx);
}

int cmd_delete(int argc, char **argv, const struct cli_context *ctx)
{
	return cmd_release_run("delete", argc, argv, ctx);
}
