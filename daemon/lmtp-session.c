/*
 * lmtp-session.c - one LMTP connection: lines in, replies out
 *
 * The session never waits: server.c reads what has arrived into
 * s->conn, lmtp_session_step() turns it into commands and message data
 * as far as it goes, and server.c writes what it can of the replies,
 * which collect in the connection's output meanwhile (PIPELINING, RFC
 * 2920). A finished message is decided (lmtp_deliver_batch) in a
 * decision thread, since that waits for the disk and the re-injection
 * hop.
 *
 * The message data (RFC 5321 4.5.2) arrives dot-stuffed with CRLF line
 * ends; it is kept unstuffed with LF line ends, as Postfix keeps mail in
 * its queue and as the pipe agent receives it. A bare LF ends a line as
 * CRLF does; a CR not before LF, a NUL, and lines of any length are
 * message content and kept as they are. A message over
 * message_size_limit is too big to examine and is passed on as it is:
 * past the limit it goes to an unlinked spool file, so its size costs
 * disk, not memory.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "daemon-config.h"
#include "log.h"
#include "store-writer.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* a message buffer bigger than this is freed, not kept, between
   transactions: the peak size of one message must not stay resident */
#define LMTP_MSG_KEEP (256 * 1024)
/* what an oversized message's spool file is written in */
#define LMTP_SPOOL_CHUNK (64 * 1024)

void lmtp_session_reply(struct lmtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(&s->conn->out, fmt, ap);
	va_end(ap);
	strbuf_puts(&s->conn->out, "\r\n");
}

/*
 * lmtp_session_take - consume the unread input up to and including the
 * next LF, or all of it; *start_r and *n_r are the bytes before the LF.
 * Returns 1 when an LF ended them.
 */
static int lmtp_session_take(struct lmtp_session *s, const char **start_r,
			     size_t *n_r)
{
	const char *start = s->conn->in + s->conn->in_pos;
	size_t avail = s->conn->in_len - s->conn->in_pos;
	const char *nl = memchr(start, '\n', avail);
	size_t n = nl ? (size_t)(nl - start) : avail;

	s->conn->in_pos += nl ? n + 1 : n;
	*start_r = start;
	*n_r = n;
	return nl != NULL;
}

/*
 * lmtp_session_line - take bytes of the current command line into
 * s->line; 1 when the line is complete (CR LF or LF removed). A line
 * longer than lmtp_line_length_limit is read to its end and thrown
 * away, with s->line_too_long set.
 */
static int lmtp_session_line(struct lmtp_session *s)
{
	const char *start;
	size_t n;
	int ended = lmtp_session_take(s, &start, &n);

	if (s->line.len + n > s->cfg->set.lmtp_line_length_limit)
		s->line_too_long = 1;
	else
		strbuf_append(&s->line, start, n);
	s->line_open = !ended;
	if (!ended)
		return 0;
	if (s->line.len > 0 && s->line.data[s->line.len - 1] == '\r')
		s->line.data[--s->line.len] = '\0';
	if (s->line_too_long)
		strbuf_reset(&s->line);
	return 1;
}

/* lmtp_session_spool_flush - write the staged bytes to the spool file */
static void lmtp_session_spool_flush(struct lmtp_session *s)
{
	size_t done = 0;

	while (!s->spool_failed && done < s->msg.len) {
		ssize_t n = write(s->spool_fd, s->msg.data + done,
				  s->msg.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warning("connection %lu: cannot spool an oversized "
				    "message: %s", s->conn->id,
				    n < 0 ? strerror(errno) : "short write");
			s->spool_failed = 1;
			break;
		}
		done += (size_t)n;
	}
	s->spool_len += done;
	strbuf_reset(&s->msg);
}

/* lmtp_session_spool_open - an unlinked temporary file for a message
   over message_size_limit; -1 when none can be made */
