/*
 * lmtp-server.c - accept LMTP connections, a thread for each
 *
 * A thread per connection keeps each session a plain sequence of reads
 * and writes. Postfix opens one connection per lmtp(8) process, so the
 * number is small and bounded (lmtp_max_connections; one more is told
 * 421 4.3.2 and closed). What the connections share, the database, has
 * one writer of its own (store-writer.h).
 *
 * The threads are kept: a session that ends leaves its thread waiting
 * for the next connection, for LMTP_SERVER_IDLE seconds. Clients that
 * open a connection per message (lmtp_connection_cache_on_demand off, or
 * smtp-source) would otherwise pay for a thread's creation and exit with
 * every message.
 *
 * Stopping: lmtp_server_stop() makes the shutdown pipe readable. The
 * accept loop ends, sessions waiting for a command say 421 and close,
 * sessions inside a transaction finish it first; lmtp_server_run()
 * returns when the last session has ended.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LMTP_SERVER_STACK (1024 * 1024)
#define LMTP_SERVER_IDLE 60	/* seconds a spare thread waits for work */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t idle;	/* the last session ended */
	pthread_cond_t work;	/* a session was queued for a spare thread */
	pthread_cond_t gone;	/* a thread ended */
	unsigned int sessions;
	unsigned int threads, spare;	/* all, and those waiting for work */
	struct lmtp_session *queue;	/* sessions waiting for a thread */
	unsigned int queued;
	int stopping;
	unsigned long next_id;
	int shutdown_pipe[2];
	char hostname[256];
} lmtp_server = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
	.shutdown_pipe = { -1, -1 },
};

int lmtp_server_shutdown_fd(void)
{
	return lmtp_server.shutdown_pipe[0];
}

const char *lmtp_server_hostname(void)
{
	return lmtp_server.hostname;
}

void lmtp_server_stop(void)
{
	/* never read: once written, it stays readable for every poll */
	if (write(lmtp_server.shutdown_pipe[1], "x", 1) < 0)
		log_warning("shutdown pipe: %s", strerror(errno));
}

/* lmtp_server_session_end - a session is over: free it, count it out */
static void lmtp_server_session_end(struct lmtp_session *s)
{
	close(s->fd);
	daemon_config_unref(&s->cfg);
	free(s);
	pthread_mutex_lock(&lmtp_server.lock);
	if (--lmtp_server.sessions == 0)
		pthread_cond_broadcast(&lmtp_server.idle);
	pthread_mutex_unlock(&lmtp_server.lock);
}

/* lmtp_server_next - the next queued session, or NULL when this thread
   has waited long enough or the server stops (lock held) */
static struct lmtp_session *lmtp_server_next(void)
{
	struct timespec until;
	struct lmtp_session *s;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LMTP_SERVER_IDLE;
	while (lmtp_server.queue == NULL && !lmtp_server.stopping) {
		lmtp_server.spare++;
		int rc = pthread_cond_timedwait(&lmtp_server.work,
						&lmtp_server.lock, &until);
		lmtp_server.spare--;
		if (rc != 0)
			break;
	}
	s = lmtp_server.queue;
	if (s != NULL) {
		lmtp_server.queue = s->next;
		lmtp_server.queued--;
	}
	return s;
}

static void *lmtp_server_thread_main(void *arg)
{
	struct lmtp_session *s = arg;

	while (s != NULL) {
		lmtp_session_run(s);
		lmtp_server_session_end(s);
		pthread_mutex_lock(&lmtp_server.lock);
		s = lmtp_server_next();
		if (s == NULL) {
			lmtp_server.threads--;
			pthread_cond_broadcast(&lmtp_server.gone);
		}
		pthread_mutex_unlock(&lmtp_server.lock);
	}
	return NULL;
}

/*
 * lmtp_server_dispatch - give s to a spare thread, or to a new one;
 * -1 with the error number when no thread could take it
 */
