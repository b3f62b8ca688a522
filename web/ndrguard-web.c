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
 *	-f also logs to stderr.
 *
 * DIAGNOSTICS
 *	Exit 0 after a clean stop; 64 (EX_USAGE) for bad arguments, 78
 *	(EX_CONFIG) for a bad config or key file, or a config file,
 *	database or secret_file other users could change, 71 (EX_OSERR) when the
 *	listener or the database cannot be set up.
 */
#include "autoconfig.h"
#include "config.h"
#include "links.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "web.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	hash = web_password_hash(line);
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

/* web_main_serve - run the server until SIGTERM or SIGINT */
static int web_main_serve(const struct settings *set,
			  const struct token_key *key)
{
	struct store_options opts = {
		.busy_timeout_ms = set->busy_timeout * 1000, .create = 1 };
	struct web_server *server;
	struct store *st;
	const char *err;
	sigset_t sigs;
	int sig;

	/* create or bring the schema up to date once, before any thread */
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
	if (web_server_start(set, key, -1, &server, &err) < 0) {
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
	if (web_server_start_metrics(server, set, -1, &err) < 0) {
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
		;
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
	const char *err;

	/* before SQLite starts: without memory statistics, its allocations
	   take no global lock, which the server threads would contend for */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
	if (config_check_files(&set, config_path, &err) < 0) {
		fprintf(stderr, "ndrguard-web: %s\n", err);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (token_key_load(set.secret_file, 1, &key, &err) < 0) {
		log_error("secret_file: %s", err);
		settings_free(&set);
		return EX_CONFIG;
	}
	if (link_what != NULL) {
		if (expires == 0)
			expires = (long long)time(NULL) +
				86400LL * set.quarantine_days;
		ret = web_main_link(&set, key, link_what, link_subject,
				    expires);
	} else {
		ret = web_main_serve(&set, key);
	}
	token_key_free(&key);
	settings_free(&set);
	return ret;
}
