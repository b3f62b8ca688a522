/*
 * settings.c - every ndrguard.conf(5) parameter: name, type, default, range
 *
 * Keep this table and doc/ndrguard.conf.5 in step: the man page lists the
 * same names, defaults and ranges, and says of each whether a reload
 * applies it or it needs a restart (CONFIG_RESTART here).
 */
#include "autoconfig.h"
#include "config-table.h"
#include "endpoint.h"
#include "relays.h"
#include "reinject.h"
#include "reply-address.h"
#include "store.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
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

/* settings_check_port - an inet:/smtp: port in range; a place we connect
   to needs a real one, a listener may say 0 (the kernel picks) */
static const char *settings_check_port(const struct endpoint *ep, int min)
{
	long port = strtol(ep->port, NULL, 10);

	if (ep->type != ENDPOINT_INET)
		return NULL;
	if (strlen(ep->port) > 5 || port < min || port > 65535)
		return min ? "bad port number (1 to 65535)"
			: "bad port number (0 to 65535)";
	return NULL;
}

static const char *settings_check_listener(const char *value)
{
	const char *error;

	if (value == NULL)
		return NULL;
	struct endpoint ep;

	if (strncmp(value, "inet:", 5) != 0 && strncmp(value, "unix:", 5) != 0)
		return "expected inet:HOST:PORT or unix:/path";
	if (endpoint_parse(value, &ep, &error) < 0)
		return error;
	return settings_check_port(&ep, 0);
}

static const char *settings_check_reinject(const char *value)
{
	struct endpoint ep;
	const char *error;

	if (value == NULL)
		return "must not be empty";
	if (reinject_check(value, &error) < 0)
		return error;
	if (strncmp(value, "smtp:", 5) == 0 &&
	    endpoint_parse(value, &ep, &error) == 0)
		return settings_check_port(&ep, 1);
	return NULL;
}

static const char *settings_check_smtp(const char *value)
{
	struct endpoint ep;
	const char *error;

	if (value == NULL)
		return NULL;
	if (strncmp(value, "smtp:", 5) != 0)
		return "expected smtp:HOST:PORT";
	if (endpoint_parse(value, &ep, &error) < 0)
		return error;
	return settings_check_port(&ep, 1);
}

/* settings_check_path - a file the daemon opens after it left its
   working directory for /: a relative name would point elsewhere */
static const char *settings_check_path(const char *value)
{
	if (value == NULL)
		return "must not be empty";
	return value[0] == '/' ? NULL : "must be an absolute path";
}

/* settings_check_database - an absolute path, sqlite:/path or a libpq
   URI (postgresql://, postgres://) */
static const char *settings_check_database(const char *value)
{
	int has_password;

	if (value == NULL)
		return "must not be empty";
	return store_location_check(value, &has_password);
}

static const char *settings_check_path_or_empty(const char *value)
{
	return value == NULL ? NULL : settings_check_path(value);
}

/*
 * settings_address_error - NULL when value is what digests and release
 * requests can write between <>: a plain addr-spec, or a local part
 * alone (the host name is added), in printable ASCII
 */
static const char *settings_address_error(const char *value)
{
	const char *at = strchr(value, '@');
	size_t len = strlen(value);

	if (strchr(value, '<') != NULL || strchr(value, ' ') != NULL)
		return "expected a plain address such as "
			"postmaster@example.com (no name, no <>)";
	if (len > 254)
		return "address longer than 254 characters";
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f
		    || strchr(">()[]\\,;:\"", *p) != NULL)
			return "expected a plain address: no quotes, (), [], "
				"\\, commas, ; or :, in ASCII";
	if (at == value || (at != NULL && (at[1] == '\0' ||
					   strchr(at + 1, '@') != NULL)))
		return "expected local@domain, or a local part alone";
	if (at != NULL && (at[1] == '.' || value[len - 1] == '.' ||
			   strstr(at, "..") != NULL))
		return "bad domain";
	return NULL;
}

