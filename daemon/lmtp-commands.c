/*
 * lmtp-commands.c - RFC 2033 LMTP commands and their order
 *
 * LHLO, then per transaction MAIL, one or more RCPT, DATA; RSET, NOOP
 * and QUIT at any time. XFORWARD (Postfix's XFORWARD_README) is offered
 * for IDENT only: with lmtp_send_xforward_command = yes, Postfix tells
 * the queue id of the message it delivers, which keys our log lines and
 * makes a retried delivery recognisable.
 *
 * A wrong command never ends the session: it gets a 500 (unknown or
 * malformed) or 503 (out of sequence) reply, and the client goes on.
 */
#include "autoconfig.h"
#include "lmtp.h"
#include "store-writer.h"
#include "daemon-config.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lmtp_command {
	const char *name;
	void (*handler)(struct lmtp_session *s, const char *args);
};

/* lmtp_commands_prefix - args after "NAME:" (case-insensitive) or NULL */
static const char *lmtp_commands_prefix(const char *args, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(args, word, n) != 0 || args[n] != ':')
		return NULL;
	args += n + 1;
	while (*args == ' ')
		args++;
	return args;
}

/*
 * lmtp_commands_path - "<addr>" into a new string, *rest_r after it.
 * NULL for anything else, and for addresses holding characters that
 * cannot be passed on in an SMTP envelope.
 */
