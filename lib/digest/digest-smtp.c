/*
 * digest-smtp.c - hand one digest to the relay with libESMTP
 *
 * This module implements digest_smtp_send_batch() (digest-private.h):
 * several digests in one SMTP session, each with its own MAIL, RCPT and
 * DATA and its own outcome. What the caller needs to know is not just "sent or not" but whether the relay
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
#include "xalloc.h"

#include <arpa/inet.h>
#include <libesmtp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct digest_smtp_state {
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
	struct digest_smtp_msg *m;
	va_list ap;

	if (event_no == SMTP_EV_CONNECT)
		digest_smtp_nodelay(state->port);
	if (event_no == SMTP_EV_MESSAGEDATA) {
		va_start(ap, arg);
		m = smtp_message_get_application_data(va_arg(ap,
							      smtp_message_t));
		va_end(ap);
		if (m != NULL)
			m->data_started = 1;
	}
}

/* digest_smtp_reply - status as one log line, without trailing blanks */
static void digest_smtp_reply(char *reply, size_t size, int code,
			      const char *text)
{
	snprintf(reply, size, "%d %s", code, text ? text : "");
	for (char *p = reply; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	for (size_t n = strlen(reply); n > 0 && reply[n - 1] == ' '; n--)
		reply[n - 1] = '\0';
}

static void digest_smtp_fail_all(struct digest_smtp_msg *msgs, size_t n,
				 const char *why)
{
	for (size_t i = 0; i < n; i++) {
		msgs[i].result = DIGEST_SMTP_REFUSED;
		snprintf(msgs[i].reply, sizeof(msgs[i].reply), "%s", why);
	}
}

void digest_smtp_send_batch(const char *relay, unsigned int timeout_s,
			    const char *from, struct digest_smtp_msg *msgs,
			    size_t n)
{
	struct digest_smtp_state state = { 0 };
	struct endpoint ep;
	const char *error;
	char server[300], ebuf[128], why[400];
	smtp_session_t session;
	smtp_message_t *sm;
	smtp_recipient_t *rcpt;
	long ms = (long)timeout_s * 1000;
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		msgs[i].data_started = 0;
		msgs[i].reply[0] = '\0';
	}
	if (endpoint_parse(relay, &ep, &error) < 0) {
		snprintf(why, sizeof(why), "digest_relay %s: %s", relay, error);
		digest_smtp_fail_all(msgs, n, why);
		return;
	}
	snprintf(server, sizeof(server), strchr(ep.host, ':') ? "[%s]:%s"
		 : "%s:%s", ep.host, ep.port);
	state.port = (unsigned short)atoi(ep.port);
	session = smtp_create_session();
	if (session == NULL) {
		digest_smtp_fail_all(msgs, n, "libESMTP: cannot create session");
		return;
	}
	sm = xcalloc(n ? n : 1, sizeof(*sm));
	rcpt = xcalloc(n ? n : 1, sizeof(*rcpt));
	ok = smtp_set_server(session, server)
		&& smtp_set_eventcb(session, digest_smtp_event, &state);
	for (size_t i = 0; ok && i < n; i++) {
		sm[i] = smtp_add_message(session);
		rcpt[i] = sm[i] ? smtp_add_recipient(sm[i], msgs[i].to) : NULL;
		ok = rcpt[i] != NULL && smtp_set_reverse_path(sm[i], from)
			&& smtp_set_message_str(sm[i], (void *)msgs[i].message);
		if (ok)
			smtp_message_set_application_data_release(sm[i],
							  &msgs[i], NULL);
	}
	if (!ok) {
		snprintf(why, sizeof(why), "libESMTP: %s",
			 smtp_strerror(smtp_errno(), ebuf, sizeof(ebuf)));
		digest_smtp_fail_all(msgs, n, why);
		goto out;
	}
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which
				 | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
	ok = smtp_start_session(session);
	if (!ok)
		snprintf(why, sizeof(why), "%s: %s", server,
			 smtp_strerror(smtp_errno(), ebuf, sizeof(ebuf)));
	else
		snprintf(why, sizeof(why), "%s: no answer", server);
	for (size_t i = 0; i < n; i++) {
		struct digest_smtp_msg *m = &msgs[i];
		const smtp_status_t *st = smtp_message_transfer_status(sm[i]);
		const smtp_status_t *rs = smtp_recipient_status(rcpt[i]);

		if (st != NULL && st->code >= 200 && st->code < 300) {
			m->result = DIGEST_SMTP_SENT;
			digest_smtp_reply(m->reply, sizeof(m->reply), st->code,
					  st->text);
		} else if (st != NULL && st->code >= 400) {
			m->result = DIGEST_SMTP_REFUSED;
			digest_smtp_reply(m->reply, sizeof(m->reply), st->code,
					  st->text);
		} else if (rs != NULL && rs->code >= 400) {
			m->result = DIGEST_SMTP_REFUSED;
			digest_smtp_reply(m->reply, sizeof(m->reply), rs->code,
					  rs->text);
		} else {
			/* no answer: unknown only if the data went out */
			m->result = m->data_started ? DIGEST_SMTP_UNKNOWN
				: DIGEST_SMTP_REFUSED;
			snprintf(m->reply, sizeof(m->reply), "%s", why);
		}
	}
out:
	smtp_destroy_session(session);
	free(sm);
	free(rcpt);
}

enum digest_smtp_result digest_smtp_send(const char *relay,
					 unsigned int timeout_s,
					 const char *from, const char *to,
					 const char *message, char *reply,
					 size_t reply_size)
{
	struct digest_smtp_msg m = { .to = to, .message = message };

	digest_smtp_send_batch(relay, timeout_s, from, &m, 1);
	snprintf(reply, reply_size, "%s", m.reply);
	return m.result;
}
