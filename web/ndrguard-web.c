/*
 * ndrguard-web.c - the release page on its own, and its helper verbs
 *
 * SYNOPSIS
 *	ndrguard-web [-c FILE] [-f]
 *	ndrguard-web [-c FILE] --link item ID [--expires UNIXTIME]
 *	ndrguard-web [-c FILE] --link mailbox|settings|unsubscribe ADDRESS
 *		[--expires UNIXTIME]
 *	ndrguard-web --hash-password
 *
 * DESCRIPTION
 *	Without a verb, serves the release page on http_listen until SIGTERM
 *	or SIGINT, the same server ndrguardd mounts (web.h), and prints
 *	"listening on http://HOST:PORT" once it accepts connections (with
 *	http_listen = inet:127.0.0.1:0 the kernel picks the port). The key
 *	file (secret_file) is created on first start.
 *
 *	--link prints the address a digest would carry for an item, a
 *	mailbox or its settings, valid until --expires (default: the
 *	quarantine's retention from now). --hash-password reads one line
 *	and prints the value for admin_password_hash.
 *
 *	Started as root, it binds its listeners and loads (or creates) the
 *	key as root, gives a key it created to daemon_user, then becomes
 *	daemon_user for good before it opens the database, as ndrguardd
 *	does; a quarantine root owns (the database, or its directory before
 *	it exists) is served as root, with a warning.
 *
 *	-f also logs to stderr.
 *
 *	SIGHUP reads the config file again, checked as at start; a bad one
 *	is refused with a log line and the running one kept. The page's
 *	settings (web_server_reload()) apply to the requests that follow;
 *	the listeners, the database, the key, daemon_user and the http_
 *	limits keep their running values, and the log names each one the
 *	file changed.
 *
 * DIAGNOSTICS
 *	Exit 0 after a clean stop; 64 (EX_USAGE) for bad arguments, 78
 *	(EX_CONFIG) for a bad config or key file, an empty http_listen
 *	when serving, an unknown daemon_user
 *	(as root), or a config file, database or secret_file other users
 *	could change, 71 (EX_OSERR) when the listener, the change of user
 *	or the database cannot be set up.
 */
#include "autoconfig.h"
#include "config.h"
#include "links.h"
#include "log.h"
#include "privilege.h"
#include "store.h"
#include "strbuf.h"
#include "token.h"
#include "web.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static int web_main_usage(void)
{
	fprintf(stderr,
		"usage: ndrguard-web [-c FILE] [-f]\n"
		"       ndrguard-web [-c FILE] --link item ID [--expires T]\n"
		"       ndrguard-web [-c FILE] --link mailbox|settings|"
		"unsubscribe ADDRESS [--expires T]\n"
		"       ndrguard-web --hash-password\n");
	return EX_USAGE;
}

static int web_main_hash_password(void)
{
	char line[1024];
	size_t len;
	char *hash;

	if (fgets(line, sizeof(line), stdin) == NULL) {
		fprintf(stderr, "ndrguard-web: no password on stdin\n");
		return EX_USAGE;
	}
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "ndrguard-web: empty password\n");
		return EX_USAGE;
	}
	hash = web_login_hash(line);
	memset(line, 0, sizeof(line));
	if (hash == NULL) {
		fprintf(stderr, "ndrguard-web: no randomness for a salt\n");
		return EX_OSERR;
	}
	printf("%s\n", hash);
	free(hash);
	return EX_OK;
}

static int web_main_link(const struct settings *set,
			 const struct token_key *key, const char *what,
			 const char *subject, long long expires)
{
	char *url = NULL;

	if (strcmp(what, "item") == 0) {
		char *end;
		long long id = strtoll(subject, &end, 10);

		if (*end != '\0' || id <= 0)
			return web_main_usage();
		url = links_item(set->base_url, key, id, expires);
	} else if (strcmp(what, "mailbox") == 0) {
		url = links_mailbox(set->base_url, key, subject, expires);
	} else if (strcmp(what, "settings") == 0) {
		url = links_settings(set->base_url, key, subject, expires);
	} else if (strcmp(what, "unsubscribe") == 0) {
		url = links_unsubscribe(set->base_url, key, subject, expires);
	} else {
		return web_main_usage();
	}
	printf("%s\n", url);
	free(url);
	return EX_OK;
}

