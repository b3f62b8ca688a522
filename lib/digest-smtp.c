/*
 * digest-smtp.c - hand one digest to the relay with libESMTP
 *
 * This module implements digest_smtp_send() (digest-private.h). What the
 * caller needs to know is not just "sent or not" but whether the relay
 * may have the message even though we saw no 250: only then must the
 * digest stay pending and be sent again byte for byte. So the outcome
 * is one of three:
 *	SENT	the relay answered 2xx to the end of data
 *	REFUSED	the relay answered 4xx/5xx, or was never reached, or the
 *		data never started: it cannot have the message
 *	UNKNOWN	the data went out and no answer came back
 */
#include "autoconfig.h"
#include "digest-private.h"
#include "endpoint.h"

#include <arpa/inet.h>
#include <libesmtp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct digest_smtp_state {
	int data_started;
	unsigned short port;		/* the relay's, host order */
};

/*
 * digest_smtp_nodelay - turn Nagle off on the connection libESMTP just
 * made. libESMTP writes a message in 2 KB pieces and does not expose its
 * socket; with Nagle on, the last piece (with the final dot) waits for
 * the relay's delayed ACK, 40 ms per digest. The socket is found as the
 * TCP socket connected to the relay's port that still has Nagle on.
 */
static void digest_smtp_nodelay(unsigned short port)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 4096)
		max = 4096;
	for (int fd = 3; fd < max; fd++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int proto = 0, nodelay = 0, one = 1;
		socklen_t olen = sizeof(proto);
		unsigned short peer_port;

		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &olen) < 0
		    || proto != IPPROTO_TCP
		    || getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
			continue;
		if (peer.ss_family == AF_INET)
			peer_port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
		else if (peer.ss_family == AF_INET6)
			peer_port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		else
			continue;
		olen = sizeof(nodelay);
		if (peer_port == port
		    && getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay,
				  &olen) == 0 && !nodelay)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	}
}

static void digest_smtp_event(smtp_session_t session, int event_no,
			      void *arg, ...)
{
	struct digest_smtp_state *state = arg;

	if (event_no == SMTP_EV_CONNECT)
		digest_smtp_nodelay(state->port);
	if (event_no == SMTP_EV_MESSAGEDATA)
		state->data_started = 1;
}

enum digest_smtp_result digest_smtp_send(const char *relay,
					 unsigned int timeout_s,
					 const char *from, const char *to,
					 const char *message, char *reply,
					 size_t reply_size)
{
	struct digest_smtp_state state = { 0 };
	struct endpoint ep;
	const char *error;
	char server[300], ebuf[128];
	smtp_session_t session;
	smtp_message_t msg;
	smtp_recipient_t rcpt;
	const smtp_status_t *status;
	enum digest_smtp_result result;
	long ms = (long)timeout_s * 1000;
	int ok;

	if (endpoint_parse(relay, &ep, &error) < 0) {
		snprintf(reply, reply_size, "digest_relay %s: %s", relay, error);
		return DIGEST_SMTP_REFUSED;
	}
	snprintf(server, sizeof(server), strchr(ep.host, ':') ? "[%s]:%s"
		 : "%s:%s", ep.host, ep.port);
	state.port = (unsigned short)atoi(ep.port);
	session = smtp_create_session();
	if (session == NULL) {
		snprintf(reply, reply_size, "libESMTP: cannot create session");
		return DIGEST_SMTP_REFUSED;
	}
	msg = smtp_add_message(session);
	rcpt = msg ? smtp_add_recipient(msg, to) : NULL;
	if (rcpt == NULL || !smtp_set_server(session, server)
	    || !smtp_set_reverse_path(msg, from)
	    || !smtp_set_message_str(msg, (void *)message)
	    || !smtp_set_eventcb(session, digest_smtp_event, &state)) {
		snprintf(reply, reply_size, "libESMTP: %s",
			 smtp_strerror(smtp_errno(), ebuf, sizeof(ebuf)));
		smtp_destroy_session(session);
		return DIGEST_SMTP_REFUSED;
	}
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which
				 | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	ok = smtp_start_session(session);
	status = smtp_message_transfer_status(msg);
	if (status != NULL && status->code >= 200 && status->code < 300) {
		snprintf(reply, reply_size, "%d %s", status->code,
			 status->text ? status->text : "");
		result = DIGEST_SMTP_SENT;
	} else if (status != NULL && status->code >= 400) {
		snprintf(reply, reply_size, "%d %s", status->code,
			 status->text ? status->text : "");
		result = DIGEST_SMTP_REFUSED;
	} else {
		const smtp_status_t *rs = smtp_recipient_status(rcpt);
		if (rs != NULL && rs->code >= 400)
			snprintf(reply, reply_size, "%d %s", rs->code,
				 rs->text ? rs->text : "");
		else
			snprintf(reply, reply_size, "%s: %s", server,
				 ok ? "no answer" : smtp_strerror(
					 smtp_errno(), ebuf, sizeof(ebuf)));
		result = state.data_started && (rs == NULL || rs->code < 400)
			? DIGEST_SMTP_UNKNOWN : DIGEST_SMTP_REFUSED;
	}
	/* one line for the log, however the server wrote it */
	for (char *p = reply; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	for (size_t n = strlen(reply); n > 0 && reply[n - 1] == ' '; n--)
		reply[n - 1] = '\0';
	smtp_destroy_session(session);
	return result;
}
