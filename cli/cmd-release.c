/*
 * cmd-release.c - ndrguard release and ndrguard delete
 *
 * SYNOPSIS
 *	ndrguard release ID...
 *	ndrguard delete ID...
 *
 * DESCRIPTION
 *	release re-injects each held message unchanged to its mailbox (the
 *	same path as the release page) and marks it released; delete marks
 *	it deleted. Each id gets one line of result; the audit log records
 *	the action with the invoking user's name.
 *
 * DIAGNOSTICS
 *	Exit 0 when every id was done; 66 (EX_NOINPUT) when an id does not
 *	exist or is no longer held; 75 (EX_TEMPFAIL) when the store or the
 *	re-injection failed (the message stays held).
 */
#include "autoconfig.h"
#include "cli.h"
#include "log.h"
#include "release.h"
#include "store.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* release_actor - "cli:USER", for the audit log */
static const char *cmd_release_actor(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(buf, size, "cli:%s", pw ? pw->pw_name : "?");
	return buf;
}

static int cmd_release_one(const char *verb, const struct cli_context *ctx,
			   struct store *st, long long id, const char *actor)
{
	enum release_outcome outcome;
	const char *error;
	long long now = (long long)time(NULL);
	int deleting = strcmp(verb, "delete") == 0;
	int ret = deleting
		? release_delete(st, id, actor, now, &outcome, &error)
		: release_item(st, ctx->set->reinject, id, actor, now,
			       &outcome, &error);

	if (ret < 0) {
		fprintf(stderr, "ndrguard %s: %lld: %s (still held)\n", verb,
			id, error);
		return EX_TEMPFAIL;
	}
	switch (outcome) {
	case RELEASE_NOT_FOUND:
		fprintf(stderr, "ndrguard %s: no message with id %lld\n",
			verb, id);
		return EX_NOINPUT;
	case RELEASE_NOT_HELD:
		fprintf(stderr, "ndrguard %s: %lld is not held any more\n",
			verb, id);
		return EX_NOINPUT;
	case RELEASE_DONE:
		break;
	}
	printf("%lld: %s\n", id, deleting ? "deleted" : "released");
	log_info("id=%lld: %s by %s", id, deleting ? "deleted" : "released",
		 actor);
	return EX_OK;
}

static int cmd_release_run(const char *verb, int argc, char **argv,
			   const struct cli_context *ctx)
{
	struct store *st;
	char actor[64];
	long long id;
	int status = EX_OK;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("usage: ndrguard %s ID...\n", verb);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	for (int i = 1; i < argc; i++)
		if (cli_parse_id(verb, argv[i], &id) < 0)
			return EX_USAGE;
	log_init(ctx->set->syslog_name, ctx->set->syslog_facility, 0);
	if ((status = cli_store_open(verb, ctx, &st)) != EX_OK)
		return status;
	cmd_release_actor(actor, sizeof(actor));
	for (int i = 1; i < argc; i++) {
		cli_parse_id(verb, argv[i], &id);
		int one = cmd_release_one(verb, ctx, st, id, actor);
		/* a temporary failure outranks a missing id */
		if (one != EX_OK && status != EX_TEMPFAIL)
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
