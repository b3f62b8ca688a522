/*
 * daemon-config.c - load, check, swap and share ndrguardd's configuration
 *
 * daemon_config_load() is the one check start-up, -t and SIGHUP all run,
 * so a file -t approves is one the daemon starts with.
 */
#include "autoconfig.h"
#include "daemon-config.h"
#include "deliver-batv.h"
#include "dkim.h"
#include "config.h"
#include "digest.h"
#include "privilege.h"
#include "relays.h"
#include "token.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t daemon_config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct daemon_config *daemon_config_current;

static __thread char daemon_config_error_buf[1024];

static const char *daemon_config_error(const char *what, const char *error)
{
	snprintf(daemon_config_error_buf, sizeof(daemon_config_error_buf),
		 "%s: %s", what, error);
	return daemon_config_error_buf;
}

/* daemon_config_reinject - a sendmail: reinject must be a program we can
   run, or every message passed on would be deferred */
static int daemon_config_reinject(const char *reinject, const char **error_r)
{
	const char *path = reinject + 9;

	if (strncmp(reinject, "sendmail:", 9) != 0 || access(path, X_OK) == 0)
		return 0;
	snprintf(daemon_config_error_buf, sizeof(daemon_config_error_buf),
		 "reinject %s: %s", reinject, strerror(errno));
	*error_r = daemon_config_error_buf;
	return -1;
}

/* daemon_config_key - a secret_file that is there must be a key we can
   use (one that is not is created at start) */
static int daemon_config_key(const char *secret_file, const char **error_r)
{
	struct token_key *key;
	const char *error;

	if (access(secret_file, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (token_key_load(secret_file, 0, &key, &error) < 0) {
		*error_r = daemon_config_error("secret_file", error);
		return -1;
	}
	token_key_free(&key);
	return 0;
}

/* daemon_config_check - what the daemon needs beyond well-formed values */
static int daemon_config_check(const struct settings *set, const char *path,
			       const char **error_r)
{
	struct passwd *pw;
	const char *error;

	if (config_validate(set, &error) < 0) {
		*error_r = daemon_config_error("(defaults)", error);
		return -1;
	}
	if (privilege_user(set->daemon_user, &pw, &error) < 0) {
		snprintf(daemon_config_error_buf,
			 sizeof(daemon_config_error_buf), "%s: %s", error,
			 set->daemon_user);
		*error_r = daemon_config_error_buf;
		return -1;
	}
	if (config_check_files(set, path, error_r) < 0)
		return -1;
	if (digest_check_templates(set, &error) < 0) {
		/* a broken template is named by its file and line only */
		*error_r = strncmp(error, "digest_", 7) == 0 ? error
			: daemon_config_error("digest_templates", error);
		return -1;
	}
	if (daemon_config_reinject(set->reinject, error_r) < 0)
		return -1;
	return daemon_config_key(set->secret_file, error_r);
}

int daemon_config_load(const char *path, struct daemon_config **cfg_r,
		       const char **error_r)
{
	struct daemon_config *cfg = xcalloc(1, sizeof(*cfg));

	if (path == NULL)
		config_defaults(&cfg->set);
	else if (config_load(&cfg->set, path, error_r) < 0)
		goto fail;
	if (daemon_config_check(&cfg->set, path, error_r) < 0)
		goto fail;
	cfg->relays = relays_create(cfg->set.our_relays, cfg->set.our_domains,
				    error_r);
	if (cfg->relays == NULL)
		goto fail;
	if (dkim_keys_load(cfg->set.dkim_keys, &cfg->dkim_keys, error_r) < 0) {
		relays_destroy(&cfg->relays);
		goto fail;
	}
	if (deliver_batv_load(&cfg->set, &cfg->batv, error_r) < 0) {
		relays_destroy(&cfg->relays);
		dkim_keys_free(&cfg->dkim_keys);
		goto fail;
	}
	cfg->refcount = 1;
	*cfg_r = cfg;
	return 0;
fail:
	settings_free(&cfg->set);
	free(cfg);
	return -1;
}

static void daemon_config_free(struct daemon_config *cfg)
{
	relays_destroy(&cfg->relays);
	dkim_keys_free(&cfg->dkim_keys);
	deliver_batv_free(&cfg->batv);
	settings_free(&cfg->set);
	free(cfg);
}

void daemon_config_install(struct daemon_config *cfg)
{
	struct daemon_config *old;

	pthread_mutex_lock(&daemon_config_lock);
	old = daemon_config_current;
	daemon_config_current = cfg;
	pthread_mutex_unlock(&daemon_config_lock);
	daemon_config_unref(&old);
}

struct daemon_config *daemon_config_get(void)
{
	struct daemon_config *cfg;

	pthread_mutex_lock(&daemon_config_lock);
	cfg = daemon_config_current;
	cfg->refcount++;
	pthread_mutex_unlock(&daemon_config_lock);
	return cfg;
}

struct daemon_config *daemon_config_ref(struct daemon_config *cfg)
{
	pthread_mutex_lock(&daemon_config_lock);
	cfg->refcount++;
	pthread_mutex_unlock(&daemon_config_lock);
	return cfg;
}

void daemon_config_unref(struct daemon_config **_cfg)
{
	struct daemon_config *cfg = *_cfg;
	int last;

	if (cfg == NULL)
		return;
	*_cfg = NULL;
	pthread_mutex_lock(&daemon_config_lock);
	last = --cfg->refcount == 0;
	pthread_mutex_unlock(&daemon_config_lock);
	if (last)
		daemon_config_free(cfg);
}
