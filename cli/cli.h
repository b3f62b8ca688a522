/*
 * cli.h - the ndrguard command-line tool: one function per verb
 *
 * main() (ndrguard.c) takes "-c FILE" wherever it stands before "--",
 * loads the configuration, and calls the verb with the rest of argv
 * (argv[0] is the verb's name, ready for getopt). A verb returns the
 * process exit status (sysexits.h).
 */
#ifndef NDRGUARD_CLI_H
#define NDRGUARD_CLI_H

#include <stddef.h>
#include "settings.h"

struct cli_context {
	const char *config_path;	/* the file read, or NULL for defaults */
	const struct settings *set;
};

typedef int cli_verb_func(int argc, char **argv, const struct cli_context *ctx);

cli_verb_func cmd_deliver;
cli_verb_func cmd_inspect;
cli_verb_func cmd_config;
cli_verb_func cmd_list;
cli_verb_func cmd_show;
cli_verb_func cmd_release;
cli_verb_func cmd_delete;
cli_verb_func cmd_purge;
cli_verb_func cmd_stats;
cli_verb_func cmd_log;
cli_verb_func cmd_outbound;
cli_verb_func cmd_batv;
cli_verb_func cmd_storms;
cli_verb_func cmd_digest;
cli_verb_func cmd_reply;
cli_verb_func cmd_allow;

struct store;

/* cli_store_open - open the configured store for a postmaster's verb;
   returns EX_OK, or an exit status after saying why on stderr */
int cli_store_open(const char *verb, const struct cli_context *ctx,
		   struct store **store_r);
/* cli_parse_id - a quarantine id from argv, or -1 after an error line */
int cli_parse_id(const char *verb, const char *arg, long long *id_r);
/* cli_format_time - unix time as ISO 8601 UTC into buf */
const char *cli_format_time(long long t, char *buf, size_t size);

/* cli_parse_since - a duration back from now ("2h", "14d") or a UTC date
   "YYYY-MM-DD[THH:MM[:SS]]"; -1 if it is neither */
int cli_parse_since(const char *arg, long long *since_r);
/* cli_log_init - log_init() and the `log` setting for a verb */
void cli_log_init(const struct cli_context *ctx, int also_stderr);
/* cli_usage_error - print "ndrguard VERB: message" and return EX_USAGE */
int cli_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
