/*
 * lmtp-service.c - LMTP as a service of the daemon's server (server.h)
 *
 * server.c accepts, reads, writes, keeps the deadlines and runs the
 * decision threads; here is what is LMTP's in that: the connection
 * limit (lmtp_max_connections, one more is told 421 4.3.2 and closed),
 * the greeting, what a session waits for, the timeouts of the config
 * its current transaction took (lmtp_idle_timeout, lmtp_command_timeout,
 * lmtp_thread_idle_timeout), and a batch of complete messages decided
 * together (lmtp_deliver_batch).
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#include <stdlib.h>

/* lmtp_service_accept - a session for c, or NULL with 421 over the limit */
static void *lmtp_service_accept(struct server_conn *c, unsigned int open)
{
	struct daemon_config *cfg = daemon_config_get();
	unsigned int max = cfg->set.lmtp_max_connections;
	struct lmtp_session *s;

	if (open >= max) {
		log_warning("connection refused: %u connections "
			    "(lmtp_max_connections)", max);
		daemon_config_unref(&cfg);
		metrics_count(METRIC_LMTP_REFUSED);
		strbuf_printf(&c->out, "421 4.3.2 %s Too many connections "
			      "(%u), try again later\r\n", server_hostname(),
			      max);
		return NULL;
	}
	metrics_count(METRIC_LMTP_CONNECTIONS);
	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->cfg = cfg;
	lmtp_session_greet(s);
	return s;
}

/* lmtp_service_input - the session's commands, as far as they go */
static enum server_step lmtp_service_input(struct server_conn *c)
{
	return lmtp_session_step(c->context);
}

/* lmtp_service_waiting - message data, the rest of a line, or a command */
static enum server_wait lmtp_service_waiting(const struct server_conn *c)
{
	const struct lmtp_session *s = c->context;

	if (s->in_data)
		return SERVER_WAIT_DATA;
	return s->line_open ? SERVER_WAIT_REQUEST : SERVER_WAIT_IDLE;
}

/* lmtp_service_timeouts - those of the session's config */
static void lmtp_service_timeouts(const struct server_conn *c,
				  struct server_timeouts *t_r)
{
	const struct lmtp_session *s = c->context;
	const struct settings *set = &s->cfg->set;

	t_r->idle = set->lmtp_idle_timeout;
	t_r->command = set->lmtp_command_timeout;
	t_r->thread_idle = set->lmtp_thread_idle_timeout;
}

/* lmtp_service_jobs - the complete messages of list, in one batch */
static void lmtp_service_jobs(struct server_conn *list)
{
	struct lmtp_session *sessions = NULL, **tail = &sessions;

	for (struct server_conn *c = list; c != NULL; c = c->next) {
		struct lmtp_session *s = c->context;

		s->next = NULL;
		*tail = s;
		tail = &s->next;
	}
	lmtp_deliver_batch(sessions);
}

/* lmtp_service_job_done - the replies are queued: the next transaction */
static void lmtp_service_job_done(struct server_conn *c)
{
	lmtp_session_reset(c->context);
}

/* lmtp_service_timeout - 421 4.4.2, the session ends */
static void lmtp_service_timeout(struct server_conn *c)
{
	lmtp_session_timeout(c->context);
}

/* lmtp_service_close - the session and its config reference go */
static void lmtp_service_close(struct server_conn *c)
{
	struct lmtp_session *s = c->context;

	lmtp_session_free(s);
	daemon_config_unref(&s->cfg);
	free(s);
	c->context = NULL;
}

const struct server_service lmtp_service = {
	.name = "LMTP",
	.thread_name = "lmtp-decide",
	.on_accept = lmtp_service_accept,
	.on_input = lmtp_service_input,
	.waiting = lmtp_service_waiting,
	.timeouts = lmtp_service_timeouts,
	.on_jobs = lmtp_service_jobs,
	.on_job_done = lmtp_service_job_done,
	.on_timeout = lmtp_service_timeout,
	.on_close = lmtp_service_close,
};
