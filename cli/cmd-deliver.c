/*
 * cmd-deliver.c - ndrguard deliver: the Postfix pipe(8) delivery agent
 *
 * SYNOPSIS
 *	ndrguard [-c FILE] deliver -f SENDER [-q QUEUE_ID] -- RECIPIENT...
 *
 * DESCRIPTION
 *	Reads one message on standard input, and for each recipient either
 *	holds it in quarantine (a backscatter storm) or passes it on through
 *	`reinject`. master.cf runs it with flags=Rq null_sender= so that the
 *	null sender arrives as an empty argument.
 *
 * DIAGNOSTICS
 *	Exit 0 once every recipient's copy is committed or handed on; 75
 *	(EX_TEMPFAIL) on any failure, and also on a usage error, because a
 *	bounce would lose the message while a deferral only waits for the
 *	postmaster; 78 (EX_CONFIG) for a bad config. What is printed starts
 *	with an RFC 3463 code, which pipe(8) uses in its own log line.
 */
#include "autoconfig.h"
#include "cli.h"
#include "deliver.h"
#include "deliver-batv.h"
#include "dkim.h"
#include "log.h"
#include "relays.h"
#include "store.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* cmd_deliver_read - the whole message; -1 on a read error */
static int cmd_deliver_read(struct strbuf *msg)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		strbuf_append(msg, buf, (size_t)n);
	}
}

static int cmd_deliver_tempfail(const char *queue_id, const char *what)
{
	/* pipe(8) reads the status code from the start of our output:
	   it must come out before any log line on stderr */
	printf("4.3.0 ndrguard: %s\n", what);
	fflush(stdout);
	log_warning("%s: deferred: %s", queue_id ? queue_id : "NOQUEUE",
		    what);
	return EX_TEMPFAIL;
}

static void cmd_deliver_log(const struct deliver_env *env,
			    const struct deliver_request *req,
			    const struct deliver_result *res)
{
	struct strbuf line = STRBUF_INIT;

	for (size_t i = 0; i < res->outcome_count; i++) {
		strbuf_reset(&line);
		deliver_format_log(env, req, res, &res->outcomes[i], &line);
		log_info("%s", strbuf_cstr(&line));
	}
	strbuf_free(&line);
}

static int cmd_deliver_run(const struct cli_context *ctx,
			   struct deliver_request *req)
{
	const struct settings *set = ctx->set;
	struct deliver_env env;
	struct deliver_result res;
	struct strbuf msg = STRBUF_INIT;
	struct relays *relays;
	struct dkim_keys *keys;
	struct deliver_batv *batv;
	const char *error;
	int status = EX_OK;

	relays = relays_create(set->our_relays, set->our_domains, &error);
	if (relays == NULL) {
		printf("4.3.5 ndrguard: our_relays/our_domains: %s\n", error);
		return EX_CONFIG;
	}
	deliver_env_init(&env, set, relays);
	if (dkim_keys_load(set->dkim_keys, &keys, &error) < 0) {
		printf("4.3.5 ndrguard: dkim_keys: %s\n", error);
		relays_destroy(&relays);
		return EX_CONFIG;
	}
	env.dkim_keys = keys;
	if (deliver_batv_load(set, &batv, &error) < 0) {
		printf("4.3.5 ndrguard: batv_key_file: %s\n", error);
		relays_destroy(&relays);
		dkim_keys_free(&keys);
		return EX_CONFIG;
	}
	env.batv = batv;
	if (cmd_deliver_read(&msg) < 0) {
		status = cmd_deliver_tempfail(req->queue_id,
					      "cannot read the message");
	} else {
		req->msg = strbuf_cstr(&msg);
		req->len = msg.len;
		req->now = (long long)time(NULL);
		if (deliver_message(&env, req, &res, &error) < 0)
			status = cmd_deliver_tempfail(req->queue_id, error);
		else
			cmd_deliver_log(&env, req, &res);
		deliver_result_free(&res);
	}
	store_close(&env.store);
	relays_destroy(&relays);
	dkim_keys_free(&keys);
	deliver_batv_free(&batv);
	strbuf_free(&msg);
	return status;
}

int cmd_deliver(int argc, char **argv, const struct cli_context *ctx)
{
	struct deliver_request req = { .sender = NULL };
	int c;

	cli_log_init(ctx, isatty(2) || getenv("NDRGUARD_LOG_STDERR") != NULL);
	optind = 1;
	while ((c = getopt(argc, argv, "f:q:")) != -1) {
		switch (c) {
		case 'f':
			req.sender = optarg;
			break;
		case 'q':
			req.queue_id = *optarg ? optarg : NULL;
			break;
		default:
			return cmd_deliver_tempfail(NULL,
				"usage: deliver -f SENDER [-q QUEUE_ID] -- RECIPIENT...");
		}
	}
	if (req.sender == NULL || optind >= argc)
		return cmd_deliver_tempfail(req.queue_id,
			"usage: deliver -f SENDER [-q QUEUE_ID] -- RECIPIENT...");
	for (int i = optind; i < argc; i++)
		if (argv[i][0] == '\0' || strpbrk(argv[i], "\r\n") != NULL)
			return cmd_deliver_tempfail(req.queue_id,
				"empty or malformed recipient argument");
	/* Postfix never passes one; stored, it would reach the page, the
	   digest and a release's MAIL FROM */
	if (strpbrk(req.sender, "\r\n") != NULL)
		return cmd_deliver_tempfail(req.queue_id,
			"malformed sender argument (CR or LF)");
	req.recipients = (const char *const *)argv + optind;
	req.recipient_count = (size_t)(argc - optind);
	return cmd_deliver_run(ctx, &req);
}
