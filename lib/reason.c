/*
 * reason.c - why a message bounced, in Sisimai's vocabulary
 *
 * This module names the reason of a bounce (userunknown, mailboxfull,
 * blocked, ...; the names are Sisimai's, so that reports can be compared
 * with the tool most postmasters know). The diagnostic text decides first,
 * through lists of what MTAs actually write, checked from the most
 * specific reason to the most general; the RFC 3463 status code decides
 * when the text says nothing known; the whole report text is the last
 * resort. Phrases are lower case substrings.
 */
#include "autoconfig.h"
#include "classify-private.h"

#include <stdlib.h>
#include <string.h>

struct reason_rule {
	const char *reason;
	const char *const *phrases;
};

static const char *const reason_mailboxfull[] = {
	"mailbox full", "mailbox is full", "mailbox size limit exceeded",
	"over quota", "quota exceeded", "exceeded storage allocation",
	"not enough storage space", "account is full", "mail box full",
	"mailfolder is full", "disk quota exceeded", "too much mail data",
	"mailbox exceeds allowed size", "exceeds quota", "quota exceed",
	"user has exceeded", "maildir over quota", "mailbox quota",
	"is over the quota", "mailbox has exceeded", "over its quota",
	"over the storage quota", "space has been exceeded", "full mailbox",
	"insufficient space", "quota violation", "user's mailbox is full",
	"exceeded its quota", "mailbox would exceed", "box is full",
	"quota full", "size exceeds quota", "not enough space",
	"recipient's mailbox is full", "over disk quota", "exceeded the quota",
	"user is over", NULL
};
static const char *const reason_mesgtoobig[] = {
	"message too large", "message size exceeds", "message is too big",
	"message too big", "exceeds size limit", "message exceeds maximum size",
	"size of the message", "message is larger than", "message file too big",
	"exceeds the maximum message size", "message length exceeds",
	"message size exceeds fixed maximum", "too large for", "exceeded maximum size",
	"message exceeds", NULL
};
static const char *const reason_suspend[] = {
	"account disabled", "account has been disabled", "mailbox is disabled",
	"has been suspended", "account is suspended", "inactive user",
	"account is inactive", "has been disabled or discontinued",
	"recipient suspended", "mailbox disabled", "user suspended",
	"account expired", "currently suspended", "is not active",
	"account has been temporarily suspended", "boite du destinataire archivee",
	"inactive account", "account is disabled", "mailbox is inactive",
	"not an active", "account deactivated", "deactivated", "disabled mailbox",
	"mailbox is unavailable", "address is disabled", "suspended", NULL
};
static const char *const reason_hasmoved[] = {
	"has been replaced by", "address has moved", "has moved", "no longer at",
	NULL
};
static const char *const reason_norelaying[] = {
	"relay access denied", "relaying denied", "relay not permitted",
	"relaying not allowed", "not permitted to relay", "unable to relay",
	"relay denied", "we do not relay", "not allowed to relay",
	"relaying mail to", "is not a gateway", "relay prohibited",
	"no relaying", "relay not allowed", "relaying is prohibited",
	NULL
};
static const char *const reason_authfailure[] = {
	"spf", "dkim", "dmarc", "sender policy framework", "unauthenticated email",
	"not authorized to send on behalf", NULL
};
static const char *const reason_requireptr[] = {
	"no ptr", "reverse dns", "ptr record", "cannot find your hostname",
	"cannot resolve your address", "reverse lookup", "reverse hostname",
	"no reverse", "rdns", "cannot find your reverse", "ptr lookup",
	"without reverse", "resolve your hostname", "client host rejected: cannot find",
	"unresolvable", NULL
};
static const char *const reason_badreputation[] = {
	"poor reputation", "bad reputation", "low reputation", "reputation", NULL
};
static const char *const reason_toomanyconn[] = {
	"too many connections", "too many simultaneous", "too many concurrent",
	"connection rate limit", "too many sessions", "connection limit",
	"too many errors", NULL
};
static const char *const reason_speeding[] = {
	"rate limit", "sending too fast", "too many messages", "rate-limit",
	"try again later", "rate that", NULL
};
static const char *const reason_virus[] = {
	"virus", "infected", "malware", "worm", "trojan", NULL
};
static const char *const reason_spam[] = {
	"spam message", "as spam", "is spam", "spam detected", "spam content",
	"likely spam", "looks like spam", "considered spam", "spam score",
	"spamassassin", "unsolicited", "junk mail", "probable spam",
	"identified as spam", "classified as spam", "spam rejected", "bulk mail",
	"message content rejected", "spam filter", "blocked by spam",
	"rejected as spam", "high spam", "suspected spam", "spam-like",
	"spam policy", "content filter", "contains spam", "spamblock",
	"listed as spam", "spam.", "spam)", "spam ", "x-spam", "uce", NULL
};
static const char *const reason_blocked[] = {
	"blacklisted", "blocklisted", "block list", "blocklist", "blacklist",
	"listed in", "rbl", "spamhaus", "spamcop", "dnsbl", "blocked using",
	"client host rejected", "your ip", "ip address", "dynamic ip",
	"dial-up", "dialup", "residential", "refused to talk to me",
	"please use the smtp server of your isp", "not allowed to send mail directly",
	"connection refused", "access denied", "sorry, your remotehost",
	"is blocked", "email blocked", "blocked by", "has been blocked",
	"blocked for", "your host", "rejected because of your", "host rejected",
	"banned", "denied by policy", "service unavailable", "not accepted from",
	"cannot accept mail from", "ip blocked", "from your ip", "blocked",
	NULL
};
static const char *const reason_rejected[] = {
	"sender rejected", "sender address rejected", "domain of sender address",
	"mail from rejected", "sender domain", "bad sender", "sender verify failed",
	"address of sender", "sender is not allowed", "invalid sender",
	"sender unknown", "sender not", "sender denied", "sender blocked",
	"envelope sender", "sender address", "not accept mail from",
	"your address", "reject sender", "sender verification", "from address",
	"mail from", "return path", "return-path", "rejected by recipient", NULL
};
static const char *const reason_filtered[] = {
	"due to extended inactivity", "has restricted sms e-mail",
	"is not accepting any mail", "message filtered", "rejected due to user rules",
	"refused due to recipient preferences", "rejected by recipient's email filter",
	"user refuses to receive", "user reject", "refuse to receive mail",
	"you have been blocked by the recipient", "this account is protected by",
	"filter", "not authorized to send to", NULL
};
static const char *const reason_userunknown[] = {
	"user unknown", "unknown user", "no such user", "user not found",
	"unknown recipient", "recipient unknown", "no such mailbox",
	"mailbox not found", "does not exist", "invalid recipient",
	"no mailbox here", "unknown local part", "unknown address",
	"user doesn't exist", "no such account", "bad destination mailbox",
	"mailbox unavailable", "address unknown", "no valid recipients",
	"recipient not found", "user not known", "invalid mailbox",
	"unknown or illegal alias", "not a valid mailbox", "no such recipient",
	"recipient is not local", "addressee unknown", "destination addresses were unknown",
	"bad recipient", "bad address", "invalid address", "address not present",
	"not a known user", "no mailbox", "mailbox unknown", "unrouteable address",
	"address rejected", "does not have an account", "not our customer",
	"account does not exist", "couldn't be found", "not listed in",
	"unknown account", "unknown mailbox", "user invalid", "not found",
	"recipient rejected", "no such person", "invalid user", "does not exist.",
	"no account by that name", "archived recipient", "non-existent",
	"nonexistent", "not exist", "address doesn't exist", "is not valid",
	"unknown", "no such", "not a valid", "address not found",
	"no longer valid", "invalid", NULL
};
static const char *const reason_hostunknown[] = {
	"host unknown", "unknown host", "domain not found", "host not found",
	"no such domain", "name or service not known", "unrouteable mail domain",
	"domain name not found", "invalid domain", "hostname lookup failed",
	"no mx", "host or domain name not found", "unknown domain",
	"domain does not exist", "domain is not found", "could not be resolved",
	"dns error", "domain lookup failed", "nxdomain", "no valid mx",
	"recipient domain", "mx record", "unroutable", NULL
};
static const char *const reason_expired[] = {
	"retry timeout exceeded", "message expired", "delivery time expired",
	"giving up", "queue too long", "too long in the queue", "message timed out",
	"was not delivered within", "have not been able to deliver",
	"retry time not reached", "expired after", "maximum time",
	"could not deliver for", "gave up", "timeout", "timed out", "expired",
	"has been delayed", "not yet been delivered", "could not be delivered for",
	"for more than", "for the past", "delayed", NULL
};
static const char *const reason_networkerror[] = {
	"could not connect", "network is unreachable", "no route to host",
	"lost connection", "connection reset", "mail loop", "too many hops",
	"loops back to myself", "routing loop", "connection dropped",
	"temporary dns", "name service error", "network error", NULL
};
static const char *const reason_systemerror[] = {
	"system error", "internal error", "server configuration error",
	"local configuration error", "temporary local problem",
	"local delivery failed", "internal server error", "configuration error",
	NULL
};
static const char *const reason_systemfull[] = {
	"mail system full", "insufficient system storage", "disk full",
	"system full", "out of disk", "insufficient system resources", NULL
};
static const char *const reason_securityerror[] = {
	"authentication required", "authentication failed", "tls required",
	"must issue a starttls", "encryption required", "requires authentication",
	"must be authenticated", "authentication is required", NULL
};
static const char *const reason_policy[] = {
	"policy violation", "violates", "policy reasons", "content policy",
	"prohibited", "we do not accept", "rejected by policy", "not allowed",
	"policy", NULL
};
static const char *const reason_notcompliant[] = {
	"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "duplicate header",
	"not compliant", "multiple from", "missing required header",
	"header error", "message header", "headers are not", NULL
};
static const char *const reason_mailererror[] = {
	"pipe to |", "x-unix", "procmail", "command failed", "mailer error",
	"exit status", "command died", "program exited", "unknown mailer error",
	NULL
};
static const char *const reason_syntaxerror[] = {
	"syntax error", "command unrecognized", "unrecognized command", NULL
};
static const char *const reason_notaccept[] = {
	"does not accept mail", "null mx", "not accepting mail",
	"host does not accept", "accepts no mail", NULL
};
static const char *const reason_failedstarttls[] = {
	"starttls", "tls negotiation", NULL
};
static const char *const reason_contenterror[] = {
	"illegal attachment", "content error", "invalid mime", "mime error",
	"attachment not allowed", NULL
};

