/*
 * classify-text.c - reading bounces that are only text
 *
 * Half the MTAs in the wild send no RFC 3464 report: qmail, Exim, Gmail,
 * Exchange 2003, DragonFly, most Japanese carriers and every anti-spam
 * appliance write prose. This module recognises such prose as a bounce
 * (sender, subject and body phrases together, so that ordinary mail that
 * merely talks about delivery is not taken for one), tells a failure from
 * a delay warning, and finds the bounced recipients where the MTAs put
 * them: alone on a line, after "RCPT TO:" or "Recipient:", in
 * "<addr>: reason" form. It also names the other automatic kinds:
 * auto-replies, challenge-response requests and anti-virus notices.
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

static const char *const text_autoreply_subjects[] = {
	"out of office", "out of the office", "auto reply", "autoreply",
	"auto-reply", "automatic reply", "auto:", "autoresponse",
	"auto response", "autorespons", "away until", "vacation",
	"abwesenheit", "away from", "respuesta autom", "r\xc3\xa9ponse automatique",
	"risposta automatica", "automatisch antwoord", "on leave",
	"\xe4\xb8\x8d\xe5\x9c\xa8", /* fuzai */
	/* es, de, fr, pt, it, nl, ja: out of the office, auto reply */
	"fuera de la oficina", "fuera de oficina", "mensaje de ausencia",
	"aviso de ausencia", "automatische antwort", "absent du bureau",
	"absente du bureau", "absence du bureau", "message d'absence",
	"resposta autom", "fora do escrit", "ausente do escrit",
	"fuori sede", "fuori ufficio",
	"afwezig", "niet aanwezig",
	"\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94", /* jidou outou */
	"\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1", /* jidou henshin */
	NULL
};
static const char *const text_autoreply_phrases[] = {
	"out of the office", "out of office", "on vacation", "on holiday",
	"away from the office", "limited access to", "will be back",
	"i will return", "currently away", "auto-reply", "automatic reply",
	/* es, de, fr, pt, it, nl, ja */
	"fuera de la oficina", "estar\xc3\xa9 fuera", "no estar\xc3\xa9",
	"acceso limitado", "nicht im b\xc3\xbcro", "bin abwesend",
	"nicht erreichbar", "au\xc3\x9f" "er haus", "ausser haus",
	"keinen zugriff", "absent du bureau", "absente du bureau",
	"absent jusqu", "absente jusqu", "acc\xc3\xa8s limit\xc3\xa9",
	"pas acc\xc3\xa8s", "ausente do escrit", "estou ausente",
	"estarei ausente", "acesso limitado", "fuori ufficio", "fuori sede",
	"sar\xc3\xb2 assente", "niet aanwezig", "afwezig",
	"\xe4\xb8\x8d\xe5\x9c\xa8\xe3\x81\xab", /* fuzai ni */
	"\xe4\xbc\x91\xe6\x9a\x87", /* kyuuka */
	NULL
};
static const char *const text_challenge_phrases[] = {
	"verify that you", "requires that you verify", "verification",
	"please confirm", "confirm that you", "challenge", "boxtrapper",
	"spam arrest", "tmda", "human being", "not a spam", "whitelist",
	"approve your message", "sender verification", "verify your email",
	"click the link", "reply to this message", "are a human",
	"real person", "guest list", "release your message",
	"confirm your message", NULL
};
/* a challenge holds the sender's message until answered */
static const char *const text_challenge_held[] = {
	"your message", "message you sent", "held", "pending", "waitlist",
	"holding area", "will be delivered", "will then be delivered",
	"until you", NULL
};
/* challenge-response systems that name themselves */
static const char *const text_challenge_systems[] = {
	"tmda", "spam arrest", "spamarrest", "boxbe", "bluebottle",
	"boxtrapper", "mailblocks", "choicemail", "sendio", NULL
};
static const char *const text_challenge_subjects[] = {
	"verif", "confirm", "challenge", "guest list", "approv",
	"authoriz", "authoris", NULL
};
static const char *const text_virus_subjects[] = {
	"virus", "infected", "malware", "worm", "trojan", NULL
};
static const char *const text_virus_phrases[] = {
	"infected", "virus name", "virus found", "contains a virus",
	"contained a virus", "virus detected", "detected a virus",
	"quarantine", "malware", "virus", NULL
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

/* text_header_lower - lower-case copy of a top header, "" if absent */
static char *text_header_lower(const struct classify_ctx *ctx, const char *name)
{
	const char *v = mime_part_header(ctx->root, name);
	char *s = xstrdup(v == NULL ? "" : v);

	classify_lower(s, strlen(s));
	return s;
}

/* text_null_sender - is the Return-Path empty (as RFC 5321 wants for NDRs)? */
static int text_null_sender(const struct classify_ctx *ctx)
{
	const char *rp = mime_part_header(ctx->root, "Return-Path");

	if (rp == NULL)
		return 0;
	while (*rp == ' ')
		rp++;
	return strncmp(rp, "<>", 2) == 0 || *rp == '\0' ||
		strncasecmp(rp, "<mailer-daemon", 14) == 0;
}

/* text_daemon_sender - does the From name a mailer daemon? */
static int text_daemon_sender(const struct classify_ctx *ctx)
{
	char *from = text_header_lower(ctx, "From");
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

/* text_reply_subject - "Re: ..." (in a few languages), lower case */
static int text_reply_subject(const char *subj)
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
	if (text_reply_subject(ctx->subject) &&
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
	daemon = text_daemon_sender(ctx);
	subject = classify_text_has(subj, strlen(subj), text_bounce_subjects);
	/*
	 * Two signs of three: a daemon sender with a bounce subject is a
	 * bounce in any language; the phrases alone could be a user telling
	 * a friend about a failed delivery. (The body is read last: it
	 * costs the most.)
	 */
	if (daemon && subject)
		return 1;
	if (!daemon && !subject && !text_null_sender(ctx))
		return 0;
	/*
	 * Nothing says the mail system sent it: a person's or a service's
	 * words about a failed delivery (a question, a parcel or fax
	 * notice, a campaign report) unless the failed message comes back
	 * with them
	 */
	if (!daemon && !text_null_sender(ctx) && !text_returns_message(ctx))
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

/* text_autoreply_headers - RFC 3834 and the common private markers */
static int text_autoreply_headers(const struct classify_ctx *ctx)
{
	char *as = text_header_lower(ctx, "Auto-Submitted");
	char *prec = text_header_lower(ctx, "Precedence");
	int ret = strstr(as, "auto-replied") != NULL ||
		strstr(prec, "auto_reply") != NULL ||
		mime_part_header(ctx->root, "X-Autoreply") != NULL ||
		mime_part_header(ctx->root, "X-Autorespond") != NULL ||
		mime_part_header(ctx->root, "X-Autoresponder") != NULL;

	free(as);
	free(prec);
	return ret;
}

static int text_reply_subject(const char *subj);

/*
 * text_autoreply_subject - "Automatic reply:", "Out of Office", ...; not
 * "Re: Out of Office": that is a person answering an auto-reply
 */
static int text_autoreply_subject(const struct classify_ctx *ctx)
{
	return !text_reply_subject(ctx->subject) &&
		classify_text_has(ctx->subject, strlen(ctx->subject),
				  text_autoreply_subjects);
}

/* text_av_notice - an anti-virus "your message was infected" notice */
static int text_av_notice(const struct classify_ctx *ctx)
{
	return classify_text_has(ctx->subject, strlen(ctx->subject),
				 text_virus_subjects) &&
		classify_text_has(ctx->lower.data, ctx->error_len,
				  text_virus_phrases) &&
		(text_daemon_sender(ctx) || text_null_sender(ctx) ||
		 mime_part_header(ctx->root, "X-Mailer") != NULL ||
		 (ctx->from_addr != NULL &&
		  (strstr(ctx->from_addr, "noreply") != NULL ||
		   strstr(ctx->from_addr, "virus") != NULL)));
}

/* text_add_self - an auto-reply's recipient is the one who replied */
static void text_add_self(struct classify_ctx *ctx)
{
	if (ctx->from_addr != NULL)
		classify_add_recipient(ctx, ctx->from_addr, NULL, NULL, NULL, NULL);
}

/* what a provider's complaint (feedback loop) report says of itself */
static const char *const text_complaint_phrases[] = {
	"abuse report", "complaint about message", "feedback loop",
	"feedback report", "spam complaint", "complaint report",
	"junk mail reporting", "reported as spam by", NULL
};

/* classify_text_is_complaint - a provider's non-ARF complaint report */
int classify_text_is_complaint(struct classify_ctx *ctx)
{
	/*
	 * Not ARF, but the same thing: the complained-of message attached
	 * whole, a few words saying it is an abuse report (Microsoft JMRP:
	 * "complaint about message from <IP>"; AOL's older format)
	 */
	if (ctx->orig_part == NULL || ctx->dsn_part != NULL)
		return 0;
	if (mime_part_header(ctx->root, "X-HmXmrOriginalRecipient") != NULL)
		return 1;
	return classify_text_has(ctx->subject, strlen(ctx->subject),
				 text_complaint_phrases) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  text_complaint_phrases);
}

/* the first words of a vacation program's "Re: <subject>" answer */
static const char *const text_away_openings[] = {
	"i am out of the office", "i'm out of the office",
	"i am currently out of the office", "i am currently away",
	"i'm currently out of the office", "i am away from",
	"i will be out of the office", "i am on vacation", "i'm on vacation",
	"i am on holiday", "i am on leave", "estoy fuera de la oficina",
	"me encuentro fuera de la oficina", "estoy de vacaciones",
	"ich bin bis", "ich bin derzeit nicht", "ich bin im urlaub",
	"je suis absent", "je suis actuellement absent",
	"estou ausente", "estou de f\xc3\xa9rias", "sono fuori ufficio",
	"sono in ferie", NULL
};

/*
 * text_away_reply - a vacation program's answer titled "Re: <subject>"
 * with no marker header: the sender says in the first lines, in the
 * first person, that they are away. A person answering our user's own
 * auto-reply writes "you are away", not "I am".
 */
static int text_away_reply(struct classify_ctx *ctx)
{
	size_t len = ctx->error_len < 400 ? ctx->error_len : 400;
	char *head;
	int ret;

	if (!text_reply_subject(ctx->subject))
		return 0;
	head = xstrndup(ctx->lower.data, len);
	ret = classify_text_has(head, strlen(head), text_away_openings);
	free(head);
	return ret;
}

/*
 * text_is_challenge - a challenge-response request (its phrases seen):
 * automatic (headers, null sender) and asking in its subject, or holding
 * "your message" until the sender proves to be a person, asked in the
 * subject or by a system that names itself. A service's "verify your
 * address" mail holds no message of the reader's.
 */
static int text_is_challenge(struct classify_ctx *ctx, int auto_hdr)
{
	const char *subj = ctx->subject;
	const char *agent = mime_part_header(ctx->root, "X-Delivery-Agent");
	int asks = classify_text_has(subj, strlen(subj), text_challenge_subjects);
	int system = mime_part_header(ctx->root, "X-Boxtrapper") != NULL ||
		(agent != NULL && strcasestr(agent, "tmda") != NULL) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  text_challenge_systems) ||
		(ctx->from != NULL && strcasestr(ctx->from, "boxbe") != NULL);

	if ((auto_hdr || text_null_sender(ctx)) && (asks || system))
		return 1;
	return (asks || system) &&
		classify_text_has(ctx->lower.data, ctx->error_len,
				  text_challenge_held);
}

enum classify_kind classify_text_other_kind(struct classify_ctx *ctx)
{
	int auto_hdr = text_autoreply_headers(ctx);
	int challenge = classify_text_has(ctx->subject, strlen(ctx->subject),
					  text_challenge_phrases) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  text_challenge_phrases);

	if (classify_text_is_complaint(ctx))
		return CLASSIFY_FEEDBACK_ARF;
	if (challenge && text_is_challenge(ctx, auto_hdr))
		return CLASSIFY_CHALLENGE;
	if (text_av_notice(ctx))
		return CLASSIFY_AV_NOTICE;
	if (auto_hdr || text_away_reply(ctx) ||
	    (text_autoreply_subject(ctx) &&
	     (text_null_sender(ctx) || strncmp(ctx->subject, "auto", 4) == 0 ||
	      mime_part_header(ctx->root, "X-Auto-Response-Suppress") != NULL ||
	      classify_text_has(ctx->lower.data, ctx->error_len,
				text_autoreply_phrases)))) {
		text_add_self(ctx);
		return CLASSIFY_AUTOREPLY;
	}
	return CLASSIFY_NOT_BOUNCE;
}