/*
 * web_main_quarantine_root - is the quarantine root's: the database, or
 * before it exists the directory it is to be made in? daemon_user could
 * open it neither to read nor to create it
 */
static int web_main_quarantine_root(const char *location)
{
	const char *database = store_location_file(location);
	const char *slash;
	struct stat st;
	char *dir;
	int ret;

	if (database == NULL)
		return 0;	/* a server's: nothing here belongs to root */
	slash = strrchr(database, '/');
	if (stat(database, &st) == 0)
		return st.st_uid == 0;
	if (errno != ENOENT)
		return 0;
	dir = slash == NULL ? strdup(".") : slash == database ? strdup("/")
		: strndup(database, (size_t)(slash - database));
	ret = dir != NULL && stat(dir, &st) == 0 && st.st_uid == 0;
	free(dir);
	return ret;
}

/*
 * web_main_user - started as root, the account to become once the
 * listeners are bound: daemon_user, as ndrguardd does. A quarantine
 * that root owns is left to root, with a warning when serving, since
 * daemon_user could not open it. *pw_r is NULL to stay as we are.
 */
static int web_main_user(const struct settings *set, int serving,
			 struct passwd **pw_r, const char **error_r)
{
	*pw_r = NULL;
	if (geteuid() != 0)
		return 0;
	if (web_main_quarantine_root(set->database)) {
		if (serving)
			log_warning("%s (or its directory) belongs to root: "
				    "serving as root, not as %s; chown it to "
				    "%s", set->database, set->daemon_user,
				    set->daemon_user);
		return 0;
	}
	return privilege_user(set->daemon_user, pw_r, error_r);
}

/* web_main_bind - as root: http_listen, and metrics_listen when set */
static int web_main_bind(const struct settings *set, int *fd_r,
			 int *metrics_fd_r)
{
	const char *err;

	*fd_r = web_server_listen(set, &err);
	if (*fd_r < 0) {
		log_error("http_listen %s: %s", set->http_listen, err);
		return -1;
	}
	*metrics_fd_r = web_server_metrics_listen(set, &err);
	if (*metrics_fd_r == -1) {
		log_error("metrics_listen %s: %s", set->metrics_listen, err);
		close(*fd_r);
		return -1;
	}
	return 0;
}

/*
 * web_main_reload - SIGHUP: the page's settings from config_path again,
 * checked as at start, or the running ones kept; a parameter read only
 * at start keeps its running value, and the log names it
 */
static void web_main_reload(struct web_server *server,
			    const char *config_path, struct settings *running)
{
	struct strbuf changed = STRBUF_INIT;
	struct settings set;
	const char *err;

	if (config_path == NULL) {
		log_info("reload: no config file, nothing to read");
		return;
	}
	if (config_load(&set, config_path, &err) < 0 ||
	    config_check_files(&set, config_path, &err) < 0) {
		log_error("reload: %s: keeping the running configuration", err);
		settings_free(&set);
		return;
	}
	if (config_keep_restart(&set, running, &changed) > 0)
		log_warning("reload: needs a restart, running value kept: %s",
			    strbuf_cstr(&changed));
	strbuf_free(&changed);
	web_server_reload(server, &set);
	settings_free(running);
	*running = set;
	log_info("reload: configuration read from %s", config_path);
}

/*
 * web_main_serve - bind, become pw (when not NULL), then run the server
 * until SIGTERM or SIGINT; SIGHUP reloads config_path into set
 */
