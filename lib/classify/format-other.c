/*
 * format-other.c - the other automatic mail: complaints that are not
 * ARF (Microsoft JMRP, AOL SCOMP), challenge-response requests,
 * anti-virus notices and auto-replies
 *
 * Asked last: it claims every message the bounce formats left, as one
 * of these kinds or as not a bounce at all. All phrase lists are lower
 * case, matched as substrings of the lower-cased text.
 */
#include "autoconfig.h"
#include "format.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const format_other_autoreply_subjects[] = {
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
static const char *const format_other_autoreply_phrases[] = {
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
static const char *const format_other_challenge_phrases[] = {
	"verify that you", "requires that you verify", "verification",
	"please confirm", "confirm that you", "challenge", "boxtrapper",
	"spam arrest", "tmda", "human being", "not a spam", "whitelist",
	"approve your message", "sender verification", "verify your email",
	"click the link", "reply to this message", "are a human",
	"real person", "guest list", "release your message",
	"confirm your message", NULL
};
/* a challenge holds the sender's message until answered */
static const char *const format_other_challenge_held[] = {
	"your message", "message you sent", "held", "pending", "waitlist",
	"holding area", "will be delivered", "will then be delivered",
	"until you", NULL
};
/* challenge-response systems that name themselves */
static const char *const format_other_challenge_systems[] = {
	"tmda", "spam arrest", "spamarrest", "boxbe", "bluebottle",
	"boxtrapper", "mailblocks", "choicemail", "sendio", NULL
};
static const char *const format_other_challenge_subjects[] = {
	"verif", "confirm", "challenge", "guest list", "approv",
	"authoriz", "authoris", NULL
};
static const char *const format_other_virus_subjects[] = {
	"virus", "infected", "malware", "worm", "trojan", NULL
};
static const char *const format_other_virus_phrases[] = {
	"infected", "virus name", "virus found", "contains a virus",
	"contained a virus", "virus detected", "detected a virus",
	"quarantine", "malware", "virus", NULL
};

/* format_other_autoreply_headers - RFC 3834 and the common private markers */
static int format_other_autoreply_headers(const struct classify_ctx *ctx)
{
	char *as = classify_text_header_lower(ctx, "Auto-Submitted");
	char *prec = classify_text_header_lower(ctx, "Precedence");
	int ret = strstr(as, "auto-replied") != NULL ||
		strstr(prec, "auto_reply") != NULL ||
		mime_part_header(ctx->root, "X-Autoreply") != NULL ||
		mime_part_header(ctx->root, "X-Autorespond") != NULL ||
		mime_part_header(ctx->root, "X-Autoresponder") != NULL;

	free(as);
	free(prec);
	return ret;
}


/*
 * format_other_autoreply_subject - "Automatic reply:", "Out of Office", ...; not
 * "Re: Out of Office": that is a person answering an auto-reply
 */
static int format_other_autoreply_subject(const struct classify_ctx *ctx)
{
	return !classify_text_reply_subject(ctx->subject) &&
		classify_text_has(ctx->subject, strlen(ctx->subject),
				  format_other_autoreply_subjects);
}

/* format_other_av_notice - an anti-virus "your message was infected" notice */
static int format_other_av_notice(const struct classify_ctx *ctx)
{
	return classify_text_has(ctx->subject, strlen(ctx->subject),
				 format_other_virus_subjects) &&
		classify_text_has(ctx->lower.data, ctx->error_len,
				  format_other_virus_phrases) &&
		(classify_text_daemon_sender(ctx) || classify_text_null_sender(ctx) ||
		 mime_part_header(ctx->root, "X-Mailer") != NULL ||
		 (ctx->from_addr != NULL &&
		  (strstr(ctx->from_addr, "noreply") != NULL ||
		   strstr(ctx->from_addr, "virus") != NULL)));
}

/* format_other_add_self - an auto-reply's recipient is the one who replied */
static void format_other_add_self(struct classify_ctx *ctx)
{
	if (ctx->from_addr != NULL)
		classify_add_recipient(ctx, ctx->from_addr, NULL, NULL, NULL, NULL);
}

/* what a provider's complaint (feedback loop) report says of itself */
static const char *const format_other_complaint_phrases[] = {
	"abuse report", "complaint about message", "feedback loop",
	"feedback report", "spam complaint", "complaint report",
	"junk mail reporting", "reported as spam by", NULL
};

/* format_other_is_complaint - a provider's non-ARF complaint report */
static int format_other_is_complaint(struct classify_ctx *ctx)
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
				 format_other_complaint_phrases) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  format_other_complaint_phrases);
}

