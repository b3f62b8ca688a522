/*
 * cmd-outbound.c - ndrguard outbound: the outbound Message-ID index
 *
 * SYNOPSIS
 *	ndrguard outbound find [--json] MESSAGE-ID
 *
 * DESCRIPTION
 *	Says whether ndrguard-milter recorded a message with this
 *	Message-ID (given with or without angle brackets; the domain part
 *	in any case), its envelope sender and when it was sent. A bounce
 *	returning that Message-ID is legitimate with certainty.
 *
 * EXIT STATUS
 *	0 found, 1 not found, 64 usage, 75 the store cannot be read.
 */
#include "autoconfig.h"
#include "cli.h"
#include "json.h"
#include "msgid.h"
#include "store.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

/* outbound_cli_print - the record, as text or one JSON object */
static void outbound_cli_print(const struct store_outbound *rec, int found,
			       const char *id, int json)
{
	struct strbuf out = STRBUF_INIT;

	if (json) {
		strbuf_puts(&out, "{\"message_id\":");
		json_append_string(&out, id);
		strbuf_printf(&out, ",\"found\":%s", found ? "true" : "false");
		if (found) {
			strbuf_puts(&out, ",\"sender\":");
			json_append_string(&out, rec->sender);
			strbuf_printf(&out, ",\"sent\":%lld", rec->sent);
		}
		strbuf_puts(&out, "}");
	} else if (found) {
		strbuf_printf(&out, "%s sender=<%s> sent=%lld", id,
			      rec->sender, rec->sent);
	} else {
		strbuf_printf(&out, "%s not found", id);
	}
	printf("%s\n", strbuf_cstr(&out));
	strbuf_free(&out);
}

int cmd_outbound(int argc, char **argv, const struct cli_context *ctx)
{
	int json = argc > 2 && strcmp(argv[2], "--json") == 0;
	char id[MSGID_MAX + 1];
	struct store_outbound rec;
	const char *ids[1] = { id }, *error;
	struct store *st;
	int found, status;

	if (argc != 3 + json || strcmp(argv[1], "find") != 0) {
		fprintf(stderr, "usage: ndrguard outbound find [--json] MESSAGE-ID\n");
		return EX_USAGE;
	}
	if (msgid_normalize(argv[2 + json], id, sizeof(id)) == 0) {
		fprintf(stderr, "ndrguard outbound: not a Message-ID: %s\n",
			argv[2 + json]);
		return EX_USAGE;
	}
	if ((status = cli_store_open("outbound", ctx, &st)) != EX_OK)
		return status;
	if (store_outbound_find(st, ids, 1, &rec, &found, &error) < 0) {
		fprintf(stderr, "ndrguard outbound: %s\n", error);
		store_close(&st);
		return EX_TEMPFAIL;
	}
	store_close(&st);
	outbound_cli_print(&rec, found, id, json);
	return found ? EX_OK : 1;
}
