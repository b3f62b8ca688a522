/*
 * classify-text.c - telling a bounce written as prose from other mail
 *
 * Half the MTAs in the wild send no RFC 3464 report: qmail, Exim, Gmail,
 * Exchange 2003, DragonFly, most Japanese carriers and every anti-spam
 * appliance write prose. This module recognises such prose as a bounce
 * (sender, subject and body phrases together, so that ordinary mail that
 * merely talks about delivery is not taken for one), tells a failure from
 * a delay warning and a person's mail from the mail system's, and names
 * the reporting MTA. The formats (format.h) ask it: format-text.c reads
 * the recipients of such prose, format-other.c the other automatic kinds.
 *
 * All phrase lists are lower case and matched as substrings of the
 * lower-cased text, which keeps the cost linear in the text size.
 */
#include "autoconfig.h"
#include "classify-private.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* senders that only ever send bounces */
static const char *const text_daemon_senders[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon",
	"maildaemon", "postmaster", "mail delivery", "mail administrator",
	"microsoftexchange", "mail system", "mdaemon", "delivery subsystem",
	"mail.delivery", "internet mail", "daemon@", "mail-router",
	"delivery-notification", "mailer@", "bounce", "mail_delivery",
	"postoffice", "post office", "returned", "post_master", NULL
};

/* subjects of failure and delay reports */
static const char *const text_bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "failure notice",
	"returned mail", "mail delivery failed", "nondeliverable",
	"non-deliverable", "non delivery", "nondelivery",
	"could not be delivered", "delivery notification", "mail system error",
	"returned to sender", "delivery problem", "permanent error",
	"unable to deliver", "not delivered", "delivery report",
	"mail failure", "delivery error", "failed delivery",
	"warning: could not send", "delayed mail", "delivery delayed",
	"message delayed", "delivery has failed", "rejected", "bounce",
	"mail could not", "error sending", "delivery status", "fehler",
	"unzustellbar", "nicht zustellbar", "non recapitabile",
	"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", /* haishin era- */
	"\xe8\xbf\x94\xe9\x80\x81", /* hensou */
	"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", /* era- */
	"mail returned", "message not delivered", "failed mail",
	"delivery final failure", "notification", "message status",
	"mail failed",
	/* es, fr, pt, zh */
	"no entregado", "no se puede entregar", "no se pudo entregar",
	"error de entrega", "non remis", "non distribu", "chec de la remise",
	"não entregue", "não foi entregue", "falha na entrega",
	"mensagem devolvida", "退信", "投递失败",
	/* it, nl, ru, pl, sv, tr, ko, zh-tw, ja */
	"mancato recapito", "onbestelbaar", "niet afgeleverd",
	"не доставлено", "недоставленное", "niedostarczon", "olevererbar",
	"teslim edilemedi", "전달 실패", "배달 실패", "無法傳遞", "退件",
	"配信できません", NULL
};

