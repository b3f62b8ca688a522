/*
 * config-table.h - the typed parameter table behind config.c
 *
 * Private to config.c and settings.c. Each entry says where a parameter
 * lives in struct settings, its type, its default (as the config file
 * would write it) and, for numbers, its range. A string parameter may
 * have a check function returning an error text, or NULL when fine.
 * restart marks a parameter a running program reads once, at start (a
 * listener, the database, the user it runs as): a reload keeps its
 * running value and says so (config_keep_restart()).
 */
#ifndef NDRGUARD_CONFIG_TABLE_H
#define NDRGUARD_CONFIG_TABLE_H

#include <stddef.h>
#include "settings.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_UINT,
	CONFIG_DURATION,
	CONFIG_SIZE,
	CONFIG_BOOL,
};

struct config_param {
	const char *name;
	enum config_type type;
	const char *def;
	size_t offset;
	long long min, max;
	const char *(*check)(const char *value);
	int restart;		/* CONFIG_LIVE or CONFIG_RESTART */
};

#define CONFIG_LIVE 0		/* a reload applies it */
#define CONFIG_RESTART 1	/* read at start only */

extern const struct config_param config_table[];
const struct config_param *config_table_find(const char *name);

#endif
