/*
 * server.h - the connections of ndrguardd: listeners, one event loop,
 * buffers with back-pressure, limits, timeouts and decision threads
 *
 * A service (LMTP today, lmtp.h) is a set of callbacks, struct
 * server_service; it registers a listener with server_listen() while
 * the daemon still runs as root, and server_run() serves every listener
 * and connection from then on. The server does the parts every
 * request/reply protocol needs the same way: it accepts, reads into
 * c->in, writes what the service put in c->out without waiting, stops
 * reading a client that does not take its replies, keeps each
 * connection's deadline, and runs the service's slow work (a decision
 * that waits for the disk or the next hop) in threads, giving the
 * connection back to the loop when it is done. The service turns bytes
 * into requests and replies, and never touches the socket itself.
 *
 * server-conn.c holds the buffers alone (server_conn_*), so that a
 * session can also be run without the loop (the fuzz target).
 *
 * Ownership: a connection belongs to the loop, and to a decision thread
 * while c->busy (the loop does not touch it then); c->context belongs
 * to its service, which frees it in on_close.
 */
#ifndef NDRGUARD_SERVER_H
#define NDRGUARD_SERVER_H

#include <stddef.h>
#include <sys/types.h>
#include "strbuf.h"

#define SERVER_INBUF_SIZE 16384
/*
 * Back-pressure: while more than this many bytes of replies wait for a
 * client that does not read them, its requests are left unread (the
 * kernel's socket buffers fill, then the client's sends block). Without
 * it a client pipelining NOOPs and never reading grew the daemon by the
 * size of its replies, without end.
 */
#define SERVER_OUT_LIMIT 16384

/* what on_input says the connection needs next */
enum server_step {
	SERVER_STEP_INPUT,	/* all input used: wait for more */
	SERVER_STEP_JOB,	/* a request is complete: to a decision thread */
	SERVER_STEP_CLOSE,	/* the session ends (after one try to send) */
	SERVER_STEP_OUTPUT,	/* replies over SERVER_OUT_LIMIT: send first */
};

/* what the connection waits for, which decides its deadline */
enum server_wait {
	SERVER_WAIT_IDLE,	/* a new request: the idle timeout; a
				   stopping server asks for its end */
	SERVER_WAIT_REQUEST,	/* the rest of a request line: the command
				   timeout, counted from the line's start */
	SERVER_WAIT_DATA,	/* more of a data stream: the command
				   timeout, counted from the last bytes */
};

/* a connection's limits now, in seconds */
struct server_timeouts {
	unsigned int idle;
	unsigned int command;	/* also for a client not taking replies */
	unsigned int thread_idle;	/* a spare decision thread waits */
};

struct server_listener;

struct server_conn {
	int fd;
	unsigned long id;	/* for log lines, from 1 */
	void *context;		/* the service's session */

	/* server-conn.c's buffers */
	char in[SERVER_INBUF_SIZE];
	size_t in_pos, in_len;	/* read so far: in[in_pos..in_len) unused */
	struct strbuf out;	/* replies not yet written (pipelining) */
	size_t out_pos;		/* of that, written */
	int out_moved;		/* the last server_conn_send() wrote some */
	int write_failed;

	/* server.c's */
	struct server_listener *listener;
	struct server_conn *next;	/* in a batch of jobs */
	int busy;		/* a decision thread has it */
	unsigned int events;	/* what epoll waits for */
	long long deadline;	/* monotonic ms */
	long long wait_started;	/* of a SERVER_WAIT_REQUEST, or 0 */
	long long out_since;	/* last progress while replies wait, or 0 */
	int input_waiting;	/* requests read, left for back-pressure */
};

struct server_service {
	const char *name;	/* "LMTP": log lines */
	const char *thread_name;	/* decision threads' (ps -L), < 16 */
	/*
	 * on_accept - a new connection, open of this listener's already
	 * open: its context, with a greeting in c->out; or NULL with a
	 * refusal in c->out, which is sent once before c is closed
	 */
	void *(*on_accept)(struct server_conn *c, unsigned int open);
	/* on_input - consume c's input as far as it goes (and c->out
	   allows: server_conn_congested()), queueing replies; what it
	   cannot use yet (half a line) it copies out, keeping back in c->in
	   only a few bytes: a full c->in reads as the end of input */
	enum server_step (*on_input)(struct server_conn *c);
	/* waiting - what c waits for now */
	enum server_wait (*waiting)(const struct server_conn *c);
	/* timeouts - c's limits now (a reload may have changed them) */
	void (*timeouts)(const struct server_conn *c,
			 struct server_timeouts *t_r);
	/*
	 * on_jobs - in a decision thread: the connections (linked by next)
	 * whose on_input said SERVER_STEP_JOB, together, since their work
	 * can share a commit; replies go to their c->out
	 */
	void (*on_jobs)(struct server_conn *list);
	/* on_job_done - in the loop, before c's next on_input */
	void (*on_job_done)(struct server_conn *c);
	/* on_timeout - c waited too long: say so; it is closed then */
	void (*on_timeout)(struct server_conn *c);
	/* on_close - free c->context (not c, not its socket) */
	void (*on_close)(struct server_conn *c);
};

/* server.c */
/*
 * server_listen - bind spec ("inet:HOST:PORT", "unix:PATH") for service,
 * before privileges are dropped; 0, or -1 with *error_r
 */
int server_listen(const struct server_service *service, const char *spec,
		  const char **error_r);
/* server_init - after the drop, before server_run(); -1 with errno */
int server_init(void);
/* server_run - serve until server_stop() and the last connection ends;
   -1 when the loop cannot be set up */
int server_run(void);
/* server_stop - from any thread: stop accepting, let sessions finish */
void server_stop(void);
/* server_stopping - the daemon stops: sessions take no new request */
int server_stopping(void);
const char *server_hostname(void);

/* server-conn.c */
/* server_conn_init - c's buffers for socket fd, which is c's now */
void server_conn_init(struct server_conn *c, int fd);
/* server_conn_free - what the buffers hold (not c, not its socket) */
void server_conn_free(struct server_conn *c);
/*
 * server_conn_receive - read what has arrived, without waiting: the
 * number of bytes, 0 at the end of input, -1 when nothing is there yet,
 * -2 on an error. The unused rest is moved to the front first.
 */
ssize_t server_conn_receive(struct server_conn *c);
/*
 * server_conn_send - write what it can of c->out without waiting: 1
 * when all is written, 0 when the socket is full, -1 when the client is
 * gone (c->write_failed)
 */
int server_conn_send(struct server_conn *c);
/* server_conn_unsent - bytes of replies not yet written */
size_t server_conn_unsent(const struct server_conn *c);
/* server_conn_congested - the next request waits until the client
   takes replies (SERVER_OUT_LIMIT) */
int server_conn_congested(const struct server_conn *c);

#endif
