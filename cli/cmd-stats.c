/*
 * cmd-stats.c - ndrguard stats and ndrguard storms: what the quarantine saw
 *
 * SYNOPSIS
 *	ndrguard stats [--since TIME] [--top N] [--json]
 *	ndrguard storms [--active] [--limit N] [--json]
 *
 * DESCRIPTION
 *	stats counts held messages by kind and state, storms active and
 *	past, and names the most targeted mailboxes and domains (by messages
 *	held since TIME, default 30d). storms lists storms newest first:
 *	mailbox, start, last message, end (or "active"), messages held.
 *	Only what reached the quarantine is counted: messages passed on are
 *	in the maillog, one line each.
 */
#include "autoconfig.h"
#include "cli.h"
#include "config.h"
#include "json.h"
#include "store.h"
#include "strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

struct stats_out {
	struct strbuf buf;
	int json;
	int first;
	long long active, past;
	struct store_calm calm;	/* storms quiet for the cooldown are over */
};

static int stats_kind_row(const char *kind, const char *state, long long n,
			  void *context)
{
	struct stats_out *o = context;

	if (o->json) {
		strbuf_puts(&o->buf, o->first ? "" : ",");
		strbuf_puts(&o->buf, "{\"kind\":");
		json_append_string(&o->buf, kind);
		strbuf_puts(&o->buf, ",\"state\":");
		json_append_string(&o->buf, state);
		strbuf_printf(&o->buf, ",\"count\":%lld}", n);
	} else {
		strbuf_printf(&o->buf, "  %-14s %-9s %lld\n", kind,
			      state ? state : "-", n);
	}
	o->first = 0;
	return 0;
}

static int stats_top_row(const char *name, const char *state, long long n,
			 void *context)
{
	struct stats_out *o = context;

	(void)state;
	if (o->json) {
		strbuf_puts(&o->buf, o->first ? "" : ",");
		strbuf_puts(&o->buf, "{\"name\":");
		json_append_string(&o->buf, name);
		strbuf_printf(&o->buf, ",\"count\":%lld}", n);
	} else {
		strbuf_printf(&o->buf, "  %-40s %lld\n", name, n);
	}
	o->first = 0;
	return 0;
}

static int stats_storm_count(const struct store_storm_row *row, void *context)
{
	struct stats_out *o = context;

	if (row->ended == 0)
		o->active++;
	else
		o->past++;
	return 0;
}

/* stats_total_row - one store total, {"group":..,"name":..,"count":N} */
static int stats_total_row(const char *group, const char *name, long long n,
			   void *context)
{
	struct stats_out *o = context;

	strbuf_puts(&o->buf, o->first ? "{\"group\":" : ",{\"group\":");
	json_append_string(&o->buf, group);
	json_append_member(&o->buf, 0, "name", name);
	strbuf_printf(&o->buf, ",\"count\":%lld}", n);
	o->first = 0;
	return 0;
}

/* stats_section - a titled list (text) or a named array (JSON) */
static int stats_section(struct store *st, struct stats_out *o,
			 const char *title, const char *key, int which,
			 long long since, unsigned int top,
			 const char **error_r)
{
	int ret;

	if (o->json)
		strbuf_printf(&o->buf, ",\"%s\":[", key);
	else
		strbuf_printf(&o->buf, "%s\n", title);
	o->first = 1;
	ret = which < 0
		? store_stats_kinds(st, stats_kind_row, o, error_r)
		: store_stats_top(st, which, since, top, stats_top_row, o,
				  error_r);
	if (o->json)
		strbuf_putc(&o->buf, ']');
	return ret;
}

static int stats_run(struct store *st, struct stats_out *o, long long since,
		     unsigned int top, const char **error_r)
{
	if (store_storm_list(st, &o->calm, 0, 0, stats_storm_count, o,
			     error_r) < 0)
		return -1;
	if (o->json)
		strbuf_printf(&o->buf, "{\"storms_active\":%lld,"
			      "\"storms_past\":%lld", o->active, o->past);
	else
		strbuf_printf(&o->buf, "storms: %lld active, %lld past\n",
			      o->active, o->past);
	if (stats_section(st, o, "held messages by kind and state:", "kinds",
			  -1, 0, 0, error_r) < 0
	    || stats_section(st, o, "most targeted mailboxes:", "mailboxes",
			     0, since, top, error_r) < 0
	    || stats_section(st, o, "most targeted domains:", "domains", 1,
			     since, top, error_r) < 0)
		return -1;
	/* the totals /metrics shows (audit actions, digests), for scripts */
	if (o->json) {
		strbuf_puts(&o->buf, ",\"totals\":[");
		o->first = 1;
		if (store_stats_totals(st, &o->calm, stats_total_row, o,
				       error_r) < 0)
			return -1;
		strbuf_puts(&o->buf, "]}\n");
	}
	return 0;
}

