/*
 * daemon-config.h - the configuration ndrguardd runs with, reloadable
 *
 * A struct daemon_config is one loaded ndrguard.conf(5) with what is
 * derived from it (the relay set). SIGHUP loads a new one; connections
 * keep the one they took until their next transaction, so a reload never
 * changes the rules in the middle of a message. A config is reference
 * counted and freed when the last user lets go.
 *
 * Ownership: daemon_config_get() returns a new reference that the caller
 * gives back with daemon_config_unref(), which NULLs the pointer.
 */
#ifndef NDRGUARD_DAEMON_CONFIG_H
#define NDRGUARD_DAEMON_CONFIG_H

#include "settings.h"

struct relays;
struct dkim_keys;
struct deliver_batv;

struct daemon_config {
	struct settings set;
	struct relays *relays;
	struct dkim_keys *dkim_keys;	/* dkim_keys, loaded */
	struct deliver_batv *batv;	/* batv_key_file, loaded; NULL: off */
	int refcount;		/* under the module's lock */
};

/*
 * daemon_config_load - read path (NULL: the defaults) and check it as
 * the daemon will use it: every value (config_load()), the rules between
 * them (config_validate()), daemon_user, the files other users could
 * change (config_check_files()), the digest templates, a sendmail:
 * reinject, an existing secret_file. 0, or -1 with *error_r naming the
 * parameter ("FILE:LINE: ..." for a bad value).
 */
int daemon_config_load(const char *path, struct daemon_config **cfg_r,
		       const char **error_r);
/* daemon_config_install - make cfg current (takes over the reference) */
void daemon_config_install(struct daemon_config *cfg);
/* daemon_config_get - a reference to the current config */
struct daemon_config *daemon_config_get(void);
/* daemon_config_ref - another reference to cfg, installed or not */
struct daemon_config *daemon_config_ref(struct daemon_config *cfg);
void daemon_config_unref(struct daemon_config **_cfg);

#endif
