/*
 * cli-store.c - what the postmaster's verbs share: the store, ids, times
 */
#include "autoconfig.h"
#include "cli.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

int cli_store_open(const char *verb, const struct cli_context *ctx,
		   struct store **store_r)
{
	/* never create it here: a database made by root would lock out the
	   pipe agent's own user */
	struct store_options opts = {
		.busy_timeout_ms = settings_busy_timeout_ms(ctx->set),
		.create = 0,
	};
	const char *error;

	if (access(ctx->set->database, F_OK) < 0) {
		fprintf(stderr, "ndrguard %s: no database at %s (nothing was "
			"held yet, or `database` points elsewhere)\n", verb,
			ctx->set->database);
		return EX_NOINPUT;
	}
	if (store_open(ctx->set->database, &opts, store_r, &error) < 0) {
		fprintf(stderr, "ndrguard %s: %s\n", verb, error);
		return EX_TEMPFAIL;
	}
	return EX_OK;
}

int cli_parse_id(const char *verb, const char *arg, long long *id_r)
{
	char *end;

	errno = 0;
	*id_r = strtoll(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg || *id_r <= 0) {
		fprintf(stderr, "ndrguard %s: '%s' is not a message id "
			"(a positive number, as `ndrguard list` shows)\n",
			verb, arg);
		return -1;
	}
	return 0;
}

const char *cli_format_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL
	    || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", t);
	return buf;
}
