/*
 * test-server.c - daemon/server.c with a service of its own: a line
 * echo that is neither LMTP nor anything the daemon serves, to show that
 * the loop, its buffers, limits, timeouts, jobs in threads and stopping
 * hold for any service plugged into it
 *
 * The echo service: "hello" on connect, each line echoed; "job" is
 * answered "done" from a decision thread; "data" ("go") starts lines
 * that are not echoed, up to ".", answered "ok"; "quit" says "bye" and closes;
 * over its connection limit a client is told "busy". Each test runs in
 * a process of its own (Check forks), so each has a server of its own,
 * on a unix socket in a new directory.
 */
#include "autoconfig.h"
#include "server.h"
#include "xalloc.h"

#include <check.h>
#include "check-main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 30000	/* for what must come: only a bound, never met */
#define FILL_MAX (64u * 1024 * 1024)	/* bytes a client may send unread */

static unsigned int echo_max = 8;	/* connections */
static unsigned int echo_timeout = 600;	/* seconds */
static char sock_path[108];
static pthread_t server_thread;

struct echo {
	int in_data;
};

static void *echo_accept(struct server_conn *c, unsigned int open)
{
	if (open >= echo_max) {
		strbuf_puts(&c->out, "busy\n");
		return NULL;
	}
	strbuf_puts(&c->out, "hello\n");
	return xcalloc(1, sizeof(struct echo));
}

/* echo_line - the next complete line of c's input, without its LF */
static int echo_line(struct server_conn *c, char *line, size_t size)
{
	const char *start = c->in + c->in_pos;
	const char *lf = memchr(start, '\n', c->in_len - c->in_pos);
	size_t n;

	if (lf == NULL)
		return 0;	/* short lines: half of one may stay in c->in */
	n = (size_t)(lf - start);
	ck_assert_uint_lt(n, size);
	memcpy(line, start, n);
	line[n] = '\0';
	c->in_pos += n + 1;
	return 1;
}

static enum server_step echo_input(struct server_conn *c)
{
	struct echo *e = c->context;
	char line[256];

	for (;;) {
		if (!e->in_data && server_stopping()) {
			strbuf_puts(&c->out, "stopping\n");
			return SERVER_STEP_CLOSE;
		}
		if (c->in_pos == c->in_len)
			return SERVER_STEP_INPUT;
		if (server_conn_congested(c))
			return SERVER_STEP_OUTPUT;
		if (!echo_line(c, line, sizeof(line)))
			return SERVER_STEP_INPUT;
		if (e->in_data) {
			e->in_data = strcmp(line, ".") != 0;
			if (!e->in_data)
				strbuf_puts(&c->out, "ok\n");
		} else if (strcmp(line, "quit") == 0) {
			strbuf_puts(&c->out, "bye\n");
			return SERVER_STEP_CLOSE;
		} else if (strcmp(line, "job") == 0) {
			return SERVER_STEP_JOB;
		} else if (strcmp(line, "data") == 0) {
			e->in_data = 1;
			strbuf_puts(&c->out, "go\n");
		} else {
			strbuf_printf(&c->out, "%s\n", line);
		}
	}
}

static enum server_wait echo_waiting(const struct server_conn *c)
{
	const struct echo *e = c->context;

	if (e->in_data)
		return SERVER_WAIT_DATA;
	return c->in_pos < c->in_len ? SERVER_WAIT_REQUEST : SERVER_WAIT_IDLE;
}

static void echo_timeouts(const struct server_conn *c,
			  struct server_timeouts *t_r)
{
	(void)c;
	t_r->idle = t_r->command = echo_timeout;
	t_r->thread_idle = 1;
}

/* echo_jobs - in a decision thread */
static void echo_jobs(struct server_conn *list)
{
	for (struct server_conn *c = list; c != NULL; c = c->next)
		strbuf_puts(&c->out, "done\n");
}

static void echo_timeout_reply(struct server_conn *c)
{
	strbuf_puts(&c->out, "timeout\n");
}

static void echo_close(struct server_conn *c)
{
	free(c->context);
}

static const struct server_service echo_service = {
	.name = "echo",
	.thread_name = "echo-job",
	.on_accept = echo_accept,
	.on_input = echo_input,
	.waiting = echo_waiting,
	.timeouts = echo_timeouts,
	.on_jobs = echo_jobs,
	.on_timeout = echo_timeout_reply,
	.on_close = echo_close,
};

static void *server_main(void *arg)
{
	(void)arg;
	ck_assert_int_eq(server_run(), 0);
	return NULL;
}

/* start - the echo service on a new unix socket, its loop in a thread */
static void start(void)
{
	char dir[] = "/tmp/test-server.XXXXXX", spec[128];
	const char *error = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/echo", dir);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	ck_assert_msg(server_listen(&echo_service, spec, &error) == 0,
		      "listen: %s", error);
	ck_assert_int_eq(server_init(), 0);
	ck_assert_int_eq(pthread_create(&server_thread, NULL, server_main,
					NULL), 0);
}