/* what MTAs write in their failure and delay reports */
static const char *const text_bounce_phrases[] = {
	"this is the mail system at host", "delivery to the following recipient",
	"could not be delivered", "couldn't be delivered", "was not delivered",
	"undeliverable", "delivery has failed", "permanent error",
	"permanent fatal error", "i'm sorry to have to inform you",
	"i'm afraid i wasn't able to deliver", "this is the qmail-send program",
	"unable to deliver", "delivery failed", "following address(es) failed",
	"could not deliver", "failed to deliver", "not be delivered",
	"your message did not reach", "did not reach the following recipient",
	"there was an error delivering", "mail delivery failed",
	"rejected by the server", "no such user", "mailbox unavailable",
	"host unknown", "delivery error", "the original message was received at",
	"error delivering", "your message was not delivered",
	"user unknown", "unknown user", "mailbox is full",
	"message delivery has failed", "delivery to the following recipients failed",
	"transcript of session follows", "has not yet been delivered",
	"delivery attempts will continue", "will continue to try",
	"has been delayed", "could not be sent", "wasn't delivered",
	"did not reach", "undelivered mail", "message not delivered",
	"delivery has been delayed", "failed permanently", "smtp error",
	"remote host said", "giving up on", "not delivered to",
	"unable to relay", "does not exist", "mailbox not found",
	"returned to you", "sender address rejected", "recipient address rejected",
	"your mail could not", "delivery of your message", "message you sent",
	"could not be forwarded", "delivery notification", "address rejected",
	"recipient rejected", "this message was created automatically by mail delivery",
	"delivery problem", "returned mail", "message could not be",
	"could not reach", "did not like our", "failed recipient",
	"trouble delivering", "attempting to deliver", "permanent errors",
	"was rejected by", "were rejected", "following recipients",
	"could not be reached", "delivery to these recipients",
	"undeliverable message", "mail system", "non-delivery",
	"address not found", "no mailbox", "invalid recipient",
	"failed addresses follow",
	/* es, fr, pt, de, zh */
	"no se pudo entregar", "no se ha podido entregar",
	"no pudo ser entregado", "no ha podido ser entregado",
	"n'a pas pu être remis", "n'a pas pu être distribué",
	"impossible de remettre", "impossible de distribuer",
	"não foi possível entregar", "não pôde ser entregue",
	"nicht zugestellt werden", "konnte nicht zugestellt",
	"未能成功投递", "投递失败", "无法投递", "退信",
	/* it, nl, ru, pl, sv, tr, ko, zh-tw, ja */
	"impossibile recapitare", "non è stato possibile recapitare",
	"non è stato recapitato", "kon niet worden afgeleverd",
	"kan niet worden afgeleverd", "не удалось доставить",
	"невозможно доставить", "не может быть доставлено",
	"nie można dostarczyć", "nie została dostarczona",
	"kunde inte levereras", "teslim edilemedi", "전달되지 않았습니다",
	"배달되지 않았습니다", "無法傳遞", "配信できませんでした",
	"配送できませんでした", "届きませんでした",
	"\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93", /* soushin dekimasen */
	"\xe5\xb1\x8a\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93", /* todokimasen */
	NULL
};

/* delay warnings, as opposed to failures */
static const char *const text_delay_subjects[] = {
	"delayed", "delay", "warning: could not send", "still being retried",
	"not yet delivered", "will retry", "(delay)", NULL
};
static const char *const text_delay_phrases[] = {
	"has not yet been delivered", "will continue to try",
	"delivery attempts will continue", "this is a warning message only",
	"will keep trying", "still trying", "will be retried",
	"not yet been delivered", "has been delayed", "will retry",
	"no action is required on your part", "is delayed",
	"delivery has been delayed", "still in the queue",
	"temporarily deferred", "you do not need to resend",
	"continue attempting", NULL
};
static const char *const text_permanent_phrases[] = {
	"permanent error", "permanent fatal", "failed permanently",
	"giving up", "could not be delivered", "has been returned",
	"undeliverable", "gave up", "failed:", "will not be delivered",
	"delivery has failed", "delivery failed", "permanently", NULL
};


/*
 * The report's text is searched for many phrase lists. A bitmap of the
 * byte pairs it holds, made once per message in one pass, rules out at
 * once almost every phrase that is not there: only a phrase whose every
 * pair occurs is looked for with strstr.
 */
struct text_index {
	const char *hay;
	size_t len;
	int active, built;
	uint64_t pairs[65536 / 64];
};

static _Thread_local struct text_index text_index;

void classify_text_index_begin(const char *hay, size_t len)
{
	text_index.hay = hay;
	text_index.len = len;
	text_index.active = 1;
	text_index.built = 0;
}

void classify_text_index_end(void)
{
	text_index.active = 0;
	text_index.hay = NULL;
}

static void text_index_build(struct text_index *ix)
{
	const unsigned char *h = (const unsigned char *)ix->hay;

	memset(ix->pairs, 0, sizeof(ix->pairs));
	for (size_t i = 0; i + 1 < ix->len; i++) {
		unsigned int pair = (unsigned int)h[i] << 8 | h[i + 1];

		ix->pairs[pair >> 6] |= (uint64_t)1 << (pair & 63);
	}
	ix->built = 1;
}