/* the first words of a vacation program's "Re: <subject>" answer */
static const char *const format_other_away_openings[] = {
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
 * format_other_away_reply - a vacation program's answer titled "Re: <subject>"
 * with no marker header: the sender says in the first lines, in the
 * first person, that they are away. A person answering our user's own
 * auto-reply writes "you are away", not "I am".
 */
static int format_other_away_reply(struct classify_ctx *ctx)
{
	size_t len = ctx->error_len < 400 ? ctx->error_len : 400;
	char *head;
	int ret;

	if (!classify_text_reply_subject(ctx->subject))
		return 0;
	head = xstrndup(ctx->lower.data, len);
	ret = classify_text_has(head, strlen(head), format_other_away_openings);
	free(head);
	return ret;
}

/*
 * format_other_is_challenge - a challenge-response request (its phrases seen):
 * automatic (headers, null sender) and asking in its subject, or holding
 * "your message" until the sender proves to be a person, asked in the
 * subject or by a system that names itself. A service's "verify your
 * address" mail holds no message of the reader's.
 */
static int format_other_is_challenge(struct classify_ctx *ctx, int auto_hdr)
{
	const char *subj = ctx->subject;
	const char *agent = mime_part_header(ctx->root, "X-Delivery-Agent");
	int asks = classify_text_has(subj, strlen(subj), format_other_challenge_subjects);
	int system = mime_part_header(ctx->root, "X-Boxtrapper") != NULL ||
		(agent != NULL && strcasestr(agent, "tmda") != NULL) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  format_other_challenge_systems) ||
		(ctx->from != NULL && strcasestr(ctx->from, "boxbe") != NULL);

	if ((auto_hdr || classify_text_null_sender(ctx)) && (asks || system))
		return 1;
	return (asks || system) &&
		classify_text_has(ctx->lower.data, ctx->error_len,
				  format_other_challenge_held);
}

static enum classify_kind format_other_kind(struct classify_ctx *ctx)
{
	int auto_hdr = format_other_autoreply_headers(ctx);
	int challenge = classify_text_has(ctx->subject, strlen(ctx->subject),
					  format_other_challenge_phrases) ||
		classify_text_has(ctx->lower.data, ctx->error_len,
				  format_other_challenge_phrases);

	if (format_other_is_complaint(ctx))
		return CLASSIFY_FEEDBACK_ARF;
	if (challenge && format_other_is_challenge(ctx, auto_hdr))
		return CLASSIFY_CHALLENGE;
	if (format_other_av_notice(ctx))
		return CLASSIFY_AV_NOTICE;
	if (auto_hdr || format_other_away_reply(ctx) ||
	    (format_other_autoreply_subject(ctx) &&
	     (classify_text_null_sender(ctx) || strncmp(ctx->subject, "auto", 4) == 0 ||
	      mime_part_header(ctx->root, "X-Auto-Response-Suppress") != NULL ||
	      classify_text_has(ctx->lower.data, ctx->error_len,
				format_other_autoreply_phrases)))) {
		format_other_add_self(ctx);
		return CLASSIFY_AUTOREPLY;
	}
	return CLASSIFY_NOT_BOUNCE;
}

/* format_other_read - the kind of whatever the bounce formats left */
static int format_other_read(struct classify_ctx *ctx,
			     enum classify_kind *kind_r)
{
	*kind_r = format_other_kind(ctx);
	return 1;
}

const struct classify_format format_other = { "other", format_other_read };
