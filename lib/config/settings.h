/*
 * settings.h - ndrguard's configuration parameters
 *
 * One struct settings holds every parameter of ndrguard.conf(5). It is
 * filled from the table in settings.c by config_load() (config.h) and read
 * by everyone else. Strings belong to the struct and are freed by
 * settings_free(). Durations are in seconds.
 */
#ifndef NDRGUARD_SETTINGS_H
#define NDRGUARD_SETTINGS_H

/* the iteration counts of admin_password_hash the admin page accepts */
#define SETTINGS_PBKDF2_ITER_MIN 1000
#define SETTINGS_PBKDF2_ITER_MAX 10000000

struct settings {
	char *database;
	char *lmtp_listen;
	char *http_listen;
	char *base_url;
	char *reinject;
	char *digest_relay;
	char *digest_from;
	char *our_relays;
	char *our_domains;
	unsigned int storm_threshold;
	unsigned int storm_window;	/* seconds */
	unsigned int storm_cooldown;	/* seconds */
	unsigned int busy_timeout;	/* seconds */
	unsigned int quarantine_days;
	unsigned int message_size_limit;	/* bytes */
	char *syslog_name;
	char *syslog_facility;
	char *log;		/* syslog, stderr or file:/path */
	/* ndrguardd */
	char *daemon_user;
	char *pid_file;
	unsigned int lmtp_max_connections;
	unsigned int lmtp_recipient_limit;
	unsigned int lmtp_line_length_limit;	/* bytes, command lines */
	unsigned int lmtp_command_timeout;	/* seconds */
	unsigned int lmtp_idle_timeout;		/* seconds */
	unsigned int lmtp_thread_idle_timeout;	/* seconds a spare thread waits */
	/* release page */
	char *secret_file;
	char *release_mode;		/* "direct" or "request" */
	char *release_notify;		/* who is told of requests */
	char *reply_address;		/* release by reply; NULL: off */
	char *admin_user;		/* NULL: no admin page */
	char *admin_password_hash;	/* pbkdf2-sha256$ITER$SALT$HASH */
	unsigned int http_threads;
	unsigned int http_max_connections;
	unsigned int http_client_connections;	/* per client address */
	unsigned int http_network_connections;	/* per /24 or /64 */
	char *trusted_proxies;		/* whose X-Forwarded-For is believed */
	unsigned int http_response_memory;	/* bytes of unsent answers */
	unsigned int http_rate_limit;	/* requests per minute per client */
	unsigned int http_timeout;	/* seconds */
	unsigned int http_request_timeout;	/* seconds for a whole request */
	unsigned int http_request_size_limit;	/* bytes, headers + body */
	char *metrics_listen;		/* NULL: /metrics on http_listen */
	/* digest */
	char *digest_time;		/* "HH:MM", local time */
	char *digest_locale;		/* template folder when a mailbox has none */
	unsigned int digest_max_items;	/* items listed, then "and N more" */
	char *digest_templates;		/* one folder per language */
	unsigned int digest_timeout;	/* seconds, per SMTP step */
	/* the outbound side */
	char *milter_listen;		/* ndrguard-milter's socket */
	unsigned int outbound_days;	/* outbound index records kept */
	char *dkim_keys;		/* selector=/path/key.pem, ... */
	unsigned int dkim_required;	/* we sign all our mail */
	/* BATV */
	char *batv_key_file;		/* NULL: BATV off */
	char *batv_domains;		/* recipients' domains that verify */
	unsigned int batv_days;		/* a tag's life */
	char *batv_since;		/* YYYY-MM-DD we began signing; NULL */
	char *batv_untagged;		/* meter or hold */
};

/*
 * settings_from_split - digest_from ("Name <addr>", "\"Name\" <addr>" or
 * a bare addr) as its display name (NULL when none) and its address,
 * copies the caller frees. 0, or -1 with *error_r (a static text).
 */
int settings_from_split(const char *value, char **name_r, char **addr_r,
			const char **error_r);

/* settings_busy_timeout_ms - busy_timeout as the store takes it */
static inline unsigned int settings_busy_timeout_ms(const struct settings *set)
{
	return set->busy_timeout * 1000;
}

#endif