/*
 * The order matters: a "mailbox full" line often also says "user ...",
 * a blocked-IP line often says "spam", a DMARC rejection says "policy".
 */
static const struct reason_rule reason_rules[] = {
	{ "mailboxfull", reason_mailboxfull },
	{ "mesgtoobig", reason_mesgtoobig },
	{ "norelaying", reason_norelaying },
	{ "authfailure", reason_authfailure },
	{ "requireptr", reason_requireptr },
	{ "badreputation", reason_badreputation },
	{ "virusdetected", reason_virus },
	{ "toomanyconn", reason_toomanyconn },
	{ "hasmoved", reason_hasmoved },
	{ "suspend", reason_suspend },
	{ "blocked", reason_blocked },
	{ "spamdetected", reason_spam },
	{ "rejected", reason_rejected },
	{ "filtered", reason_filtered },
	{ "hostunknown", reason_hostunknown },
	{ "userunknown", reason_userunknown },
	{ "systemfull", reason_systemfull },
	{ "networkerror", reason_networkerror },
	{ "systemerror", reason_systemerror },
	{ "securityerror", reason_securityerror },
	{ "notcompliantrfc", reason_notcompliant },
	{ "mailererror", reason_mailererror },
	{ "syntaxerror", reason_syntaxerror },
	{ "notaccept", reason_notaccept },
	{ "failedstarttls", reason_failedstarttls },
	{ "contenterror", reason_contenterror },
	{ "policyviolation", reason_policy },
	{ "speeding", reason_speeding },
	{ "expired", reason_expired },
	{ NULL, NULL }
};

