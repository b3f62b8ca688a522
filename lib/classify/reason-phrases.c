/*
 * reason-phrases.c - what MTAs write, by reason (see reason.c)
 *
 * Lower case, single spaces. A reason written "=name" is final: the
 * SMTP stage does not turn it into another (see reason_unknown_user).
 * In each table the rules are tried in order and the first rule with a
 * phrase in the text wins, so a rule sits
 * above the ones whose words its texts also use: a "mailbox full" line
 * often says "user", a blocked-IP line "spam", a DMARC refusal "policy".
 */
#include "autoconfig.h"
#include "reason-private.h"

#include <stddef.h>

/* ---- whole-report signatures ---- */

static const char *const report_rejected[] = {
	/* Google Groups: the group is gone or the sender may not post */
	"google groups", "groups.google.com/support",
	NULL
};

const struct reason_rule reason_report_rules[] = {
	{ "rejected", report_rejected },
	{ NULL, NULL }
};

/* ---- strong: specific phrases ---- */

static const char *const strong_mailboxfull[] = {
	"mailbox full", "mailbox is full", "mailbox size limit exceeded",
	"over quota", "quota exceeded", "exceeded storage allocation",
	"not enough storage space", "account is full", "mail box full",
	"mailfolder is full", "disk quota exceeded", "too much mail data",
	"mailbox exceeds allowed size", "exceeds quota", "quota exceed",
	"user has exceeded", "maildir over quota", "mailbox quota",
	"is over the quota", "mailbox has exceeded", "over its quota",
	"over the storage quota", "space has been exceeded", "full mailbox",
	"quota violation", "user's mailbox is full", "exceeded its quota",
	"mailbox would exceed", "box is full", "quota full",
	"size exceeds quota", "recipient's mailbox is full", "over disk quota",
	"exceeded the quota", "user is over", "mailbox is over",
	"insufficient space in the mailbox", "mailbox has no space",
	"out of storage space", "storage quota", "inbox is full",
	/* de, fr, es, it, pt, ru (without a first letter that may be a
	 * capital, as only ASCII is lower-cased) */
	"postfach voll", "postfach ist voll", "mailbox voll",
	"boîte pleine", "boite pleine", "boîte aux lettres pleine",
	"buzón lleno", "buzon lleno", "casella piena", "caixa postal cheia",
	"caixa de correio cheia", "щик переполнен",
	/* es, de, fr, pt, ja (the sentence's own words) */
	"está lleno", "cuota excedida", "ist voll", "speicherplatz",
	"est pleine", "quota dépassé", "está cheia", "cota excedida",
	"容量がいっぱい", "容量超過", "容量を超え",
	"storage allocation", "exceeds its quota", "storage limit",
	"not enough space on", "mailbox is vol", "postbus is vol", "casella è piena",
	"ящик переполнен", "recipient's mailbox exceeded", "mailbox exceeded the local limit", NULL
};
static const char *const strong_exceedlimit[] = {
	"message too large for this recipient", "recipsizelimit",
	"exceeds the recipient's size limit", NULL
};
static const char *const strong_mesgtoobig[] = {
	"message too large", "message size exceeds", "message is too big",
	"message too big", "exceeds size limit", "message exceeds maximum size",
	"size of the message", "message is larger than", "message file too big",
	"exceeds the maximum message size", "message length exceeds",
	"exceeded maximum size", "message size limit", "mail size limit",
	"message exceeds", "size limit exceeded", 
	/* es, de, fr, pt, ja */
	"demasiado grande", "zu groß", "trop volumineux", "muito grande",
	"サイズが大きすぎ", "サイズ制限", 
	"exceeds maximum allowed size", "size exceeds maximum",
	"message is too large", "too big for", NULL
};
static const char *const strong_norelaying[] = {
	"relay access denied", "relaying denied", "relay not permitted",
	"relaying not allowed", "not permitted to relay", "unable to relay",
	"relay denied", "we do not relay", "not allowed to relay",
	"relaying mail to", "is not a gateway", "relay prohibited",
	"no relaying", "relay not allowed", "relaying is prohibited",
	"not configured to relay", "relay mail (",
	"email address is not verified",
	"identities failed the check", NULL
};
static const char *const strong_speeding[] = {
	"sent to too many recipients this hour", "too many recipients this",
	"sending too fast", "rate of messages",
	"messages per hour", "sending rate", NULL
};
static const char *const strong_toomanyconn[] = {
	"too many connections", "too many simultaneous", "too many concurrent",
	"connection rate limit", "too many sessions", "connection limit",
	"frequency limited", "too many recipients", "connections from your ip",
	/* providers' documented codes (Cox, Spectrum) */
	"aup#cxcnct", "aup#in-1310", NULL
};
static const char *const strong_notcompliant[] = {
	"duplicate header", "rfc 5322", "rfc5322", "rfc 2822", "rfc2822",
	"rfc 822", "not compliant", "multiple addresses in from",
	"addresses in from: header", "missing required header",
	"headers are not rfc", "message not rfc", "does not comply with rfc",
	"missing a valid message-id", "message-id header", "invalid message-id",
	NULL
};
static const char *const strong_spam_early[] = {
	"spam classification", "identified as spam", "classified as spam",
	"rejected as spam", "detected as spam", "blacklisted url", "uribl", 
	/* es, de, fr, pt, ja */
	"considerado spam", "correo no deseado", "als spam eingestuft",
	"als spam erkannt", "comme du spam", "comme spam",
	"courrier indésirable", "identificada como spam",
	"considerada spam", "迷惑メール", NULL
};
static const char *const strong_authfailure[] = {
	"spf", "dkim", "dmarc", "sender policy framework",
	"unauthenticated email", "not authorized to send on behalf",
	"authentication checks failed", NULL
};
static const char *const strong_requireptr[] = {
	"no ptr", "reverse dns", "ptr record", "cannot find your hostname",
	"cannot resolve your address", "reverse lookup", "reverse hostname",
	"no reverse", "rdns", "cannot find your reverse", "ptr lookup",
	"without reverse", "resolve your hostname",
	"client host rejected: cannot find", "mismatches client ip",
	"unverifyable sending ip", "unverifiable sending ip", NULL
};
static const char *const strong_badreputation[] = {
	"poor reputation", "bad reputation", "low reputation",
	"sender reputation", "ip reputation",
	"unexpected volume or user complaints", "user complaints", NULL
};
static const char *const strong_virus[] = {
	/* not "virus" alone: "scanned for viruses by ..." footers */
	"a virus", "virus found", "virus detected", "virus was found",
	"viruses found", "virus infected", "virus-infected", "infected with",
	"infected by", "contains virus", "malware", "trojan", NULL
};
static const char *const strong_suspend[] = {
	"account disabled", "account has been disabled", "mailbox is disabled",
	"has been suspended", "account is suspended", "inactive user",
	"account is inactive", "has been disabled or discontinued",
	"recipient suspended", "mailbox disabled", "user suspended",
	"account expired", "currently suspended", "is not active",
	"account has been temporarily suspended",
	"boite du destinataire archivee", "inactive account",
	"account is disabled", "mailbox is inactive", "not an active",
	"account deactivated", "deactivated", "disabled mailbox",
	"address is disabled", "you tried to reach is disabled",
	"you tried to reach is inactive", "account is locked",
	"temporary locked", "temporarily locked", "mailbox is frozen",
	"recipient account is blocked", "compte du destinataire est bloque",
	"disabled recipient", "is terminated", "account terminated",
	"account suspended", "mailbox suspended", "suspended account",
	"account has been locked", "account is blocked",
	/* es, de, fr, pt, ja */
	"suspendida", "suspendido", "deshabilitada", "desactivada",
	"deaktiviert", "konto ist gesperrt", "konto wurde gesperrt",
	"suspendu", "désactivé", "suspensa", "desativada",
	"利用停止", "アカウントは停止", 
	"account is expired", "account has expired", "account unavailable", NULL
};
static const char *const strong_hasmoved[] = {
	"has been replaced by", "address has moved", "has moved",
	"no longer at",
	NULL
};
static const char *const strong_blocked_codes[] = {
	/* Cox: the sending IP is on its block lists */
	"aup#cdrbl", "aup#cxbl", NULL
};
static const char *const strong_rejected[] = {
	"sender rejected", "sender address rejected",
	"domain of sender address",
	"mail from rejected", "bad sender", "sender verify failed",
	"sender is not allowed", "invalid sender", "sender unknown",
	"sender denied", "sender blocked", "reject sender",
	"sender verification", "mailfrom domain",
	"not a registered gateway user",
	"can't determine purported responsible address",
	"sending to/from an address that has been blacklisted",
	"from: domain is invalid", "provide a valid from",
	/* Gmail's "Send mail as" through a server that refuses it */
	"customfromdenied", "'send mail as' account", NULL
};
static const char *const strong_userunknown_early[] = {
	/* Exchange Online's directory-based edge blocking */
	"recipient address rejected: access denied",
	/* Exchange's own directory lookup */
	"recipient name is not recognized", "not listed in", NULL
};
static const char *const strong_blocked[] = {
	"blacklisted", "blocklisted", "block list", "blocklist", "blacklist",
	"listed in", "rbl", "spamhaus", "spamcop", "dnsbl", "blocked using",
	"client host rejected", "dynamic ip", "dial-up", "dialup",
	"residential", "refused to talk to me",
	"please use the smtp server of your isp",
	"not allowed to send mail directly", "sorry, your remotehost",
	"ip blocked", "from your ip", "barracudacentral", "sorbs", "spam-rbl",
	"on our block list", "permanently deferred", "greylist", "graylist",
	"helo command rejected", "need fully-qualified hostname",
	"invalid ip for sending",
	"not accepting connections", "rejected because of your",
	"cannot accept mail from", "not accepted from", "service refused",
	"service refuse", "too many unwanted messages", "connection refused",
	
	/* es, de, fr, pt, ja */
	"lista negra", "sperrliste", "liste noire", "ブラックリスト", NULL
};
static const char *const strong_spam[] = {
	"spam message", "as spam", "is spam", "spam detected", "spam content",
	"likely spam", "looks like spam", "considered spam", "spam score",
	"spamassassin", "unsolicited", "junk mail", "probable spam",
	"spam rejected", "bulk mail", "message content rejected",
	"spam filter", "blocked by spam", "high spam", "suspected spam",
	"spam-like", "spam policy", "content filter", "contains spam",
	"spamblock", "listed as spam", "- spam", "mcspamsignature",
	"mail rejete", "unacceptable content", "appears to be spam",
	"likely unsolicited",
	"high probability of spam", "spam message rejected", NULL
};
static const char *const strong_filtered[] = {
	"due to extended inactivity", "has restricted sms e-mail",
	"is not accepting any mail", "message filtered",
	"rejected due to user rules", "refused due to recipient preferences",
	"rejected by recipient's email filter", "user refuses to receive",
	"user reject", "refuse to receive mail",
	"you have been blocked by the recipient",
	"this account is protected by", "not authorized to send to",
	"badrcptto", "rejected by recipient",
	/* a Sieve "reject" (RFC 5429), as Dovecot Pigeonhole words it */
	"was automatically rejected", 
	/* es, de, fr, pt, ja: the recipient's own rules */
	"reglas de filtrado", "filterregeln", "règles de filtrage",
	"regras de filtragem", "受信拒否", NULL
};
static const char *const strong_notaccept[] = {
	"does not accept mail", "null mx", "not accepting mail",
	"host does not accept", "accepts no mail", "doesn't receive email",
	"no mx record found", "no mx found", "couldn't find a mail exchanger",
	"malformed or unexpected name server reply",
	"indicated no smtp service", NULL
};
static const char *const strong_networkerror[] = {
	"host not found, try again", "dns error", "dns query failed",
	"could not connect", "network is unreachable", "no route to host",
	"lost connection", "connection reset", "mail loop", "too many hops",
	"loops back to myself", "routing loop", "connection dropped",
	"temporary dns", "network error",
	"unable to establish an smtp connection",
	"wasn't able to establish an smtp connection",
	"host name lookup failure", NULL
};
static const char *const strong_hostunknown_early[] = {
	/* cPanel's Exim: it cannot tell which, but the domain comes first */
	"account or domain may not exist", NULL
};
static const char *const strong_hostunknown[] = {
	"host unknown", "unknown host", "domain not found", "host not found",
	"no such domain", "name or service not known",
	"unrouteable mail domain",
	"domain name not found", "invalid domain", "hostname lookup failed",
	"host or domain name not found", "unknown domain",
	"domain does not exist", "domain is not found", "nxdomain",
	"domain is not reachable", "unrouteable address",
	"point to non-existent hosts", "bad destination system address", 
	/* es, de, fr, pt, ja, zh: before the unknown-user words they share */
	"dominio no existe", "dominio de destino no existe",
	"dominio inexistente", "dominio desconocido", "domain existiert nicht",
	"domäne existiert nicht", "unbekannte domain", "domaine n'existe pas",
	"domaine inexistant", "domaine inconnu", "domínio não existe",
	"domínio inexistente", "ドメインが存在しません",
	"ドメインが見つかりません", "域名不存在", 
	"couldn't find any host", "no such host", NULL
};
static const char *const strong_userunknown[] = {
	"user unknown", "unknown user", "no such user", "user not found",
	"unknown recipient", "recipient unknown", "no such mailbox",
	"mailbox not found", "invalid recipient", "no mailbox here",
	"unknown local part", "unknown address", "user doesn't exist",
	"no such account", "bad destination mailbox", "mailbox unavailable",
	"address unknown", "no valid recipients", "recipient not found",
	"user not known", "invalid mailbox", "unknown or illegal alias",
	"not a valid mailbox", "no such recipient", "recipient is not local",
	"addressee unknown", "destination addresses were unknown",
	"address not present", "not a known user", "mailbox unknown",
	"does not have an account",
	"doesn't have a", "account does not exist", "unknown account",
	"unknown mailbox", "user invalid", "no such person", "invalid user",
	"no account by that name", "archived recipient",
	"address doesn't exist", "address not found", "user not exist",
	"mailbox does not exist", "user does not exist", "recipnotfound",
	"recipientnotfound", "no such address", "address does not exist",
	"recipient does not exist",
	/* de, fr, es, it, pt, ru (see strong_mailboxfull) */
	"benutzer unbekannt", "empfänger unbekannt", "unbekannter empfänger",
	"utilisateur inconnu", "destinataire inconnu", "adresse inconnue",
	"usuario desconocido", "destinatario desconocido",
	"utente sconosciuto", "destinatario sconosciuto",
	"usuário desconhecido", "ользователь не найден",
	"ет такого пользователя", "usuario no existe", "no existe", "existiert nicht",
	"unbekannter benutzer", "n'existe pas", "adresse inexistante",
	"não existe", "utilizador desconhecido", "存在しません",
	"宛先不明", "不存在", "user not listed",
	"gebruiker onbekend", "bestaat niet", "non esiste",
	"нет такого", "не существует", "wasn't found at the destination",
	"wasn’t found at the destination", "address wasn't found",
	"wasn't found at", "wasn’t found at",
	"address wasn’t found", NULL
};
static const char *const strong_systemfull[] = {
	"mail system full", "insufficient system storage", "disk full",
	"system full", "out of disk", "insufficient system resources",
	"insufficient disk space", NULL
};
static const char *const strong_systemerror[] = {
	"system error", "internal error", "server configuration error",
	"local configuration error", "temporary local problem",
	"local delivery failed", "internal server error", "configuration error",
	"unable to contact ldap", "could not load drd", "upstream error",
	"service currently unavailable", "multiple retries",
	"temporary system failure", "system failure", NULL
};
static const char *const strong_securityerror[] = {
	"authentication required", "authentication failed", "tls required",
	"must issue a starttls", "encryption required",
	"requires authentication", "must be authenticated",
	"authentication is required", "smtp authentication",
	"unauthenticated senders", "delivery not authorized", NULL
};
static const char *const strong_contenterror[] = {
	"illegal attachment", "content error", "invalid mime", "mime error",
	"attachment not allowed", "improper use of 8-bit data", "media error",
	NULL
};
static const char *const strong_mailererror[] = {
	"pipe to |", "procmail", "command failed", "mailer error",
	"command died", "program exited", "unknown mailer error", NULL
};
static const char *const strong_syntaxerror[] = {
	"syntax error", "command unrecognized", "unrecognized command",
	"command parameter not implemented", "malformed address",
	"parameter not implemented", NULL
};
static const char *const strong_failedstarttls[] = {
	"starttls", "tls negotiation", "does not support tls", NULL
};
static const char *const strong_policy[] = {
	"policy violation", "protocol violation", "denied by policy",
	"policy reasons", "content policy", "rejected by policy",
	"header error", "content presents a potential", "content restrictions",
	
	/* es, de, fr, pt */
	"infringe la política", "política de seguridad", "verstößt gegen",
	"richtlinie", "politique de sécurité", "política de segurança", NULL
};
static const char *const strong_onhold[] = {
	"on hold", NULL
};
static const char *const strong_expired[] = {
	"retry timeout exceeded", "message expired", "delivery time expired",
	"queue too long", "too long in the queue", "message timed out",
	"was not delivered within", "have not been able to deliver",
	"retry time not reached", "expired after", "could not deliver for",
	"could not be delivered for", "in the queue too long",
	"has been in the queue", "did not accept our requests to connect",
	"was aborted after", 
	/* es, de, fr, pt, ja */
	"ha caducado", "ha expirado", "verweildauer", "a expiré",
	"délai de remise", "expirou", "prazo de entrega", "配送期限",
	"期限切れ", 
	"has not been delivered for", "could not be delivered within",
	"maximum retry", NULL
};

