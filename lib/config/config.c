/*
 * config.c - read Postfix-style "name = value" files through a typed table
 *
 * The table (settings.c) names each parameter, its type, default and
 * range; this file knows only how to parse, check and print values. An
 * error always names FILE:LINE, because a postmaster fixes config files
 * with an editor, not a debugger.
 */
#include "autoconfig.h"
#include "config.h"
#include "store.h"
#include "config-table.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

const char config_default_path[] = SYSCONFDIR "/ndrguard/ndrguard.conf";

static __thread char config_error_buf[512];
static __thread char config_validate_buf[256];

static const char *config_error(const char *file, unsigned int line,
				const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *config_error(const char *file, unsigned int line,
				const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(config_error_buf, sizeof(config_error_buf), "%s:%u: ",
			 file, line);

	if (n < 0 || (size_t)n >= sizeof(config_error_buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(config_error_buf + n, sizeof(config_error_buf) - n, fmt, ap);
	va_end(ap);
	return config_error_buf;
}

/* config_parse_number - digits then a unit from units (factor per unit) */
static long long config_parse_number(const char *value, const char *units,
				     const long long *factors)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	n = strtoll(value, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0')
		return n;
	if (end[1] != '\0')
		return -1;
	const char *u = strchr(units, tolower((unsigned char)*end));
	if (u == NULL)
		return -1;
	long long f = factors[u - units];
	if (n > __LONG_LONG_MAX__ / f)
		return -1;
	return n * f;
}

long long config_parse_duration(const char *value)
{
	static const long long factors[] = { 1, 60, 3600, 86400, 604800 };

	return config_parse_number(value, "smhdw", factors);
}

static long long config_parse_size(const char *value)
{
	static const long long factors[] = { 1024, 1024 * 1024,
					     1024 * 1024 * 1024 };

	return config_parse_number(value, "kmg", factors);
}

static void *config_field(const struct config_param *p, struct settings *set)
{
	return (char *)set + p->offset;
}

static const void *config_cfield(const struct config_param *p,
				 const struct settings *set)
{
	return (const char *)set + p->offset;
}

/* config_set - store value into set, or return an error text */
static const char *config_set(const struct config_param *p,
			      struct settings *set, const char *value)
{
	long long n = 0;

	switch (p->type) {
	case CONFIG_STRING: {
		char **field = config_field(p, set);
		free(*field);
		*field = *value ? xstrdup(value) : NULL;
		return p->check ? p->check(*field) : NULL;
	}
	case CONFIG_UINT:
		n = config_parse_number(value, "", NULL);
		break;
	case CONFIG_DURATION:
		n = config_parse_duration(value);
		break;
	case CONFIG_SIZE:
		n = config_parse_size(value);
		break;
	case CONFIG_BOOL:
		if (strcmp(value, "yes") == 0)
			n = 1;
		else if (strcmp(value, "no") == 0)
			n = 0;
		else
			return "expected yes or no";
		break;
	}
	if (n < 0)
		return p->type == CONFIG_DURATION
			? "bad duration (use a number with s, m, h, d or w)"
			: p->type == CONFIG_SIZE
			? "bad size (use a number with k, m or g)"
			: "bad number";
	if (n < p->min || n > p->max)
		return "value out of range";
	*(unsigned int *)config_field(p, set) = (unsigned int)n;
	return NULL;
}

void config_defaults(struct settings *set)
{
	memset(set, 0, sizeof(*set));
	for (const struct config_param *p = config_table; p->name; p++) {
		const char *error = config_set(p, set, p->def);
		/* the built-in defaults are checked by the unit tests */
		(void)error;
	}
}

static char *config_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* config_apply_line - one logical "name = value" line */
static const char *config_apply_line(struct settings *set, const char *file,
				     unsigned int lineno, char *line)
{
	char *eq = strchr(line, '=');

	if (eq == NULL)
		return config_error(file, lineno,
				    "missing '=' after parameter name");
	*eq = '\0';
	char *name = config_trim(line);
	char *value = config_trim(eq + 1);
	const struct config_param *p = config_table_find(name);

	if (*name == '\0')
		return config_error(file, lineno, "missing parameter name");
	if (p == NULL)
		return config_error(file, lineno, "unknown parameter \"%s\"",
				    name);
	const char *why = config_set(p, set, value);
	/* a hash in a log is one an attacker can work on offline */
	if (why != NULL)
		return config_error(file, lineno, "%s = %s: %s", name,
				    p->offset == offsetof(struct settings,
							  admin_password_hash)
				    ? "(not shown)" : value, why);
	return NULL;
}

/* config_flush - apply the logical line collected so far, if any */
static int config_flush(struct settings *set, const char *name,
			unsigned int lineno, struct strbuf *logical,
			const char **error_r)
{
	if (logical->len == 0)
		return 0;
	*error_r = config_apply_line(set, name, lineno, logical->data);
	strbuf_reset(logical);
	return *error_r == NULL ? 0 : -1;
}

static int config_line_is_comment(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)p[i]))
			return p[i] == '#';
	return 1;
}

