/*
 * ndrguard.c - the ndrguard command: option handling and verb dispatch
 *
 * SYNOPSIS
 *	ndrguard [-c FILE] VERB [ARGS...]
 *
 * DESCRIPTION
 *	Each verb lives in its own cmd-VERB.c. "-c FILE" may stand before or
 *	after the verb (pipe(8) command lines read better with it after).
 *	Without -c the default file is read when it exists, else the built-in
 *	defaults apply.
 *
 * DIAGNOSTICS
 *	A configuration error exits with EX_CONFIG (78) and says FILE:LINE.
 *	A config file, database or secret_file that every user may change
 *	(or a key others may read) is refused before any verb but inspect
 *	and config runs: EX_CONFIG, or for deliver EX_TEMPFAIL (75) with a
 *	4.3.5 text so that Postfix defers the mail.
 */
#include "autoconfig.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

struct cli_verb {
	const char *name;
	cli_verb_func *func;
	const char *summary;
};

static const struct cli_verb cli_verbs[] = {
	{ "deliver", cmd_deliver, "deliver -f SENDER [-q QUEUE_ID] -- RECIPIENT... < message" },
	{ "inspect", cmd_inspect, "inspect [--json] FILE...|-" },
	{ "config", cmd_config, "config [-n]" },
	{ "list", cmd_list, "list [--mailbox ADDR] [--state STATE] [--since TIME] [--json]" },
	{ "show", cmd_show, "show [--raw] ID" },
	{ "release", cmd_release, "release ID..." },
	{ "delete", cmd_delete, "delete ID..." },
	{ "allow", cmd_allow, "allow list [--mailbox ADDR] | add MAILBOX domain|recipient VALUE | remove RULE_ID..." },
	{ "purge", cmd_purge, "purge" },
	{ "stats", cmd_stats, "stats [--since TIME] [--top N] [--json]" },
	{ "storms", cmd_storms, "storms [--active] [--limit N] [--json]" },
	{ "outbound", cmd_outbound, "outbound find [--json] MESSAGE-ID" },
	{ "batv", cmd_batv, "batv sign|verify [--at TIME] ADDRESS" },
	{ "log", cmd_log, "log [--since TIME] [--mailbox ADDR] [--limit N] [--json]" },
	{ "reply", cmd_reply, "reply -f SENDER -- RECIPIENT < reply to a digest" },
	{ "digest", cmd_digest, "digest [--dry-run] [--mailbox ADDR] [--now] | --mailbox ADDR --set-time HH:MM|default" },
};

static void ndrguard_usage(FILE *fp)
{
	fprintf(fp, "usage: ndrguard [-c FILE] VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(cli_verbs) / sizeof(cli_verbs[0]); i++)
		fprintf(fp, "  ndrguard %s\n", cli_verbs[i].summary);
}

int cli_parse_since(const char *arg, long long *since_r)
{
	static const char *const forms[] = {
		"%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
		"%Y-%m-%dT%H:%M:%SZ", NULL
	};
	long long secs = config_parse_duration(arg);
	struct tm tm;

	if (secs >= 0) {
		*since_r = (long long)time(NULL) - secs;
		return 0;
	}
	for (int i = 0; forms[i]; i++) {
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(arg, forms[i], &tm);
		if (end != NULL && *end == '\0') {
			*since_r = (long long)timegm(&tm);
			return 0;
		}
	}
	return -1;
}

void cli_log_init(const struct cli_context *ctx, int also_stderr)
{
	const char *error;

	log_init(ctx->set->syslog_name, ctx->set->syslog_facility,
		 also_stderr);
	/* a log file we cannot write is no reason to refuse mail */
	if (log_target(ctx->set->log, &error) < 0)
		fprintf(stderr, "ndrguard: log = %s: %s\n", ctx->set->log,
			error);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ndrguard %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_USAGE;
}

/* ndrguard_take_config_opt - remove "-c FILE" from argv, return FILE */
static const char *ndrguard_take_config_opt(int *argc, char **argv)
{
	const char *path = NULL;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-c") == 0 && i + 1 < *argc) {
			path = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0'
		    && out == 1) {
			path = argv[i] + 2;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return path;
}

/*
 * ndrguard_check_files - refuse to touch the quarantine through files
 * other users could change (config_check_files()). inspect and config
 * read no stored data and stay usable to diagnose. deliver defers
 * (75 and a 4.3.5 text, which pipe(8) reads first): a bounce would lose
 * the message, a deferral waits for the chmod.
 */
static int ndrguard_check_files(const char *verb, const struct cli_context *ctx)
{
	const char *error;

	if (strcmp(verb, "inspect") == 0 || strcmp(verb, "config") == 0)
		return EX_OK;
	if (config_check_files(ctx->set, ctx->config_path, &error) == 0)
		return EX_OK;
	if (strcmp(verb, "deliver") == 0) {
		printf("4.3.5 ndrguard: %s\n", error);
		fflush(stdout);
		return EX_TEMPFAIL;
	}
	fprintf(stderr, "ndrguard %s: %s\n", verb, error);
	return EX_CONFIG;
}

int main(int argc, char **argv)
{
	struct settings set;
	struct cli_context ctx;
	const char *error;
	const char *path = ndrguard_take_config_opt(&argc, argv);

	if (argc < 2) {
		ndrguard_usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		ndrguard_usage(stdout);
		return EX_OK;
	}
	if (path == NULL && access(config_default_path, F_OK) == 0)
		path = config_default_path;
	if (path == NULL)
		config_defaults(&set);
	else if (config_load(&set, path, &error) < 0) {
		/* only the pipe agent's words go back to Postfix, with a
		   status code; a postmaster at the shell gets the error */
		fprintf(stderr, "%sndrguard: %s\n",
			strcmp(argv[1], "deliver") == 0 ? "4.3.5 " : "", error);
		settings_free(&set);
		return EX_CONFIG;
	}
	ctx.config_path = path;
	ctx.set = &set;
	for (size_t i = 0; i < sizeof(cli_verbs) / sizeof(cli_verbs[0]); i++) {
		if (strcmp(argv[1], cli_verbs[i].name) == 0) {
			/* every verb the same way, before its own parsing
			   (deliver must tempfail on anything it does not know) */
			if (argc == 3 && strcmp(argv[2], "--help") == 0) {
				printf("usage: ndrguard [-c FILE] %s\n",
				       cli_verbs[i].summary);
				settings_free(&set);
				return EX_OK;
			}
			int status = ndrguard_check_files(argv[1], &ctx);
			if (status == EX_OK)
				status = cli_verbs[i].func(argc - 1, argv + 1,
							   &ctx);
			settings_free(&set);
			return status;
		}
	}
	fprintf(stderr, "ndrguard: unknown verb '%s'\n", argv[1]);
	ndrguard_usage(stderr);
	settings_free(&set);
	return EX_USAGE;
}
