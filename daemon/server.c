/*
 * server.c - the listeners and connections of ndrguardd: one event loop,
 * and threads for the decisions
 *
 * One thread (the caller of server_run) owns every connection of every
 * service: it accepts them, reads what arrives, has the service consume
 * it and writes the replies, all without waiting (server-conn.c). A
 * wake-up serves every connection that is ready; threads that wait in
 * read() one connection each would cost a thread switch per command,
 * and on a busy server most of a message's cost was that.
 *
 * The jobs (SERVER_STEP_JOB) completed in one round of the loop go
 * together, as one batch per service, to a decision thread, since their
 * work waits: for the commit (store-writer.h), which they share, and for
 * the re-injection hop. The loop leaves those connections alone until
 * the thread hands them back with their replies. Decision threads are
 * made as needed, and a spare one waits the service's thread_idle
 * seconds for work.
 *
 * Limits: the service refuses a connection over its limit (on_accept);
 * the idle timeout while waiting for a request, the command timeout for
 * the rest of a request line, for a pause in data and for a client that
 * does not take its replies. A client with more than SERVER_OUT_LIMIT
 * of replies unsent is not read from until it takes them (back-pressure,
 * as Postfix's smtpd and Dovecot do): what it sends stays in the
 * kernel's buffers and then in the client, and its deadline moves only
 * when it takes replies.
 *
 * Stopping: server_stop() makes the shutdown pipe readable. The loop
 * closes its listeners; connections waiting for a request are given to
 * their service, which ends them (server_stopping()); connections inside
 * a request finish it first; server_run() returns when the last
 * connection has ended.
 */
#include "autoconfig.h"
#include "server.h"
#include "endpoint.h"
#include "log.h"
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

#define SERVER_STACK (1024 * 1024)
#define SERVER_EVENTS 64
#define SERVER_SNDBUF (64 * 1024)	/* bytes; the kernel doubles it */
#define SERVER_BACKLOG 128
#define SERVER_LISTENERS_MAX 4	/* LMTP, and room for a milter, a policy */

struct server_listener {
	int fd;			/* -1 once closed */
	const struct server_service *service;
	unsigned int open;	/* its connections */
	struct server_conn *complete;	/* this round's jobs */
};

/* the jobs of one service completed in one round, decided together */
struct server_batch {
	struct server_batch *next;
	const struct server_service *service;
	struct server_conn *conns;	/* linked by next */
};

/* what an epoll event is for, besides a connection or a listener */
static char server_wake_tag, server_shutdown_tag;

static struct {
	/* the decision threads and their lists */
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a batch was queued */
	pthread_cond_t gone;	/* a thread ended */
	struct server_batch *jobs;	/* batches waiting for a thread */
	struct server_conn *done;	/* decided, back to the loop */
	unsigned int jobs_queued, threads, spare;
	unsigned int thread_idle;	/* seconds, of the newest batch */
	int threads_stop;

	/* the loop's own */
	struct server_listener listeners[SERVER_LISTENERS_MAX];
	unsigned int listener_count;
	int listening;		/* the listeners are open */
	int epfd, wake_fd;
	struct server_conn **conns;
	unsigned int conn_count, conn_alloc;
	unsigned long next_id;
	int stopping;		/* atomic: no new request */
	int shutdown_pipe[2];
	char hostname[256];
} server = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.gone = PTHREAD_COND_INITIALIZER,
	.epfd = -1, .wake_fd = -1,
	.shutdown_pipe = { -1, -1 },
};

/* server_now_ms - the monotonic clock, for deadlines */
static long long server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *server_hostname(void)
{
	return server.hostname;
}

int server_stopping(void)
{
	return __atomic_load_n(&server.stopping, __ATOMIC_RELAXED);
}

void server_stop(void)
{
	/* never read: once written, it stays readable */
	if (write(server.shutdown_pipe[1], "x", 1) < 0)
		log_warning("shutdown pipe: %s", strerror(errno));
}

/* --- decision threads --- */

/* server_join - the batches of b's service queued behind b join it:
   one commit for all (lock held) */