/* settings_name_ok - a display name: UTF-8 text of one line, without
   the characters that would end it or need quoting inside quotes */
static int settings_name_ok(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (*p == '\0' || strlen(name) > 200)
		return 0;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 :
			(*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;

		if (n < 0 || (n == 0 && (*p < 0x20 || *p == 0x7f ||
					 strchr("<>\"\\", *p) != NULL))
		    || (n == 1 && *p < 0xc2))
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* settings_from_split - "Name <addr>", "\"Name\" <addr>" or addr into
   the name (NULL: none) and the address */
int settings_from_split(const char *value, char **name_r, char **addr_r,
			const char **error_r)
{
	const char *lt = strchr(value, '<'), *err;
	size_t len = strlen(value), nlen;
	char *name, *addr;

	*name_r = *addr_r = NULL;
	if (lt == NULL) {
		if ((err = settings_address_error(value)) != NULL) {
			*error_r = err;
			return -1;
		}
		*addr_r = xstrdup(value);
		return 0;
	}
	if (len < 2 || value[len - 1] != '>') {
		*error_r = "expected Name <local@domain>: nothing after the '>'";
		return -1;
	}
	addr = xstrndup(lt + 1, (size_t)(value + len - 1 - (lt + 1)));
	for (nlen = (size_t)(lt - value); nlen > 0 && value[nlen - 1] == ' ';)
		nlen--;
	if (nlen >= 2 && value[0] == '"' && value[nlen - 1] == '"')
		name = xstrndup(value + 1, nlen - 2);
	else
		name = xstrndup(value, nlen);
	if ((err = settings_address_error(addr)) != NULL
	    || (err = settings_name_ok(name) ? NULL :
		"expected Name <local@domain>: the name is one line of "
		"UTF-8 text, at most 200 bytes, without <, >, \" or \\")
	    != NULL) {
		free(name);
		free(addr);
		*error_r = err;
		return -1;
	}
	*name_r = name;
	*addr_r = addr;
	return 0;
}

/* settings_check_from - digest_from: an address, or a name and one */
static const char *settings_check_from(const char *value)
{
	char *name, *addr;
	const char *error;

	if (value == NULL)
		return "must not be empty";
	if (settings_from_split(value, &name, &addr, &error) < 0)
		return error;
	free(name);
	free(addr);
	return NULL;
}

static const char *settings_check_address_or_empty(const char *value)
{
	return value == NULL ? NULL : settings_address_error(value);
}

/*
 * settings_check_reply_address - "" or LOCAL@DOMAIN with no '+' in LOCAL
 * and LOCAL short enough that LOCAL+REF.TOKEN stays within RFC 5321's 64
 */
static const char *settings_check_reply_address(const char *value)
{
	const char *at;

	if (value == NULL || *value == '\0')
		return NULL;
	at = strchr(value, '@');
	if (settings_address_error(value) != NULL || at == NULL)
		return "not an address (local@domain)";
	if (memchr(value, '+', (size_t)(at - value)) != NULL)
		return "its local part must not contain '+' (ndrguard adds "
		       "+REF.TOKEN to it)";
	if (at - value > REPLY_ADDRESS_LOCAL_MAX)
		return "its local part is too long: at most 18 characters, "
		       "so that the reply addresses stay within 64";
	return NULL;
}

/*
 * settings_check_base_url - the start of every link in digests and on
 * the page: http or https, a host, and nothing that could end an HTML
 * attribute or a header, or break the paths added to it
 */
static const char *settings_check_base_url(const char *value)
{
	const char *host;
	size_t hlen;

	if (value == NULL)
		return "must not be empty";
	if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else
		return "expected http://HOST[:PORT][/PATH] or https://...";
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f
		    || strchr("\"'<>\\`{}|^?#", *p) != NULL)
			return "must not hold spaces, control characters, "
				"quotes, <>, \\, `, {}, |, ^, ? or #";
	hlen = strcspn(host, "/");
	if (hlen == 0)
		return "missing host name";
	if (memchr(host, '@', hlen) != NULL)
		return "must not hold a user name (user@host)";
	return NULL;
}

/* settings_check_admin_user - HTTP Basic cuts the user at the first ':' */
static const char *settings_check_admin_user(const char *value)
{
	for (const char *p = value; p != NULL && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ':')
			return "must not hold ':' or control characters";
	return NULL;
}

/* settings_relays_error - why relays_create() refuses the lists, or NULL */
static const char *settings_relays_error(const char *relays,
					 const char *domains)
{
	const char *error;
	struct relays *r = relays_create(relays, domains, &error);

	if (r == NULL)
		return error;
	relays_destroy(&r);
	return NULL;
}

/* settings_check_relays - our_relays: host patterns, addresses, networks */
static const char *settings_check_relays(const char *value)
{
	return settings_relays_error(value, NULL);
}

/* settings_check_domains - our_domains: domain names */
static const char *settings_check_domains(const char *value)
{
	return settings_relays_error(NULL, value);
}

/* settings_check_proxies - addresses and networks only, no host names */
static const char *settings_check_proxies(const char *value)
{
	if (value != NULL && strspn(value, "0123456789abcdefABCDEF.:/, \t")
	    != strlen(value))
		return "expected IPv4/IPv6 addresses or networks (CIDR)";
	return settings_check_relays(value);
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

/* settings_base64_len - bytes that standard base64 text decodes to, or -1 */
static long settings_base64_len(const char *s, size_t len)
{
	size_t data = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz0123456789+/");
	size_t pad = len - (data < len ? data : len);

	if (len == 0 || len % 4 != 0 || data > len || pad > 2
	    || strspn(s + data, "=") < pad)
		return -1;
	return (long)(len / 4 * 3 - pad);
}

/*
 * settings_check_password_hash - what web_login_verify() can match:
 * pbkdf2-sha256$ITERATIONS$SALT$HASH with an iteration count the admin
 * page accepts, a salt of 1 to 64 bytes and a 32-byte hash
 */
static const char *settings_check_password_hash(const char *value)
{
	const char *p, *salt, *hash;
	size_t digits;
	long iter;

	if (value == NULL)
		return NULL;
	if (strncmp(value, "pbkdf2-sha256$", 14) != 0)
		return "expected pbkdf2-sha256$ITERATIONS$SALT$HASH "
			"(ndrguard-web --hash-password)";
	p = value + 14;
	digits = strspn(p, "0123456789");
	/* the salt starts after the '$': never past the end of value */
	if (digits == 0 || p[digits] != '$')
		return "expected pbkdf2-sha256$ITERATIONS$SALT$HASH "
			"(ndrguard-web --hash-password)";
	salt = p + digits + 1;
	hash = strchr(salt, '$');
	if (hash == NULL)
		return "expected pbkdf2-sha256$ITERATIONS$SALT$HASH "
			"(ndrguard-web --hash-password)";
	iter = digits > 9 ? -1 : strtol(p, NULL, 10);
	if (iter < SETTINGS_PBKDF2_ITER_MIN || iter > SETTINGS_PBKDF2_ITER_MAX)
		return "iteration count outside 1000 to 10000000, which the "
			"admin page accepts (ndrguard-web --hash-password)";
	long salt_len = settings_base64_len(salt, (size_t)(hash - salt));
	if (salt_len < 1 || salt_len > 64)
		return "the salt is not base64 of 1 to 64 bytes";
	if (settings_base64_len(hash + 1, strlen(hash + 1)) != 32)
		return "the hash is not base64 of 32 bytes";
	return NULL;
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

/* settings_check_log - the forms log_target() takes */
static const char *settings_check_log(const char *value)
{
	if (value == NULL || strcmp(value, "syslog") == 0 ||
	    strcmp(value, "stderr") == 0 ||
	    (strncmp(value, "file:", 5) == 0 && value[5] == '/' &&
	     value[6] != '\0'))
		return NULL;
	return "takes syslog, stderr or file:/absolute/path";
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

/* settings_check_dkim_keys - dkim_keys: selector=/path/to/key.pem, ... */
static const char *settings_check_dkim_keys(const char *value)
{
	const char *p = value;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ", \t");
		const char *eq = memchr(p, '=', n);

		if (n > 0 && (eq == NULL || eq == p || eq[1] != '/'))
			return "expected selector=/absolute/path/to/public-key.pem";
		p += n;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
	}
	return NULL;
}

/* settings_check_batv_since - "" or a date YYYY-MM-DD (UTC) */
static const char *settings_check_batv_since(const char *value)
{
	int y, m, d;
	char end;

	if (value == NULL)
		return NULL;
	if (strlen(value) != 10 ||
	    sscanf(value, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 ||
	    y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return "expected a date YYYY-MM-DD";
	return NULL;
}

/* settings_check_batv_untagged - meter or hold; reject needs the policy
   service, which refuses at RCPT time and does not exist yet */
static const char *settings_check_batv_untagged(const char *value)
{
	if (value != NULL && (strcmp(value, "meter") == 0 ||
			      strcmp(value, "hold") == 0))
		return NULL;
	if (value != NULL && strcmp(value, "reject") == 0)
		return "reject needs the SMTP policy service, which ndrguard"
			" does not have yet; use hold";
	return "expected meter or hold";
}

const struct config_param config_table[] = {
	{ "database", CONFIG_STRING, LOCALSTATEDIR "/lib/ndrguard/quarantine.db",
	  OFF(database), 0, 0, settings_check_database, CONFIG_RESTART },
	{ "lmtp_listen", CONFIG_STRING, "inet:127.0.0.1:10024",
	  OFF(lmtp_listen), 0, 0, settings_check_listener, CONFIG_RESTART },
	{ "http_listen", CONFIG_STRING, "inet:127.0.0.1:8480",
	  OFF(http_listen), 0, 0, settings_check_listener, CONFIG_RESTART },
	{ "base_url", CONFIG_STRING, "http://localhost:8480",
	  OFF(base_url), 0, 0, settings_check_base_url, CONFIG_LIVE },
	{ "reinject", CONFIG_STRING, "sendmail:" DEFAULT_SENDMAIL,
	  OFF(reinject), 0, 0, settings_check_reinject, CONFIG_LIVE },
	{ "digest_relay", CONFIG_STRING, "smtp:127.0.0.1:25",
	  OFF(digest_relay), 0, 0, settings_check_smtp, CONFIG_LIVE },
	{ "digest_from", CONFIG_STRING, "postmaster",
	  OFF(digest_from), 0, 0, settings_check_from, CONFIG_LIVE },
	{ "our_relays", CONFIG_STRING, "", OFF(our_relays), 0, 0,
	  settings_check_relays, CONFIG_LIVE },
	{ "our_domains", CONFIG_STRING, "", OFF(our_domains), 0, 0,
	  settings_check_domains, CONFIG_LIVE },
	{ "storm_threshold", CONFIG_UINT, "20", OFF(storm_threshold),
	  1, 1000000, NULL, CONFIG_LIVE },
	{ "storm_window", CONFIG_DURATION, "10m", OFF(storm_window),
	  1, 30 * 86400, NULL, CONFIG_LIVE },
	{ "storm_cooldown", CONFIG_DURATION, "1h", OFF(storm_cooldown),
	  0, 30 * 86400, NULL, CONFIG_LIVE },
	{ "busy_timeout", CONFIG_DURATION, "30s", OFF(busy_timeout),
	  1, 3600, NULL, CONFIG_RESTART },
	{ "quarantine_days", CONFIG_UINT, "14", OFF(quarantine_days),
	  1, 3650, NULL, CONFIG_LIVE },
	{ "message_size_limit", CONFIG_SIZE, "50m", OFF(message_size_limit),
	  1024, 2047LL * 1024 * 1024, NULL, CONFIG_LIVE },
	{ "syslog_name", CONFIG_STRING, "ndrguard", OFF(syslog_name),
	  0, 0, settings_check_required, CONFIG_RESTART },
	{ "syslog_facility", CONFIG_STRING, "mail", OFF(syslog_facility),
	  0, 0, settings_check_facility, CONFIG_RESTART },
	{ "log", CONFIG_STRING, "syslog", OFF(log), 0, 0, settings_check_log,
	  CONFIG_RESTART },
	{ "daemon_user", CONFIG_STRING, "ndrguard", OFF(daemon_user),
	  0, 0, settings_check_required, CONFIG_RESTART },
	{ "pid_file", CONFIG_STRING, "/run/ndrguardd.pid", OFF(pid_file),
	  0, 0, settings_check_path_or_empty, CONFIG_RESTART },
	{ "lmtp_max_connections", CONFIG_UINT, "100",
	  OFF(lmtp_max_connections), 1, 10000, NULL, CONFIG_LIVE },
	{ "lmtp_recipient_limit", CONFIG_UINT, "1000",
	  OFF(lmtp_recipient_limit), 1, 100000, NULL, CONFIG_LIVE },
	{ "lmtp_line_length_limit", CONFIG_SIZE, "2048",
	  OFF(lmtp_line_length_limit), 512, 1024 * 1024, NULL, CONFIG_LIVE },
	{ "lmtp_command_timeout", CONFIG_DURATION, "5m",
	  OFF(lmtp_command_timeout), 1, 3600, NULL, CONFIG_LIVE },
	{ "lmtp_idle_timeout", CONFIG_DURATION, "5m",
	  OFF(lmtp_idle_timeout), 1, 86400, NULL, CONFIG_LIVE },
	{ "lmtp_thread_idle_timeout", CONFIG_DURATION, "60s",
	  OFF(lmtp_thread_idle_timeout), 1, 3600, NULL, CONFIG_LIVE },
	{ "secret_file", CONFIG_STRING, LOCALSTATEDIR "/lib/ndrguard/secret",
	  OFF(secret_file), 0, 0, settings_check_path, CONFIG_RESTART },
	{ "release_mode", CONFIG_STRING, "direct", OFF(release_mode),
	  0, 0, settings_check_release_mode, CONFIG_LIVE },
	{ "release_notify", CONFIG_STRING, "postmaster", OFF(release_notify),
	  0, 0, settings_check_address_or_empty, CONFIG_LIVE },
	{ "reply_address", CONFIG_STRING, "", OFF(reply_address), 0, 0,
	  settings_check_reply_address, CONFIG_LIVE },
	{ "admin_user", CONFIG_STRING, "", OFF(admin_user), 0, 0,
	  settings_check_admin_user, CONFIG_LIVE },
	{ "admin_password_hash", CONFIG_STRING, "", OFF(admin_password_hash),
	  0, 0, settings_check_password_hash, CONFIG_LIVE },
	{ "http_threads", CONFIG_UINT, "4", OFF(http_threads), 1, 256, NULL,
	  CONFIG_RESTART },
	{ "http_max_connections", CONFIG_UINT, "256",
	  OFF(http_max_connections), 1, 100000, NULL, CONFIG_RESTART },
	{ "http_client_connections", CONFIG_UINT, "32",
	  OFF(http_client_connections), 0, 100000, NULL, CONFIG_RESTART },
	{ "http_network_connections", CONFIG_UINT, "64",
	  OFF(http_network_connections), 0, 100000, NULL, CONFIG_RESTART },
	{ "trusted_proxies", CONFIG_STRING, "", OFF(trusted_proxies),
	  0, 0, settings_check_proxies, CONFIG_RESTART },
	{ "http_response_memory", CONFIG_SIZE, "16m",
	  OFF(http_response_memory), 1024 * 1024, 1024LL * 1024 * 1024, NULL,
	  CONFIG_RESTART },
	{ "http_rate_limit", CONFIG_UINT, "300", OFF(http_rate_limit),
	  0, 1000000, NULL, CONFIG_RESTART },
	{ "http_timeout", CONFIG_DURATION, "30s", OFF(http_timeout),
	  1, 3600, NULL, CONFIG_RESTART },
	{ "http_request_timeout", CONFIG_DURATION, "10s",
	  OFF(http_request_timeout), 1, 3600, NULL, CONFIG_RESTART },
	{ "http_request_size_limit", CONFIG_SIZE, "16k",
	  OFF(http_request_size_limit), 1024, 1024 * 1024, NULL,
	  CONFIG_RESTART },
	{ "metrics_listen", CONFIG_STRING, "", OFF(metrics_listen),
	  0, 0, settings_check_listener, CONFIG_RESTART },
	{ "digest_time", CONFIG_STRING, "07:00", OFF(digest_time),
	  0, 0, settings_check_time, CONFIG_LIVE },
	{ "digest_locale", CONFIG_STRING, "en", OFF(digest_locale),
	  0, 0, settings_check_locale, CONFIG_LIVE },
	{ "digest_max_items", CONFIG_UINT, "50", OFF(digest_max_items),
	  1, 10000, NULL, CONFIG_LIVE },
	{ "digest_templates", CONFIG_STRING, PKGDATADIR "/templates",
	  OFF(digest_templates), 0, 0, settings_check_path, CONFIG_LIVE },
	{ "digest_timeout", CONFIG_DURATION, "5m", OFF(digest_timeout),
	  1, 3600, NULL, CONFIG_LIVE },
	/* the outbound side (ndrguard-milter, lib/deliver/deliver-outbound.c) */
	{ "milter_listen", CONFIG_STRING,
	  "unix:/var/spool/postfix/ndrguard/milter.sock",
	  OFF(milter_listen), 0, 0, settings_check_listener, CONFIG_RESTART },
	{ "outbound_days", CONFIG_UINT, "30", OFF(outbound_days),
	  1, 3650, NULL, CONFIG_LIVE },
	{ "dkim_keys", CONFIG_STRING, "", OFF(dkim_keys), 0, 0,
	  settings_check_dkim_keys, CONFIG_LIVE },
	{ "dkim_required", CONFIG_BOOL, "no", OFF(dkim_required), 0, 1, NULL,
	  CONFIG_LIVE },
	/* BATV: signed envelope senders (lib/deliver/deliver-batv.c) */
	{ "batv_key_file", CONFIG_STRING, "", OFF(batv_key_file), 0, 0,
	  settings_check_path_or_empty, CONFIG_LIVE },
	{ "batv_domains", CONFIG_STRING, "", OFF(batv_domains), 0, 0,
	  settings_check_domains, CONFIG_LIVE },
	{ "batv_days", CONFIG_UINT, "7", OFF(batv_days), 1, 365, NULL,
	  CONFIG_LIVE },
	{ "batv_since", CONFIG_STRING, "", OFF(batv_since), 0, 0,
	  settings_check_batv_since, CONFIG_LIVE },
	{ "batv_untagged", CONFIG_STRING, "meter", OFF(batv_untagged), 0, 0,
	  settings_check_batv_untagged, CONFIG_LIVE },
	{ NULL, CONFIG_STRING, NULL, 0, 0, 0, NULL, 0 },
};

const struct config_param *config_table_find(const char *name)
{
	for (const struct config_param *p = config_table; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}