static int lmtp_session_spool_open(struct lmtp_session *s)
{
	const char *dir = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT;
	int fd;

	strbuf_printf(&path, "%s/ndrguardd-spool.XXXXXX",
		      dir != NULL && *dir == '/' ? dir : "/tmp");
	fd = mkostemp(path.data, O_CLOEXEC);
	if (fd < 0) {
		log_warning("connection %lu: cannot spool an oversized "
			    "message: %s: %s", s->conn->id, path.data,
			    strerror(errno));
	} else {
		unlink(path.data);	/* it goes when it is closed */
		s->spool_fd = fd;
		s->spooled = 1;
		s->spool_len = 0;
	}
	strbuf_free(&path);
	return fd < 0 ? -1 : 0;
}

/*
 * lmtp_session_keep - add message bytes: in memory up to
 * message_size_limit, then to a spool file in LMTP_SPOOL_CHUNK writes
 */
static void lmtp_session_keep(struct lmtp_session *s, const char *p, size_t n)
{
	if (s->spool_failed)
		return;
	if (!s->spooled && s->msg.len + n <= s->cfg->set.message_size_limit) {
		strbuf_append(&s->msg, p, n);
		return;
	}
	if (!s->spooled && lmtp_session_spool_open(s) < 0) {
		s->spool_failed = 1;
		strbuf_free(&s->msg);
		return;
	}
	strbuf_append(&s->msg, p, n);
	if (s->msg.len >= LMTP_SPOOL_CHUNK)
		lmtp_session_spool_flush(s);
}

const char *lmtp_session_spool_map(struct lmtp_session *s, size_t *len_r,
				   const char **error_r)
{
	void *map;

	lmtp_session_spool_flush(s);
	if (s->spool_failed) {
		*error_r = "cannot spool the oversized message";
		return NULL;
	}
	map = mmap(NULL, s->spool_len, PROT_READ, MAP_PRIVATE, s->spool_fd, 0);
	if (map == MAP_FAILED) {
		log_warning("connection %lu: mmap of the spooled message: %s",
			    s->conn->id, strerror(errno));
		*error_r = "cannot read the spooled message";
		return NULL;
	}
	*len_r = s->spool_len;
	return map;
}

/* lmtp_session_spool_close - the spool file goes */
static void lmtp_session_spool_close(struct lmtp_session *s)
{
	if (s->spooled)
		close(s->spool_fd);
	s->spooled = 0;
	s->spool_len = 0;
	s->spool_failed = 0;
}

enum lmtp_dot {
	LMTP_DOT_END,		/* "." CRLF (or LF): end of data */
	LMTP_DOT_STUFFED,	/* a content line starting with "." */
	LMTP_DOT_MORE,		/* cannot tell yet */
};