static void server_join(struct server_batch *b)
{
	struct server_batch **link = &b->next;

	while (*link != NULL) {
		struct server_batch *more = *link;
		struct server_conn *c = more->conns;

		if (more->service != b->service) {
			link = &more->next;
			continue;
		}
		while (c->next != NULL)
			c = c->next;
		c->next = b->conns;
		b->conns = more->conns;
		*link = more->next;
		free(more);
	}
}

/* server_next_job - the queued batches of one service as one, or NULL
   when this thread has waited long enough or the server stops (lock
   held) */
static struct server_batch *server_next_job(void)
{
	struct timespec until;
	struct server_batch *b;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += server.thread_idle;
	while (server.jobs == NULL && !server.threads_stop) {
		server.spare++;
		int rc = pthread_cond_timedwait(&server.work, &server.lock,
						&until);
		server.spare--;
		if (rc != 0)
			break;
	}
	b = server.jobs;
	if (b != NULL) {
		server_join(b);
		server.jobs = b->next;
		b->next = NULL;
		server.jobs_queued = 0;
		for (struct server_batch *rest = server.jobs; rest != NULL;
		     rest = rest->next)
			server.jobs_queued++;
	}
	return b;
}

/* server_hand_back - decided connections go back to the loop */
static void server_hand_back(struct server_conn *list)
{
	struct server_conn *c, *next;
	uint64_t one = 1;

	pthread_mutex_lock(&server.lock);
	for (c = list; c != NULL; c = next) {
		next = c->next;
		c->next = server.done;
		server.done = c;
	}
	pthread_mutex_unlock(&server.lock);
	if (write(server.wake_fd, &one, sizeof(one)) < 0)
		log_error("wake the event loop: %s", strerror(errno));
}

/* server_decide - a batch to its service, and back to the loop; b is
   freed */
static void server_decide(struct server_batch *b)
{
	b->service->on_jobs(b->conns);
	server_hand_back(b->conns);
	free(b);
}

/* server_thread_main - a decision thread: batches until none comes */
static void *server_thread_main(void *arg)
{
	struct server_batch *b = arg;
	const struct server_service *named = NULL;

	while (b != NULL) {
		/* ps -L and /proc/PID/task/TID/comm tell threads apart */
		if (b->service != named) {
			named = b->service;
			pthread_setname_np(pthread_self(), named->thread_name);
		}
		server_decide(b);
		pthread_mutex_lock(&server.lock);
		b = server_next_job();
		if (b == NULL) {
			server.threads--;
			pthread_cond_broadcast(&server.gone);
		}
		pthread_mutex_unlock(&server.lock);
	}
	return NULL;
}

/* server_spawn - a new decision thread starting with b, or, when none
   can be made, b decided here */
static void server_spawn(struct server_batch *b)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SERVER_STACK);
	rc = pthread_create(&thread, &attr, server_thread_main, b);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warning("cannot start a decision thread: %s", strerror(rc));
		pthread_mutex_lock(&server.lock);
		server.threads--;
		pthread_mutex_unlock(&server.lock);
		server_decide(b);
	}
}

/* server_queue - give l's jobs of this round to a spare thread, or to a
   new one */
static void server_queue(struct server_listener *l)
{
	struct server_conn *list = l->complete;
	struct server_timeouts t;
	struct server_batch *b;

	if (list == NULL)
		return;
	l->complete = NULL;
	l->service->timeouts(list, &t);
	b = xcalloc(1, sizeof(*b));
	b->service = l->service;
	b->conns = list;
	pthread_mutex_lock(&server.lock);
	server.thread_idle = t.thread_idle;
	if (server.spare > server.jobs_queued) {
		b->next = server.jobs;
		server.jobs = b;
		server.jobs_queued++;
		pthread_cond_signal(&server.work);
		pthread_mutex_unlock(&server.lock);
		return;
	}
	server.threads++;
	pthread_mutex_unlock(&server.lock);
	server_spawn(b);
}

/* server_threads_end - let the spare threads go, wait for them */
static void server_threads_end(void)
{
	pthread_mutex_lock(&server.lock);
	server.threads_stop = 1;
	pthread_cond_broadcast(&server.work);
	while (server.threads > 0)
		pthread_cond_wait(&server.gone, &server.lock);
	pthread_mutex_unlock(&server.lock);
}