/*
 * classify_text_index_pairs - the byte-pair bitmap of hay (built now if
 * it was not yet) when hay is the indexed text, its length in *len_r;
 * NULL for any other text
 */
const uint64_t *classify_text_index_pairs(const char *hay, size_t *len_r)
{
	if (!text_index.active || hay == NULL || hay != text_index.hay)
		return NULL;
	if (!text_index.built)
		text_index_build(&text_index);
	*len_r = text_index.len;
	return text_index.pairs;
}

/* text_index_may_have - can the needle occur, judging by its pairs? */
static int text_index_may_have(const struct text_index *ix, const char *needle)
{
	const unsigned char *n = (const unsigned char *)needle;

	for (size_t i = 0; n[i] != '\0' && n[i + 1] != '\0'; i++) {
		unsigned int pair = (unsigned int)n[i] << 8 | n[i + 1];

		if ((ix->pairs[pair >> 6] & ((uint64_t)1 << (pair & 63))) == 0)
			return 0;
	}
	return 1;
}

/*
 * text_has - classify_text_has(); with indexed, the index is built for
 * a short list too (a bounce's text: reason.c builds it anyway)
 */
static int text_has(const char *hay, size_t len, const char *const *needles,
		    int indexed)
{
	if (hay == NULL)
		return 0;
	size_t count = 0;

	while (needles[count] != NULL && count < 24)
		count++;
	/* the index pays for itself only over a long list (or built) */
	if ((count >= 24 || indexed || text_index.built) && text_index.active &&
	    hay == text_index.hay && len == text_index.len &&
	    hay[len] == '\0') {
		if (!text_index.built)
			text_index_build(&text_index);
		for (size_t i = 0; needles[i] != NULL; i++) {
			if (text_index_may_have(&text_index, needles[i]) &&
			    strstr(hay, needles[i]) != NULL)
				return 1;
		}
		return 0;
	}
	/* glibc's vectorised strstr is several times faster than memmem */
	if (hay[len] == '\0') {
		for (size_t i = 0; needles[i] != NULL; i++) {
			if (strstr(hay, needles[i]) != NULL)
				return 1;
		}
		return 0;
	}
	for (size_t i = 0; needles[i] != NULL; i++) {
		if (memmem(hay, len, needles[i], strlen(needles[i])) != NULL)
			return 1;
	}
	return 0;
}

int classify_text_has(const char *hay, size_t len, const char *const *needles)
{
	return text_has(hay, len, needles, 0);
}

/* classify_text_header_lower - lower-case copy of a top header, "" if absent */
char *classify_text_header_lower(const struct classify_ctx *ctx,
				 const char *name)
{
	const char *v = mime_part_header(ctx->root, name);
	char *s = xstrdup(v == NULL ? "" : v);

	classify_lower(s, strlen(s));
	return s;
}

/* classify_text_null_sender - is the Return-Path empty (as RFC 5321 wants for NDRs)? */
int classify_text_null_sender(const struct classify_ctx *ctx)
{
	const char *rp = mime_part_header(ctx->root, "Return-Path");

	if (rp == NULL)
		return 0;
	while (*rp == ' ')
		rp++;
	return strncmp(rp, "<>", 2) == 0 || *rp == '\0' ||
		strncasecmp(rp, "<mailer-daemon", 14) == 0;
}

/* classify_text_daemon_sender - does the From name a mailer daemon? */
int classify_text_daemon_sender(const struct classify_ctx *ctx)
{
	char *from = classify_text_header_lower(ctx, "From");
	int ret = classify_text_has(from, strlen(from), text_daemon_senders);

	free(from);
	return ret;
}

/* local parts only the mail system sends from (lower case, whole) */
static const char *const text_machine_locals[] = {
	"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon",
	"maildaemon", "mdaemon", "postmaster", "post_master", "post-master",
	"double-bounce", "daemon", "mailer", "mail-router", "root",
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply", "bounce", "bounces", "mailadmin", "mail-admin", NULL
};