/* lmtp_session_dot - what a line starting with "." at the input is */
static enum lmtp_dot lmtp_session_dot(const struct lmtp_session *s,
				      size_t *end_len_r)
{
	const char *p = s->conn->in + s->conn->in_pos;
	size_t avail = s->conn->in_len - s->conn->in_pos;

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
static int lmtp_session_data_chunk(struct lmtp_session *s)
{
	const char *start;
	size_t n;
	int ended = lmtp_session_take(s, &start, &n);

	/* a CR held back from the previous chunk is content unless an LF
	   follows it at once */
	if (s->pending_cr && !(ended && n == 0))
		lmtp_session_keep(s, "\r", 1);
	s->pending_cr = 0;
	if (n > 0 && start[n - 1] == '\r') {
		n--;
		s->pending_cr = !ended;
	}
	lmtp_session_keep(s, start, n);
	if (ended)
		lmtp_session_keep(s, "\n", 1);
	return ended;
}

void lmtp_session_begin_data(struct lmtp_session *s)
{
	strbuf_reset(&s->msg);
	lmtp_session_spool_close(s);
	s->in_data = 1;
	s->at_line_start = 1;
	s->pending_cr = 0;
}

/* lmtp_session_data - unstuff what has arrived; 1 at the final "." */
static int lmtp_session_data(struct lmtp_session *s)
{
	size_t end_len;

	while (s->conn->in_pos < s->conn->in_len) {
		if (s->at_line_start && s->conn->in[s->conn->in_pos] == '.') {
			switch (lmtp_session_dot(s, &end_len)) {
			case LMTP_DOT_END:
				s->conn->in_pos += end_len;
				s->in_data = 0;
				return 1;
			case LMTP_DOT_MORE:
				return 0;
			case LMTP_DOT_STUFFED:
				s->conn->in_pos++;	/* the stuffed dot */
				break;
			}
		}
		s->at_line_start = lmtp_session_data_chunk(s);
	}
	return 0;
}

enum server_step lmtp_session_step(struct lmtp_session *s)
{
	while (!s->quit && !s->conn->write_failed) {
		if (s->in_data) {
			if (!lmtp_session_data(s))
				return SERVER_STEP_INPUT;
			return SERVER_STEP_JOB;
		}
		if (!s->line_open && server_stopping()) {
			/* a stopping daemon takes no new command, even one
			   that is already waiting */
			lmtp_session_reply(s, "421 4.3.0 %s Service shutting "
					   "down, closing transmission channel",
					   server_hostname());
			s->quit = 1;
			break;
		}
		if (s->conn->in_pos == s->conn->in_len)
			return SERVER_STEP_INPUT;
		/* the next command waits until the client takes replies */
		if (!s->line_open && server_conn_congested(s->conn))
			return SERVER_STEP_OUTPUT;
		if (!lmtp_session_line(s))
			return SERVER_STEP_INPUT;
		if (s->line_too_long)
			lmtp_session_reply(s, "500 5.5.2 Error: line too long");
		else
			lmtp_commands_dispatch(s);
		strbuf_reset(&s->line);
		s->line_too_long = 0;
	}
	return SERVER_STEP_CLOSE;
}

/* lmtp_session_deliver - decide one complete message, reply, reset */
static void lmtp_session_deliver(struct lmtp_session *s)
{
	s->next = NULL;
	lmtp_deliver_batch(s);
	lmtp_session_reset(s);
}

void lmtp_session_timeout(struct lmtp_session *s)
{
	lmtp_session_reply(s, "421 4.4.2 %s Error: timeout exceeded",
			   server_hostname());
	log_info("timeout after %s from connection %lu",
		 s->in_data ? "DATA" : s->mail_done ? "MAIL" : "command",
		 s->conn->id);
	s->quit = 1;
}

void lmtp_session_greet(struct lmtp_session *s)
{
	lmtp_session_reply(s, "220 %s LMTP ndrguardd ready",
			   server_hostname());
}

void lmtp_session_free(struct lmtp_session *s)
{
	s->in_data = 0;
	lmtp_session_reset(s);
	strbuf_free(&s->msg);
	strbuf_free(&s->line);
	free(s->rcpts);
}

void lmtp_session_reset(struct lmtp_session *s)
{
	/* a message that was announced and will not come */
	if (s->store_announced) {
		store_writer_unexpect();
		s->store_announced = 0;
	}
	free(s->sender);
	s->sender = NULL;
	for (size_t i = 0; i < s->rcpt_count; i++)
		free(s->rcpts[i]);
	s->rcpt_count = 0;
	free(s->xforward_ident);
	s->xforward_ident = NULL;
	s->mail_done = 0;
	lmtp_session_spool_close(s);
	if (s->msg.size > LMTP_MSG_KEEP)
		strbuf_free(&s->msg);
	else
		strbuf_reset(&s->msg);
}

/*
 * lmtp_session_run - a whole session with blocking I/O in the calling
 * thread, for a caller without an event loop (the fuzz target): the same
 * steps the daemon's event loop takes, without timeouts.
 */
void lmtp_session_run(struct lmtp_session *s)
{
	struct pollfd pfd = { .fd = s->conn->fd };

	lmtp_session_greet(s);
	for (;;) {
		enum server_step step = lmtp_session_step(s);
		ssize_t n;

		if (step == SERVER_STEP_JOB) {
			lmtp_session_deliver(s);
			continue;
		}
		while (server_conn_send(s->conn) == 0) {
			pfd.events = POLLOUT;
			poll(&pfd, 1, -1);
		}
		if (step == SERVER_STEP_CLOSE || s->conn->write_failed)
			break;
		if (step == SERVER_STEP_OUTPUT)
			continue;	/* commands are still waiting */
		while ((n = server_conn_receive(s->conn)) == -1) {
			pfd.events = POLLIN;
			poll(&pfd, 1, -1);
		}
		if (n <= 0)
			break;
	}
	lmtp_session_free(s);
}
