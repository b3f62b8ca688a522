/*
 * lmtp-session.c - one LMTP connection: lines in, replies out, timeouts
 *
 * Replies are collected in s->out and written only when the session has
 * to wait for input: with PIPELINING (RFC 2920) a client may send many
 * commands at once and gets their replies together, and a client that
 * waits for each reply gets it before we wait.
 *
 * Two clocks guard a session: lmtp_idle_timeout while waiting for the
 * first byte of a command (a stopping daemon interrupts that wait, since
 * no transaction is in flight then), and lmtp_command_timeout for the
 * rest of a command line and for any pause within the message data.
 *
 * The message data (RFC 5321 4.5.2) arrives dot-stuffed with CRLF line
 * ends; it is kept unstuffed with LF line ends, as Postfix keeps mail in
 * its queue and as the pipe agent receives it. A bare LF ends a line as
 * CRLF does; a CR not before LF, a NUL, and lines of any length are
 * message content and kept as they are.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* a message buffer bigger than this is freed, not kept, between
   transactions: the peak size of one message must not stay resident */
#define LMTP_MSG_KEEP (256 * 1024)

static long long lmtp_session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lmtp_session_reply(struct lmtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	strbuf_puts(&s->out, "\r\n");
}

/* lmtp_session_flush - write the pending replies; a failed write ends
   the session at the next read */
