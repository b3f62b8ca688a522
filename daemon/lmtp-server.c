/*
 * lmtp-server.c - LMTP connections: one event loop, and threads for the
 * decisions
 *
 * One thread (the caller of lmtp_server_run) owns every connection: it
 * accepts them, reads what arrives, runs the commands and writes the
 * replies, all without waiting (lmtp-session.c). A wake-up serves every
 * connection that is ready; threads that wait in read() one connection
 * each would cost a thread switch per command, and on a busy server most
 * of a message's cost was that.
 *
 * The messages completed in one round of the loop go together, as one
 * batch, to a decision thread, since their decision waits: for the
 * commit (store-writer.h), which they share, and for the re-injection
 * hop. The loop leaves those connections alone until the thread hands
 * them back with their replies. Decision threads are made as needed, and
 * a spare one waits LMTP_SERVER_IDLE seconds for work.
 *
 * Limits: lmtp_max_connections (one more is told 421 4.3.2 and closed),
 * lmtp_idle_timeout while waiting for a command, lmtp_command_timeout
 * for the rest of a command line, for a pause in the message data and
 * for a client that does not take its replies. A client with more than
 * LMTP_OUT_LIMIT of replies unsent is not read from until it takes
 * them (back-pressure, as Postfix's smtpd and Dovecot do): what it
 * sends stays in the kernel's buffers and then in the client, and its
 * deadline moves only when it takes replies.
 *
 * Stopping: lmtp_server_stop() makes the shutdown pipe readable. The
 * loop stops accepting; connections waiting for a command say 421 and
 * close; connections inside a message finish it first, then say 421;
 * lmtp_server_run() returns when the last connection has ended.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LMTP_SERVER_STACK (1024 * 1024)
#define LMTP_SERVER_EVENTS 64
#define LMTP_SERVER_SNDBUF (64 * 1024)	/* bytes; the kernel doubles it */

/* messages completed in one round of the loop, decided together */
struct lmtp_batch {
	struct lmtp_batch *next;
	struct lmtp_session *sessions;	/* linked by next */
};

/* what an epoll event is for, besides a session */
static char lmtp_server_listen_tag, lmtp_server_wake_tag,
	lmtp_server_shutdown_tag;

static struct {
	/* the decision threads and their lists */
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a message was queued */
	pthread_cond_t gone;	/* a thread ended */
	struct lmtp_batch *jobs;	/* batches waiting for a thread */
	struct lmtp_session *done;	/* decided, back to the loop */
	unsigned int jobs_queued, threads, spare;
	unsigned int thread_idle;	/* seconds, of the newest batch's config */
	int threads_stop;

	/* the loop's own */
	int epfd, wake_fd, listen_fd;
	struct lmtp_session **sessions;
	unsigned int session_count, session_alloc;
	struct lmtp_session *complete;	/* this round's messages */
	unsigned long next_id;
	int stopping;		/* atomic: no new command */
	int shutdown_pipe[2];
	char hostname[256];
} lmtp_server = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
	.epfd = -1, .wake_fd = -1, .listen_fd = -1,
	.shutdown_pipe = { -1, -1 },
};

static long long lmtp_server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *lmtp_server_hostname(void)
{
	return lmtp_server.hostname;
}

int lmtp_server_stopping(void)
{
	return __atomic_load_n(&lmtp_server.stopping, __ATOMIC_RELAXED);
}

void lmtp_server_stop(void)
{
	/* never read: once written, it stays readable */
	if (write(lmtp_server.shutdown_pipe[1], "x", 1) < 0)
		log_warning("shutdown pipe: %s", strerror(errno));
}

/* --- decision threads --- */

/* lmtp_server_next_job - the queued batches as one, or NULL when this
   thread has waited long enough or the server stops (lock held) */
