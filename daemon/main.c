/*
 * main.c - ndrguardd: the LMTP content filter daemon
 *
 * SYNOPSIS
 *	ndrguardd [-c FILE] [-f] [-t]
 *
 * DESCRIPTION
 *	Takes mail from Postfix over LMTP (lmtp_listen), decides for each
 *	recipient whether a bounce is held in quarantine (a backscatter
 *	storm) or passed on through `reinject`, and answers each recipient
 *	only once its copy is committed or accepted by the next hop. It also
 *	serves the release page (web.h) on http_listen, unless that is
 *	empty, and sends the daily digests and expires old messages
 *	(scheduler.h).
 *
 *	The process shows its whole authority here: it reads the config,
 *	binds the listener, writes the pid file, then, when started as
 *	root, becomes daemon_user for good before it opens the database or
 *	accepts a connection.
 *
 *	-c FILE	the config file (default: the installed ndrguard.conf
 *		when it exists, else built-in defaults)
 *	-f	stay in the foreground and log to stderr as well
 *	-t	check the config and exit
 *
 * SIGNALS
 *	SIGTERM, SIGINT: stop accepting, let every transaction in flight
 *	finish and commit, then exit 0. SIGHUP: read and check the config
 *	again as start-up does; a bad one is refused with a log line and
 *	the running one kept. A good one reaches LMTP transactions, the
 *	release page and the scheduler; the parameters read only at start
 *	(CONFIG_RESTART in settings.c) keep their running values, and the
 *	log names each one the file changed.
 *
 * DIAGNOSTICS
 *	Exit 0 after a clean stop, 64 (EX_USAGE) for bad options, 78
 *	(EX_CONFIG) for a bad config or unknown daemon_user, or when the
 *	config file, database, secret_file or their directories are
 *	writable by every user (config_check_files()), 71 (EX_OSERR) when
 *	the listener cannot be set up.
 */
#include "autoconfig.h"
#include "config.h"
#include "daemon-config.h"
#include "endpoint.h"
#include "lmtp.h"
#include "log.h"
#include "metrics.h"
#include "privilege.h"
#include "scheduler.h"
#include "server.h"
#include "store-writer.h"
#include "strbuf.h"
#include "token.h"
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

struct ndrguardd {
	const char *config_path;
	int foreground;
	int check_only;
	char ident[128];
	int http_fd;		/* -1: no release page (http_listen empty) */
	int metrics_fd;		/* < 0: /metrics on http_listen */
	struct token_key *key;
	struct web_server *web;
	char *pid_file;		/* written by us, removed at exit */
};

static void ndrguardd_usage(void)
{
	fprintf(stderr, "usage: ndrguardd [-c FILE] [-f] [-t]\n");
	exit(EX_USAGE);
}

static void ndrguardd_options(struct ndrguardd *d, int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:ft")) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'f':
			d->foreground = 1;
			break;
		case 't':
			d->check_only = 1;
			break;
		default:
			ndrguardd_usage();
		}
	}
	if (optind != argc)
		ndrguardd_usage();
	if (d->config_path == NULL && access(config_default_path, F_OK) == 0)
		d->config_path = config_default_path;
}

/*
 * ndrguardd_socket_open - a unix-domain listener is writable for all
 * (connecting needs write permission): Postfix's lmtp(8) connects as
 * mail_owner, a proxy or a scraper as its own user. The socket's
 * directory controls who may reach it, as with Postfix's own sockets.
 */
static void ndrguardd_socket_open(const char *what, const char *spec)
{
	struct endpoint ep;
	const char *error;

	if (spec == NULL || endpoint_parse(spec, &ep, &error) < 0
	    || ep.type != ENDPOINT_UNIX)
		return;
	if (chmod(ep.path, 0666) < 0) {
		log_error("%s: chmod %s: %s", what, ep.path, strerror(errno));
		exit(EX_OSERR);
	}
}

/* ndrguardd_listen - each service's listener, bound as root; the server
   (server.h) serves them once privileges are dropped */
static void ndrguardd_listen(const struct settings *set)
{
	const char *error;

	if (server_listen(&lmtp_service, set->lmtp_listen, &error) < 0) {
		log_error("lmtp_listen %s: %s", set->lmtp_listen, error);
		exit(EX_OSERR);
	}
	ndrguardd_socket_open("lmtp_listen", set->lmtp_listen);
}

