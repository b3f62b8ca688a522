/*
 * settings.c - every ndrguard.conf(5) parameter: name, type, default, range
 *
 * Keep this table and doc/ndrguard.conf.5 in step: the man page lists the
 * same names, defaults and ranges.
 */
#include "autoconfig.h"
#include "config-table.h"
#include "endpoint.h"
#include "relays.h"
#include "reinject.h"

#include <ctype.h>
#include <string.h>

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/ndrguard"
#endif
#ifndef DEFAULT_SENDMAIL
#define DEFAULT_SENDMAIL "/usr/sbin/sendmail"
#endif

#define OFF(field) offsetof(struct settings, field)
#define UINT_MAXV 4294967295LL

static const char *settings_check_listener(const char *value)
{
	const char *error;

	if (value == NULL)
		return NULL;
	struct endpoint ep;

	if (strncmp(value, "inet:", 5) != 0 && strncmp(value, "unix:", 5) != 0)
		return "expected inet:HOST:PORT or unix:/path";
	return endpoint_parse(value, &ep, &error) < 0 ? error : NULL;
}

static const char *settings_check_reinject(const char *value)
{
	const char *error;

	if (value == NULL)
		return "must not be empty";
	return reinject_check(value, &error) < 0 ? error : NULL;
}

static const char *settings_check_smtp(const char *value)
{
	struct endpoint ep;
	const char *error;

	if (value == NULL)
		return NULL;
	if (strncmp(value, "smtp:", 5) != 0)
		return "expected smtp:HOST:PORT";
	return endpoint_parse(value, &ep, &error) < 0 ? error : NULL;
}

static const char *settings_check_relays(const char *value)
{
	const char *error;
	struct relays *r = relays_create(value, NULL, &error);

	if (r == NULL)
		return error;
	relays_destroy(&r);
	return NULL;
}

static const char *settings_check_domains(const char *value)
{
	const char *error;
	struct relays *r = relays_create(NULL, value, &error);

	if (r == NULL)
		return error;
	relays_destroy(&r);
	return NULL;
}

static const char *settings_check_required(const char *value)
{
	return value == NULL ? "must not be empty" : NULL;
}

static const char *settings_check_release_mode(const char *value)
{
	if (value != NULL && (strcmp(value, "direct") == 0 ||
			      strcmp(value, "request") == 0))
		return NULL;
	return "expected direct or request";
}

static const char *settings_check_password_hash(const char *value)
{
	if (value == NULL || strncmp(value, "pbkdf2-sha256$", 14) == 0)
		return NULL;
	return "expected pbkdf2-sha256$... (ndrguard-web --hash-password)";
}

/* settings_check_time - "HH:MM", 24-hour clock */
static const char *settings_check_time(const char *value)
{
	if (value == NULL || strlen(value) != 5 || value[2] != ':'
	    || !isdigit((unsigned char)value[0]) || !isdigit((unsigned char)value[1])
	    || !isdigit((unsigned char)value[3]) || !isdigit((unsigned char)value[4])
	    || (value[0] - '0') * 10 + (value[1] - '0') > 23
	    || value[3] > '5')
		return "expected HH:MM (00:00 to 23:59)";
	return NULL;
}

