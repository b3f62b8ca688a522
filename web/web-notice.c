/*
 * web-notice.c - the postmaster notice: a mailbox owner asks for release
 *
 * With release_mode = request, one POST may ask for up to 500 items. They
 * make one mail listing them all, not one mail each, and a mailbox gets
 * at most WEB_NOTICE_PER_HOUR mails an hour: an owner (or whoever holds
 * the owner's link) clicking all day must not flood the postmaster. The
 * count is kept in the store (request_notice), so every web process and
 * host sharing it counts together. A request over the cap is recorded
 * and shown on /admin like any other; only the mail is left out.
 */
#include "autoconfig.h"
#include "settings.h"
#include "web-private.h"
#include "log.h"
#include "reinject.h"
#include "store.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WEB_NOTIFY_SUBJECT_MAX 200

void web_notice_add(struct web_notice_batch *batch, long long id,
			   const char *mailbox, const char *subject)
{
	if (batch->count >= WEB_BATCH_MAX)
		return;
	if (batch->count == 0)
		snprintf(batch->mailbox, sizeof(batch->mailbox), "%s",
			 mailbox ? mailbox : "");
	batch->ids[batch->count] = id;
	batch->subjects[batch->count] = xstrdup(subject ? subject : "(none)");
	batch->count++;
}

/* web_notice_text - s with line breaks and controls made spaces, at most
   max bytes (not splitting a UTF-8 character) */
static void web_notice_text(struct strbuf *out, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		strbuf_putc(out, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
}

/* web_notice_message - the mail for batch, headers and body */
static void web_notice_message(const struct web_request *req,
			       const struct web_notice_batch *batch,
			       struct strbuf *msg)
{
	const struct web_server *server = req->server;
	char date[64], host[128];
	time_t now = (time_t)req->now;
	struct tm tm;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* digest_from may carry a display name: the address alone here */
	char *name = NULL, *addr = NULL;
	const char *error;
	if (settings_from_split(server->digest_from ? server->digest_from
				: "postmaster", &name, &addr, &error) < 0)
		addr = xstrdup("postmaster");
	strbuf_printf(msg, "From: ndrguard <%s>\r\nTo: <%s>\r\n", addr,
		      server->release_notify);
	free(name);
	free(addr);
	if (batch->count == 1)
		strbuf_printf(msg, "Subject: Release requested for held "
			      "message %lld\r\n", batch->ids[0]);
	else
		strbuf_printf(msg, "Subject: Release requested for %u held "
			      "messages\r\n", batch->count);
	strbuf_printf(msg, "Date: %s\r\nMessage-ID: <ndrguard-request-%lld-"
		      "%lld-%u@%s>\r\nAuto-Submitted: auto-generated\r\n"
		      "X-Ndrguard: release-request\r\n"
		      "MIME-Version: 1.0\r\nContent-Type: text/plain; "
		      "charset=utf-8\r\n\r\nThe owner of ", date, batch->ids[0],
		      req->now, batch->count, host);
	web_notice_text(msg, batch->mailbox, 320);
	strbuf_printf(msg, " asks for %u held message%s to be released:"
		      "\r\n\r\n", batch->count, batch->count == 1 ? "" : "s");
	for (unsigned int i = 0; i < batch->count; i++) {
		strbuf_printf(msg, "  %lld  ", batch->ids[i]);
		web_notice_text(msg, batch->subjects[i], WEB_NOTIFY_SUBJECT_MAX);
		strbuf_puts(msg, "\r\n");
	}
	strbuf_printf(msg, "\r\nApprove or refuse at %s/admin\r\n"
		      "or with: ndrguard show ID; ndrguard release ID\r\n",
		      server->base_url);
}

/* web_notice_clear - forget the batch's requests */
static void web_notice_clear(struct web_notice_batch *batch)
{
	for (unsigned int i = 0; i < batch->count; i++)
		free(batch->subjects[i]);
	batch->count = 0;
}

void web_notice_send(struct web_request *req, struct store *st,
			      struct web_notice_batch *batch)
{
	const char *rcpt = req->server->release_notify, *err;
	struct strbuf msg = STRBUF_INIT;
	int allowed = 0;

	if (batch->count == 0 || rcpt == NULL) {
		web_notice_clear(batch);
		return;
	}
	/* counted before it is sent: a failing relay is no way around
	   the cap */
	if (store_notice_take(st, batch->mailbox, req->now - 3600,
			      WEB_NOTICE_PER_HOUR, batch->count, req->now,
			      &allowed, &err) < 0)
		log_warning("could not count the mails about %s's requests, "
			    "%s not told of %u: %s", batch->mailbox, rcpt,
			    batch->count, err);
	else if (!allowed)
		log_info("%s: %u release request(s) not mailed to %s: %d "
			 "mails this hour already; they are listed on /admin",
			 batch->mailbox, batch->count, rcpt,
			 WEB_NOTICE_PER_HOUR);
	else {
		web_notice_message(req, batch, &msg);
		if (reinject_message(req->server->reinject, "", &rcpt, 1,
				     msg.data, msg.len, &err) < 0)
			log_warning("could not tell %s of %u release "
				    "request(s) for %s: %s", rcpt, batch->count,
				    batch->mailbox, err);
	}
	strbuf_free(&msg);
	web_notice_clear(batch);
}
