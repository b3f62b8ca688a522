/*
 * reinject.c - pass a message back to Postfix through sendmail or SMTP
 *
 * The SMTP client here is deliberately minimal (EHLO, MAIL, RCPT, DATA,
 * QUIT on a loopback listener): the pipe agent runs once per message, so
 * it links nothing it does not need, and a re-injection hop is a trusted
 * local Postfix, not the Internet.
 */
#include "autoconfig.h"
#include "reinject.h"
#include "endpoint.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#define REINJECT_TIMEOUT_MS (300 * 1000)

static __thread char reinject_error_buf[600];

static const char *reinject_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *reinject_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reinject_error_buf, sizeof(reinject_error_buf), fmt, ap);
	va_end(ap);
	return reinject_error_buf;
}

int reinject_check(const char *spec, const char **error_r)
{
	struct endpoint ep;

	if (strncmp(spec, "sendmail:", 9) == 0) {
		if (spec[9] != '/') {
			*error_r = "sendmail path must be absolute";
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "smtp:", 5) == 0)
		return endpoint_parse(spec, &ep, error_r);
	*error_r = "expected sendmail:/path or smtp:HOST:PORT";
	return -1;
}

/* reinject_write_all - write everything, retrying short writes */
static int reinject_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* reinject_sendmail_argv - sendmail -G -i -f SENDER -- RECIPIENT... */
static const char **reinject_sendmail_argv(const char *path, const char *sender,
					   const char *const *rcpts,
					   size_t nrcpt)
{
	const char **argv = xcalloc(nrcpt + 8, sizeof(*argv));
	size_t argc = 0;

	argv[argc++] = path;
	argv[argc++] = "-G";
	argv[argc++] = "-i";
	argv[argc++] = "-f";
	argv[argc++] = sender;
	argv[argc++] = "--";
	for (size_t i = 0; i < nrcpt; i++)
		argv[argc++] = rcpts[i];
	argv[argc] = NULL;
	return argv;
}

/* reinject_sendmail_spawn - run sendmail with in_fd as its stdin */
static pid_t reinject_sendmail_spawn(const char *path, const char **argv,
				     int in_fd, int other_fd,
				     const char **error_r)
{
	pid_t pid = fork();

	if (pid < 0) {
		*error_r = reinject_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(in_fd, 0);
		if (in_fd != 0)
			close(in_fd);
		if (other_fd >= 0)
			close(other_fd);
		execv(path, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", path, strerror(errno));
		_exit(EX_TEMPFAIL);
	}
	return pid;
}

/* reinject_sendmail_wait - 0 if sendmail exited 0; *signalled_r if it
   was killed (it may have posted the message) */
static int reinject_sendmail_wait(const char *path, pid_t pid,
				  int *signalled_r, const char **error_r)
{
	int status;

	*signalled_r = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			*signalled_r = 1;
			*error_r = reinject_error("waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	*signalled_r = !WIFEXITED(status);
	*error_r = WIFEXITED(status)
		? reinject_error("%s exited with status %d", path,
				 WEXITSTATUS(status))
		: reinject_error("%s killed by signal %d", path,
				 WTERMSIG(status));
	return -1;
}

static int reinject_sendmail(const char *path, const char *sender,
			     const char *const *rcpts, size_t nrcpt,
			     const char *msg, size_t len, const char **error_r)
{
	const char **argv = reinject_sendmail_argv(path, sender, rcpts, nrcpt);
	int fds[2], signalled;
	pid_t pid;

	if (pipe(fds) < 0) {
		free(argv);
		*error_r = reinject_error("pipe: %s", strerror(errno));
		return -1;
	}
	pid = reinject_sendmail_spawn(path, argv, fds[0], fds[1], error_r);
	free(argv);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		return -1;
	}
	/* a sendmail that dies early must not kill us with SIGPIPE */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int werr = reinject_write_all(fds[1], msg, len);
	int saved = errno;
	close(fds[1]);
	signal(SIGPIPE, old);
	if (reinject_sendmail_wait(path, pid, &signalled, error_r) < 0)
		return -1;
	if (werr < 0) {
		*error_r = reinject_error("write to %s: %s", path,
					  strerror(saved));
		return -1;
	}
	return 0;
}

/* reinject_sendmail_file - msg in an unlinked file, rewound; -1 if not */
static int reinject_sendmail_file(const char *msg, size_t len,
				  const char **error_r)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL) {
		*error_r = reinject_error("temporary file: %s", strerror(errno));
		return -1;
	}
	fd = dup(fileno(f));
	fclose(f);
	if (fd < 0 || reinject_write_all(fd, msg, len) < 0
	    || lseek(fd, 0, SEEK_SET) < 0) {
		*error_r = reinject_error("temporary file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* reinject_sendmail_hand - sendmail started only on the whole message,
   after hand->handing(): no truncated message if we die meanwhile */
static int reinject_sendmail_hand(const char *path, const char *sender,
				  const char *const *rcpts, size_t nrcpt,
				  const char *msg, size_t len,
				  struct reinject_hand *hand,
				  const char **error_r)
{
	const char **argv;
	int fd, signalled, ret;
	pid_t pid;

	if ((fd = reinject_sendmail_file(msg, len, error_r)) < 0)
		return -1;
	if (hand->handing(hand->context, error_r) < 0) {
		close(fd);
		return -1;
	}
	hand->doubt = 1;
	argv = reinject_sendmail_argv(path, sender, rcpts, nrcpt);
	pid = reinject_sendmail_spawn(path, argv, fd, -1, error_r);
	free(argv);
	close(fd);
	if (pid < 0) {
		hand->doubt = 0;	/* nothing ran */
		return -1;
	}
	ret = reinject_sendmail_wait(path, pid, &signalled, error_r);
	hand->doubt = ret < 0 && signalled;
	snprintf(hand->reply, sizeof(hand->reply), "%s",
		 ret == 0 ? "sendmail exited 0" : *error_r);
	return ret;
}

struct reinject_smtp {
	int fd;
	char in[4096];
	size_t in_pos, in_len;
	struct strbuf out;
	struct strbuf reply;	/* the last reply, lines joined by "; " */
};

static int reinject_smtp_fill(struct reinject_smtp *s)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, REINJECT_TIMEOUT_MS) <= 0)
		return -1;
	do
		n = read(s->fd, s->in, sizeof(s->in));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	s->in_pos = 0;
	s->in_len = (size_t)n;
	return 0;
}