/* RFC 3463 codes whose meaning is precise enough to name the reason */
static const struct {
	const char *code, *reason;
} reason_codes[] = {
	{ "2.1.5", "delivered" }, { "2.0.0", "delivered" },
	{ "2.6.0", "delivered" },
	{ "5.1.0", "userunknown" }, { "5.1.1", "userunknown" },
	{ "5.1.2", "hostunknown" }, { "5.1.3", "userunknown" },
	{ "5.1.4", "filtered" }, { "5.1.6", "hasmoved" },
	{ "5.1.7", "rejected" }, { "5.1.8", "rejected" },
	{ "5.1.9", "systemerror" }, { "5.1.10", "notaccept" },
	{ "5.2.0", "filtered" }, { "5.2.1", "filtered" },
	{ "5.2.2", "mailboxfull" }, { "5.2.3", "exceedlimit" },
	{ "5.2.4", "filtered" }, { "5.3.0", "systemerror" },
	{ "5.3.1", "systemfull" }, { "5.3.2", "notaccept" },
	{ "5.3.3", "systemerror" }, { "5.3.4", "mesgtoobig" },
	{ "5.3.5", "systemerror" }, { "5.4.0", "networkerror" },
	{ "5.4.3", "systemerror" }, { "5.4.4", "hostunknown" },
	{ "5.4.6", "networkerror" }, { "5.4.7", "expired" },
	{ "5.5.3", "toomanyconn" }, { "5.5.4", "systemerror" },
	{ "5.5.5", "systemerror" }, { "5.6.0", "contenterror" },
	{ "5.6.1", "contenterror" }, { "5.7.0", "securityerror" },
	{ "5.7.1", "securityerror" }, { "5.7.8", "securityerror" },
	{ "5.7.9", "securityerror" }, { "5.7.13", "suspend" },
	{ "5.7.17", "hasmoved" }, { "5.7.18", "hasmoved" },
	{ "5.7.20", "authfailure" }, { "5.7.23", "authfailure" },
	{ "5.7.25", "requireptr" }, { "5.7.26", "authfailure" },
	{ "5.7.27", "notaccept" },
	{ "4.1.6", "hasmoved" }, { "4.1.7", "rejected" }, { "4.1.8", "rejected" },
	{ "4.2.1", "suspend" }, { "4.2.2", "mailboxfull" },
	{ "4.2.3", "exceedlimit" }, { "4.3.1", "systemfull" },
	{ "4.3.2", "notaccept" }, { "4.4.1", "expired" },
	{ "4.4.2", "networkerror" }, { "4.4.4", "networkerror" },
	{ "4.4.5", "systemfull" }, { "4.4.6", "networkerror" },
	{ "4.4.7", "expired" }, { "4.7.1", "blocked" },
	{ "4.7.25", "requireptr" },
};