static char *lmtp_commands_path(const char *p, const char **rest_r)
{
	const char *end;

	if (*p != '<')
		return NULL;
	end = strchr(p + 1, '>');
	if (end == NULL || memchr(p + 1, '<', (size_t)(end - p - 1)) != NULL)
		return NULL;
	for (const char *q = p + 1; q < end; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return NULL;
	*rest_r = end + 1;
	return xstrndup(p + 1, (size_t)(end - p - 1));
}

/*
 * lmtp_commands_echo - a client's word as it may appear in a reply:
 * at most 100 bytes, with control characters as '?'. A bare CR from a
 * command line would otherwise end the reply line early for a client
 * that splits on CR as well as LF.
 */
static const char *lmtp_commands_echo(const char *word, char buf[101])
{
	size_t n = 0;

	for (; word[n] != '\0' && n < 100; n++)
		buf[n] = (unsigned char)word[n] < 0x20 || word[n] == 0x7f
			? '?' : word[n];
	buf[n] = '\0';
	return buf;
}

static void lmtp_cmd_lhlo(struct lmtp_session *s, const char *args)
{
	if (*args == '\0') {
		lmtp_session_reply(s, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	lmtp_session_reset(s);
	s->lhlo_done = 1;
	lmtp_session_reply(s, "250-%s", server_hostname());
	lmtp_session_reply(s, "250-PIPELINING");
	/* no fixed limit (RFC 1870): a message too big to examine is
	   passed on, and a SIZE limit would make Postfix bounce it */
	lmtp_session_reply(s, "250-SIZE");
	lmtp_session_reply(s, "250-ENHANCEDSTATUSCODES");
	lmtp_session_reply(s, "250-8BITMIME");
	lmtp_session_reply(s, "250 XFORWARD NAME ADDR PROTO HELO IDENT SOURCE PORT");
}

static void lmtp_cmd_helo(struct lmtp_session *s, const char *args)
{
	lmtp_session_reply(s, "500 5.5.1 Error: this is LMTP, say LHLO");
}

/* lmtp_cmd_mail_param - one MAIL FROM parameter; 0, or -1 after a reply */
static int lmtp_cmd_mail_param(struct lmtp_session *s, const char *param)
{
	char echo[101];

	if (strncasecmp(param, "SIZE=", 5) == 0) {
		char *end;

		errno = 0;
		(void)strtoull(param + 5, &end, 10);
		if (!isdigit((unsigned char)param[5]) || *end != '\0'
		    || errno != 0) {
			lmtp_session_reply(s, "501 5.5.4 Bad SIZE parameter");
			return -1;
		}
		return 0;	/* any size: see lmtp_cmd_lhlo() */
	}
	if (strcasecmp(param, "BODY=8BITMIME") == 0
	    || strcasecmp(param, "BODY=7BIT") == 0)
		return 0;
	lmtp_session_reply(s, "555 5.5.4 Unsupported option: %s",
			   lmtp_commands_echo(param, echo));
	return -1;
}

/* lmtp_cmd_params - call check for each space-separated parameter */
static int lmtp_cmd_params(struct lmtp_session *s, const char *rest,
			   int (*check)(struct lmtp_session *, const char *))
{
	char *copy = xstrdup(rest), *save = NULL;
	int ret = 0;

	for (char *p = strtok_r(copy, " ", &save); p != NULL && ret == 0;
	     p = strtok_r(NULL, " ", &save))
		ret = check(s, p);
	free(copy);
	return ret;
}

static void lmtp_cmd_mail(struct lmtp_session *s, const char *args)
{
	const char *path = lmtp_commands_prefix(args, "FROM"), *rest;
	char *sender;

	if (!s->lhlo_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (s->mail_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (path == NULL || (sender = lmtp_commands_path(path, &rest)) == NULL) {
		lmtp_session_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	/* a new transaction takes the config that is current now */
	daemon_config_unref(&s->cfg);
	s->cfg = daemon_config_get();
	if (lmtp_cmd_params(s, rest, lmtp_cmd_mail_param) < 0) {
		free(sender);
		return;
	}
	s->sender = sender;
	s->mail_done = 1;
	lmtp_session_reply(s, "250 2.1.0 Ok");
}

static int lmtp_cmd_rcpt_param(struct lmtp_session *s, const char *param)
{
	char echo[101];

	lmtp_session_reply(s, "555 5.5.4 Unsupported option: %s",
			   lmtp_commands_echo(param, echo));
	return -1;
}

static void lmtp_cmd_rcpt(struct lmtp_session *s, const char *args)
{
	const char *path = lmtp_commands_prefix(args, "TO"), *rest;
	char *rcpt;

	if (!s->mail_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (path == NULL || (rcpt = lmtp_commands_path(path, &rest)) == NULL) {
		lmtp_session_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (*rcpt == '\0') {
		free(rcpt);
		lmtp_session_reply(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (lmtp_cmd_params(s, rest, lmtp_cmd_rcpt_param) < 0) {
		free(rcpt);
		return;
	}
	if (s->rcpt_count >= s->cfg->set.lmtp_recipient_limit) {
		free(rcpt);
		lmtp_session_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (s->rcpt_count == s->rcpt_alloc) {
		s->rcpt_alloc = s->rcpt_alloc ? s->rcpt_alloc * 2 : 8;
		s->rcpts = xrealloc(s->rcpts, s->rcpt_alloc * sizeof(*s->rcpts));
	}
	s->rcpts[s->rcpt_count++] = rcpt;
	lmtp_session_reply(s, "250 2.1.5 Ok");
}

static void lmtp_cmd_data(struct lmtp_session *s, const char *args)
{
	if (!s->mail_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->rcpt_count == 0) {
		lmtp_session_reply(s, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (*args != '\0') {
		lmtp_session_reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	lmtp_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	/* a commit starting while this message arrives may wait for it;
	   a session that ends before the final "." withdraws it
	   (lmtp_session_reset) and leaves nothing behind */
	store_writer_expect();
	s->store_announced = 1;
	lmtp_session_begin_data(s);
}

static void lmtp_cmd_rset(struct lmtp_session *s, const char *args)
{
	lmtp_session_reset(s);
	lmtp_session_reply(s, "250 2.0.0 Ok");
}

static void lmtp_cmd_noop(struct lmtp_session *s, const char *args)
{
	lmtp_session_reply(s, "250 2.0.0 Ok");
}

static void lmtp_cmd_quit(struct lmtp_session *s, const char *args)
{
	lmtp_session_reply(s, "221 2.0.0 Bye");
	s->quit = 1;
}

static void lmtp_cmd_vrfy(struct lmtp_session *s, const char *args)
{
	lmtp_session_reply(s, "502 5.5.1 VRFY command is disabled");
}

/* lmtp_cmd_xforward_attr - keep IDENT=; the other attributes are only
   accepted (Postfix sends what we announce) */
static int lmtp_cmd_xforward_attr(struct lmtp_session *s, const char *attr)
{
	const char *eq = strchr(attr, '=');
	char echo[101];

	if (eq == NULL || eq == attr) {
		lmtp_session_reply(s, "501 5.5.4 Bad XFORWARD attribute: "
				   "%s", lmtp_commands_echo(attr, echo));
		return -1;
	}
	if ((size_t)(eq - attr) == 5 && strncasecmp(attr, "IDENT", 5) == 0) {
		const char *v = eq + 1;

		free(s->xforward_ident);
		s->xforward_ident = NULL;
		/* a queue id is letters and digits; [UNAVAILABLE] is none */
		if (*v != '\0' && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "abcdefghijklmnopqrstuvwxyz0123456789")
		    == strlen(v) && strlen(v) < 64)
			s->xforward_ident = xstrdup(v);
	}
	return 0;
}

static void lmtp_cmd_xforward(struct lmtp_session *s, const char *args)
{
	if (!s->lhlo_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (s->mail_done) {
		lmtp_session_reply(s, "503 5.5.1 Error: MAIL transaction "
				   "in progress");
		return;
	}
	if (*args == '\0') {
		lmtp_session_reply(s, "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return;
	}
	if (lmtp_cmd_params(s, args, lmtp_cmd_xforward_attr) == 0)
		lmtp_session_reply(s, "250 2.0.0 Ok");
}

static const struct lmtp_command lmtp_commands[] = {
	{ "LHLO", lmtp_cmd_lhlo },
	{ "MAIL", lmtp_cmd_mail },
	{ "RCPT", lmtp_cmd_rcpt },
	{ "DATA", lmtp_cmd_data },
	{ "RSET", lmtp_cmd_rset },
	{ "NOOP", lmtp_cmd_noop },
	{ "QUIT", lmtp_cmd_quit },
	{ "VRFY", lmtp_cmd_vrfy },
	{ "XFORWARD", lmtp_cmd_xforward },
	{ "HELO", lmtp_cmd_helo },
	{ "EHLO", lmtp_cmd_helo },
};

void lmtp_commands_dispatch(struct lmtp_session *s)
{
	const char *line = s->line.data ? s->line.data : "";
	size_t n = strcspn(line, " ");
	const char *args = line + n;

	while (*args == ' ')
		args++;
	if (memchr(line, '\0', s->line.len) != NULL) {
		lmtp_session_reply(s, "500 5.5.2 Error: NUL in command");
		return;
	}
	for (size_t i = 0; i < sizeof(lmtp_commands) / sizeof(lmtp_commands[0]);
	     i++) {
		if (strlen(lmtp_commands[i].name) == n
		    && strncasecmp(line, lmtp_commands[i].name, n) == 0) {
			lmtp_commands[i].handler(s, args);
			return;
		}
	}
	lmtp_session_reply(s, "500 5.5.2 Error: command not recognized");
}