/* classify_text_machine_address - a local part of text_machine_locals? */
int classify_text_machine_address(const char *addr)
{
	const char *at;
	size_t n;

	if (addr == NULL)
		return 0;
	at = strchr(addr, '@');
	n = at == NULL ? strlen(addr) : (size_t)(at - addr);
	for (size_t i = 0; text_machine_locals[i] != NULL; i++) {
		if (strlen(text_machine_locals[i]) == n &&
		    strncasecmp(addr, text_machine_locals[i], n) == 0)
			return 1;
	}
	return 0;
}

enum text_envelope { TEXT_ENV_UNKNOWN, TEXT_ENV_SYSTEM, TEXT_ENV_OTHER };

/*
 * text_envelope - who the envelope says sent it: the mail system (the
 * null sender, MAILER-DAEMON, postmaster), someone else, or unknown (no
 * sender given and no Return-Path: many saved bounces lack one)
 */
static enum text_envelope text_envelope(const struct classify_ctx *ctx)
{
	const char *v = ctx->sender;
	char *addr;
	enum text_envelope ret;

	if (v == NULL)
		v = mime_part_header(ctx->root, "Return-Path");
	if (v == NULL)
		return TEXT_ENV_UNKNOWN;
	while (*v == ' ' || *v == '\t' || *v == '<')
		v++;
	if (*v == '\0' || *v == '>')
		return TEXT_ENV_SYSTEM;
	addr = xstrndup(v, strcspn(v, "> \t"));
	ret = classify_text_machine_address(addr) ? TEXT_ENV_SYSTEM :
		TEXT_ENV_OTHER;
	free(addr);
	return ret;
}