/*
 * The order matters (see the top): the early spam and user-unknown rules
 * hold phrases that would otherwise be read as authfailure or blocked.
 */
const struct reason_rule reason_strong_rules[] = {
	{ "mailboxfull", strong_mailboxfull },
	{ "exceedlimit", strong_exceedlimit },
	{ "mesgtoobig", strong_mesgtoobig },
	{ "norelaying", strong_norelaying },
	{ "speeding", strong_speeding },
	{ "toomanyconn", strong_toomanyconn },
	{ "notcompliantrfc", strong_notcompliant },
	{ "spamdetected", strong_spam_early },
	{ "authfailure", strong_authfailure },
	{ "requireptr", strong_requireptr },
	{ "badreputation", strong_badreputation },
	{ "virusdetected", strong_virus },
	{ "suspend", strong_suspend },
	{ "hasmoved", strong_hasmoved },
	{ "mailererror", strong_mailererror },
	{ "blocked", strong_blocked_codes },
	{ "rejected", strong_rejected },
	{ "=userunknown", strong_userunknown_early },
	{ "hostunknown", strong_hostunknown_early },
	{ "blocked", strong_blocked },
	{ "spamdetected", strong_spam },
	{ "filtered", strong_filtered },
	{ "notaccept", strong_notaccept },
	{ "networkerror", strong_networkerror },
	{ "hostunknown", strong_hostunknown },
	{ "userunknown", strong_userunknown },
	{ "systemfull", strong_systemfull },
	{ "systemerror", strong_systemerror },
	{ "securityerror", strong_securityerror },
	{ "contenterror", strong_contenterror },
	{ "syntaxerror", strong_syntaxerror },
	{ "failedstarttls", strong_failedstarttls },
	{ "policyviolation", strong_policy },
	{ "onhold", strong_onhold },
	{ "expired", strong_expired },
	{ NULL, NULL }
};