/* reinject_smtp_line - read one reply line (without CRLF) into line */
static int reinject_smtp_line(struct reinject_smtp *s, struct strbuf *line)
{
	strbuf_reset(line);
	for (;;) {
		if (s->in_pos == s->in_len && reinject_smtp_fill(s) < 0)
			return -1;
		char c = s->in[s->in_pos++];
		if (c == '\n')
			break;
		if (c != '\r' && line->len < 1000)
			strbuf_putc(line, c);
	}
	return 0;
}

/* reinject_smtp_reply - read a whole (multi-line) reply, return its code */
static int reinject_smtp_reply(struct reinject_smtp *s)
{
	struct strbuf line = STRBUF_INIT;
	int code = -1;

	strbuf_reset(&s->reply);
	while (reinject_smtp_line(s, &line) == 0) {
		if (line.len < 3) {
			code = -1;
			break;
		}
		if (s->reply.len > 0)
			strbuf_puts(&s->reply, "; ");
		strbuf_append(&s->reply, line.data, line.len);
		code = atoi(line.data);
		if (line.len == 3 || line.data[3] != '-')
			break;
	}
	strbuf_free(&line);
	return code;
}

static int reinject_smtp_flush(struct reinject_smtp *s)
{
	int ret = reinject_write_all(s->fd, s->out.data ? s->out.data : "",
				     s->out.len);

	strbuf_reset(&s->out);
	return ret;
}

/* reinject_smtp_cmd - send one command line, expect a 2xx/3xx code */
static int reinject_smtp_cmd(struct reinject_smtp *s, int expect,
			     const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reinject_smtp_cmd(struct reinject_smtp *s, int expect,
			     const char **error_r, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	strbuf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	strbuf_puts(&s->out, "\r\n");
	if (reinject_smtp_flush(s) < 0) {
		*error_r = reinject_error("write to re-injection hop: %s",
					  strerror(errno));
		return -1;
	}
	code = reinject_smtp_reply(s);
	if (code / 100 != expect) {
		*error_r = code < 0
			? "re-injection hop closed the connection"
			: reinject_error("re-injection hop said: %s",
					 strbuf_cstr(&s->reply));
		return -1;
	}
	return 0;
}

/*
 * reinject_smtp_body - the message as SMTP DATA: every line end becomes
 * CRLF, a leading "." is doubled, and the data ends with CRLF.CRLF.
 */
static int reinject_smtp_body(struct reinject_smtp *s, const char *msg,
			      size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - msg) : len;
		size_t content_end = end;

		if (content_end > i && msg[content_end - 1] == '\r')
			content_end--;
		if (msg[i] == '.')
			strbuf_putc(&s->out, '.');
		strbuf_append(&s->out, msg + i, content_end - i);
		strbuf_puts(&s->out, "\r\n");
		i = nl ? end + 1 : len;
		if (s->out.len >= 65536 && reinject_smtp_flush(s) < 0)
			return -1;
	}
	return reinject_smtp_flush(s);
}

/* reinject_smtp_end - the final ".", after hand->handing() if given:
   from here on the hop may take the message */
static int reinject_smtp_end(struct reinject_smtp *s,
			     struct reinject_hand *hand, const char **error_r)
{
	if (hand != NULL) {
		if (hand->handing(hand->context, error_r) < 0)
			return -1;
		hand->doubt = 1;
	}
	strbuf_puts(&s->out, ".\r\n");
	if (reinject_smtp_flush(s) < 0) {
		*error_r = reinject_error("write to re-injection hop: %s",
					  strerror(errno));
		return -1;
	}
	return 0;
}