/* text_addr_char - may c stand in an address we pick from prose? */
static int text_addr_char(unsigned char c, int domain)
{
	/* 8-bit local parts exist (RFC 6531); domains are read as ASCII */
	if (isalnum(c) || c == '.' || c == '-' || (c >= 0x80 && !domain))
		return 1;
	return !domain && strchr("_%+=/!#$&'*?^`{|}~", c) != NULL && c != 0;
}

struct text_addr {
	size_t start, end;	/* in the text */
	size_t line;		/* start of its line */
	int strong;
};

/*
 * text_addr_unprefix - where an address starts once a transport tag
 * glued to it is dropped ("smtp=kim@...", "rfc822=...", "mailto=..."):
 * '=' may stand in a local part, these tags never do
 */
static size_t text_addr_unprefix(const char *text, size_t s, size_t at)
{
	static const char *const tags[] = {
		"smtp=", "rfc822=", "mailto=", "smtp:", "rfc822:", "mailto:",
		NULL
	};

	for (size_t i = 0; tags[i] != NULL; i++) {
		size_t n = strlen(tags[i]);

		if (at - s > n && strncasecmp(text + s, tags[i], n) == 0)
			return s + n;
	}
	return s;
}

/* text_addr_at - the address around the '@' at text[at], or 0 */
static int text_addr_at(const char *text, size_t len, size_t line, size_t at,
			struct text_addr *a)
{
	size_t s = at, e = at + 1, dots = 0;