/* ---- weak: generic words ---- */

static const char *const weak_suspend[] = {
	"suspended", "mailbox is unavailable", NULL
};
static const char *const weak_blocked[] = {
	"your ip", "ip address",
	"access denied", "is blocked", "email blocked",
	"blocked by", "has been blocked", "blocked for", "your host",
	"host rejected", "banned", "service unavailable", "blocked", NULL
};
static const char *const weak_spam[] = {
	"spam.", "spam)", "spam ", "x-spam", NULL
};
static const char *const weak_rejected[] = {
	"sender address", "sender domain", "address of sender", "sender not",
	"envelope sender", "not accept mail from", "your address",
	"from address", "mail from", "return path", "return-path", NULL
};
static const char *const weak_badreputation[] = {
	"reputation", NULL
};
static const char *const weak_filtered[] = {
	"filter", NULL
};
static const char *const weak_hostunknown[] = {
	"no mx", "could not be resolved", "domain lookup failed", "no valid mx",
	"recipient domain", "mx record", "unroutable", NULL
};
static const char *const weak_userunknown[] = {
	"does not exist", "address rejected", "recipient rejected",
	"couldn't be found", "not listed in", "not our customer",
	"non-existent", "nonexistent", "not exist", "is not valid",
	"bad recipient", "bad address", "invalid address", "not found",
	"no longer valid", "no mailbox", "unknown", "no such", "not a valid",
	"invalid", NULL
};
static const char *const weak_speeding[] = {
	"rate limit", "too many messages", "rate-limit", "rate that",
	"try again slower", NULL
};
static const char *const weak_toomanyconn[] = {
	"too many errors", NULL
};
static const char *const weak_policy[] = {
	"violates", "prohibited", "we do not accept", "not allowed", "policy",
	NULL
};
static const char *const weak_requireptr[] = {
	"unresolvable", NULL
};
static const char *const weak_mailererror[] = {
	"exit status", NULL
};
static const char *const weak_networkerror[] = {
	"name service error", NULL
};
static const char *const weak_expired[] = {
	"giving up", "gave up", "maximum time", "timeout", "timed out",
	"expired", "has been delayed", "not yet been delivered",
	"for more than",
	"for the past", "delayed", NULL
};

const struct reason_rule reason_weak_rules[] = {
	{ "speeding", weak_speeding },
	{ "toomanyconn", weak_toomanyconn },
	{ "requireptr", weak_requireptr },
	{ "blocked", weak_blocked },
	{ "badreputation", weak_badreputation },
	{ "spamdetected", weak_spam },
	{ "rejected", weak_rejected },
	{ "filtered", weak_filtered },
	{ "hostunknown", weak_hostunknown },
	{ "userunknown", weak_userunknown },
	{ "mailererror", weak_mailererror },
	{ "networkerror", weak_networkerror },
	{ "policyviolation", weak_policy },
	{ "expired", weak_expired },
	{ "suspend", weak_suspend },
	{ NULL, NULL }
};
