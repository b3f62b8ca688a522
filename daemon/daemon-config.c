/*
 * daemon-config.c - load, swap and share ndrguardd's configuration
 */
#include "autoconfig.h"
#include "daemon-config.h"
#include "config.h"
#include "relays.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t daemon_config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct daemon_config *daemon_config_current;

int daemon_config_load(const char *path, struct daemon_config **cfg_r,
		       const char **error_r)
{
	struct daemon_config *cfg = xcalloc(1, sizeof(*cfg));

	if (path == NULL)
		config_defaults(&cfg->set);
	else if (config_load(&cfg->set, path, error_r) < 0)
		goto fail;
	cfg->relays = relays_create(cfg->set.our_relays, cfg->set.our_domains,
				    error_r);
	if (cfg->relays == NULL)
		goto fail;
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
