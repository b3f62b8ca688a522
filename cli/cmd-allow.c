/*
 * cmd-allow.c - ndrguard allow: the mailbox owners' allow rules
 *
 * SYNOPSIS
 *	ndrguard allow list [--mailbox ADDR]
 *	ndrguard allow add MAILBOX domain|recipient VALUE
 *	ndrguard allow remove RULE_ID...
 * DESCRIPTION
 *	The same rules an owner adds and removes on the release page
 *	(sql/0009-owner-actions.sql): a bounce to MAILBOX from the reporting
 *	domain VALUE (or a host under it), or about mail to the address
 *	VALUE, is delivered even during a storm. Each change is audited
 *	with the actor "cli:USER"; adding a rule that exists, or removing
 *	one that is gone, says so and succeeds.
 */
#include "autoconfig.h"
#include "cli.h"
#include "reporter.h"
#include "store.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* cmd_allow_actor - "cli:USER", for the audit trail */
static void cmd_allow_actor(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(buf, size, "cli:%s", pw ? pw->pw_name : "?");
}

/* cmd_allow_print - one rule a line: id, mailbox, kind, value, since */
static int cmd_allow_print(const struct store_allow *rule, void *context)
{
	char when[32];

	(void)context;
	printf("%-6lld %-32s %-9s %-32s %s\n", rule->id, rule->mailbox,
	       rule->kind, rule->value,
	       cli_format_time(rule->created, when, sizeof(when)));
	return 0;
}

static int cmd_allow_list(int argc, char **argv, struct store *st)
{
	const char *mailbox = NULL, *error;

	if (argc == 3 && strcmp(argv[1], "--mailbox") == 0)
		mailbox = argv[2];
	else if (argc != 1)
		return cli_usage_error("allow", "usage: ndrguard allow list "
				       "[--mailbox ADDR]");
	printf("%-6s %-32s %-9s %-32s %s\n", "RULE", "MAILBOX", "KIND",
	       "VALUE", "SINCE");
	if (store_allow_list(st, mailbox, cmd_allow_print, NULL, &error) < 0) {
		fprintf(stderr, "ndrguard allow: %s\n", error);
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

/* cmd_allow_commit - commit the write ret says succeeded, or roll back */
static int cmd_allow_commit(struct store *st, int ret, const char **error_r)
{
	if (ret < 0 || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int cmd_allow_add(int argc, char **argv, struct store *st,
			 const char *actor)
{
	const char *error;
	char *value;
	long long id;
	int created, ret;

	if (argc != 4)
		return cli_usage_error("allow", "usage: ndrguard allow add "
				       "MAILBOX domain|recipient VALUE");
	if (strchr(argv[1], '@') == NULL || strlen(argv[1]) > 254)
		return cli_usage_error("allow", "'%s' is not a mailbox "
				       "address", argv[1]);
	if (reporter_rule_value(argv[2], argv[3], &value, &error) < 0)
		return cli_usage_error("allow", "%s", error);
	ret = store_begin(st, &error);
	if (ret == 0)
		ret = cmd_allow_commit(st, store_allow_add(st, argv[1],
			argv[2], value, actor, (long long)time(NULL), &id,
			&created, &error), &error);
	free(value);
	if (ret < 0) {
		fprintf(stderr, "ndrguard allow: %s (nothing changed)\n", error);
		return EX_TEMPFAIL;
	}
	printf("%lld: %s\n", id, created ? "added" : "already there");
	return EX_OK;
}

static int cmd_allow_remove(int argc, char **argv, struct store *st,
			    const char *actor)
{
	const char *error;
	long long id;
	int removed;

	if (argc < 2)
		return cli_usage_error("allow", "usage: ndrguard allow remove "
				       "RULE_ID...");
	for (int i = 1; i < argc; i++)
		if (cli_parse_id("allow", argv[i], &id) < 0)
			return EX_USAGE;
	for (int i = 1; i < argc; i++) {
		cli_parse_id("allow", argv[i], &id);
		if (store_begin(st, &error) < 0 ||
		    cmd_allow_commit(st, store_allow_remove(st, id, NULL,
			actor, (long long)time(NULL), &removed, &error),
			&error) < 0) {
			fprintf(stderr, "ndrguard allow: %lld: %s\n", id, error);
			return EX_TEMPFAIL;
		}
		printf("%lld: %s\n", id, removed ? "removed" : "not there "
		       "(removed already, or no such rule)");
	}
	return EX_OK;
}

int cmd_allow(int argc, char **argv, const struct cli_context *ctx)
{
	struct store *st;
	char actor[64];
	int status;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("usage: ndrguard allow list [--mailbox ADDR]\n"
		       "       ndrguard allow add MAILBOX domain|recipient VALUE\n"
		       "       ndrguard allow remove RULE_ID...\n");
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "remove") != 0)
		return cli_usage_error("allow", "'%s': say list, add or remove",
				       argv[1]);
	if ((status = cli_store_open("allow", ctx, &st)) != EX_OK)
		return status;
	cmd_allow_actor(actor, sizeof(actor));
	if (strcmp(argv[1], "list") == 0)
		status = cmd_allow_list(argc - 1, argv + 1, st);
	else if (strcmp(argv[1], "add") == 0)
		status = cmd_allow_add(argc - 1, argv + 1, st, actor);
	else
		status = cmd_allow_remove(argc - 1, argv + 1, st, actor);
	store_close(&st);
	return status;
}
