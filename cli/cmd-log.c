/*
 * cmd-log.c - ndrguard log: ndrguard's decisions, read back from the
 * audit trail
 *
 * SYNOPSIS
 *	ndrguard log [--since TIME] [--mailbox ADDR] [--limit N] [--json]
 *
 * DESCRIPTION
 *	One line per decision on a held message, oldest first: when, what
 *	(quarantined, released, deleted, expired), who, the message's id,
 *	recipient, queue id, kind, reason and verdict. TIME is a duration
 *	back from now ("2h") or a UTC date "YYYY-MM-DD[THH:MM[:SS]]"
 *	(default 1d). It needs no syslog daemon: the audit trail is in the
 *	database. Messages passed on are not in it (the log setting says
 *	where their lines go).
 */
#include "autoconfig.h"
#include "cli.h"
#include "json.h"
#include "store.h"
#include "strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

/* log_cli_field - one word of a text line: no blanks or control bytes */
static void log_cli_field(struct strbuf *out, const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0') {
		strbuf_putc(out, '-');
		return;
	}
	for (; *s && n < max; s++, n++)
		strbuf_putc(out, (unsigned char)*s <= 0x20 || *s == 0x7f
			    ? '?' : *s);
	if (*s)
		strbuf_puts(out, "...");
}

/* log_cli_json - one audit line as a JSON object on one line */
static void log_cli_json(const struct store_audit *a, struct strbuf *out)
{
	char t[32];

	strbuf_puts(out, "{\"at\":");
	json_append_string(out, cli_format_time(a->at, t, sizeof(t)));
	strbuf_printf(out, ",\"id\":%lld", a->quarantine_id);
	json_append_member(out, 0, "action", a->action);
	json_append_member(out, 0, "actor", a->actor);
	json_append_member(out, 0, "detail", a->detail);
	json_append_member(out, 0, "mailbox", a->mailbox);
	json_append_member(out, 0, "sender", a->sender);
	json_append_member(out, 0, "queue_id", a->queue_id);
	json_append_member(out, 0, "kind", a->kind);
	json_append_member(out, 0, "reason", a->reason);
	json_append_member(out, 0, "verdict", a->verdict);
	strbuf_puts(out, "}\n");
}

/* log_cli_print - one audit line, as text or JSON */
static int log_cli_print(const struct store_audit *a, void *context)
{
	int json = *(const int *)context;
	struct strbuf out = STRBUF_INIT;
	char t[32];

	if (json) {
		log_cli_json(a, &out);
	} else {
		strbuf_printf(&out, "%s %-11s #%-7lld ",
			      cli_format_time(a->at, t, sizeof(t)),
			      a->action ? a->action : "-", a->quarantine_id);
		log_cli_field(&out, a->mailbox, 60);
		strbuf_puts(&out, " queue_id=");
		log_cli_field(&out, a->queue_id, 40);
		strbuf_puts(&out, " kind=");
		log_cli_field(&out, a->kind, 20);
		strbuf_puts(&out, " reason=");
		log_cli_field(&out, a->reason, 20);
		strbuf_puts(&out, " verdict=");
		log_cli_field(&out, a->verdict, 20);
		strbuf_puts(&out, " by=");
		log_cli_field(&out, a->actor, 60);
		strbuf_putc(&out, '\n');
	}
	fputs(strbuf_cstr(&out), stdout);
	strbuf_free(&out);
	return 0;
}

/* log_cli_options - parse argv into filter and *json; EX_OK or a status */
static int log_cli_options(int argc, char **argv, struct store_filter *filter,
			   int *json, int *done)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cli_parse_since(optarg, &filter->since) < 0)
				return cli_usage_error("log", "--since takes a duration (2h, 14d) or a date YYYY-MM-DD[THH:MM[:SS]]");
			break;
		case 'm': filter->mailbox = optarg; break;
		case 'l':
			filter->limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || filter->limit == 0)
				return cli_usage_error("log", "--limit takes a number from 1");
			break;
		case 'j': *json = 1; break;
		case 'h':
			printf("usage: ndrguard log [--since TIME] [--mailbox ADDR] [--limit N] [--json]\n");
			*done = 1;
			return EX_OK;
		default:
			return cli_usage_error("log", "see ndrguard log --help");
		}
	}
	if (optind != argc)
		return cli_usage_error("log", "unexpected argument '%s'", argv[optind]);
	return EX_OK;
}

int cmd_log(int argc, char **argv, const struct cli_context *ctx)
{
	struct store_filter filter = {
		.since = (long long)time(NULL) - 86400, .limit = 10000,
	};
	struct store *st;
	const char *error;
	int json = 0, done = 0, status;

	status = log_cli_options(argc, argv, &filter, &json, &done);
	if (status != EX_OK || done)
		return status;
	if ((status = cli_store_open("log", ctx, &st)) != EX_OK)
		return status;
	if (store_audit_list(st, &filter, log_cli_print, &json, &error) < 0) {
		fprintf(stderr, "ndrguard log: %s\n", error);
		status = EX_TEMPFAIL;
	}
	store_close(&st);
	return status;
}
