/*
 * server-conn.c - a connection's input and output buffers, never waiting
 *
 * Input arrives in c->in, a fixed buffer: a service consumes it from
 * c->in_pos, and what it leaves (half a line) moves to the front before
 * the next read. Replies collect in c->out and are written when the
 * service has consumed what there was to read: with pipelining a client
 * may send many requests at once and gets their replies together, and
 * a client that waits for each reply gets it before we wait.
 *
 * The sockets are non-blocking; the event loop (server.c) calls these
 * when epoll says a socket is ready, lmtp_session_run() after poll().
 */
#include "autoconfig.h"
#include "server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* server_conn_init - see server.h; c->in starts empty */
void server_conn_init(struct server_conn *c, int fd)
{
	c->fd = fd;
	c->in_pos = c->in_len = 0;
	strbuf_init(&c->out);
	c->out_pos = 0;
	c->out_moved = 0;
	c->write_failed = 0;
}

/* server_conn_free - the output buffer goes */
void server_conn_free(struct server_conn *c)
{
	strbuf_free(&c->out);
}

/* server_conn_compact - drop the written part of the replies, so that
   a client taking them slowly does not make the buffer grow past what
   is unsent */
static void server_conn_compact(struct server_conn *c)
{
	if (c->out_pos < c->out.len / 2)
		return;
	memmove(c->out.data, c->out.data + c->out_pos, c->out.len - c->out_pos);
	c->out.len -= c->out_pos;
	c->out.data[c->out.len] = '\0';
	c->out_pos = 0;
}

/* server_conn_send - see server.h */
int server_conn_send(struct server_conn *c)
{
	c->out_moved = 0;
	while (c->out_pos < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_pos,
				 c->out.len - c->out_pos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			server_conn_compact(c);
			return 0;
		}
		if (n <= 0) {
			c->write_failed = 1;
			return -1;
		}
		c->out_pos += (size_t)n;
		c->out_moved = 1;
	}
	strbuf_reset(&c->out);
	c->out_pos = 0;
	return 1;
}

/* server_conn_unsent - see server.h */
size_t server_conn_unsent(const struct server_conn *c)
{
	return c->out.len - c->out_pos;
}

/* server_conn_congested - see server.h */
int server_conn_congested(const struct server_conn *c)
{
	return server_conn_unsent(c) >= SERVER_OUT_LIMIT;
}

/* server_conn_receive - see server.h */
ssize_t server_conn_receive(struct server_conn *c)
{
	ssize_t n;

	if (c->in_pos > 0) {
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
	}
	do
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	c->in_len += (size_t)n;
	return n;
}