static int reinject_has_8bit(const char *msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] & 0x80)
			return 1;
	return 0;
}

static int reinject_smtp_session(struct reinject_smtp *s, const char *sender,
				 const char *const *rcpts, size_t nrcpt,
				 const char *msg, size_t len,
				 struct reinject_hand *hand,
				 const char **error_r)
{
	char host[256] = "localhost";
	int code = reinject_smtp_reply(s);

	if (code != 220) {
		*error_r = code < 0 ? "re-injection hop sent no greeting"
			: reinject_error("re-injection hop greeting: %s",
					 strbuf_cstr(&s->reply));
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	if (reinject_smtp_cmd(s, 2, error_r, "EHLO %s", host) < 0)
		return -1;
	int eightbit = reinject_has_8bit(msg, len)
		&& strstr(strbuf_cstr(&s->reply), "8BITMIME") != NULL;
	if (reinject_smtp_cmd(s, 2, error_r, "MAIL FROM:<%s>%s", sender,
			      eightbit ? " BODY=8BITMIME" : "") < 0)
		return -1;
	for (size_t i = 0; i < nrcpt; i++)
		if (reinject_smtp_cmd(s, 2, error_r, "RCPT TO:<%s>",
				      rcpts[i]) < 0)
			return -1;
	if (reinject_smtp_cmd(s, 3, error_r, "DATA") < 0)
		return -1;
	if (reinject_smtp_body(s, msg, len) < 0) {
		*error_r = reinject_error("write to re-injection hop: %s",
					  strerror(errno));
		return -1;
	}
	if (reinject_smtp_end(s, hand, error_r) < 0)
		return -1;
	code = reinject_smtp_reply(s);
	if (hand != NULL && code >= 0) {
		/* an answer either way: no doubt about what the hop did */
		hand->doubt = 0;
		snprintf(hand->reply, sizeof(hand->reply), "%s",
			 strbuf_cstr(&s->reply));
	}
	if (code / 100 != 2) {
		*error_r = code < 0
			? "re-injection hop closed the connection after data"
			: reinject_error("re-injection hop said: %s",
					 strbuf_cstr(&s->reply));
		return -1;
	}
	/* the message is accepted; a failing QUIT changes nothing */
	strbuf_puts(&s->out, "QUIT\r\n");
	reinject_smtp_flush(s);
	return 0;
}

static int reinject_smtp(const char *spec, const char *sender,
			 const char *const *rcpts, size_t nrcpt,
			 const char *msg, size_t len,
			 struct reinject_hand *hand, const char **error_r)
{
	struct reinject_smtp s;
	struct endpoint ep;

	for (size_t i = 0; i < nrcpt; i++)
		if (strpbrk(rcpts[i], "\r\n<>") != NULL) {
			*error_r = "recipient address holds <, >, CR or LF";
			return -1;
		}
	if (strpbrk(sender, "\r\n<>") != NULL) {
		*error_r = "sender address holds <, >, CR or LF";
		return -1;
	}
	if (endpoint_parse(spec, &ep, error_r) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.fd = endpoint_connect(&ep, 30 * 1000, error_r);
	if (s.fd < 0)
		return -1;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int ret = reinject_smtp_session(&s, sender, rcpts, nrcpt, msg, len,
					hand, error_r);
	signal(SIGPIPE, old);
	close(s.fd);
	strbuf_free(&s.out);
	strbuf_free(&s.reply);
	return ret;
}

int reinject_message(const char *spec, const char *sender,
		     const char *const *recipients, size_t recipient_count,
		     const char *msg, size_t len, const char **error_r)
{
	if (strncmp(spec, "sendmail:", 9) == 0)
		return reinject_sendmail(spec + 9, sender, recipients,
					 recipient_count, msg, len, error_r);
	if (strncmp(spec, "smtp:", 5) == 0)
		return reinject_smtp(spec, sender, recipients,
				     recipient_count, msg, len, NULL, error_r);
	*error_r = "bad reinject setting";
	return -1;
}

int reinject_message_hand(const char *spec, const char *sender,
			  const char *const *recipients,
			  size_t recipient_count, const char *msg, size_t len,
			  struct reinject_hand *hand, const char **error_r)
{
	hand->doubt = 0;
	hand->reply[0] = '\0';
	if (strncmp(spec, "sendmail:", 9) == 0)
		return reinject_sendmail_hand(spec + 9, sender, recipients,
					      recipient_count, msg, len, hand,
					      error_r);
	if (strncmp(spec, "smtp:", 5) == 0)
		return reinject_smtp(spec, sender, recipients,
				     recipient_count, msg, len, hand, error_r);
	*error_r = "bad reinject setting";
	return -1;
}

long long reinject_timeout_bound(void)
{
	/* the final answer's lines each wait up to REINJECT_TIMEOUT_MS;
	   a multi-line one is rare, so twice that is ample */
	return 2 * (REINJECT_TIMEOUT_MS / 1000);
}