	while (s > line && at - s < 64 && text_addr_char((unsigned char)text[s - 1], 0))
		s--;
	while (e < len && e - at < 255 && text_addr_char((unsigned char)text[e], 1)) {
		if (text[e] == '.')
			dots++;
		e++;
	}
	while (e > at + 1 && text[e - 1] == '.') {
		e--;
		dots--;
	}
	while (s < at && (text[s] == '.' || text[s] == '\''))
		s++;
	s = text_addr_unprefix(text, s, at);
	if (s == at || e == at + 1 || dots == 0)
		return 0;
	a->start = s;
	a->end = e;
	a->line = line;
	return 1;
}

/* words after which an address is the recipient (lower case) */
static const char *const text_rcpt_prefixes[] = {
	"to", "for", "recipient", "recipients", "rcpt", "address", "addressee",
	"rfc822", "user", "mailbox", "account", "destinataire", "destinatario",
	"empf\xc3\xa4nger", "original-recipient", "final-recipient",
	"failed", "x-failed-recipients", "smtp", NULL
};

/* words after which an address is not a recipient */
static const char *const text_not_rcpt_prefixes[] = {
	"mail from", "envelope-from", "sender", "from", "return-path",
	"message-id", "reply-to", "references", "in-reply-to", "postmaster",
	"contact", NULL
};