/* classify_text_reply_subject - "Re: ..." (in a few languages), lower case */
int classify_text_reply_subject(const char *subj)
{
	static const char *const prefixes[] = {
		"re:", "re :", "aw:", "sv:", "antw:", "vs:", "odp:", "res:",
		"ynt:", NULL
	};

	while (*subj == ' ')
		subj++;
	for (size_t i = 0; prefixes[i] != NULL; i++) {
		if (strncmp(subj, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	}
	return 0;
}

/*
 * text_attached_bounce - is the attached message itself a bounce (its
 * From the mail system's, a report, an Exim X-Failed-Recipients)?
 */
static int text_attached_bounce(const struct classify_ctx *ctx)
{
	const struct mime_part *o = ctx->orig_part;
	const char *from;
	char *addr;
	int ret;

	if (o == NULL || o->header_count == 0)
		return 0;
	if (strcmp(o->type, "multipart/report") == 0 ||
	    mime_part_header(o, "X-Failed-Recipients") != NULL)
		return 1;
	from = mime_part_header(o, "From");
	if (from == NULL)
		return 0;
	addr = classify_addr_extract(from);
	ret = classify_text_machine_address(addr);
	free(addr);
	return ret;
}

/* classify_text_person_sent - from a person's or service's own address */
int classify_text_person_sent(struct classify_ctx *ctx)
{
	const char *ct = mime_part_header(ctx->root, "Content-Type");

	/* the mail system's own address decides: saved bounces often carry
	   the original sender's Return-Path */
	if (ctx->from_addr == NULL ||
	    classify_text_machine_address(ctx->from_addr))
		return 0;
	if (ct != NULL && strcasestr(ct, "multipart/report") != NULL)
		return 0;
	if (text_envelope(ctx) == TEXT_ENV_OTHER)
		return 1;
	/* a reply in a thread, or a bounce forwarded as an attachment */
	if (classify_text_reply_subject(ctx->subject) &&
	    (mime_part_header(ctx->root, "In-Reply-To") != NULL ||
	     mime_part_header(ctx->root, "References") != NULL))
		return 1;
	return text_attached_bounce(ctx);
}

static int text_is_bounce(struct classify_ctx *ctx);

/*
 * text_returns_message - the failed message (or its headers) comes
 * back, or the report's machine-written fields are there (even quoted,
 * as in a bounce forwarded inline)
 */
static int text_returns_message(const struct classify_ctx *ctx)
{
	return ctx->orig_part != NULL || ctx->orig_inline ||
		mime_part_header(ctx->root, "X-Failed-Recipients") != NULL ||
		memmem(ctx->lower.data, ctx->error_len, "final-recipient:",
		       16) != NULL;
}

/* classify_text_system_bounce - the mail system's address, a bounce subject */
int classify_text_system_bounce(struct classify_ctx *ctx)
{
	/*
	 * The mail system's own address with a bounce's subject: a report
	 * even when it names nothing (a broken or truncated one). A display
	 * name alone ("Mail Delivery System" <support@...>) is not enough.
	 */
	return classify_text_machine_address(ctx->from_addr) &&
		classify_text_has(ctx->subject, strlen(ctx->subject),
				  text_bounce_subjects);
}

int classify_text_is_bounce(struct classify_ctx *ctx)
{
	if (ctx->bounce_cache < 0)
		ctx->bounce_cache = text_is_bounce(ctx);
	return ctx->bounce_cache;
}

/* text_is_bounce - the work behind classify_text_is_bounce() */
static int text_is_bounce(struct classify_ctx *ctx)
{
	const char *subj = ctx->subject;
	int daemon, subject, body;

	if (ctx->dsn_part != NULL)
		return 1;
	if (ctx->person_sent)
		return 0;
	daemon = classify_text_daemon_sender(ctx);
	subject = classify_text_has(subj, strlen(subj), text_bounce_subjects);
	/*
	 * Two signs of three: a daemon sender with a bounce subject is a
	 * bounce in any language; the phrases alone could be a user telling
	 * a friend about a failed delivery. (The body is read last: it
	 * costs the most.)
	 */
	if (daemon && subject)
		return 1;
	if (!daemon && !subject && !classify_text_null_sender(ctx))
		return 0;
	/*
	 * Nothing says the mail system sent it: a person's or a service's
	 * words about a failed delivery (a question, a parcel or fax
	 * notice, a campaign report) unless the failed message comes back
	 * with them
	 */
	if (!daemon && !classify_text_null_sender(ctx) && !text_returns_message(ctx))
		return 0;
	body = classify_text_has(ctx->lower.data, ctx->error_len,
				 text_bounce_phrases);
	return body;
}

static int text_is_delay(struct classify_ctx *ctx);

int classify_text_is_delay(struct classify_ctx *ctx)
{
	if (ctx->delay_cache < 0)
		ctx->delay_cache = text_is_delay(ctx);
	return ctx->delay_cache;
}

/* text_is_delay - the work behind classify_text_is_delay() */
static int text_is_delay(struct classify_ctx *ctx)
{
	const char *subj = ctx->subject;
	const char *text = ctx->lower.data;
	size_t len = ctx->error_len;

	if (classify_text_has(subj, strlen(subj), text_delay_subjects) &&
	    !strstr(subj, "fail"))
		return 1;
	/* asked of bounces only, whose text reason.c indexes anyway */
	if (text_has(text, len, text_delay_phrases, 1) &&
	    !text_has(text, len, text_permanent_phrases, 1))
		return 1;
	return 0;
}

/*
 * classify_text_reporting_mta - the host of the DSN's Reporting-MTA, or
 * the one Postfix's prose names ("This is the mail system at host ...")
 */
char *classify_text_reporting_mta(struct classify_ctx *ctx)
{
	const char *p, *lower = ctx->lower.data;
	size_t n;

	if (ctx->dsn.reporting_mta != NULL) {
		p = strchr(ctx->dsn.reporting_mta, ';');
		p = p == NULL ? ctx->dsn.reporting_mta : p + 1;
		while (*p == ' ')
			p++;
		return xstrndup(p, strcspn(p, " \t;"));
	}
	p = strstr(lower, "this is the mail system at host ");
	if (p != NULL) {
		p += strlen("this is the mail system at host ");
		n = strcspn(p, " \t\n");
		while (n > 0 && p[n - 1] == '.')
			n--;
		return xstrndup(ctx->text.data + (p - lower), n);
	}
	return NULL;
}
