/*
 * cmd-purge.c - ndrguard purge: expire what is older than quarantine_days
 *
 * SYNOPSIS
 *	ndrguard purge
 *
 * DESCRIPTION
 *	Held messages that arrived more than quarantine_days ago are marked
 *	expired and their bytes dropped, in batches of a few hundred, each
 *	its own short transaction, so deliveries waiting for the database
 *	lock are never held up for long. Freed space goes back to the file
 *	system a bounded step at a time. Shows progress on a terminal and
 *	logs one summary line.
 */
#include "autoconfig.h"
#include "cli.h"
#include "log.h"
#include "store.h"

#include <stdio.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define PURGE_BATCH 500

static int cmd_purge_batch(struct store *st, long long before, long long now,
			   unsigned int *count_r, const char **error_r)
{
	if (store_begin(st, error_r) < 0)
		return -1;
	if (store_item_expire(st, before, PURGE_BATCH, now, count_r,
			      error_r) < 0
	    || store_commit(st, error_r) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int cmd_purge(int argc, char **argv, const struct cli_context *ctx)
{
	long long now = (long long)time(NULL);
	long long before = now - (long long)ctx->set->quarantine_days * 86400;
	unsigned long long total = 0;
	unsigned int n;
	struct store *st;
	const char *error;
	int tty = isatty(1), status;

	if (argc > 1) {
		printf("usage: ndrguard purge\n");
		return argc == 2 && argv[1][0] == '-' && argv[1][1] == 'h'
			? EX_OK : EX_USAGE;
	}
	cli_log_init(ctx, 0);
	if ((status = cli_store_open("purge", ctx, &st)) != EX_OK)
		return status;
	do {
		if (cmd_purge_batch(st, before, now, &n, &error) < 0) {
			fprintf(stderr, "ndrguard purge: %s (%llu expired so far)\n",
				error, total);
			store_close(&st);
			return EX_TEMPFAIL;
		}
		total += n;
		if (tty && n > 0)
			printf("\rexpired %llu", total), fflush(stdout);
	} while (n == PURGE_BATCH);
	unsigned long long sent = 0;
	if (store_outbound_expire_all(st, now - (long long)ctx->set->outbound_days
				      * 86400, PURGE_BATCH, &sent, &error) < 0)
		fprintf(stderr, "ndrguard purge: outbound index: %s\n", error);
	else if (sent > 0)
		log_info("purge: outbound_expired=%llu, older_than=%ud", sent,
			 ctx->set->outbound_days);
	if (store_reclaim(st, &error) < 0)
		fprintf(stderr, "ndrguard purge: %s\n", error);
	store_close(&st);
	printf("%sexpired %llu message%s older than %u days\n", tty ? "\r" : "",
	       total, total == 1 ? "" : "s", ctx->set->quarantine_days);
	log_info("purge: expired=%llu, older_than=%ud", total,
		 ctx->set->quarantine_days);
	return EX_OK;
}