static struct lmtp_batch *lmtp_server_next_job(void)
{
	struct timespec until;
	struct lmtp_batch *b;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += lmtp_server.thread_idle;
	while (lmtp_server.jobs == NULL && !lmtp_server.threads_stop) {
		lmtp_server.spare++;
		int rc = pthread_cond_timedwait(&lmtp_server.work,
						&lmtp_server.lock, &until);
		lmtp_server.spare--;
		if (rc != 0)
			break;
	}
	b = lmtp_server.jobs;
	if (b != NULL) {
		/* whatever queued meanwhile joins: one commit for all */
		for (struct lmtp_batch *more = b->next, *next; more != NULL;
		     more = next) {
			struct lmtp_session *s = more->sessions;

			next = more->next;
			while (s->next != NULL)
				s = s->next;
			s->next = b->sessions;
			b->sessions = more->sessions;
			free(more);
		}
		b->next = NULL;
		lmtp_server.jobs = NULL;
		lmtp_server.jobs_queued = 0;
	}
	return b;
}

/* lmtp_server_hand_back - decided sessions go back to the loop */
static void lmtp_server_hand_back(struct lmtp_session *list)
{
	struct lmtp_session *s, *next;
	uint64_t one = 1;

	pthread_mutex_lock(&lmtp_server.lock);
	for (s = list; s != NULL; s = next) {
		next = s->next;
		s->next = lmtp_server.done;
		lmtp_server.done = s;
	}
	pthread_mutex_unlock(&lmtp_server.lock);
	if (write(lmtp_server.wake_fd, &one, sizeof(one)) < 0)
		log_error("wake the LMTP loop: %s", strerror(errno));
}

/* lmtp_server_decide - a batch, from classification to the replies,
   and back to the loop; b is freed */
static void lmtp_server_decide(struct lmtp_batch *b)
{
	lmtp_deliver_batch(b->sessions);
	for (struct lmtp_session *s = b->sessions; s != NULL; s = s->next)
		lmtp_session_reset(s);
	lmtp_server_hand_back(b->sessions);
	free(b);
}

static void *lmtp_server_thread_main(void *arg)
{
	struct lmtp_batch *b = arg;

	/* ps -L and /proc/PID/task/TID/comm tell decision threads apart */
	pthread_setname_np(pthread_self(), "lmtp-decide");
	while (b != NULL) {
		lmtp_server_decide(b);
		pthread_mutex_lock(&lmtp_server.lock);
		b = lmtp_server_next_job();
		if (b == NULL) {
			lmtp_server.threads--;
			pthread_cond_broadcast(&lmtp_server.gone);
		}
		pthread_mutex_unlock(&lmtp_server.lock);
	}
	return NULL;
}

/* lmtp_server_queue - give list to a spare thread, or to a new one, or,
   when none can be made, decide it here */
static void lmtp_server_queue(struct lmtp_session *list)
{
	struct lmtp_batch *b;
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	if (list == NULL)
		return;
	b = xcalloc(1, sizeof(*b));
	b->sessions = list;
	pthread_mutex_lock(&lmtp_server.lock);
	lmtp_server.thread_idle = list->cfg->set.lmtp_thread_idle_timeout;
	if (lmtp_server.spare > lmtp_server.jobs_queued) {
		b->next = lmtp_server.jobs;
		lmtp_server.jobs = b;
		lmtp_server.jobs_queued++;
		pthread_cond_signal(&lmtp_server.work);
		pthread_mutex_unlock(&lmtp_server.lock);
		return;
	}
	lmtp_server.threads++;
	pthread_mutex_unlock(&lmtp_server.lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, LMTP_SERVER_STACK);
	rc = pthread_create(&thread, &attr, lmtp_server_thread_main, b);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warning("cannot start a decision thread: %s", strerror(rc));
		pthread_mutex_lock(&lmtp_server.lock);
		lmtp_server.threads--;
		pthread_mutex_unlock(&lmtp_server.lock);
		lmtp_server_decide(b);
	}
}