/*
 * ndrguardd_web_prepare - what the release page needs from root: its
 * listening socket and the link-signing key (secret_file may be root's)
 */
static void ndrguardd_web_prepare(struct ndrguardd *d,
				  const struct settings *set)
{
	const char *error;

	d->http_fd = -1;
	d->metrics_fd = -2;
	if (set->http_listen == NULL)
		return;
	if (token_key_load(set->secret_file, 1, &d->key, &error) < 0) {
		log_error("secret_file %s: %s", set->secret_file, error);
		exit(EX_CONFIG);
	}
	d->http_fd = web_server_listen(set, &error);
	if (d->http_fd < 0) {
		log_error("http_listen %s: %s", set->http_listen, error);
		exit(EX_OSERR);
	}
	d->metrics_fd = web_server_metrics_listen(set, &error);
	if (d->metrics_fd == -1) {
		log_error("metrics_listen %s: %s", set->metrics_listen, error);
		exit(EX_OSERR);
	}
	ndrguardd_socket_open("http_listen", set->http_listen);
	ndrguardd_socket_open("metrics_listen", set->metrics_listen);
}

/* ndrguardd_web_start - serve the release page, as the daemon user */
static void ndrguardd_web_start(struct ndrguardd *d,
				const struct settings *set)
{
	const char *error;

	if (d->http_fd < 0)
		return;
	if (web_server_start(set, d->key, d->http_fd, &d->web, &error) < 0) {
		log_error("release page on %s: %s", set->http_listen, error);
		exit(EX_OSERR);
	}
	log_info("release page on %s (%s)", set->http_listen, set->base_url);
	if (web_server_start_metrics(d->web, set, d->metrics_fd, &error) < 0) {
		log_error("metrics on %s: %s", set->metrics_listen, error);
		exit(EX_OSERR);
	}
	if (set->metrics_listen != NULL)
		log_info("metrics on %s", set->metrics_listen);
}

static void ndrguardd_daemonize(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0) {
		log_error("fork: %s", strerror(errno));
		exit(EX_OSERR);
	}
	if (pid > 0)
		_exit(EX_OK);
	setsid();
	if (chdir("/") < 0)
		log_warning("chdir /: %s", strerror(errno));
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

static void ndrguardd_write_pid(struct ndrguardd *d, const char *path)
{
	FILE *fp;

	int fd;

	if (path == NULL)
		return;
	/* 0644 whatever the umask: readable by init scripts, writable by
	   root alone; O_NOFOLLOW: not through a link someone left there */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	fp = fd < 0 || fchmod(fd, 0644) < 0 ? NULL : fdopen(fd, "w");
	if (fp == NULL && fd >= 0)
		close(fd);
	if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0
	    || fclose(fp) != 0) {
		log_error("write pid file %s: %s", path, strerror(errno));
		exit(EX_OSERR);
	}
	d->pid_file = strdup(path);
}

/*
 * ndrguardd_reload_keep - a parameter read only at start keeps its
 * running value; the log names each one the file changed
 */
static void ndrguardd_reload_keep(struct daemon_config *cfg)
{
	struct daemon_config *old = daemon_config_get();
	struct strbuf changed = STRBUF_INIT;

	if (config_keep_restart(&cfg->set, &old->set, &changed) > 0)
		log_warning("reload: needs a restart, running value kept: %s",
			    strbuf_cstr(&changed));
	strbuf_free(&changed);
	daemon_config_unref(&old);
}

/*
 * ndrguardd_reload - SIGHUP: the new config for LMTP transactions, the
 * release page and the scheduler, or the old one kept whole
 */
static void ndrguardd_reload(struct ndrguardd *d)
{
	struct daemon_config *cfg;
	const char *error;

	if (daemon_config_load(d->config_path, &cfg, &error) < 0) {
		log_error("reload: %s: keeping the running configuration",
			  error);
		return;
	}
	ndrguardd_reload_keep(cfg);
	if (scheduler_reload(cfg, &error) < 0) {
		log_error("reload: digest: %s: keeping the running "
			  "configuration", error);
		daemon_config_unref(&cfg);
		return;
	}
	if (d->web != NULL)
		web_server_reload(d->web, &cfg->set);
	daemon_config_install(cfg);
	log_info("reload: configuration read from %s",
		 d->config_path ? d->config_path : "(defaults)");
}