static int web_main_serve(struct settings *set, const char *config_path,
			  const struct token_key *key,
			  const struct passwd *pw)
{
	struct store_options opts = {
		.busy_timeout_ms = settings_busy_timeout_ms(set), .create = 1 };
	struct web_server *server;
	struct store *st;
	const char *err;
	int fd, metrics_fd;
	sigset_t sigs;
	int sig;

	if (web_main_bind(set, &fd, &metrics_fd) < 0)
		return EX_OSERR;
	if (privilege_drop(pw, &err) < 0) {
		log_error("%s", err);
		return EX_OSERR;
	}
	/* create or bring the schema up to date once, before any thread,
	   as the user that serves it */
	if (store_open(set->database, &opts, &st, &err) < 0) {
		log_error("%s", err);
		return EX_OSERR;
	}
	store_close(&st);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (web_server_start(set, key, fd, &server, &err) < 0) {
		log_error("http_listen %s: %s", set->http_listen, err);
		return EX_OSERR;
	}
	if (strncmp(set->http_listen, "inet:", 5) == 0) {
		const char *host = set->http_listen + 5;
		const char *colon = strrchr(host, ':');

		printf("listening on http://%.*s:%u\n", (int)(colon - host),
		       host, web_server_port(server));
	} else {
		printf("listening on %s\n", set->http_listen);
	}
	if (web_server_start_metrics(server, set, metrics_fd, &err) < 0) {
		log_error("metrics_listen %s: %s", set->metrics_listen, err);
		web_server_stop(&server);
		return EX_OSERR;
	}
	if (set->metrics_listen != NULL)
		printf("metrics on %s\n", set->metrics_listen);
	fflush(stdout);
	log_info("release page on %s, links to %s", set->http_listen,
		 set->base_url);
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		web_main_reload(server, config_path, set);
	web_server_stop(&server);
	log_info("release page stopped");
	return EX_OK;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *link_what = NULL, *link_subject = NULL;
	long long expires = 0;
	int foreground = 0, ret;
	struct settings set;
	struct token_key *key = NULL;
	struct passwd *pw;
	const char *err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "-f") == 0)
			foreground = 1;
		else if (strcmp(argv[i], "--hash-password") == 0)
			return web_main_hash_password();
		else if (strcmp(argv[i], "--link") == 0 && i + 2 < argc) {
			link_what = argv[++i];
			link_subject = argv[++i];
		} else if (strcmp(argv[i], "--expires") == 0 && i + 1 < argc)
			expires = strtoll(argv[++i], NULL, 10);
		else
			return web_main_usage();
	}
	if (config_path == NULL && access(config_default_path, F_OK) == 0)
		config_path = config_default_path;
	if (config_path == NULL)
		config_defaults(&set);
	else if (config_load(&set, config_path, &err) < 0) {
		fprintf(stderr, "ndrguard-web: %s\n", err);
		settings_free(&set);
		return EX_CONFIG;
	}
	log_init(set.syslog_name, set.syslog_facility,
		 foreground || link_what != NULL);
	if (log_target(set.log, &err) < 0) {
		fprintf(stderr, "ndrguard-web: log = %s: %s\n", set.log, err);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (link_what == NULL && set.http_listen == NULL) {
		fprintf(stderr, "ndrguard-web: http_listen is empty: "
			"nothing to serve\n");
		settings_free(&set);
		return EX_CONFIG;
	}
	if (config_check_files(&set, config_path, &err) < 0) {
		fprintf(stderr, "ndrguard-web: %s\n", err);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (web_main_user(&set, link_what == NULL, &pw, &err) < 0) {
		fprintf(stderr, "ndrguard-web: %s: %s\n", err, set.daemon_user);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (token_key_load(set.secret_file, 1, &key, &err) < 0) {
		log_error("secret_file: %s", err);
		settings_free(&set);
		return EX_CONFIG;
	}
	/* a key root just made is daemon_user's, as ndrguardd leaves it:
	   the server (after the drop) and `ndrguard digest` read it */
	if (privilege_give(set.secret_file, pw, &err) < 0)
		log_warning("%s", err);
	if (link_what != NULL) {
		if (expires == 0)
			expires = (long long)time(NULL) +
				86400LL * set.quarantine_days;
		ret = web_main_link(&set, key, link_what, link_subject,
				    expires);
	} else {
		ret = web_main_serve(&set, config_path, key, pw);
	}
	token_key_free(&key);
	settings_free(&set);
	return ret;
}
