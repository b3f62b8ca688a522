/*
 * cmd-list.c - ndrguard list and ndrguard show: what is in quarantine
 *
 * SYNOPSIS
 *	ndrguard list [--mailbox ADDR] [--state held|releasing|released|deleted|expired]
 *		[--since TIME] [--limit N] [--json]
 *	ndrguard show [--raw] ID
 *
 * DESCRIPTION
 *	list prints one line per message, newest first (with --json, one
 *	JSON object per line). TIME is a duration back from now ("2h",
 *	"14d") or a UTC date "YYYY-MM-DD". show prints one message's
 *	metadata, or with --raw the stored message exactly as received.
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

static const char *const list_states[] = {
	"held", "releasing", "released", "deleted", "expired", NULL
};

static void list_json(const struct store_record *r, struct strbuf *out)
{
	char t[32];

	strbuf_printf(out, "{\"id\":%lld", r->id);
	json_append_member(out, 0, "arrived",
			   cli_format_time(r->arrived, t, sizeof(t)));
	json_append_member(out, 0, "state", r->state);
	json_append_member(out, 0, "queue_id", r->queue_id);
	json_append_member(out, 0, "sender", r->sender);
	json_append_member(out, 0, "recipient", r->recipient);
	json_append_member(out, 0, "kind", r->kind);
	json_append_member(out, 0, "status", r->status);
	json_append_member(out, 0, "reason", r->reason);
	json_append_member(out, 0, "reporting_mta", r->reporting_mta);
	json_append_member(out, 0, "verdict", r->verdict);
	json_append_member(out, 0, "evidence", r->evidence);
	json_append_member(out, 0, "subject", r->orig_subject);
	json_append_member(out, 0, "original_from", r->orig_from);
	json_append_member(out, 0, "original_message_id", r->orig_message_id);
	strbuf_printf(out, ",\"size\":%lld}\n", r->size);
}

/* list_text_field - a field for a one-line listing: no control bytes */
static void list_text_field(struct strbuf *out, const char *s, size_t max)
{
	size_t n = 0;

	for (; s && *s && n < max; s++, n++)
		strbuf_putc(out, (unsigned char)*s < 0x20 || *s == 0x7f
			    ? '?' : *s);
	if (s && *s)
		strbuf_puts(out, "...");
	if (n == 0 && (s == NULL || *s == '\0'))
		strbuf_putc(out, '-');
}

static int list_print(const struct store_record *r, void *context)
{
	int json = *(const int *)context;
	struct strbuf out = STRBUF_INIT;
	char t[32];

	if (json) {
		list_json(r, &out);
	} else {
		strbuf_printf(&out, "%-8lld %s %-8s %-12s ", r->id,
			      cli_format_time(r->arrived, t, sizeof(t)),
			      r->state ? r->state : "-", r->kind ? r->kind : "-");
		list_text_field(&out, r->recipient, 60);
		strbuf_putc(&out, ' ');
		list_text_field(&out, r->orig_subject, 60);
		strbuf_putc(&out, '\n');
	}
	fputs(strbuf_cstr(&out), stdout);
	strbuf_free(&out);
	return 0;
}

static int list_state_valid(const char *state)
{
	for (int i = 0; list_states[i]; i++)
		if (strcmp(state, list_states[i]) == 0)
			return 1;
	return 0;
}

int cmd_list(int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option opts[] = {
		{ "mailbox", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_filter filter = { .mailbox = NULL };
	struct store *st;
	const char *error;
	int json = 0, c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': filter.mailbox = optarg; break;
		case 's':
			if (!list_state_valid(optarg))
				return cli_usage_error("list", "--state takes held, releasing, released, deleted or expired");
			filter.state = optarg;
			break;
		case 't':
			if (cli_parse_since(optarg, &filter.since) < 0)
				return cli_usage_error("list", "--since takes a duration (2h, 14d) or a date YYYY-MM-DD");
			break;
		case 'l': filter.limit = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: ndrguard list [--mailbox ADDR] [--state held|releasing|released|deleted|expired] [--since TIME] [--limit N] [--json]\n");
			return EX_OK;
		default:
			return cli_usage_error("list", "see ndrguard list --help");
		}
	}
	if (optind != argc)
		return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);
	if ((status = cli_store_open("list", ctx, &st)) != EX_OK)
		return status;
	if (!json)
		printf("%-8s %-20s %-8s %-12s %s %s\n", "ID", "ARRIVED", "STATE",
		       "KIND", "RECIPIENT", "SUBJECT");
	if (store_item_list(st, &filter, list_print, &json, &error) < 0) {
		fprintf(stderr, "ndrguard list: %s\n", error);
		status = EX_TEMPFAIL;
	}
	store_close(&st);
	return status;
}

static void show_field(const char *name, const char *value)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_printf(&out, "%-16s ", name);
	list_text_field(&out, value, 2000);
	strbuf_putc(&out, '\n');
	fputs(strbuf_cstr(&out), stdout);
	strbuf_free(&out);
}

static void show_record(const struct store_record *r)
{
	char t[32], id[32];

	snprintf(id, sizeof(id), "%lld", r->id);
	show_field("id:", id);
	show_field("arrived:", cli_format_time(r->arrived, t, sizeof(t)));
	show_field("state:", r->state);
	show_field("changed:", cli_format_time(r->state_changed, t, sizeof(t)));
	show_field("queue_id:", r->queue_id);
	show_field("sender:", r->sender && *r->sender ? r->sender : "<>");
	show_field("recipient:", r->recipient);
	show_field("kind:", r->kind);
	show_field("status:", r->status);
	show_field("reason:", r->reason);
	show_field("reporting_mta:", r->reporting_mta);
	show_field("verdict:", r->verdict);
	show_field("evidence:", r->evidence);
	show_field("subject:", r->orig_subject);
	show_field("original_from:", r->orig_from);
	show_field("message_id:", r->orig_message_id);
	snprintf(id, sizeof(id), "%lld bytes", r->size);
	show_field("size:", id);
}

int cmd_show(int argc, char **argv, const struct cli_context *ctx)
{
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_record *rec;
	struct store *st;
	const char *error;
	long long id;
	int raw = 0, c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			raw = 1;
		else if (c == 'h') {
			printf("usage: ndrguard show [--raw] ID\n");
			return EX_OK;
		} else
			return cli_usage_error("show", "usage: show [--raw] ID");
	}
	if (optind + 1 != argc)
		return cli_usage_error("show", "usage: show [--raw] ID");
	if (cli_parse_id("show", argv[optind], &id) < 0)
		return EX_USAGE;
	if ((status = cli_store_open("show", ctx, &st)) != EX_OK)
		return status;
	if (store_item_get(st, id, raw, &rec, &error) < 0) {
		fprintf(stderr, "ndrguard show: %s\n", error);
		status = EX_TEMPFAIL;
	} else if (rec == NULL) {
		fprintf(stderr, "ndrguard show: no message with id %lld\n", id);
		status = EX_NOINPUT;
	} else if (raw) {
		fwrite(rec->raw, 1, (size_t)rec->size, stdout);
	} else {
		show_record(rec);
	}
	store_record_free(&rec);
	store_close(&st);
	return status;
}