int config_parse_text(struct settings *set, const char *name,
		      const char *text, const char **error_r)
{
	struct strbuf logical = STRBUF_INIT;
	unsigned int lineno = 0, start_line = 0;
	int ret = 0;

	config_defaults(set);
	for (const char *p = text; *p != '\0' && ret == 0;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		lineno++;
		if (config_line_is_comment(p, len)) {
			/* skipped, even between a value and its continuation */
		} else if (p[0] == ' ' || p[0] == '\t') {
			if (logical.len == 0) {
				*error_r = config_error(name, lineno,
					"continuation line without a parameter");
				ret = -1;
			}
			size_t ws = strspn(p, " \t");
			strbuf_putc(&logical, ' ');
			strbuf_append(&logical, p + ws, len - ws);
		} else {
			ret = config_flush(set, name, start_line, &logical,
					   error_r);
			start_line = lineno;
			strbuf_append(&logical, p, len);
		}
		p += len + (eol != NULL);
	}
	if (ret == 0)
		ret = config_flush(set, name, start_line, &logical, error_r);
	strbuf_free(&logical);
	if (ret == 0 && config_validate(set, error_r) < 0) {
		snprintf(config_error_buf, sizeof(config_error_buf), "%s: %s",
			 name, *error_r);
		*error_r = config_error_buf;
		ret = -1;
	}
	return ret;
}

int config_load(struct settings *set, const char *path, const char **error_r)
{
	struct strbuf text = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		int saved = errno;
		config_defaults(set);
		snprintf(config_error_buf, sizeof(config_error_buf),
			 "%s: %s", path, strerror(saved));
		*error_r = config_error_buf;
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (memchr(buf, '\0', n) != NULL) {
			fclose(fp);
			strbuf_free(&text);
			config_defaults(set);
			snprintf(config_error_buf, sizeof(config_error_buf),
				 "%s: contains a NUL byte: not a config file",
				 path);
			*error_r = config_error_buf;
			return -1;
		}
		strbuf_append(&text, buf, n);
	}
	int failed = ferror(fp);
	fclose(fp);
	if (failed) {
		config_defaults(set);
		snprintf(config_error_buf, sizeof(config_error_buf),
			 "%s: read error", path);
		*error_r = config_error_buf;
		strbuf_free(&text);
		return -1;
	}
	int ret = config_parse_text(set, path, strbuf_cstr(&text), error_r);
	strbuf_free(&text);
	return ret;
}

/* config_same_listener - two listeners on one address cannot both bind
   (port 0 lets the kernel pick two different ones) */
static int config_same_listener(const char *a, const char *b)
{
	size_t len;

	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		return 0;
	len = strlen(a);
	return len < 2 || strcmp(a + len - 2, ":0") != 0;
}

int config_validate(const struct settings *set, const char **error_r)
{
	static const char *const fmt_pair = "%s is set but %s is empty";
	const char *a = NULL, *b = NULL;

	if (set->admin_user != NULL && set->admin_password_hash == NULL)
		a = "admin_user", b = "admin_password_hash";
	else if (set->admin_user == NULL && set->admin_password_hash != NULL)
		a = "admin_password_hash", b = "admin_user";
	else if (set->metrics_listen != NULL && set->http_listen == NULL)
		a = "metrics_listen", b = "http_listen";
	if (a != NULL) {
		snprintf(config_validate_buf, sizeof(config_validate_buf),
			 fmt_pair, a, b);
		*error_r = config_validate_buf;
		return -1;
	}
	if (config_same_listener(set->lmtp_listen, set->http_listen))
		a = "lmtp_listen", b = "http_listen";
	else if (config_same_listener(set->lmtp_listen, set->metrics_listen))
		a = "lmtp_listen", b = "metrics_listen";
	else if (config_same_listener(set->http_listen, set->metrics_listen))
		a = "http_listen", b = "metrics_listen";
	if (a == NULL)
		return 0;
	snprintf(config_validate_buf, sizeof(config_validate_buf),
		 "%s and %s are the same address", a, b);
	*error_r = config_validate_buf;
	return -1;
}

/* config_copy - set p in dst to its value in src */
static void config_copy(const struct config_param *p, struct settings *dst,
			const struct settings *src)
{
	if (p->type == CONFIG_STRING) {
		char **field = config_field(p, dst);
		const char *value = *(char *const *)config_cfield(p, src);

		free(*field);
		*field = value != NULL ? xstrdup(value) : NULL;
		return;
	}
	*(unsigned int *)config_field(p, dst) =
		*(const unsigned int *)config_cfield(p, src);
}

/* config_check_mode - error text when path's mode has any of bad set */
static int config_check_mode(const char *what, const char *path,
			     mode_t bad, const char *fix, const char **error_r)
{
	struct stat st;

	/* missing or unreachable: the open that follows says why */
	if (stat(path, &st) < 0 || (st.st_mode & bad) == 0)
		return 0;
	snprintf(config_error_buf, sizeof(config_error_buf),
		 "%s %s: mode %04o lets other users %s it; refusing to run "
		 "(fix: chmod %s %s)", what, path,
		 (unsigned int)(st.st_mode & 07777),
		 (st.st_mode & bad & (S_IWOTH | S_IWGRP)) != 0 ? "change"
		 : "read", fix, path);
	*error_r = config_error_buf;
	return -1;
}