/* settings_check_locale - a template folder name: "en", "es", "pt_BR" */
static const char *settings_check_locale(const char *value)
{
	size_t n = value ? strlen(value) : 0;

	if (n < 2 || n > 16 || strspn(value, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") != n)
		return "expected a language such as en or es";
	return NULL;
}

static const char *settings_check_facility(const char *value)
{
	static const char *const names[] = {
		"mail", "daemon", "user", "local0", "local1", "local2",
		"local3", "local4", "local5", "local6", "local7", NULL
	};

	for (int i = 0; value && names[i]; i++)
		if (strcmp(value, names[i]) == 0)
			return NULL;
	return "unknown syslog facility (mail, daemon, user, local0..local7)";
}

const struct config_param config_table[] = {
	{ "database", CONFIG_STRING, LOCALSTATEDIR "/lib/ndrguard/quarantine.db",
	  OFF(database), 0, 0, settings_check_required },
	{ "lmtp_listen", CONFIG_STRING, "inet:127.0.0.1:10024",
	  OFF(lmtp_listen), 0, 0, settings_check_listener },
	{ "http_listen", CONFIG_STRING, "inet:127.0.0.1:8480",
	  OFF(http_listen), 0, 0, settings_check_listener },
	{ "base_url", CONFIG_STRING, "http://localhost:8480",
	  OFF(base_url), 0, 0, NULL },
	{ "reinject", CONFIG_STRING, "sendmail:" DEFAULT_SENDMAIL,
	  OFF(reinject), 0, 0, settings_check_reinject },
	{ "digest_relay", CONFIG_STRING, "smtp:127.0.0.1:25",
	  OFF(digest_relay), 0, 0, settings_check_smtp },
	{ "digest_from", CONFIG_STRING, "postmaster",
	  OFF(digest_from), 0, 0, NULL },
	{ "our_relays", CONFIG_STRING, "", OFF(our_relays), 0, 0,
	  settings_check_relays },
	{ "our_domains", CONFIG_STRING, "", OFF(our_domains), 0, 0,
	  settings_check_domains },
	{ "storm_threshold", CONFIG_UINT, "20", OFF(storm_threshold),
	  1, 1000000, NULL },
	{ "storm_window", CONFIG_DURATION, "10m", OFF(storm_window),
	  1, 30 * 86400, NULL },
	{ "storm_cooldown", CONFIG_DURATION, "1h", OFF(storm_cooldown),
	  0, 30 * 86400, NULL },
	{ "busy_timeout", CONFIG_DURATION, "30s", OFF(busy_timeout),
	  1, 3600, NULL },
	{ "quarantine_days", CONFIG_UINT, "14", OFF(quarantine_days),
	  1, 3650, NULL },
	{ "message_size_limit", CONFIG_SIZE, "50m", OFF(message_size_limit),
	  1024, 2047LL * 1024 * 1024, NULL },
	{ "syslog_name", CONFIG_STRING, "ndrguard", OFF(syslog_name),
	  0, 0, settings_check_required },
	{ "syslog_facility", CONFIG_STRING, "mail", OFF(syslog_facility),
	  0, 0, settings_check_facility },
	{ "daemon_user", CONFIG_STRING, "ndrguard", OFF(daemon_user),
	  0, 0, settings_check_required },
	{ "pid_file", CONFIG_STRING, "/run/ndrguardd.pid", OFF(pid_file),
	  0, 0, NULL },
	{ "lmtp_max_connections", CONFIG_UINT, "100",
	  OFF(lmtp_max_connections), 1, 10000, NULL },
	{ "lmtp_recipient_limit", CONFIG_UINT, "1000",
	  OFF(lmtp_recipient_limit), 1, 100000, NULL },
	{ "lmtp_line_length_limit", CONFIG_SIZE, "2048",
	  OFF(lmtp_line_length_limit), 512, 1024 * 1024, NULL },
	{ "lmtp_command_timeout", CONFIG_DURATION, "5m",
	  OFF(lmtp_command_timeout), 1, 3600, NULL },
	{ "lmtp_idle_timeout", CONFIG_DURATION, "5m",
	  OFF(lmtp_idle_timeout), 1, 86400, NULL },
	{ "lmtp_thread_idle_timeout", CONFIG_DURATION, "60s",
	  OFF(lmtp_thread_idle_timeout), 1, 3600, NULL },
	{ "secret_file", CONFIG_STRING, LOCALSTATEDIR "/lib/ndrguard/secret",
	  OFF(secret_file), 0, 0, settings_check_required },
	{ "release_mode", CONFIG_STRING, "direct", OFF(release_mode),
	  0, 0, settings_check_release_mode },
	{ "release_notify", CONFIG_STRING, "postmaster", OFF(release_notify),
	  0, 0, NULL },
	{ "admin_user", CONFIG_STRING, "", OFF(admin_user), 0, 0, NULL },
	{ "admin_password_hash", CONFIG_STRING, "", OFF(admin_password_hash),
	  0, 0, settings_check_password_hash },
	{ "http_threads", CONFIG_UINT, "4", OFF(http_threads), 1, 256, NULL },
	{ "http_max_connections", CONFIG_UINT, "256",
	  OFF(http_max_connections), 1, 100000, NULL },
	{ "http_client_connections", CONFIG_UINT, "32",
	  OFF(http_client_connections), 0, 100000, NULL },
	{ "http_rate_limit", CONFIG_UINT, "300", OFF(http_rate_limit),
	  0, 1000000, NULL },
	{ "http_timeout", CONFIG_DURATION, "30s", OFF(http_timeout),
	  1, 3600, NULL },
	{ "http_request_timeout", CONFIG_DURATION, "10s",
	  OFF(http_request_timeout), 1, 3600, NULL },
	{ "http_request_size_limit", CONFIG_SIZE, "16k",
	  OFF(http_request_size_limit), 1024, 1024 * 1024, NULL },
	{ "metrics_listen", CONFIG_STRING, "", OFF(metrics_listen),
	  0, 0, settings_check_listener },
	{ "digest_time", CONFIG_STRING, "07:00", OFF(digest_time),
	  0, 0, settings_check_time },
	{ "digest_locale", CONFIG_STRING, "en", OFF(digest_locale),
	  0, 0, settings_check_locale },
	{ "digest_max_items", CONFIG_UINT, "50", OFF(digest_max_items),
	  1, 10000, NULL },
	{ "digest_templates", CONFIG_STRING, PKGDATADIR "/templates",
	  OFF(digest_templates), 0, 0, settings_check_required },
	{ "digest_timeout", CONFIG_DURATION, "5m", OFF(digest_timeout),
	  1, 3600, NULL },
	{ NULL, CONFIG_STRING, NULL, 0, 0, 0, NULL },
};

const struct config_param *config_table_find(const char *name)
{
	for (const struct config_param *p = config_table; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}
