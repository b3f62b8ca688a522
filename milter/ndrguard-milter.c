/*
 * ndrguard-milter.c - record the Message-ID of every outbound message
 *
 * SYNOPSIS
 *	ndrguard-milter [-c CONFIG] [-f] [-t]
 *
 * DESCRIPTION
 *	A Postfix milter (libmilter) for the outbound path: smtpd_milters
 *	on the submission port, non_smtpd_milters for mail picked up
 *	locally. For each message it records the Message-ID (msgid.h),
 *	the envelope sender and the time in the outbound index
 *	(store_outbound_add()); a bounce that returns one of these
 *	Message-IDs is then legitimate with certainty (deliver-outbound.h).
 *
 *	It never delays or loses outbound mail: every answer is CONTINUE
 *	or ACCEPT, whatever happened; a store that fails (unwritable,
 *	locked longer than a short wait) costs one log line and the
 *	message goes on unrecorded. It adds no header and changes nothing.
 *
 *	It listens on milter_listen (inet:HOST:PORT or unix:/path), takes
 *	the socket as root and then becomes daemon_user, as ndrguardd does.
 *	-f stays in the foreground and logs to stderr too; -t checks the
 *	configuration and exits.
 *
 * DIAGNOSTICS
 *	One line per failure: "QUEUEID: outbound index: ERROR (message
 *	accepted unrecorded)". Exit 78 on a bad configuration.
 */
#include "autoconfig.h"
#include "config.h"
#include "endpoint.h"
#include "log.h"
#include "msgid.h"
#include "privilege.h"
#include "settings.h"
#include "store.h"
#include "xalloc.h"

#include <libmilter/mfapi.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

/* a short wait for a locked store: outbound mail must not queue on it */
#define MILTER_BUSY_MS 250

static struct settings milter_set;

/* one SMTP connection's state (smfi_setpriv) */
struct milter_conn {
	struct store *store;	/* opened on its first message */
	char sender[256];
	char message_id[MSGID_MAX + 1];
};

/* milter_conn_get - the connection's state, made on first need */
static struct milter_conn *milter_conn_get(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		smfi_setpriv(ctx, c);
	}
	return c;
}

/* milter_envfrom - a new message: remember its envelope sender */
static sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = milter_conn_get(ctx);
	const char *from = argv[0] != NULL ? argv[0] : "";
	size_t n;

	if (*from == '<')
		from++;
	n = strcspn(from, ">");
	snprintf(c->sender, sizeof(c->sender), "%.*s", (int)n, from);
	c->message_id[0] = '\0';
	/*
	 * BATV: the envelope sender is tagged here (smfi_chgfrom with the
	 * prvs= address), once the batv branch is merged; smfi_register()
	 * then asks for SMFIF_CHGFROM. Nothing is changed until then.
	 */
	return SMFIS_CONTINUE;
}

/* milter_header - keep the first Message-ID */
static sfsistat milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = milter_conn_get(ctx);

	if (c->message_id[0] == '\0' && strcasecmp(name, "Message-ID") == 0)
		msgid_normalize(value, c->message_id, sizeof(c->message_id));
	return SMFIS_CONTINUE;
}

/* milter_record - the message into the index; -1 with *error_r */
static int milter_record(struct milter_conn *c, const char **error_r)
{
	struct store_options opts = {
		.busy_timeout_ms = MILTER_BUSY_MS,
		.create = 1,
	};

	if (c->store == NULL &&
	    store_open(milter_set.database, &opts, &c->store, error_r) < 0)
		return -1;
	if (store_begin(c->store, error_r) < 0)
		goto fail;
	if (store_outbound_add(c->store, c->message_id, c->sender,
			       (long long)time(NULL), error_r) < 0
	    || store_commit(c->store, error_r) < 0) {
		store_rollback(c->store);
		goto fail;
	}
	return 0;
fail:
	/* reopened next time: the file may have come back */
	store_close(&c->store);
	return -1;
}