/* reason_by_text - first rule whose phrases occur in text */
static const char *reason_by_text(const char *text, size_t len)
{
	for (size_t i = 0; reason_rules[i].reason != NULL; i++) {
		if (classify_text_has(text, len, reason_rules[i].phrases))
			return reason_rules[i].reason;
	}
	return NULL;
}

/* reason_by_status - the reason a precise status code means */
static const char *reason_by_status(const char *status)
{
	if (status == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(reason_codes) / sizeof(reason_codes[0]); i++) {
		if (strcmp(reason_codes[i].code, status) == 0)
			return reason_codes[i].reason;
	}
	return NULL;
}

/*
 * reason_smtp_command - the SMTP command the remote server refused, as
 * the MTAs report it ("in reply to RCPT TO command", "after RCPT TO",
 * ">>> RCPT To:", qmail's "does not like recipient"); 0 if unknown
 */
static char reason_smtp_command(const char *lower)
{
	static const struct {
		const char *phrase;
		char command;
	} cmds[] = {
		{ "in reply to rcpt to", 'R' }, { "after rcpt to", 'R' },
		{ ">>> rcpt to", 'R' }, { "does not like recipient", 'R' },
		{ "in reply to end of data", 'D' }, { "after end of data", 'D' },
		{ "in reply to data", 'D' }, { "did not like our final data", 'D' },
		{ "after data", 'D' }, { ">>> data", 'D' },
		{ "in reply to mail from", 'M' }, { "after mail from", 'M' },
		{ ">>> mail from", 'M' }, { "rcpt to:", 'R' },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strstr(lower, cmds[i].phrase) != NULL)
			return cmds[i].command;
	}
	return 0;
}

/*
 * reason_userunknown - "unknown user" text means userunknown only when
 * the server said it at RCPT time or the status says x.1.1; said after
 * the message was sent it is the recipient's filter talking (Sisimai's
 * "filtered")
 */
static const char *reason_userunknown_or_filtered(const char *status,
						  char command)
{
	if (status != NULL && status[2] == '1')
		return "userunknown";	/* x.1.x: addressing status */
	if (command == 'R')
		return "userunknown";
	if (command == 'M')
		return "rejected";
	if (command == 'D' || status != NULL)
		return "filtered";
	return "userunknown";
}

const char *reason_find(enum classify_kind kind, const char *status,
			const char *diagnostic, const char *text)
{
	const char *reason = NULL, *by_status = reason_by_status(status);
	char command = 0;

	if (kind == CLASSIFY_DSN_SUCCESS)
		return "delivered";
	if (text != NULL)
		command = reason_smtp_command(text);
	if (diagnostic != NULL) {
		char *lower = strdup(diagnostic);

		if (lower != NULL) {
			classify_lower(lower, strlen(lower));
			if (command == 0)
				command = reason_smtp_command(lower);
			reason = reason_by_text(lower, strlen(lower));
			free(lower);
		}
	}
	if (reason != NULL && strcmp(reason, "userunknown") == 0)
		return reason_userunknown_or_filtered(status, command);
	if (reason == NULL)
		reason = by_status;
	if (reason == NULL && kind == CLASSIFY_NDR_DELAYED)
		return "expired";
	if (reason == NULL && text != NULL) {
		reason = reason_by_text(text, strlen(text));
		if (reason != NULL && strcmp(reason, "userunknown") == 0)
			return reason_userunknown_or_filtered(status, command);
	}
	if (reason == NULL)
		return status == NULL ? "onhold" : "undefined";
	return reason;
}