static void lmtp_session_flush(struct lmtp_session *s)
{
	size_t done = 0;

	while (done < s->out.len && !s->write_failed) {
		ssize_t n = send(s->fd, s->out.data + done, s->out.len - done,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			s->write_failed = 1;
		else
			done += (size_t)n;
	}
	strbuf_reset(&s->out);
}

/*
 * lmtp_session_fill - read more input, waiting until deadline (monotonic
 * ms). The unread rest is moved to the front first, so a caller that
 * needs a few more bytes to decide gets them after what it has.
 */
static enum lmtp_read lmtp_session_fill(struct lmtp_session *s,
					long long deadline, int interruptible)
{
	struct pollfd pfd[2] = {
		{ .fd = s->fd, .events = POLLIN },
		{ .fd = lmtp_server_shutdown_fd(), .events = POLLIN },
	};
	ssize_t n;

	lmtp_session_flush(s);
	if (s->write_failed)
		return LMTP_READ_EOF;
	if (s->in_pos > 0) {
		memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
		s->in_len -= s->in_pos;
		s->in_pos = 0;
	}
	for (;;) {
		long long left = deadline - lmtp_session_now_ms();
		int rc;

		if (left <= 0)
			return LMTP_READ_TIMEOUT;
		rc = poll(pfd, interruptible ? 2 : 1, (int)(left > 60000 ? 60000 : left));
		if (rc < 0 && errno != EINTR)
			return LMTP_READ_EOF;
		if (rc <= 0)
			continue;
		/* a stopping daemon takes no new command, even one that is
		   already waiting: the shutdown is checked first */
		if (interruptible && pfd[1].revents != 0)
			return LMTP_READ_SHUTDOWN;
		if (pfd[0].revents != 0)
			break;
	}
	do
		n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return LMTP_READ_EOF;
	s->in_len += (size_t)n;
	return LMTP_READ_OK;
}

/*
 * lmtp_session_read_command - the next command line into s->line (CR LF
 * or LF removed). A line longer than lmtp_line_length_limit is read to
 * its end and thrown away, with s->line_too_long set.
 */
static enum lmtp_read lmtp_session_read_command(struct lmtp_session *s)
{
	const struct settings *set = &s->cfg->set;
	long long deadline;
	enum lmtp_read r;

	strbuf_reset(&s->line);
	s->line_too_long = 0;
	if (s->in_pos == s->in_len) {
		r = lmtp_session_fill(s, lmtp_session_now_ms()
				      + set->lmtp_idle_timeout * 1000LL, 1);
		if (r != LMTP_READ_OK)
			return r;
	}
	deadline = lmtp_session_now_ms() + set->lmtp_command_timeout * 1000LL;
	for (;;) {
		const char *start = s->in + s->in_pos;
		size_t avail = s->in_len - s->in_pos;
		const char *nl = memchr(start, '\n', avail);
		size_t n = nl ? (size_t)(nl - start) : avail;

		if (s->line.len + n > set->lmtp_line_length_limit)
			s->line_too_long = 1;
		else
			strbuf_append(&s->line, start, n);
		s->in_pos += nl ? n + 1 : n;
		if (nl != NULL)
			break;
		r = lmtp_session_fill(s, deadline, 0);
		if (r != LMTP_READ_OK)
			return r;
	}
	if (s->line.len > 0 && s->line.data[s->line.len - 1] == '\r')
		s->line.data[--s->line.len] = '\0';
	if (s->line_too_long)
		strbuf_reset(&s->line);
	return LMTP_READ_OK;
}

/* lmtp_session_keep - add message bytes, or note that it is too big */
static void lmtp_session_keep(struct lmtp_session *s, const char *p, size_t n)
{
	if (s->msg_too_big)
		return;
	if (s->msg.len + n > s->cfg->set.message_size_limit) {
		s->msg_too_big = 1;
		strbuf_free(&s->msg);
		return;
	}
	strbuf_append(&s->msg, p, n);
}

enum lmtp_dot {
	LMTP_DOT_END,		/* "." CRLF (or LF): end of data */
	LMTP_DOT_STUFFED,	/* a content line starting with "." */
	LMTP_DOT_MORE,		/* cannot tell yet */
};

/* lmtp_session_dot - what a line starting with "." at s->in_pos is */
static enum lmtp_dot lmtp_session_dot(const struct lmtp_session *s,
				      size_t *end_len_r)
{
	const char *p = s->in + s->in_pos;
	size_t avail = s->in_len - s->in_pos;

	if (avail < 2)
		return LMTP_DOT_MORE;
	if (p[1] == '\n') {
		*end_len_r = 2;
		return LMTP_DOT_END;
	}
	if (p[1] != '\r')
		return LMTP_DOT_STUFFED;
	if (avail < 3)
		return LMTP_DOT_MORE;
	if (p[2] == '\n') {
		*end_len_r = 3;
		return LMTP_DOT_END;
	}
	return LMTP_DOT_STUFFED;
}

/*
 * lmtp_session_data_chunk - take the bytes up to the next line end (or
 * all there is); returns 1 when a line ended
 */
static int lmtp_session_data_chunk(struct lmtp_session *s, int *pending_cr)
{
	const char *start = s->in + s->in_pos;
	size_t avail = s->in_len - s->in_pos;
	const char *nl = memchr(start, '\n', avail);
	size_t n = nl ? (size_t)(nl - start) : avail;

	s->in_pos += nl ? n + 1 : n;
	/* a CR held back from the previous chunk is content unless an LF
	   follows it at once */
	if (*pending_cr && !(nl != NULL && n == 0))
		lmtp_session_keep(s, "\r", 1);
	*pending_cr = 0;
	if (n > 0 && start[n - 1] == '\r') {
		n--;
		*pending_cr = nl == NULL;
	}
	lmtp_session_keep(s, start, n);
	if (nl != NULL)
		lmtp_session_keep(s, "\n", 1);
	return nl != NULL;
}

enum lmtp_read lmtp_session_read_data(struct lmtp_session *s)
{
	long long pause = s->cfg->set.lmtp_command_timeout * 1000LL;
	int at_line_start = 1, pending_cr = 0;
	enum lmtp_read r;
	size_t end_len;

	strbuf_reset(&s->msg);
	s->msg_too_big = 0;
	for (;;) {
		if (s->in_pos == s->in_len) {
			r = lmtp_session_fill(s, lmtp_session_now_ms() + pause, 0);
			if (r != LMTP_READ_OK)
				return r;
		}
		if (at_line_start && s->in[s->in_pos] == '.') {
			switch (lmtp_session_dot(s, &end_len)) {
			case LMTP_DOT_END:
				s->in_pos += end_len;
				return LMTP_READ_OK;
			case LMTP_DOT_MORE:
				r = lmtp_session_fill(s, lmtp_session_now_ms()
						      + pause, 0);
				if (r != LMTP_READ_OK)
					return r;
				continue;
			case LMTP_DOT_STUFFED:
				s->in_pos++;	/* the stuffed dot */
				break;
			}
		}
		at_line_start = lmtp_session_data_chunk(s, &pending_cr);
	}
}

void lmtp_session_reset(struct lmtp_session *s)
{
	free(s->sender);
	s->sender = NULL;
	for (size_t i = 0; i < s->rcpt_count; i++)
		free(s->rcpts[i]);
	s->rcpt_count = 0;
	free(s->xforward_ident);
	s->xforward_ident = NULL;
	s->mail_done = 0;
	s->msg_too_big = 0;
	if (s->msg.size > LMTP_MSG_KEEP)
		strbuf_free(&s->msg);
	else
		strbuf_reset(&s->msg);
}

/* lmtp_session_end - say why we close, when there is a reason to */
static void lmtp_session_end(struct lmtp_session *s, enum lmtp_read r)
{
	const char *host = lmtp_server_hostname();

	if (r == LMTP_READ_TIMEOUT) {
		lmtp_session_reply(s, "421 4.4.2 %s Error: timeout exceeded",
				   host);
		log_info("timeout after %s from connection %lu",
			 s->mail_done ? "MAIL" : "command", s->id);
	} else if (r == LMTP_READ_SHUTDOWN) {
		lmtp_session_reply(s, "421 4.3.0 %s Service shutting down, "
				   "closing transmission channel", host);
	}
	lmtp_session_flush(s);
}

void lmtp_session_run(struct lmtp_session *s)
{
	enum lmtp_read r = LMTP_READ_OK;

	lmtp_session_reply(s, "220 %s LMTP ndrguardd ready",
			   lmtp_server_hostname());
	while (!s->quit && !s->write_failed) {
		r = lmtp_session_read_command(s);
		if (r != LMTP_READ_OK)
			break;
		if (s->line_too_long)
			lmtp_session_reply(s, "500 5.5.2 Error: line too long");
		else
			lmtp_commands_dispatch(s);
	}
	lmtp_session_end(s, s->quit ? LMTP_READ_OK : r);
	lmtp_session_reset(s);
	strbuf_free(&s->msg);
	strbuf_free(&s->out);
	strbuf_free(&s->line);
	free(s->rcpts);
}