/* text_prefix_ends - does the lower-case prefix end with word w? */
static int text_prefix_ends(const char *p, size_t len, const char *w)
{
	size_t n = strlen(w);

	if (len < n || memcmp(p + len - n, w, n) != 0)
		return 0;
	return len == n || !isalnum((unsigned char)p[len - n - 1]);
}

/* text_addr_classify - strong (1), weak (0) or excluded (-1) context */
static int text_addr_classify(const struct classify_ctx *ctx, struct text_addr *a)
{
	const char *lower = ctx->lower.data;
	size_t plen = a->start - a->line;
	const char *p = lower + a->line;

	/* trim the punctuation around "<addr>" and "rfc822; addr" */
	while (plen > 0 && strchr(" \t<\"'([:;=", p[plen - 1]) != NULL)
		plen--;
	for (size_t i = 0; text_not_rcpt_prefixes[i] != NULL; i++) {
		if (text_prefix_ends(p, plen, text_not_rcpt_prefixes[i]))
			return -1;
	}
	if (plen < 4 && (plen == 0 || memchr(p, '@', plen) == NULL))
		return 1;	/* alone at the start of its line */
	for (size_t i = 0; text_rcpt_prefixes[i] != NULL; i++) {
		if (text_prefix_ends(p, plen, text_rcpt_prefixes[i]))
			return 1;
	}
	return 0;
}

/* text_addr_excluded - the sender side of the bounce, never a recipient */
static int text_addr_excluded(const struct classify_ctx *ctx, const char *addr,
			      int listed)
{
	static const char *const locals[] = {
		"mailer-daemon@", "postmaster@", "abuse@", "hostmaster@",
		"webmaster@", NULL
	};
	const char *to = mime_part_header(ctx->root, "To");
	char *lower = xstrdup(addr);
	int ret = 0;

	classify_lower(lower, strlen(lower));
	/*
	 * An address on its own line in the list of failed recipients is
	 * one, even postmaster@ or the bounce's own To (mail to oneself).
	 */
	for (size_t i = 0; !listed && locals[i] != NULL; i++) {
		if (strncmp(lower, locals[i], strlen(locals[i])) == 0)
			ret = 1;
	}
	if (ctx->from_addr != NULL && strcasecmp(ctx->from_addr, addr) == 0)
		ret = 1;
	if (!listed && to != NULL && strcasestr(to, addr) != NULL)
		ret = 1;
	free(lower);
	return ret;
}

/* text_block_end - end of the paragraph starting at pos */
static size_t text_block_end(const char *text, size_t len, size_t pos)
{
	size_t lines = 0;

	while (pos < len && lines < 8) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);
		size_t i = pos;

		while (i < eol && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i == eol && lines > 0)
			return pos;
		pos = eol < len ? eol + 1 : len;
		lines++;
	}
	return pos;
}

/* text_smtp_line - first line with an SMTP reply or status code, or NULL */
static char *text_smtp_line(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text), n;

		for (size_t i = pos; i + 4 <= eol; i++) {
			if ((text[i] == '4' || text[i] == '5') &&
			    isdigit((unsigned char)text[i + 1]) &&
			    isdigit((unsigned char)text[i + 2]) &&
			    (text[i + 3] == ' ' || text[i + 3] == '-') &&
			    (i == pos || !isalnum((unsigned char)text[i - 1])))
				return xstrndup(text + pos, eol - pos);
		}
		if (dsn_status_find(text + pos, eol - pos, &n) != NULL)
			return xstrndup(text + pos, eol - pos);
		pos = eol + 1;
	}
	return NULL;
}

