/*
 * web.h - the release page: an HTTP server on libmicrohttpd
 *
 * SYNOPSIS
 *	web_server_start(set, key, listen_fd, &server, &error);
 *	...
 *	web_server_stop(&server);
 *
 * DESCRIPTION
 *	The pages the digest links to (links.h): a held message with its
 *	Release button, a mailbox's held messages, the digest settings, and
 *	an admin page for release requests. Every link carries a token
 *	(token.h); a missing, forged or expired one gets a plain 403. Also
 *	the admin's statistics page (/admin/stats, SVG graphs) and /metrics
 *	(Prometheus text; with ndrguardd's counters from metrics.h when
 *	the daemon has called metrics_enable()).
 *
 *	web_server_start() serves on listen_fd when it is >= 0 (a socket the
 *	caller bound and listens on, e.g. before dropping privileges), else
 *	it binds http_listen itself. It copies what it needs from set, so the
 *	caller may free its settings afterwards, and hands it new ones with
 *	web_server_reload(); key must outlive the server. The quarantine
 *	database is opened once per server thread, on first use, so it may
 *	be called before that file is readable (the daemon opens it after
 *	dropping privileges).
 *
 * MOUNTING IN A DAEMON
 *	As root: fd = web_server_listen(set, &err) and token_key_load(
 *	set->secret_file, 1, &key, &err) (the key file may be root's); then
 *	drop privileges, block the signals the main thread sigwait()s for,
 *	and web_server_start(set, key, fd, &server, &err). At exit:
 *	web_server_stop(&server), token_key_free(&key). Link with
 *	web/libndrguardweb.a lib/libndrguard-crypto.a lib/libndrguard.a
 *	$(MHD_LIBS) $(CRYPTO_LIBS) (and $(PQ_LIBS) where built with libpq).
 *
 * OWNERSHIP
 *	web_server_stop() stops the threads, closes the listener and the
 *	database connections, and NULLs the caller's pointer.
 */
#ifndef NDRGUARD_WEB_H
#define NDRGUARD_WEB_H

struct settings;
struct token_key;
struct web_server;

/* web_server_listen - bind http_listen (before dropping privileges);
   the descriptor for web_server_start(), or -1 with *error_r */
int web_server_listen(const struct settings *set, const char **error_r);
int web_server_start(const struct settings *set, const struct token_key *key,
		     int listen_fd, struct web_server **server_r,
		     const char **error_r);
void web_server_stop(struct web_server **_server);
/*
 * web_server_reload - the page's settings from a reloaded set, for the
 * requests that start after it (those in progress end first): base_url,
 * reinject, release_mode, release_notify, digest_from, admin_user,
 * admin_password_hash, quarantine_days and the reason texts under
 * digest_templates. The listeners, the database and the http_ limits
 * stay as started (CONFIG_RESTART parameters).
 */
void web_server_reload(struct web_server *server, const struct settings *set);
/*
 * web_server_metrics_listen - bind metrics_listen (before dropping
 * privileges): its descriptor, -2 when metrics_listen is empty, or -1
 * with *error_r. web_server_start_metrics - serve /metrics alone, to
 * any client, on that descriptor (or, with fd -1, on metrics_listen
 * bound now); /metrics on http_listen is then 404. Does nothing when
 * metrics_listen is empty.
 */
int web_server_metrics_listen(const struct settings *set,
			      const char **error_r);
int web_server_start_metrics(struct web_server *server,
			     const struct settings *set, int fd,
			     const char **error_r);
/* web_server_port - the TCP port served (0 for a unix socket) */
unsigned int web_server_port(const struct web_server *server);

/*
 * web_login_hash - "pbkdf2-sha256$ITER$SALT$HASH" for password (the
 * admin_password_hash form); caller frees. NULL if randomness failed.
 */
char *web_login_hash(const char *password);
/* web_login_verify - 1 if password matches hash, else 0 */
int web_login_verify(const char *password, const char *hash);

#endif