/* stats_finish - print what was built, or why it failed; close up */
static int stats_finish(const char *verb, int ret, const char *error,
			struct stats_out *o, struct store **st)
{
	int status = EX_OK;

	if (ret < 0) {
		fprintf(stderr, "ndrguard %s: %s\n", verb, error);
		status = EX_TEMPFAIL;
	} else {
		fputs(strbuf_cstr(&o->buf), stdout);
	}
	strbuf_free(&o->buf);
	store_close(st);
	return status;
}

int cmd_stats(int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct stats_out o = { .buf = STRBUF_INIT,
		.calm = { time(NULL), ctx->set->storm_cooldown } };
	long long since = (long long)time(NULL) - 30 * 86400, secs;
	unsigned int top = 10;
	struct store *st;
	const char *error = NULL;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((secs = config_parse_duration(optarg)) < 0)
				return cli_usage_error("stats", "--since takes a duration (7d, 12h)");
			since = (long long)time(NULL) - secs;
			break;
		case 't':
			top = (unsigned int)strtoul(optarg, NULL, 10);
			if (top == 0 || top > 1000)
				return cli_usage_error("stats", "--top takes 1 to 1000");
			break;
		case 'j': o.json = 1; break;
		case 'h':
			printf("usage: ndrguard stats [--since TIME] [--top N] [--json]\n");
			return EX_OK;
		default:
			return cli_usage_error("stats", "see ndrguard stats --help");
		}
	}
	if (optind != argc)
		return cli_usage_error("stats", "unexpected argument '%s'", argv[optind]);
	if ((status = cli_store_open("stats", ctx, &st)) != EX_OK)
		return status;
	return stats_finish("stats", stats_run(st, &o, since, top, &error),
			    error, &o, &st);
}

static int storms_row(const struct store_storm_row *row, void *context)
{
	struct stats_out *o = context;
	char t1[32], t2[32], t3[32];

	if (o->json) {
		strbuf_printf(&o->buf, "{\"id\":%lld,\"mailbox\":", row->id);
		json_append_string(&o->buf, row->mailbox);
		json_append_member(&o->buf, 0, "started",
				   cli_format_time(row->started, t1, sizeof(t1)));
		json_append_member(&o->buf, 0, "last_seen",
				   cli_format_time(row->last_seen, t2, sizeof(t2)));
		json_append_member(&o->buf, 0, "ended", row->ended == 0 ? NULL
				   : cli_format_time(row->ended, t3, sizeof(t3)));
		strbuf_printf(&o->buf, ",\"held\":%lld}\n", row->count);
	} else {
		strbuf_printf(&o->buf, "%-6lld %-32s %s %s %-20s %lld\n",
			      row->id, row->mailbox ? row->mailbox : "-",
			      cli_format_time(row->started, t1, sizeof(t1)),
			      cli_format_time(row->last_seen, t2, sizeof(t2)),
			      row->ended == 0 ? "active"
			      : cli_format_time(row->ended, t3, sizeof(t3)),
			      row->count);
	}
	return 0;
}

int cmd_storms(int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option opts[] = {
		{ "active", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct stats_out o = { .buf = STRBUF_INIT,
		.calm = { time(NULL), ctx->set->storm_cooldown } };
	unsigned int limit = 100;
	int active = 0, c, status;
	struct store *st;
	const char *error = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': active = 1; break;
		case 'l': limit = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'j': o.json = 1; break;
		case 'h':
			printf("usage: ndrguard storms [--active] [--limit N] [--json]\n");
			return EX_OK;
		default:
			return cli_usage_error("storms", "see ndrguard storms --help");
		}
	}
	if (optind != argc)
		return cli_usage_error("storms", "unexpected argument '%s'", argv[optind]);
	if ((status = cli_store_open("storms", ctx, &st)) != EX_OK)
		return status;
	return stats_finish("storms", store_storm_list(st, &o.calm, active,
			    limit, storms_row, &o, &error), error, &o, &st);
}