/* text_add_found - add one recipient with its paragraph as diagnostic */
static void text_add_found(struct classify_ctx *ctx, const struct text_addr *a,
			   const char *action)
{
	const char *text = ctx->text.data;
	size_t end = text_block_end(text, ctx->error_len, a->line);
	char *addr = xstrndup(text + a->end - (a->end - a->start), a->end - a->start);
	char *diag = xstrndup(text + a->end, end > a->end ? end - a->end : 0);
	const char *st;
	char *status = NULL;
	size_t n;

	for (char *q = strchr(addr, '@'); *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	/* strip the "...", ">:" and the like between address and reason */
	size_t skip = strspn(diag, ">:.;,) \t\n");
	if (strpbrk(diag + skip, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL) {
		free(diag);
		diag = text_smtp_line(text, ctx->error_len);
		skip = 0;
	}
	const char *d = diag == NULL ? NULL : diag + skip;
	st = d == NULL ? NULL : dsn_status_find(d, strlen(d), &n);
	if (st == NULL)
		st = dsn_status_find(text, ctx->error_len, &n);
	if (st != NULL)
		status = xstrndup(st, n);
	classify_add_recipient(ctx, addr, status, action, d, NULL);
	free(status);
	free(addr);
	free(diag);
}

/* text_indent - width of the white space that starts a line */
static size_t text_indent(const char *text, size_t len, size_t line)
{
	size_t i = line;

	while (i < len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	return i - line;
}

/*
 * text_listed_block - the lines indented under the address where it
 * stands alone at the start of its line (Exim: "  addr\n    SMTP error
 * ...\n    host ...: 550 5.2.1 ..."), joined; NULL if not so listed
 */
static char *text_listed_block(const struct classify_ctx *ctx,
			       const char *address)
{
	const char *lower = ctx->lower.data, *text = ctx->text.data, *p = lower;
	size_t len = ctx->error_len, n = strlen(address);
	char *addr = xstrdup(address), *ret = NULL;

	classify_lower(addr, n);
	while ((p = strstr(p, addr)) != NULL) {
		size_t at = (size_t)(p - lower), line = at, ind, pos, end;

		p += n;
		while (line > 0 && lower[line - 1] != '\n')
			line--;
		ind = text_indent(lower, len, line);
		if (line + ind != at || (at + n < len && lower[at + n] != '\n' &&
					 lower[at + n] != ':' && lower[at + n] != ' '))
			continue;
		pos = at + n;
		end = pos;
		while (pos < len) {
			const char *nl = memchr(lower + pos, '\n', len - pos);
			size_t next = nl == NULL ? len : (size_t)(nl - lower) + 1;

			if (pos > at + n) {
				size_t i = text_indent(lower, len, pos);

				if (i <= ind || pos + i >= next - 1)
					break;
			}
			end = next;
			pos = next;
		}
		if (end > at + n)
			ret = xstrndup(text + at + n, end - at - n);
		break;
	}
	free(addr);
	return ret;
}

/*
 * text_failed_header - Exim and Google name the failed recipients in an
 * X-Failed-Recipients header; the most reliable source when present
 */
static int text_failed_header(struct classify_ctx *ctx, const char *action)
{
	const char *v = mime_part_header(ctx->root, "X-Failed-Recipients");
	char *copy, *tok, *save = NULL;
	int n = 0;

	if (v == NULL)
		return 0;
	copy = xstrdup(v);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		char *addr = dsn_address_clean(tok);
		char *diag = NULL, *status = NULL;
		const char *st;
		size_t len;

		if (addr == NULL)
			continue;
		/* each address costs a search of the text: as many as kept */
		if (ctx->res->recipient_count >= CLASSIFY_MAX_RECIPIENTS) {
			free(addr);
			break;
		}
		diag = text_listed_block(ctx, addr);
		if (diag == NULL)
			diag = text_smtp_line(ctx->text.data, ctx->error_len);
		st = diag == NULL ? NULL : dsn_status_find(diag, strlen(diag), &len);
		if (st == NULL)
			st = dsn_status_find(ctx->text.data, ctx->error_len, &len);
		if (st != NULL)
			status = xstrndup(st, len);
		classify_add_recipient(ctx, addr, status, action, diag, NULL);
		free(addr);
		free(diag);
		free(status);
		n++;
	}
	free(copy);
	return n;
}

/* phrases that introduce the list of failed recipients (lower case) */
static const char *const text_list_intros[] = {
	"did not reach the following recipient", "following recipient",
	"following address", "following destination", NULL
};

/*
 * text_list_start - where the list of failed recipients starts: after
 * the first phrase that introduces it, or 0. Exchange 2003 first repeats
 * the original's To and Subject ("Your message To: ... did not reach the
 * following recipient(s):"), which are not the bounced recipients.
 */
static size_t text_list_start(const struct classify_ctx *ctx)
{
	size_t best = 0;

	for (size_t i = 0; text_list_intros[i] != NULL; i++) {
		const char *p = strstr(ctx->lower.data, text_list_intros[i]);
		size_t off;

		if (p == NULL)
			continue;
		off = (size_t)(p - ctx->lower.data);
		if (best == 0 || off < best)
			best = off;
	}
	return best;
}

/* text_display_form - is the address followed by " <address>"? */
static int text_display_form(const char *text, size_t len, size_t end)
{
	size_t i = end;

	while (i < len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	if (i == end || i >= len || text[i] != '<')
		return 0;
	for (i++; i < len && text[i] != '>' && text[i] != '\n' && i - end < 300; i++) {
		if (text[i] == '@')
			return 1;
	}
	return 0;
}

void classify_text_recipients(struct classify_ctx *ctx)
{
	const char *text = ctx->text.data;
	size_t len = ctx->error_len, pos = 0, line = 0, count = 0;
	struct text_addr found[CLASSIFY_MAX_RECIPIENTS];
	int have_strong = 0, after_list = 0;
	const char *action = classify_text_is_delay(ctx) ? "delayed" : "failed";
	size_t list = text_list_start(ctx);

	if (text_failed_header(ctx, action) > 0)
		return;

	while (pos < len && count < CLASSIFY_MAX_RECIPIENTS) {
		const char *at = memchr(text + pos, '@', len - pos);
		struct text_addr a;

		if (at == NULL)
			break;
		for (size_t i = pos; i < (size_t)(at - text); i++) {
			if (text[i] == '\n')
				line = i + 1;
		}
		pos = (size_t)(at - text) + 1;
		if (!text_addr_at(text, len, line, (size_t)(at - text), &a))
			continue;
		pos = a.end;
		/* "name@host <addr>": the first is a display name */
		if (text_display_form(text, len, a.end))
			continue;
		a.strong = text_addr_classify(ctx, &a);
		char *addr = xstrndup(text + a.start, a.end - a.start);
		int listed = list > 0 && a.start > list && a.start - a.line < 4;
		int excluded = a.strong < 0 ||
			text_addr_excluded(ctx, addr, listed);
		free(addr);
		if (excluded)
			continue;
		found[count++] = a;
		if (list > 0 && a.start > list)
			after_list = 1;
	}
	for (size_t i = 0; i < count; i++) {
		if (after_list && found[i].start < list)
			found[i].strong = -1;
		if (found[i].strong > 0)
			have_strong = 1;
	}
	for (size_t i = 0; i < count; i++) {
		if (found[i].strong >= 0 && (!have_strong || found[i].strong))
			text_add_found(ctx, &found[i], action);
	}
}

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

/*
 * Amazon SES notifications (through SNS, or sent by SES itself) carry
 * no report part: the body is a JSON object, possibly wrapped in an SNS
 * envelope whose "Message" member is the notification as a string. A
 * small bounded JSON reader is enough: depth, node count and the text
 * size are limited, every byte is looked at a fixed number of times.
 */
#define SJ_MAX_DEPTH 32
#define SJ_MAX_NODES 20000

enum sj_type { SJ_NULL = 0, SJ_LITERAL, SJ_STRING, SJ_ARRAY, SJ_OBJECT };

struct sj {
	enum sj_type type;
	char *str;		/* string value (UTF-8) or literal as written */
	char **keys;		/* object member names */
	struct sj *items;	/* array elements, object member values */
	size_t count;
};

struct sj_parser {
	const char *p, *end;
	unsigned int nodes;
};

static void sj_free(struct sj *v)
{
	for (size_t i = 0; i < v->count; i++) {
		sj_free(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

static void sj_ws(struct sj_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int sj_hex4(const char *p, const char *end, unsigned int *v)
{
	*v = 0;
	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return 0;
		*v = *v * 16 + (unsigned int)d;
	}
	return 1;
}

static void sj_put_utf8(struct strbuf *sb, unsigned int cp)
{
	if (cp < 0x80) {
		strbuf_putc(sb, (char)cp);
	} else if (cp < 0x800) {
		strbuf_putc(sb, (char)(0xc0 | (cp >> 6)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_putc(sb, (char)(0xe0 | (cp >> 12)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_putc(sb, (char)(0xf0 | (cp >> 18)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_putc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * sj_string - a string literal at ps->p (the opening quote); NULL when
 * malformed. A line break inside it (a mail system wrapped a long line)
 * is dropped together with the indentation after it.
 */
static char *sj_string(struct sj_parser *ps)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = ps->p + 1, *end = ps->end;

	while (p < end && *p != '"') {
		const char *run = p;

		while (p < end && *p != '"' && *p != '\\' && *p != '\n')
			p++;
		strbuf_append(&sb, run, (size_t)(p - run));
		if (p >= end || *p == '"')
			break;
		if (*p == '\n') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			continue;
		}
		if (end - p < 2) {
			p = end;
			break;
		}
		p++;
		switch (*p) {
		case 'b': strbuf_putc(&sb, '\b'); p++; break;
		case 'f': strbuf_putc(&sb, '\f'); p++; break;
		case 'n': strbuf_putc(&sb, '\n'); p++; break;
		case 'r': strbuf_putc(&sb, '\r'); p++; break;
		case 't': strbuf_putc(&sb, '\t'); p++; break;
		case 'u': {
			unsigned int cp, lo;

			if (!sj_hex4(p + 1, end, &cp)) {
				strbuf_free(&sb);
				return NULL;
			}
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    sj_hex4(p + 2, end, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			if (cp == 0)
				cp = 0xfffd;
			sj_put_utf8(&sb, cp);
			break;
		}
		default:
			strbuf_putc(&sb, *p++);	/* \" \\ \/ and the lenient rest */
		}
	}
	if (p >= end) {
		strbuf_free(&sb);
		return NULL;
	}
	ps->p = p + 1;
	if (sb.data == NULL)
		strbuf_grow(&sb, 1);
	return strbuf_steal(&sb);
}

static int sj_value(struct sj_parser *ps, struct sj *v, unsigned int depth);

/* sj_push - room for one more element; its slot */
static struct sj *sj_push(struct sj *v, size_t *cap, int with_key)
{
	if (v->count == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		v->items = xrealloc(v->items, *cap * sizeof(*v->items));
		if (with_key)
			v->keys = xrealloc(v->keys, *cap * sizeof(*v->keys));
	}
	memset(&v->items[v->count], 0, sizeof(v->items[0]));
	if (with_key)
		v->keys[v->count] = NULL;
	return &v->items[v->count++];
}

/* sj_container - an array or object; ps->p at its opening bracket */
static int sj_container(struct sj_parser *ps, struct sj *v, unsigned int depth)
{
	int obj = *ps->p == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0;

	v->type = obj ? SJ_OBJECT : SJ_ARRAY;
	ps->p++;
	sj_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct sj *item;
		char *key = NULL;

		sj_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"' ||
			    (key = sj_string(ps)) == NULL)
				return -1;
			sj_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return -1;
			}
			ps->p++;
		}
		item = sj_push(v, &cap, obj);
		if (obj)
			v->keys[v->count - 1] = key;
		if (sj_value(ps, item, depth + 1) < 0)
			return -1;
		sj_ws(ps);
		if (ps->p >= ps->end)
			return -1;
		if (*ps->p == close) {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',')
			return -1;
		ps->p++;
	}
}

static int sj_value(struct sj_parser *ps, struct sj *v, unsigned int depth)
{
	const char *start;

	sj_ws(ps);
	if (ps->p >= ps->end || depth > SJ_MAX_DEPTH ||
	    ++ps->nodes > SJ_MAX_NODES)
		return -1;
	switch (*ps->p) {
	case '{':
	case '[':
		return sj_container(ps, v, depth);
	case '"':
		v->type = SJ_STRING;
		v->str = sj_string(ps);
		return v->str == NULL ? -1 : 0;
	default:
		start = ps->p;
		while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) ||
					   *ps->p == '-' || *ps->p == '+' ||
					   *ps->p == '.'))
			ps->p++;
		if (ps->p == start)
			return -1;
		v->type = SJ_LITERAL;
		v->str = xstrndup(start, (size_t)(ps->p - start));
		return 0;
	}
}

/* sj_parse - the JSON value at the start of text; -1 if malformed */
static int sj_parse(const char *text, size_t len, struct sj *v)
{
	struct sj_parser ps = { text, text + len, 0 };

	memset(v, 0, sizeof(*v));
	if (sj_value(&ps, v, 0) < 0) {
		sj_free(v);
		return -1;
	}
	return 0;
}

/* sj_get - member key of an object, or NULL */
static const struct sj *sj_get(const struct sj *v, const char *key)
{
	if (v == NULL || v->type != SJ_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->count; i++) {
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	}
	return NULL;
}

/* sj_str - string member key of an object, or NULL */
static const char *sj_str(const struct sj *v, const char *key)
{
	const struct sj *m = sj_get(v, key);

	return m != NULL && m->type == SJ_STRING ? m->str : NULL;
}

/* ses_status - an RFC 3463 code literally in s, copied, or NULL */
static char *ses_status(const char *s)
{
	const char *st;
	size_t n;

	if (s == NULL)
		return NULL;
	if ((n = dsn_status_valid(s, strlen(s))) > 0 && s[n] == '\0')
		return xstrndup(s, n);
	st = dsn_status_find(s, strlen(s), &n);
	return st == NULL ? NULL : xstrndup(st, n);
}

/* ses_recipients - one recipient per element of a recipients array */
static void ses_recipients(struct classify_ctx *ctx, const struct sj *list,
			   const char *action, const char *response)
{
	if (list == NULL || list->type != SJ_ARRAY)
		return;
	for (size_t i = 0; i < list->count; i++) {
		const struct sj *r = &list->items[i];
		const char *addr = r->type == SJ_STRING ? r->str :
			sj_str(r, "emailAddress");
		const char *diag = r->type == SJ_STRING ? response :
			sj_str(r, "diagnosticCode");
		const char *act = sj_str(r, "action");
		char *clean, *status;

		if (addr == NULL || (clean = classify_addr_extract(addr)) == NULL)
			continue;
		status = ses_status(sj_str(r, "status"));
		if (status == NULL)
			status = ses_status(diag);
		classify_add_recipient(ctx, clean, status,
				       act != NULL ? act : action, diag, NULL);
		free(clean);
		free(status);
	}
}

/* ses_original - the returned message's headers from "mail" */
static void ses_original(struct classify_ctx *ctx, const struct sj *mail)
{
	static const struct {
		const char *json, *name;
	} ses_common[] = {
		{ "messageId", "Message-ID" }, { "date", "Date" }, { NULL, NULL }
	};
	const struct sj *h = sj_get(mail, "headers");
	const struct sj *common = sj_get(mail, "commonHeaders");
	struct mime_header *hs;
	size_t n = 0;

	if (h == NULL || h->type != SJ_ARRAY || h->count == 0 ||
	    ctx->orig_part != NULL)
		return;
	hs = xcalloc(h->count + 2, sizeof(*hs));
	for (size_t i = 0; i < h->count && i < MIME_MAX_HEADERS; i++) {
		const char *name = sj_str(&h->items[i], "name");
		const char *value = sj_str(&h->items[i], "value");

		if (name == NULL || value == NULL)
			continue;
		mime_header_set(&hs[n], name, strlen(name), value,
				strlen(value));
		n++;
	}
	/* headers SES summarises but may leave out of the list */
	for (size_t i = 0; ses_common[i].json != NULL; i++) {
		const char *v = sj_str(common, ses_common[i].json);

		if (v == NULL || mime_headers_find(hs, n, ses_common[i].name))
			continue;
		mime_header_set(&hs[n], ses_common[i].name,
				strlen(ses_common[i].name), v, strlen(v));
		n++;
	}
	mime_headers_free(ctx->orig_headers, ctx->orig_header_count);
	ctx->orig_headers = hs;
	ctx->orig_header_count = n;
}

/* ses_mta - "dsn; host" as a Reporting-MTA */
static void ses_mta(struct classify_ctx *ctx, const char *mta)
{
	if (mta == NULL || ctx->dsn.reporting_mta != NULL)
		return;
	ctx->dsn.reporting_mta = xstrdup(mta);
}

int classify_text_ses(struct classify_ctx *ctx, enum classify_kind *kind_r)
{
	const char *text = ctx->text.data;
	size_t len = ctx->text.len, skip = 0;
	struct sj outer, inner, *n = &outer;
	const char *type, *msg;
	const struct sj *part;
	int ret = 0;

	/* the notification is the whole body: it starts with its brace */
	while (skip < len && isspace((unsigned char)text[skip]))
		skip++;
	if (skip >= len || text[skip] != '{' ||
	    memmem(text, len, "notificationType", 16) == NULL ||
	    sj_parse(text + skip, len - skip, &outer) < 0)
		return 0;
	memset(&inner, 0, sizeof(inner));
	msg = sj_str(&outer, "Message");
	if (msg != NULL && sj_parse(msg, strlen(msg), &inner) == 0)
		n = &inner;
	type = sj_str(n, "notificationType");
	if (type == NULL)
		type = sj_str(n, "eventType");
	if (type == NULL) {
		ret = 0;
	} else if (strcmp(type, "Bounce") == 0 &&
		   (part = sj_get(n, "bounce")) != NULL) {
		ses_recipients(ctx, sj_get(part, "bouncedRecipients"), "failed",
			       NULL);
		ses_mta(ctx, sj_str(part, "reportingMTA"));
		*kind_r = CLASSIFY_NDR_FAILED;
		ret = 1;
	} else if (strcmp(type, "DeliveryDelay") == 0 &&
		   (part = sj_get(n, "deliveryDelay")) != NULL) {
		ses_recipients(ctx, sj_get(part, "delayedRecipients"), "delayed",
			       NULL);
		ses_mta(ctx, sj_str(part, "reportingMTA"));
		*kind_r = CLASSIFY_NDR_DELAYED;
		ret = 1;
	} else if (strcmp(type, "Delivery") == 0 &&
		   (part = sj_get(n, "delivery")) != NULL) {
		ses_recipients(ctx, sj_get(part, "recipients"), "delivered",
			       sj_str(part, "smtpResponse"));
		ses_mta(ctx, sj_str(part, "reportingMTA"));
		*kind_r = CLASSIFY_DSN_SUCCESS;
		ret = 1;
	} else if (strcmp(type, "Complaint") == 0 &&
		   (part = sj_get(n, "complaint")) != NULL) {
		ses_recipients(ctx, sj_get(part, "complainedRecipients"), NULL,
			       NULL);
		*kind_r = CLASSIFY_FEEDBACK_ARF;
		ret = 1;
	}
	if (ret)
		ses_original(ctx, sj_get(n, "mail"));
	sj_free(&inner);
	sj_free(&outer);
	return ret;
}