/* --- connections --- */

/* server_watch - epoll waits for events on c (a call only on change) */
static void server_watch(struct server_conn *c, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events != c->events
	    && epoll_ctl(server.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

/* server_listed - c is a connection still open */
static int server_listed(const struct server_conn *c)
{
	for (unsigned int i = 0; i < server.conn_count; i++)
		if (server.conns[i] == c)
			return 1;
	return 0;
}

/* server_discard - a connection that is not (or no longer) listed goes */
static void server_discard(struct server_conn *c)
{
	close(c->fd);	/* also takes it out of the epoll set */
	server_conn_free(c);
	free(c);
}

/* server_close - c ends: off the list, its service lets go, it goes */
static void server_close(struct server_conn *c)
{
	for (unsigned int i = 0; i < server.conn_count; i++) {
		if (server.conns[i] == c) {
			server.conns[i] = server.conns[--server.conn_count];
			break;
		}
	}
	c->listener->open--;
	c->listener->service->on_close(c);
	server_discard(c);
}

/*
 * server_deadline - when c has waited too long for what it waits.
 * While replies wait to be written, only the client's taking some of
 * them moves the deadline: requests it sends meanwhile do not, so a
 * client that sends and never reads is closed the command timeout after
 * it stopped reading.
 */
static void server_deadline(struct server_conn *c, long long now)
{
	const struct server_service *service = c->listener->service;
	struct server_timeouts t;

	service->timeouts(c, &t);
	if (server_conn_unsent(c) > 0) {
		if (c->out_moved || c->out_since == 0)
			c->out_since = now;
		c->deadline = c->out_since + t.command * 1000LL;
		return;
	}
	c->out_since = 0;
	switch (service->waiting(c)) {
	case SERVER_WAIT_DATA:
		c->deadline = now + t.command * 1000LL;
		break;
	case SERVER_WAIT_REQUEST:
		if (c->wait_started == 0)
			c->wait_started = now;
		c->deadline = c->wait_started + t.command * 1000LL;
		break;
	case SERVER_WAIT_IDLE:
		c->wait_started = 0;
		c->deadline = now + t.idle * 1000LL;
		break;
	}
}

/* server_events - what c waits for: no input while its unsent replies
   are over SERVER_OUT_LIMIT or requests read earlier wait
   (back-pressure), else input, and the socket's room while replies
   wait (or, for waiting requests, the next round) */
static unsigned int server_events(const struct server_conn *c)
{
	if (server_conn_congested(c) || c->input_waiting)
		return EPOLLOUT;
	return server_conn_unsent(c) > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN;
}

/*
 * server_advance - run c as far as its input goes, or until its unsent
 * replies reach SERVER_OUT_LIMIT: requests, and a complete job to a
 * decision thread; then write the replies. Requests left for
 * back-pressure are taken up in a later round, so that one client's
 * pipelined requests cost a round at most SERVER_OUT_LIMIT of replies
 * and every other connection is served in between.
 */
static void server_advance(struct server_conn *c)
{
	enum server_step step = c->listener->service->on_input(c);
	int sent;

	if (step == SERVER_STEP_JOB) {
		/* a reply the job follows (LMTP's 354) may still be here */
		if (server_conn_send(c) < 0) {
			server_close(c);	/* nothing was decided */
			return;
		}
		/* it keeps its events: a client waits for its replies, so
		   they are taken off only if it sends meanwhile (below) */
		c->busy = 1;
		c->next = c->listener->complete;
		c->listener->complete = c;
		return;
	}
	sent = server_conn_send(c);
	if (step == SERVER_STEP_CLOSE || sent < 0) {
		server_close(c);
		return;
	}
	c->input_waiting = step == SERVER_STEP_OUTPUT;
	server_deadline(c, server_now_ms());
	server_watch(c, server_events(c));
}

/* server_readable - input (or the end of it) for c */
static void server_readable(struct server_conn *c)
{
	ssize_t n = server_conn_receive(c);

	if (n == -1)
		return;	/* nothing after all */
	if (n <= 0) {
		/* the client is gone: a request not complete leaves no
		   trace, since nothing was decided */
		server_close(c);
		return;
	}
	server_advance(c);
}

/* server_refuse - the service turned c down: its refusal, once */
static void server_refuse(struct server_conn *c)
{
	if (server_conn_send(c) < 0)
		log_warning("refuse connection: %s", strerror(errno));
	server_discard(c);
}

/* server_list - c joins the open connections */
static void server_list(struct server_conn *c)
{
	if (server.conn_count == server.conn_alloc) {
		server.conn_alloc = server.conn_alloc * 2 + 16;
		server.conns = xrealloc(server.conns,
					server.conn_alloc * sizeof(*server.conns));
	}
	server.conns[server.conn_count++] = c;
	c->listener->open++;
}

/* server_start_conn - a new connection on l: its service, then its
   greeting written */
static void server_start_conn(struct server_listener *l, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct server_conn *c = xcalloc(1, sizeof(*c));

	server_conn_init(c, fd);
	c->listener = l;
	c->id = server.next_id + 1;	/* taken only when it is accepted */
	c->context = l->service->on_accept(c, l->open);
	if (c->context == NULL) {
		server_refuse(c);
		return;
	}
	server.next_id++;
	/* replies are small: a small send buffer keeps what a client that
	   does not read can make us write into the kernel small too
	   (autotuning would grow it to megabytes, each byte a reply we
	   made for nothing) */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ SERVER_SNDBUF },
		       sizeof(int)) < 0)
		log_warning("SO_SNDBUF: %s", strerror(errno));
	c->events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(server.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		log_warning("epoll: %s", strerror(errno));
		l->service->on_close(c);
		server_discard(c);
		return;
	}
	server_list(c);
	server_advance(c);
}

