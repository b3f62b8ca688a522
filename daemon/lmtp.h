/*
 * lmtp.h - the LMTP service of ndrguardd: one session per connection
 *
 * server.c owns the connections (the event loop, the buffers, the
 * limits and the decision threads); lmtp-service.c plugs LMTP into it
 * (lmtp_service: the connection limit, the greeting, the timeouts);
 * lmtp-session.c turns a connection's bytes into command lines and
 * message data and queues its replies, never waiting; lmtp-commands.c
 * is RFC 2033's command set and its state machine; lmtp-deliver.c turns
 * a received message into one reply per recipient through deliver.h and
 * the store writer.
 *
 * Ownership: a session is the context of its server_conn (s->conn) and
 * goes with it (on_close). It holds a reference to the config it took
 * when its current transaction began.
 */
#ifndef NDRGUARD_LMTP_H
#define NDRGUARD_LMTP_H

#include <stddef.h>
#include "server.h"
#include "strbuf.h"

struct daemon_config;

struct lmtp_session {
	struct lmtp_session *next;	/* a batch (lmtp_deliver_batch) */
	struct server_conn *conn;	/* its socket and buffers */
	struct daemon_config *cfg;

	struct strbuf line;	/* the current command line, no CRLF */
	int line_open;		/* its end has not arrived yet */
	int line_too_long;
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

/* lmtp-service.c */
/* lmtp_service - LMTP for server_listen() */
extern const struct server_service lmtp_service;

/* lmtp-session.c */
void lmtp_session_greet(struct lmtp_session *s);
/*
 * lmtp_session_step - the commands and message data in s->conn's input,
 * as far as they go: SERVER_STEP_JOB when a message is complete (to be
 * decided: lmtp_deliver_batch), SERVER_STEP_OUTPUT when replies over
 * SERVER_OUT_LIMIT wait, SERVER_STEP_CLOSE after QUIT
 */
enum server_step lmtp_session_step(struct lmtp_session *s);
/* lmtp_session_timeout - say 421 4.4.2 and end the session */
void lmtp_session_timeout(struct lmtp_session *s);
/* lmtp_session_free - what the session holds (not s, not its socket) */
void lmtp_session_free(struct lmtp_session *s);
/* lmtp_session_run - the whole session on s->conn, blocking, in this
   thread (no event loop, no timeouts) */
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