/* ndrguardd_server_main - the event loop of every listener */
static void *ndrguardd_server_main(void *arg)
{
	(void)arg;
	server_run();
	return NULL;
}

/* ndrguardd_serve - run until SIGTERM; signals are taken here only */
static void ndrguardd_serve(struct ndrguardd *d)
{
	pthread_t loop_thread;
	sigset_t set;
	int sig, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	rc = pthread_create(&loop_thread, NULL, ndrguardd_server_main, d);
	if (rc != 0) {
		log_error("cannot start the event loop: %s", strerror(rc));
		exit(EX_OSERR);
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			ndrguardd_reload(d);
			continue;
		}
		log_info("stopping on signal %d", sig);
		server_stop();
		break;
	}
	pthread_join(loop_thread, NULL);
}

/* ndrguardd_check - -t: the checks start-up runs (daemon_config_load()) */
static int ndrguardd_check(struct ndrguardd *d, struct daemon_config **cfg_r)
{
	const char *error;

	if (daemon_config_load(d->config_path, cfg_r, &error) < 0) {
		fprintf(stderr, "ndrguardd: %s\n", error);
		return EX_CONFIG;
	}
	if (d->check_only)
		printf("ndrguardd: %s: configuration OK\n",
		       d->config_path ? d->config_path : "(defaults)");
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct ndrguardd d = { .http_fd = -1 };
	struct daemon_config *cfg;
	struct passwd *pw;
	const char *error;
	sigset_t block;

	/* nothing made later is for other users: the database, the key and
	   the unix sockets get their modes explicitly, this is the floor */
	umask(027);
	ndrguardd_options(&d, argc, argv);
	int status = ndrguardd_check(&d, &cfg);
	if (status != EX_OK || d.check_only) {
		if (status == EX_OK)
			daemon_config_unref(&cfg);
		return status;
	}
	privilege_user(cfg->set.daemon_user, &pw, &error);
	snprintf(d.ident, sizeof(d.ident), "%s/ndrguardd",
		 cfg->set.syslog_name);
	log_init(d.ident, cfg->set.syslog_facility,
		 d.foreground || getenv("NDRGUARD_LOG_STDERR") != NULL);
	/* opened before privileges are dropped, like the listeners */
	if (log_target(cfg->set.log, &error) < 0) {
		fprintf(stderr, "ndrguardd: log = %s: %s\n", cfg->set.log,
			error);
		return EX_CONFIG;
	}

	ndrguardd_listen(&cfg->set);
	ndrguardd_web_prepare(&d, &cfg->set);
	if (scheduler_prepare(&cfg->set, &error) < 0) {
		log_error("digest: %s", error);
		return EX_CONFIG;
	}
	/* a key root just created (for the release page or the digests)
	   belongs to the daemon user, like the database: `ndrguard digest`
	   signs its links with it as that user */
	if (privilege_give(cfg->set.secret_file, pw, &error) < 0)
		log_warning("%s", error);
	if (!d.foreground)
		ndrguardd_daemonize();
	ndrguardd_write_pid(&d, cfg->set.pid_file);
	if (privilege_drop(pw, &error) < 0) {
		log_error("%s", error);
		return EX_OSERR;
	}

	/* every thread inherits this: signals reach only sigwait() */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	if (server_init() < 0) {
		log_error("event loop: %s", strerror(errno));
		return EX_OSERR;
	}
	store_writer_start(cfg->set.database,
			   settings_busy_timeout_ms(&cfg->set));
	metrics_enable();	/* /metrics shows the LMTP counters */
	ndrguardd_web_start(&d, &cfg->set);
	log_info("listening on %s, database %s", cfg->set.lmtp_listen,
		 cfg->set.database);
	daemon_config_install(cfg);
	if (scheduler_start(daemon_config_get()) < 0) {
		log_error("cannot start the scheduler: %s", strerror(errno));
		return EX_OSERR;
	}

	ndrguardd_serve(&d);

	scheduler_stop();
	web_server_stop(&d.web);
	store_writer_stop();
	token_key_free(&d.key);
	if (d.pid_file != NULL && unlink(d.pid_file) < 0 && errno != ENOENT)
		log_warning("remove %s: %s (no permission after dropping "
			    "privileges)", d.pid_file, strerror(errno));
	free(d.pid_file);
	log_info("stopped");
	return EX_OK;
}