/* config_check_dir - the directory of path must not be world-writable:
   anyone could replace the file, or plant the -wal next to a database */
static int config_check_dir(const char *what, const char *path,
			    const char **error_r)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return config_check_mode(what, dir, S_IWOTH, "o-w", error_r);
}

/*
 * config_check_database - a SQLite file and its directory must not be
 * others' to change; a server URI that carries a password must not sit in
 * a config file others can read (the password belongs in a passfile)
 */
static int config_check_database(const char *db, const char *config_path,
				 const char **error_r)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	const char *file = store_location_file(db);
	char path[4096];
	int has_password;

	if (file == NULL) {
		store_location_check(db, &has_password);
		if (!has_password || config_path == NULL)
			return 0;
		return config_check_mode("config file (its database URI "
					 "carries a password; better: a "
					 "passfile)", config_path,
					 S_IROTH | S_IWOTH, "o-rw", error_r);
	}
	if (config_check_dir("the directory of database", file, error_r) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", file, suffixes[i]);
		if (config_check_mode("database", path, S_IWOTH, "o-w",
				      error_r) < 0)
			return -1;
	}
	return 0;
}

int config_check_files(const struct settings *set, const char *config_path,
		       const char **error_r)
{
	if (config_path != NULL &&
	    config_check_mode("config file", config_path, S_IWOTH, "o-w",
			      error_r) < 0)
		return -1;
	if (set->database != NULL &&
	    config_check_database(set->database, config_path, error_r) < 0)
		return -1;
	if (set->secret_file == NULL)
		return 0;
	if (config_check_dir("the directory of secret_file",
			     set->secret_file, error_r) < 0)
		return -1;
	/* the key signs every release link: reading it is forging them */
	return config_check_mode("secret_file", set->secret_file,
				 S_IROTH | S_IWOTH | S_IWGRP, "600", error_r);
}

/* config_format - the value of p in set as the config file would say it */
static void config_format(const struct config_param *p,
			  const struct settings *set, struct strbuf *out)
{
	if (p->type == CONFIG_STRING) {
		const char *s = *(char *const *)config_cfield(p, set);
		strbuf_puts(out, s ? s : "");
		return;
	}
	unsigned int n = *(const unsigned int *)config_cfield(p, set);
	if (p->type == CONFIG_BOOL)
		strbuf_puts(out, n ? "yes" : "no");
	else if (p->type == CONFIG_DURATION && n != 0 && n % 86400 == 0)
		strbuf_printf(out, "%ud", n / 86400);
	else if (p->type == CONFIG_DURATION && n != 0 && n % 3600 == 0)
		strbuf_printf(out, "%uh", n / 3600);
	else if (p->type == CONFIG_DURATION && n != 0 && n % 60 == 0)
		strbuf_printf(out, "%um", n / 60);
	else if (p->type == CONFIG_DURATION)
		strbuf_printf(out, "%us", n);
	else
		strbuf_printf(out, "%u", n);
}

void config_print(const struct settings *set, int only_changed,
		  struct strbuf *out)
{
	struct settings defaults;
	struct strbuf value = STRBUF_INIT, def = STRBUF_INIT;

	config_defaults(&defaults);
	for (const struct config_param *p = config_table; p->name; p++) {
		strbuf_reset(&value);
		strbuf_reset(&def);
		config_format(p, set, &value);
		config_format(p, &defaults, &def);
		if (only_changed && strcmp(strbuf_cstr(&value),
					   strbuf_cstr(&def)) == 0)
			continue;
		strbuf_printf(out, "%s = %s\n", p->name, strbuf_cstr(&value));
	}
	strbuf_free(&value);
	strbuf_free(&def);
	settings_free(&defaults);
}

unsigned int config_keep_restart(struct settings *set,
				 const struct settings *running,
				 struct strbuf *changed)
{
	struct strbuf now = STRBUF_INIT, file = STRBUF_INIT;
	unsigned int count = 0;

	for (const struct config_param *p = config_table; p->name; p++) {
		if (!p->restart)
			continue;
		strbuf_reset(&now);
		strbuf_reset(&file);
		config_format(p, running, &now);
		config_format(p, set, &file);
		if (strcmp(strbuf_cstr(&now), strbuf_cstr(&file)) == 0)
			continue;
		strbuf_printf(changed, "%s%s (running \"%s\", file \"%s\")",
			      count++ > 0 ? ", " : "", p->name,
			      strbuf_cstr(&now), strbuf_cstr(&file));
		config_copy(p, set, running);
	}
	strbuf_free(&now);
	strbuf_free(&file);
	return count;
}

void settings_free(struct settings *set)
{
	for (const struct config_param *p = config_table; p->name; p++) {
		if (p->type == CONFIG_STRING) {
			char **field = config_field(p, set);
			free(*field);
			*field = NULL;
		}
	}
}
