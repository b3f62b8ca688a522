/*
 * lmtp.h - the LMTP server of ndrguardd: one session per connection
 *
 * lmtp-server.c accepts connections and runs each session in a thread of
 * its own (at most lmtp_max_connections); lmtp-session.c does the
 * session's I/O: command lines, the message data, buffered replies and
 * timeouts; lmtp-commands.c is RFC 2033's command set and its state
 * machine; lmtp-deliver.c turns a received message into one reply per
 * recipient through deliver.h and the store writer.
 *
 * Ownership: a session belongs to its thread. It holds a reference to
 * the config it took when its current transaction began.
 */
#ifndef NDRGUARD_LMTP_H
#define NDRGUARD_LMTP_H

#include <stddef.h>
#include "strbuf.h"

struct daemon_config;

#define LMTP_INBUF_SIZE 16384

enum lmtp_read {
	LMTP_READ_OK,
	LMTP_READ_EOF,		/* the client closed, or a read failed */
	LMTP_READ_TIMEOUT,
	LMTP_READ_SHUTDOWN,	/* the daemon stops: no new command */
};

struct lmtp_session {
	struct lmtp_session *next;	/* lmtp-server.c's queue */
	int fd;
	unsigned long id;
	struct daemon_config *cfg;

	char in[LMTP_INBUF_SIZE];
	size_t in_pos, in_len;
	struct strbuf out;	/* replies not yet written (pipelining) */
	struct strbuf line;	/* the current command line, no CRLF */
	int line_too_long;
	int write_failed;

	int lhlo_done;
	int quit;		/* close once the replies are written */

	/* the transaction */
	int mail_done;
	char *sender;
	char **rcpts;
	size_t rcpt_count, rcpt_alloc;
	char *xforward_ident;	/* the Postfix queue id, from XFORWARD */
	struct strbuf msg;	/* the message, LF line ends, unstuffed */
	int msg_too_big;
	int store_announced;	/* store_writer_expect() not yet answered */
};

/* lmtp-server.c */
/* lmtp_server_init - before anything else here; -1 with errno */
int lmtp_server_init(void);
int lmtp_server_run(int listen_fd);
void lmtp_server_stop(void);
int lmtp_server_shutdown_fd(void);
const char *lmtp_server_hostname(void);

/* lmtp-session.c */
void lmtp_session_run(struct lmtp_session *s);
void lmtp_session_reply(struct lmtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum lmtp_read lmtp_session_read_data(struct lmtp_session *s);
void lmtp_session_reset(struct lmtp_session *s);

/* lmtp-commands.c */
void lmtp_commands_dispatch(struct lmtp_session *s);

/* lmtp-deliver.c */
void lmtp_deliver(struct lmtp_session *s);
/* lmtp_deliver_queue_id - Postfix's queue id from the top Received:
   header ("... (Postfix) with ESMTP id 4F3A2 ..."), or NULL */
char *lmtp_deliver_queue_id(const char *msg, size_t len);

#endif
