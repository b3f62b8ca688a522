/*
 * cmd-config.c - ndrguard config: print the effective configuration
 *
 * SYNOPSIS
 *	ndrguard [-c FILE] config [-n]
 *
 * DESCRIPTION
 *	Prints "name = value" for every parameter, or with -n only those
 *	that differ from the built-in default, as postconf(1) -n does.
 */
#include "autoconfig.h"
#include "cli.h"
#include "config.h"
#include "strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <sysexits.h>

int cmd_config(int argc, char **argv, const struct cli_context *ctx)
{
	struct strbuf out = STRBUF_INIT;
	int only_changed = 0, c;

	optind = 1;
	while ((c = getopt(argc, argv, "nh")) != -1) {
		switch (c) {
		case 'n':
			only_changed = 1;
			break;
		case 'h':
			printf("usage: ndrguard [-c FILE] config [-n]\n");
			return EX_OK;
		default:
			return cli_usage_error("config", "usage: config [-n]");
		}
	}
	if (optind != argc)
		return cli_usage_error("config", "unexpected argument '%s'",
				       argv[optind]);
	config_print(ctx->set, only_changed, &out);
	fputs(strbuf_cstr(&out), stdout);
	strbuf_free(&out);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}