static int lmtp_server_dispatch(struct lmtp_session *s)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	pthread_mutex_lock(&lmtp_server.lock);
	if (lmtp_server.spare > lmtp_server.queued) {
		/* the order does not matter: a queued session always has a
		   spare thread of its own */
		s->next = lmtp_server.queue;
		lmtp_server.queue = s;
		lmtp_server.queued++;
		pthread_cond_signal(&lmtp_server.work);
		pthread_mutex_unlock(&lmtp_server.lock);
		return 0;
	}
	lmtp_server.threads++;
	pthread_mutex_unlock(&lmtp_server.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, LMTP_SERVER_STACK);
	rc = pthread_create(&thread, &attr, lmtp_server_thread_main, s);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		pthread_mutex_lock(&lmtp_server.lock);
		lmtp_server.threads--;
		pthread_mutex_unlock(&lmtp_server.lock);
		return rc;
	}
	return 0;
}

/* lmtp_server_refuse - a connection over the limit gets 421 and goes */
static void lmtp_server_refuse(int fd, unsigned int max)
{
	char reply[400];
	int n = snprintf(reply, sizeof(reply), "421 4.3.2 %s Too many "
			 "connections (%u), try again later\r\n",
			 lmtp_server.hostname, max);

	if (send(fd, reply, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warning("refuse connection: %s", strerror(errno));
	close(fd);
}

/* lmtp_server_timeouts - writes must not block a session forever */
static void lmtp_server_timeouts(int fd, unsigned int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void lmtp_server_start_session(int fd)
{
	struct daemon_config *cfg = daemon_config_get();
	unsigned int max = cfg->set.lmtp_max_connections;
	struct lmtp_session *s;
	int rc;

	pthread_mutex_lock(&lmtp_server.lock);
	if (lmtp_server.sessions >= max) {
		pthread_mutex_unlock(&lmtp_server.lock);
		log_warning("connection refused: %u connections (lmtp_max_connections)",
			    max);
		daemon_config_unref(&cfg);
		metrics_count(METRIC_LMTP_REFUSED);
		lmtp_server_refuse(fd, max);
		return;
	}
	lmtp_server.sessions++;
	pthread_mutex_unlock(&lmtp_server.lock);
	metrics_count(METRIC_LMTP_CONNECTIONS);

	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->cfg = cfg;
	s->id = ++lmtp_server.next_id;
	lmtp_server_timeouts(fd, cfg->set.lmtp_command_timeout);
	rc = lmtp_server_dispatch(s);
	if (rc != 0) {
		log_warning("cannot start a session thread: %s", strerror(rc));
		daemon_config_unref(&s->cfg);
		free(s);
		lmtp_server_refuse(fd, max);
		pthread_mutex_lock(&lmtp_server.lock);
		if (--lmtp_server.sessions == 0)
			pthread_cond_broadcast(&lmtp_server.idle);
		pthread_mutex_unlock(&lmtp_server.lock);
	}
}

int lmtp_server_init(void)
{
	if (pipe(lmtp_server.shutdown_pipe) < 0)
		return -1;
	if (gethostname(lmtp_server.hostname,
			sizeof(lmtp_server.hostname) - 1) < 0)
		strcpy(lmtp_server.hostname, "localhost");
	return 0;
}

int lmtp_server_run(int listen_fd)
{
	struct pollfd pfd[2] = {
		{ .fd = listen_fd, .events = POLLIN },
		{ .fd = lmtp_server.shutdown_pipe[0], .events = POLLIN },
	};

	for (;;) {
		int rc = poll(pfd, 2, -1);

		if (rc < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		if (pfd[1].revents != 0)
			break;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN
			    && errno != ECONNABORTED)
				log_warning("accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				usleep(100 * 1000);
			continue;
		}
		lmtp_server_start_session(fd);
	}
	close(listen_fd);
	pthread_mutex_lock(&lmtp_server.lock);
	if (lmtp_server.sessions > 0)
		log_info("stopping: waiting for %u connections to finish",
			 lmtp_server.sessions);
	while (lmtp_server.sessions > 0)
		pthread_cond_wait(&lmtp_server.idle, &lmtp_server.lock);
	lmtp_server.stopping = 1;
	pthread_cond_broadcast(&lmtp_server.work);
	while (lmtp_server.threads > 0)
		pthread_cond_wait(&lmtp_server.gone, &lmtp_server.lock);
	pthread_mutex_unlock(&lmtp_server.lock);
	return 0;
}