/* server_accept - every connection waiting on l */
static void server_accept(struct server_listener *l)
{
	while (l->fd >= 0) {	/* closed when a stop came first */
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			server_start_conn(l, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warning("%s accept: %s", l->service->name,
				    strerror(errno));
		if (errno == EMFILE || errno == ENFILE)
			usleep(100 * 1000);
		return;
	}
}

/* server_decided - take back the connections whose jobs are done */
static void server_decided(void)
{
	struct server_conn *c, *next;
	uint64_t count;

	if (read(server.wake_fd, &count, sizeof(count)) < 0
	    && errno != EAGAIN)
		log_warning("wake-up counter: %s", strerror(errno));
	pthread_mutex_lock(&server.lock);
	c = server.done;
	server.done = NULL;
	pthread_mutex_unlock(&server.lock);
	for (; c != NULL; c = next) {
		next = c->next;
		c->busy = 0;
		if (c->listener->service->on_job_done != NULL)
			c->listener->service->on_job_done(c);
		server_advance(c);
	}
}

/* server_begin_stop - no new connection; idle ones are told so */
static void server_begin_stop(void)
{
	__atomic_store_n(&server.stopping, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < server.listener_count; i++) {
		close(server.listeners[i].fd);	/* also leaves the set */
		server.listeners[i].fd = -1;
	}
	server.listening = 0;
	epoll_ctl(server.epfd, EPOLL_CTL_DEL, server.shutdown_pipe[0], NULL);
	/* backwards: closing a connection moves the last one into its slot */
	for (unsigned int i = server.conn_count; i-- > 0;) {
		struct server_conn *c = server.conns[i];

		if (!c->busy && c->listener->service->waiting(c)
		    == SERVER_WAIT_IDLE)
			server_advance(c);
	}
	if (server.conn_count > 0)
		log_info("stopping: waiting for %u connections to finish",
			 server.conn_count);
}

/* server_expire - end the connections that waited too long; the
   milliseconds until the next deadline, at most a minute */
static int server_expire(void)
{
	long long now = server_now_ms(), next = -1;

	for (unsigned int i = server.conn_count; i-- > 0;) {
		struct server_conn *c = server.conns[i];

		if (c->busy)
			continue;
		if (c->deadline <= now) {
			c->listener->service->on_timeout(c);
			server_conn_send(c);
			server_close(c);
		} else if (next < 0 || c->deadline - now < next) {
			next = c->deadline - now;
		}
	}
	return next < 0 || next > 60000 ? 60000 : (int)next + 1;
}

int server_listen(const struct server_service *service, const char *spec,
		  const char **error_r)
{
	struct server_listener *l;
	struct endpoint ep;
	int fd;

	if (server.listener_count == SERVER_LISTENERS_MAX) {
		*error_r = "too many listeners";
		return -1;
	}
	if (endpoint_parse(spec, &ep, error_r) < 0
	    || (fd = endpoint_listen(&ep, SERVER_BACKLOG, error_r)) < 0)
		return -1;
	l = &server.listeners[server.listener_count++];
	l->fd = fd;
	l->service = service;
	return 0;
}

int server_init(void)
{
	if (pipe(server.shutdown_pipe) < 0)
		return -1;
	server.epfd = epoll_create1(EPOLL_CLOEXEC);
	server.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (server.epfd < 0 || server.wake_fd < 0)
		return -1;
	if (gethostname(server.hostname, sizeof(server.hostname) - 1) < 0)
		strcpy(server.hostname, "localhost");
	return 0;
}

/* server_nonblock - fd never blocks (a listener from server_listen) */
static int server_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* server_add - epoll reports fd readable, as tag */
static int server_add(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(server.epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* server_setup - the listeners, the wake-up and the shutdown pipe in
   the epoll set */
static int server_setup(void)
{
	for (unsigned int i = 0; i < server.listener_count; i++) {
		struct server_listener *l = &server.listeners[i];

		if (server_nonblock(l->fd) < 0 || server_add(l->fd, l) < 0)
			return -1;
	}
	server.listening = 1;
	if (server_add(server.wake_fd, &server_wake_tag) < 0
	    || server_add(server.shutdown_pipe[0], &server_shutdown_tag) < 0)
		return -1;
	return 0;
}

/* server_listener_of - the listener tag is, or NULL */
static struct server_listener *server_listener_of(const void *tag)
{
	for (unsigned int i = 0; i < server.listener_count; i++)
		if (tag == &server.listeners[i])
			return &server.listeners[i];
	return NULL;
}

/* server_special - an event that is not a connection's */
static int server_special(const void *tag)
{
	return tag == &server_wake_tag || tag == &server_shutdown_tag
		|| server_listener_of(tag) != NULL;
}

/* server_round - one epoll_wait's events: listeners and wake-ups first,
   then the connections still open */
static void server_round(struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		void *tag = ev[i].data.ptr;
		struct server_listener *l = server_listener_of(tag);

		if (l != NULL)
			server_accept(l);
		else if (tag == &server_wake_tag)
			server_decided();
		else if (tag == &server_shutdown_tag)
			server_begin_stop();
	}
	for (int i = 0; i < n; i++) {
		struct server_conn *c = ev[i].data.ptr;

		/* a connection closed earlier in this round is gone: only
		   those still listed are served */
		if (server_special(c) || !server_listed(c))
			continue;
		if (c->busy) {
			/* level-triggered: it would fire on and on */
			server_watch(c, 0);
			continue;
		}
		if (ev[i].events & EPOLLOUT)
			server_advance(c);
		else
			server_readable(c);
	}
	for (unsigned int i = 0; i < server.listener_count; i++)
		server_queue(&server.listeners[i]);
}

int server_run(void)
{
	struct epoll_event ev[SERVER_EVENTS];
	int timeout = 60000;

	if (server_setup() < 0) {
		log_error("event loop: %s", strerror(errno));
		return -1;
	}
	while (server.listening || server.conn_count > 0) {
		int n = epoll_wait(server.epfd, ev, SERVER_EVENTS, timeout);

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		server_round(ev, n);
		timeout = server_expire();
	}
	for (unsigned int i = 0; i < server.listener_count; i++)
		if (server.listeners[i].fd >= 0)
			close(server.listeners[i].fd);
	server_threads_end();
	return 0;
}
