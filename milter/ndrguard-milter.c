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
 *	or ACCEPT, whatever happened; the record is queued and written by
 *	one thread in group commits (milter-writer.h), so no message waits
 *	for the disk; a store that fails (unwritable, locked longer than a
 *	short wait) costs one log line per message, which goes on
 *	unrecorded. It adds no header and changes nothing.
 *
 *	It listens on milter_listen (unix:/path, or inet:HOST:PORT, which
 *	costs Postfix a delayed TCP ACK per reply: 100 messages a second
 *	instead of 700, bench/results/milter.md), takes
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
#include "milter-writer.h"
#include "msgid.h"
#include "privilege.h"
#include "settings.h"
#include "xalloc.h"

#include <libmilter/mfapi.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static struct settings milter_set;
/* the steps Postfix agreed to send without waiting for our reply */
static unsigned long milter_noreply;

/* one SMTP connection's state (smfi_setpriv) */
struct milter_conn {
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
	return milter_noreply & SMFIP_NR_MAIL ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* milter_header - keep the first Message-ID */
static sfsistat milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = milter_conn_get(ctx);

	if (c->message_id[0] == '\0' && strcasecmp(name, "Message-ID") == 0)
		msgid_normalize(value, c->message_id, sizeof(c->message_id));
	return milter_noreply & SMFIP_NR_HDR ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * milter_negotiate - ask Postfix to send only MAIL FROM, the headers and
 * the end of the message, and not to wait for our answer to the first
 * two: each step skipped is one round trip less per message
 * (bench/results/milter.md)
 */
static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0,
				 unsigned long f1, unsigned long f2,
				 unsigned long f3, unsigned long *pf0,
				 unsigned long *pf1, unsigned long *pf2,
				 unsigned long *pf3)
{
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NORCPT |
		SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA |
		SMFIP_NR_MAIL | SMFIP_NR_HDR;

	(void)ctx; (void)f0; (void)f2; (void)f3;
	*pf0 = 0;	/* no changes; BATV adds SMFIF_CHGFROM */
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	milter_noreply = *pf1 & (SMFIP_NR_MAIL | SMFIP_NR_HDR);
	return SMFIS_CONTINUE;
}

/* milter_eom - the message is whole: record it, always accept */
static sfsistat milter_eom(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn_get(ctx);
	const char *qid = smfi_getsymval(ctx, "i");

	if (c->message_id[0] != '\0')
		milter_writer_add(qid != NULL ? qid : "NOQUEUE", c->message_id,
				  c->sender, (long long)time(NULL));
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
	.xxfi_negotiate = milter_negotiate,
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

/*
 * milter_socket_access - a unix socket is for Postfix only: mode 0660,
 * group postfix (whose smtpd and cleanup connect), owner daemon_user.
 * Anyone else who could write records could make a forged bounce look
 * like the bounce of a message we sent.
 */
static void milter_socket_access(const struct passwd *pw)
{
	const char *path = milter_set.milter_listen;
	struct group *gr = getgrnam("postfix");

	if (strncmp(path, "unix:", 5) != 0)
		return;
	path += 5;
	if (chown(path, pw != NULL ? pw->pw_uid : (uid_t)-1,
		  gr != NULL ? gr->gr_gid : (gid_t)-1) < 0 ||
	    chmod(path, 0660) < 0)
		log_warning("%s: cannot set owner and mode: %m", path);
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
	milter_socket_access(pw);
	if (privilege_drop(pw, &error) < 0) {
		log_error("%s", error);
		return EX_OSERR;
	}
	if (!foreground && daemon(0, 0) < 0) {
		log_error("cannot run in the background");
		return EX_OSERR;
	}
	/* after daemon(): a thread does not survive the fork */
	if (milter_writer_start(milter_set.database, &error) < 0) {
		log_error("%s", error);
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