/* lmtp_server_threads_end - let the spare threads go, wait for them */
static void lmtp_server_threads_end(void)
{
	pthread_mutex_lock(&lmtp_server.lock);
	lmtp_server.threads_stop = 1;
	pthread_cond_broadcast(&lmtp_server.work);
	while (lmtp_server.threads > 0)
		pthread_cond_wait(&lmtp_server.gone, &lmtp_server.lock);
	pthread_mutex_unlock(&lmtp_server.lock);
}

/* --- connections --- */

static void lmtp_server_watch(struct lmtp_session *s, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (events != s->events
	    && epoll_ctl(lmtp_server.epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->events = events;
}

/* lmtp_server_listed - s is a session still open */
static int lmtp_server_listed(const struct lmtp_session *s)
{
	for (unsigned int i = 0; i < lmtp_server.session_count; i++)
		if (lmtp_server.sessions[i] == s)
			return 1;
	return 0;
}

static void lmtp_server_close(struct lmtp_session *s)
{
	for (unsigned int i = 0; i < lmtp_server.session_count; i++) {
		if (lmtp_server.sessions[i] == s) {
			lmtp_server.sessions[i] =
				lmtp_server.sessions[--lmtp_server.session_count];
			break;
		}
	}
	close(s->fd);	/* also takes it out of the epoll set */
	lmtp_session_free(s);
	daemon_config_unref(&s->cfg);
	free(s);
}

/*
 * lmtp_server_deadline - when s has waited too long for what it waits.
 * While replies wait to be written, only the client's taking some of
 * them moves the deadline: commands it sends meanwhile do not, so a
 * client that sends and never reads is closed lmtp_command_timeout
 * after it stopped reading.
 */
static void lmtp_server_deadline(struct lmtp_session *s, long long now)
{
	const struct settings *set = &s->cfg->set;

	if (lmtp_session_unsent(s) > 0) {
		if (s->out_moved || s->out_since == 0)
			s->out_since = now;
		s->deadline = s->out_since + set->lmtp_command_timeout * 1000LL;
		return;
	}
	s->out_since = 0;
	if (s->in_data) {
		s->deadline = now + set->lmtp_command_timeout * 1000LL;
	} else if (s->line_open) {
		if (s->line_started == 0)
			s->line_started = now;
		s->deadline = s->line_started
			+ set->lmtp_command_timeout * 1000LL;
	} else {
		s->line_started = 0;
		s->deadline = now + set->lmtp_idle_timeout * 1000LL;
	}
}

/* lmtp_server_events - what s waits for: no input while its unsent
   replies are over LMTP_OUT_LIMIT or commands read earlier wait
   (back-pressure), else input, and the socket's room while replies
   wait (or, for waiting commands, the next round) */
static unsigned int lmtp_server_events(const struct lmtp_session *s)
{
	size_t unsent = lmtp_session_unsent(s);

	if (unsent >= LMTP_OUT_LIMIT || s->input_waiting)
		return EPOLLOUT;
	return unsent > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN;
}

/*
 * lmtp_server_advance - run s as far as its input goes, or until its
 * unsent replies reach LMTP_OUT_LIMIT: commands, and a complete message
 * to a decision thread; then write the replies. Commands left for
 * back-pressure are taken up in a later round, so that one client's
 * pipelined commands cost a round at most LMTP_OUT_LIMIT of replies and
 * every other connection is served in between.
 */
static void lmtp_server_advance(struct lmtp_session *s)
{
	enum lmtp_step step = lmtp_session_step(s);
	int sent;

	if (step == LMTP_STEP_MESSAGE) {
		/* the 354 of a pipelining client may still be here */
		if (lmtp_session_send(s) < 0) {
			lmtp_server_close(s);	/* nothing was stored */
			return;
		}
		/* it keeps its events: a client waits for its replies, so
		   they are taken off only if it sends meanwhile (below) */
		s->busy = 1;
		s->next = lmtp_server.complete;
		lmtp_server.complete = s;
		return;
	}
	sent = lmtp_session_send(s);
	if (step == LMTP_STEP_CLOSE || sent < 0) {
		lmtp_server_close(s);
		return;
	}
	s->input_waiting = step == LMTP_STEP_OUTPUT;
	lmtp_server_deadline(s, lmtp_server_now_ms());
	lmtp_server_watch(s, lmtp_server_events(s));
}

/* lmtp_server_readable - input (or the end of it) for s */
static void lmtp_server_readable(struct lmtp_session *s)
{
	ssize_t n = lmtp_session_receive(s);

	if (n == -1)
		return;	/* nothing after all */
	if (n <= 0) {
		/* the client is gone: a message not complete leaves no
		   trace, since nothing was decided */
		lmtp_server_close(s);
		return;
	}
	lmtp_server_advance(s);
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

static void lmtp_server_start_session(int fd)
{
	struct daemon_config *cfg = daemon_config_get();
	unsigned int max = cfg->set.lmtp_max_connections;
	struct epoll_event ev = { .events = EPOLLIN };
	struct lmtp_session *s;

	if (lmtp_server.session_count >= max) {
		log_warning("connection refused: %u connections (lmtp_max_connections)",
			    max);
		daemon_config_unref(&cfg);
		metrics_count(METRIC_LMTP_REFUSED);
		lmtp_server_refuse(fd, max);
		return;
	}
	metrics_count(METRIC_LMTP_CONNECTIONS);
	/* replies are small: a small send buffer keeps what a client that
	   does not read can make us write into the kernel small too
	   (autotuning would grow it to megabytes, each byte a reply we
	   made for nothing) */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ LMTP_SERVER_SNDBUF },
		       sizeof(int)) < 0)
		log_warning("SO_SNDBUF: %s", strerror(errno));
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	s->cfg = cfg;
	s->id = ++lmtp_server.next_id;
	s->events = EPOLLIN;
	ev.data.ptr = s;
	if (epoll_ctl(lmtp_server.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warning("epoll: %s", strerror(errno));
		close(fd);
		daemon_config_unref(&s->cfg);
		free(s);
		return;
	}
	if (lmtp_server.session_count == lmtp_server.session_alloc) {
		lmtp_server.session_alloc = lmtp_server.session_alloc * 2 + 16;
		lmtp_server.sessions = xrealloc(lmtp_server.sessions,
			lmtp_server.session_alloc * sizeof(*lmtp_server.sessions));
	}
	lmtp_server.sessions[lmtp_server.session_count++] = s;
	lmtp_session_greet(s);
	lmtp_server_advance(s);
}

static void lmtp_server_accept(void)
{
	for (;;) {
		int fd = accept4(lmtp_server.listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			lmtp_server_start_session(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warning("accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
}

/* lmtp_server_decided - take back the sessions whose messages are decided */
static void lmtp_server_decided(void)
{
	struct lmtp_session *s, *next;
	uint64_t count;

	if (read(lmtp_server.wake_fd, &count, sizeof(count)) < 0
	    && errno != EAGAIN)
		log_warning("wake-up counter: %s", strerror(errno));
	pthread_mutex_lock(&lmtp_server.lock);
	s = lmtp_server.done;
	lmtp_server.done = NULL;
	pthread_mutex_unlock(&lmtp_server.lock);
	for (; s != NULL; s = next) {
		next = s->next;
		s->busy = 0;
		lmtp_server_advance(s);
	}
}

/* lmtp_server_begin_stop - no new connection; idle ones are told so */
static void lmtp_server_begin_stop(void)
{
	__atomic_store_n(&lmtp_server.stopping, 1, __ATOMIC_RELAXED);
	close(lmtp_server.listen_fd);	/* also leaves the epoll set */
	lmtp_server.listen_fd = -1;
	epoll_ctl(lmtp_server.epfd, EPOLL_CTL_DEL,
		  lmtp_server.shutdown_pipe[0], NULL);
	/* backwards: closing a session moves the last one into its slot */
	for (unsigned int i = lmtp_server.session_count; i-- > 0;) {
		struct lmtp_session *s = lmtp_server.sessions[i];

		if (!s->busy && !s->in_data && !s->line_open)
			lmtp_server_advance(s);
	}
	if (lmtp_server.session_count > 0)
		log_info("stopping: waiting for %u connections to finish",
			 lmtp_server.session_count);
}

/* lmtp_server_expire - end the sessions that waited too long */
static int lmtp_server_expire(void)
{
	long long now = lmtp_server_now_ms(), next = -1;

	for (unsigned int i = lmtp_server.session_count; i-- > 0;) {
		struct lmtp_session *s = lmtp_server.sessions[i];

		if (s->busy)
			continue;
		if (s->deadline <= now) {
			lmtp_session_timeout(s);
			lmtp_session_send(s);
			lmtp_server_close(s);
		} else if (next < 0 || s->deadline - now < next) {
			next = s->deadline - now;
		}
	}
	return next < 0 || next > 60000 ? 60000 : (int)next + 1;
}

int lmtp_server_init(void)
{
	if (pipe(lmtp_server.shutdown_pipe) < 0)
		return -1;
	lmtp_server.epfd = epoll_create1(EPOLL_CLOEXEC);
	lmtp_server.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (lmtp_server.epfd < 0 || lmtp_server.wake_fd < 0)
		return -1;
	if (gethostname(lmtp_server.hostname,
			sizeof(lmtp_server.hostname) - 1) < 0)
		strcpy(lmtp_server.hostname, "localhost");
	return 0;
}

static int lmtp_server_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int lmtp_server_add(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(lmtp_server.epfd, EPOLL_CTL_ADD, fd, &ev);
}

int lmtp_server_run(int listen_fd)
{
	struct epoll_event ev[LMTP_SERVER_EVENTS];
	int timeout = 60000;

	lmtp_server.listen_fd = listen_fd;
	if (lmtp_server_nonblock(listen_fd) < 0
	    || lmtp_server_add(listen_fd, &lmtp_server_listen_tag) < 0
	    || lmtp_server_add(lmtp_server.wake_fd, &lmtp_server_wake_tag) < 0
	    || lmtp_server_add(lmtp_server.shutdown_pipe[0],
			       &lmtp_server_shutdown_tag) < 0) {
		log_error("LMTP event loop: %s", strerror(errno));
		return -1;
	}
	while (lmtp_server.listen_fd >= 0 || lmtp_server.session_count > 0) {
		int n = epoll_wait(lmtp_server.epfd, ev, LMTP_SERVER_EVENTS,
				   timeout);

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *tag = ev[i].data.ptr;

			if (tag == &lmtp_server_listen_tag)
				lmtp_server_accept();
			else if (tag == &lmtp_server_wake_tag)
				lmtp_server_decided();
			else if (tag == &lmtp_server_shutdown_tag)
				lmtp_server_begin_stop();
		}
		for (int i = 0; i < n; i++) {
			struct lmtp_session *s = ev[i].data.ptr;

			if (s == (void *)&lmtp_server_listen_tag
			    || s == (void *)&lmtp_server_wake_tag
			    || s == (void *)&lmtp_server_shutdown_tag)
				continue;
			/* a session closed earlier in this round is gone:
			   only those still listed are served */
			if (!lmtp_server_listed(s))
				continue;
			if (s->busy) {
				/* level-triggered: it would fire on and on */
				lmtp_server_watch(s, 0);
				continue;
			}
			if (ev[i].events & EPOLLOUT)
				lmtp_server_advance(s);
			else
				lmtp_server_readable(s);
		}
		lmtp_server_queue(lmtp_server.complete);
		lmtp_server.complete = NULL;
		timeout = lmtp_server_expire();
	}
	if (lmtp_server.listen_fd >= 0)
		close(lmtp_server.listen_fd);
	lmtp_server_threads_end();
	return 0;
}