/* milter_eom - the message is whole: record it, always accept */
static sfsistat milter_eom(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_get(ctx);
	const char *qid = smfi_getsymval(ctx, "i"), *error;

	if (c->message_id[0] != '\0' && milter_record(c, &error) < 0)
		log_warning("%s: outbound index: %s (message accepted"
			    " unrecorded)", qid != NULL ? qid : "NOQUEUE",
			    error);
	c->message_id[0] = '\0';
	return SMFIS_ACCEPT;
}

/* milter_abort - the message was given up: forget it */
static sfsistat milter_abort(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		c->message_id[0] = '\0';
	return SMFIS_CONTINUE;
}

/* milter_close - the connection ends: its store and state go */
static sfsistat milter_close(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		store_close(&c->store);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
	.xxfi_name = "ndrguard-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,	/* BATV adds SMFIF_CHGFROM */
	.xxfi_envfrom = milter_envfrom,
	.xxfi_header = milter_header,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
};

/* milter_socket - milter_listen in libmilter's words ("inet:PORT@HOST") */
static char *milter_socket(const char *listen, const char **error_r)
{
	struct endpoint ep;
	char buf[512];

	if (endpoint_parse(listen, &ep, error_r) < 0)
		return NULL;
	if (strncmp(listen, "unix:", 5) == 0)
		return xstrdup(listen);
	snprintf(buf, sizeof(buf), "inet%s:%s@%s",
		 strchr(ep.host, ':') != NULL ? "6" : "", ep.port, ep.host);
	return xstrdup(buf);
}

/* milter_usage - the synopsis, and EX_USAGE */
static int milter_usage(void)
{
	fprintf(stderr, "usage: ndrguard-milter [-c CONFIG] [-f] [-t]\n");
	return EX_USAGE;
}

/* milter_start - bind as root, become daemon_user, serve */
static int milter_start(const char *sock, int foreground)
{
	struct passwd *pw = NULL;
	const char *error;
	char ident[96];

	snprintf(ident, sizeof(ident), "%s/milter", milter_set.syslog_name);
	log_init(ident, milter_set.syslog_facility,
		 foreground || getenv("NDRGUARD_LOG_STDERR") != NULL);
	if (log_target(milter_set.log, &error) < 0)
		fprintf(stderr, "ndrguard-milter: log: %s\n", error);
	if (privilege_user(milter_set.daemon_user, &pw, &error) < 0) {
		log_error("daemon_user: %s", error);
		return EX_CONFIG;
	}
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(milter_desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		log_error("cannot listen on %s", milter_set.milter_listen);
		return EX_OSERR;
	}
	if (privilege_drop(pw, &error) < 0) {
		log_error("%s", error);
		return EX_OSERR;
	}
	if (!foreground && daemon(0, 0) < 0) {
		log_error("cannot run in the background");
		return EX_OSERR;
	}
	log_info("listening on %s", milter_set.milter_listen);
	return smfi_main() == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

int main(int argc, char **argv)
{
	const char *path = SYSCONFDIR "/ndrguard/ndrguard.conf", *error;
	int c, foreground = 0, check = 0, status;
	char *sock;

	umask(027);
	while ((c = getopt(argc, argv, "c:ft")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 't': check = 1; break;
		default: return milter_usage();
		}
	}
	if (optind != argc)
		return milter_usage();
	if (config_load(&milter_set, path, &error) < 0) {
		fprintf(stderr, "ndrguard-milter: %s\n", error);
		return EX_CONFIG;
	}
	if ((sock = milter_socket(milter_set.milter_listen, &error)) == NULL) {
		fprintf(stderr, "ndrguard-milter: milter_listen: %s\n", error);
		return EX_CONFIG;
	}
	status = check ? EX_OK : milter_start(sock, foreground);
	free(sock);
	settings_free(&milter_set);
	return status;
}
