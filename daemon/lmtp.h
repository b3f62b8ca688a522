/*
 * lmtp.h - the LMTP server of ndrguardd: one session per connection
 *
 * lmtp-server.c is the event loop that owns every connection (at most
 * lmtp_max_connections), keeps their timeouts and hands complete
 * messages to decision threads; lmtp-session.c turns a connection's
 * bytes into command lines and message data and buffers its replies,
 * never waiting; lmtp-commands.c is RFC 2033's command set and its state
 * machine; lmtp-deliver.c turns a received message into one reply per
 * recipient through deliver.h and the store writer.
 *
 * Ownership: a session belongs to the event loop, and to a decision
 * thread while s->busy (the loop does not touch it then). It holds a
 * reference to the config it took when its current transaction began.
 */
#ifndef NDRGUARD_LMTP_H
#define NDRGUARD_LMTP_H

#include <stddef.h>
#include <sys/types.h>
#include "strbuf.h"

struct daemon_config;

#define LMTP_INBUF_SIZE 16384
/*
 * Back-pressure: while more than this many bytes of replies wait for a
 * client that does not read them, its commands are left unread (the
 * kernel's socket buffers fill, then the client's sends block). Without
 * it a client pipelining NOOPs and never reading grew the daemon by the
 * size of its replies, without end.
 */
#define LMTP_OUT_LIMIT 16384

enum lmtp_step {
	LMTP_STEP_INPUT,	/* all input used: wait for more */
	LMTP_STEP_MESSAGE,	/* a message is complete: deliver it */
	LMTP_STEP_CLOSE,	/* QUIT, or the session must end */
	LMTP_STEP_OUTPUT,	/* replies over LMTP_OUT_LIMIT: send first */
};

struct lmtp_session {
	struct lmtp_session *next;	/* lmtp-server.c's lists */
	int fd;
	unsigned long id;
	struct daemon_config *cfg;

	/* lmtp-server.c's */
	int busy;		/* a thread is deciding its message */
	unsigned int events;	/* what epoll waits for */
	long long deadline;	/* monotonic ms */
	long long line_started;
	long long out_since;	/* last progress while replies wait, or 0 */
	int input_waiting;	/* commands read, left for back-pressure */

	char in[LMTP_INBUF_SIZE];
	size_t in_pos, in_len;
	struct strbuf out;	/* replies not yet written (pipelining) */
	size_t out_pos;		/* of that, written */
	int out_moved;		/* the last lmtp_session_send() wrote some */
	struct strbuf line;	/* the current command line, no CRLF */
	int line_open;		/* its end has not arrived yet */
	int line_too_long;
	int write_failed;
	int in_data;		/* between 354 and the final "." */
	int at_line_start, pending_cr;	/* unstuffing state */

	int lhlo_done;
	int quit;		/* close once the replies are written */

	/* the transaction */
	int mail_done;
	char *sender;
	char **rcpts;
	size_t rcpt_count, rcpt_alloc;
	char *xforward_ident;	/* the Postfix queue id, from XFORWARD */
	struct strbuf msg;	/* the message, LF line ends, unstuffed */
	/* a message over message_size_limit goes on to an unlinked file
	   (s->msg then holds what is not yet written there): it is passed
	   on unexamined, and must not be held in memory */
	int spooled;		/* spool_fd is open */
	int spool_fd;
	size_t spool_len;	/* bytes written to it */
	int spool_failed;	/* it could not be written: tempfail */
	int store_announced;	/* store_writer_expect() not yet answered */
};

/* lmtp-server.c */
/* lmtp_server_init - before anything else here; -1 with errno */
int lmtp_server_init(void);
int lmtp_server_run(int listen_fd);
void lmtp_server_stop(void);
/* lmtp_server_stopping - the daemon stops: sessions take no new command */
int lmtp_server_stopping(void);
const char *lmtp_server_hostname(void);

/* lmtp-session.c */
void lmtp_session_greet(struct lmtp_session *s);
ssize_t lmtp_session_receive(struct lmtp_session *s);
enum lmtp_step lmtp_session_step(struct lmtp_session *s);
int lmtp_session_send(struct lmtp_session *s);
/* lmtp_session_unsent - bytes of replies not yet written */
size_t lmtp_session_unsent(const struct lmtp_session *s);
/* lmtp_session_timeout - say 421 4.4.2 and end the session */
void lmtp_session_timeout(struct lmtp_session *s);
/* lmtp_session_free - what the session holds (not s, not its socket) */
void lmtp_session_free(struct lmtp_session *s);
/* lmtp_session_run - the whole session, blocking, in this thread */
void lmtp_session_run(struct lmtp_session *s);
void lmtp_session_reply(struct lmtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* lmtp_session_begin_data - after 354: what follows is message data */
void lmtp_session_begin_data(struct lmtp_session *s);
void lmtp_session_reset(struct lmtp_session *s);
/*
 * lmtp_session_spool_map - the spooled message, mapped read-only
 * (munmap it with its length); NULL with *error_r when it cannot be had
 */
const char *lmtp_session_spool_map(struct lmtp_session *s, size_t *len_r,
				   const char **error_r);

/* lmtp-commands.c */
void lmtp_commands_dispatch(struct lmtp_session *s);

/* lmtp-deliver.c */
/*
 * lmtp_deliver_batch - decide the complete messages of the sessions on
 * list (linked by next): classify each, have the store decide them in
 * one commit, re-inject what is not held, and queue one reply per
 * recipient. The sessions are not reset.
 */
void lmtp_deliver_batch(struct lmtp_session *list);
/* lmtp_deliver_queue_id - Postfix's queue id from the top Received:
   header ("... (Postfix) with ESMTP id 4F3A2 ..."), or NULL */
char *lmtp_deliver_queue_id(const char *msg, size_t len);

#endif