static int dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sun.sun_path, sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void say(int fd, const char *text)
{
	size_t n = strlen(text);

	ck_assert_int_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* hear - what fd receives until it ends with want (NULL: until EOF) */
static char *hear(int fd, const char *want)
{
	struct strbuf got = STRBUF_INIT;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[65536];

	for (;;) {
		size_t w = want ? strlen(want) : 0;
		ssize_t n;

		if (want != NULL && got.len >= w
		    && memcmp(got.data + got.len - w, want, w) == 0)
			break;
		ck_assert_msg(poll(&p, 1, WAIT_MS) == 1, "nothing came: %s",
			      strbuf_cstr(&got));
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 && want == NULL)
			break;
		ck_assert_msg(n > 0, "closed before \"%s\": %s", want,
			      strbuf_cstr(&got));
		strbuf_append(&got, buf, (size_t)n);
	}
	return strbuf_steal(&got);
}

static void hear_is(int fd, const char *want, const char *until)
{
	char *got = hear(fd, until);

	ck_assert_str_eq(got, want);
	free(got);
}

/* fill - send 100-byte lines without reading until the server stops
   taking them (back-pressure) or closes; the bytes sent, a line maybe
   cut */
static size_t fill(int fd)
{
	char line[100];
	size_t sent = 0;
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (sent < FILL_MAX) {
		size_t off = sent % sizeof(line);
		ssize_t n = send(fd, line + off, sizeof(line) - off,
				 MSG_NOSIGNAL);

		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			break;	/* closed: it held back first, see below */
		ck_assert_int_eq(errno, EAGAIN);
		/* no room for 2 s: the server has stopped reading */
		if (poll(&p, 1, 2000) == 0)
			break;
	}
	ck_assert_msg(sent < FILL_MAX, "%zu bytes sent and never held back",
		      sent);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return sent;
}

struct finish {
	int fd;
	size_t sent;
};

/* finish_main - the cut line's rest and "quit", while the test reads */
static void *finish_main(void *arg)
{
	struct finish *f = arg;
	size_t rest = (100 - f->sent % 100) % 100;
	char tail[100];

	memset(tail, 'x', sizeof(tail));
	if (rest > 0) {
		tail[rest - 1] = '\n';
		ck_assert_int_eq(send(f->fd, tail, rest, MSG_NOSIGNAL),
				 (ssize_t)rest);
		f->sent += rest;
	}
	say(f->fd, "quit\n");
	return NULL;
}

START_TEST(test_echo_and_job)
{
	int fd;

	start();
	fd = dial();
	/* pipelined: the line after the job waits for the job's reply */
	say(fd, "a\njob\nb\n");
	hear_is(fd, "hello\na\ndone\nb\n", "b\n");
	say(fd, "data\nnot echoed\n.\nquit\n");
	hear_is(fd, "go\nok\nbye\n", NULL);
	close(fd);
}
END_TEST

START_TEST(test_limit)
{
	int a, b;

	echo_max = 1;
	start();
	a = dial();
	hear_is(a, "hello\n", "hello\n");
	b = dial();
	hear_is(b, "busy\n", NULL);
	close(b);
	say(a, "quit\n");
	hear_is(a, "bye\n", NULL);
	close(a);
	/* a's place is free again */
	a = dial();
	hear_is(a, "hello\n", "hello\n");
	close(a);
}
END_TEST

START_TEST(test_back_pressure)
{
	struct finish f;
	pthread_t thread;
	char *got;
	int fd;

	start();
	fd = dial();
	hear_is(fd, "hello\n", "hello\n");
	f.fd = fd;
	f.sent = fill(fd);
	ck_assert_int_eq(pthread_create(&thread, NULL, finish_main, &f), 0);
	got = hear(fd, NULL);
	pthread_join(thread, NULL);
	/* every line came back, in one piece each, then the goodbye */
	ck_assert_uint_eq(strlen(got), f.sent + 4);
	ck_assert_str_eq(got + f.sent, "bye\n");
	for (size_t i = 0; i < f.sent; i += 100)
		ck_assert_int_eq(got[i + 99], '\n');
	free(got);
	close(fd);
}
END_TEST

START_TEST(test_timeouts)
{
	struct pollfd p = { .events = POLLRDHUP };
	int idle, unread;

	echo_timeout = 1;
	start();
	idle = dial();
	hear_is(idle, "hello\ntimeout\n", NULL);
	close(idle);
	/* replies it never takes: closed, though it is the server that
	   stopped reading */
	unread = dial();
	fill(unread);
	p.fd = unread;
	ck_assert_int_eq(poll(&p, 1, WAIT_MS), 1);
	ck_assert(p.revents & (POLLRDHUP | POLLHUP | POLLERR));
	close(unread);
}
END_TEST

START_TEST(test_stop)
{
	int idle, inside;

	start();
	idle = dial();
	inside = dial();
	hear_is(idle, "hello\n", "hello\n");
	say(inside, "data\nline\n");
	hear_is(inside, "hello\ngo\n", "go\n");
	server_stop();
	/* waiting for a command: told at once; inside data: finishes */
	hear_is(idle, "stopping\n", NULL);
	say(inside, "more\n.\n");
	hear_is(inside, "ok\nstopping\n", NULL);
	pthread_join(server_thread, NULL);
	close(idle);
	close(inside);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("echo");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_echo_and_job);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_back_pressure);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
