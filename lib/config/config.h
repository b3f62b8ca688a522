/*
 * config.h - Postfix-style "name = value" configuration files
 *
 * The file format is main.cf's: one "name = value" per line, "#" starts a
 * comment line, a line starting with white space continues the previous
 * one. Every name must be in the table (settings.c); an unknown name, a
 * bad value or a value out of range is an error naming FILE:LINE.
 *
 * Numbers are decimal; durations take a unit (s, m, h, d, w; a bare
 * number is seconds); sizes take k, m or g (bytes when bare); booleans are
 * yes/no.
 *
 * Ownership: config_load() fills a caller-provided struct settings;
 * settings_free() releases its strings.
 */
#ifndef NDRGUARD_CONFIG_H
#define NDRGUARD_CONFIG_H

#include "settings.h"

struct strbuf;

/* the default configuration file, used when no -c is given */
extern const char config_default_path[];

/* config_defaults - fill set with every parameter's default */
void config_defaults(struct settings *set);
/*
 * config_load - defaults, then the file at path. Returns 0, or -1 with
 * *error_r ("FILE:LINE: ..."; valid until the next call in this thread).
 * On error set still holds valid values (defaults and what was read).
 */
int config_load(struct settings *set, const char *path, const char **error_r);
/* config_parse_text - the same from a buffer; name is used in messages */
int config_parse_text(struct settings *set, const char *name,
		      const char *text, const char **error_r);
/*
 * config_validate - the rules between parameters that no single value
 * shows (admin_user with its hash, metrics_listen with http_listen, no
 * two listeners on one address). config_parse_text() and so
 * config_load() apply it; returns 0, or -1 with *error_r naming the
 * parameters (valid until the next call in this thread).
 */
int config_validate(const struct settings *set, const char **error_r);
/*
 * config_keep_restart - for a reload: every parameter a running program
 * reads only at start that differs in set from running gets running's
 * value back in set, and "name (running "old", file "new")" appended to
 * changed (", " between them). Returns how many there were.
 */
unsigned int config_keep_restart(struct settings *set,
				 const struct settings *running,
				 struct strbuf *changed);
/* config_print - "name = value" lines; only_changed: like postconf -n */
void config_print(const struct settings *set, int only_changed,
		  struct strbuf *out);
/*
 * config_check_files - refuse files other users could change: the config
 * file at config_path (NULL: none read), the database (and its -wal and
 * -shm) and secret_file, and the directories holding those two, when
 * any is writable by every user; also a secret_file that others may read
 * or its group write. Missing files pass (they are created later, in the
 * checked directory). Returns 0, or -1 with *error_r naming the file and
 * the chmod that fixes it (valid until the next call in this thread).
 */
int config_check_files(const struct settings *set, const char *config_path,
		       const char **error_r);
/* config_parse_duration - "10m" -> 600; -1 on a bad value */
long long config_parse_duration(const char *value);
void settings_free(struct settings *set);

#endif
