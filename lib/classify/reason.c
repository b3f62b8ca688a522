/*
 * reason.c - why a message bounced, in Sisimai's vocabulary
 *
 * This module names the reason of a bounce (userunknown, mailboxfull,
 * blocked, ...; the names are Sisimai's, so that reports can be compared
 * with the tool most postmasters know). The phrase tables are in
 * reason-phrases.c. The decision, in order:
 *
 *   0. a whole report's signature (a Google Groups refusal);
 *   1. a specific ("strong") phrase in the recipient's diagnostic text;
 *   2. an RFC 3463 status precise enough to name a reason (x.1.1, x.2.2,
 *      x.3.4, ...; a code in the quoted reply beats the report's x.0.0);
 *      a precise status also overrules the text where the text is about
 *      something it cannot be (x.2.3 vs "message size");
 *   3. a generic ("weak") phrase in the diagnostic;
 *   4. a status that names a reason when nothing better is known
 *      (x.4.7 expired, ...), or only a class (x.7.x security, x.6.x
 *      content); a local mailer's X-Unix diagnostic;
 *   5. with no diagnostic line, the report's text where the status was
 *      vague; then the kind (a delay is "expired"); then the text's
 *      strong and weak phrases;
 *   6. the SMTP stage: a refusal at MAIL FROM with no specific phrase is
 *      "rejected", at the greeting or HELO "blocked";
 *   7. else "onhold" (something was said) or "undefined".
 *
 * "Unknown user" text is "userunknown" only when it was said at RCPT
 * time (or with an addressing status), or by the reporting host itself
 * (no remote reply quoted); said at MAIL FROM it is "rejected", after
 * DATA or at no known stage the recipient's filter talking ("filtered").
 * Texts are searched lower-cased with their white space squeezed, so
 * phrases match across folded lines: the diagnostic is copied so; the
 * report's text is the classifier's lower-cased copy, searched as it is
 * with each space of a phrase matched against a run of white space (the
 * same matches), and its byte-pair index is the classifier's too.
 */
#include "autoconfig.h"
#include "classify-private.h"
#include "reason-private.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3463 codes precise enough to beat a generic phrase */
static const struct reason_code reason_precise[] = {
	{ "5.1.1", "userunknown" }, { "5.1.2", "hostunknown" },
	{ "5.1.3", "userunknown" }, { "5.1.6", "hasmoved" },
	{ "5.1.7", "rejected" }, { "5.1.8", "rejected" },
	{ "5.2.2", "mailboxfull" },
	{ "5.2.3", "exceedlimit" }, { "5.3.4", "mesgtoobig" },
	{ "5.4.4", "hostunknown" }, { "5.5.3", "toomanyconn" },
	{ "5.6.0", "contenterror" }, { "5.6.1", "contenterror" },
	{ "5.7.13", "suspend" }, { "5.7.17", "hasmoved" },
	{ "5.7.18", "hasmoved" }, { "5.7.20", "authfailure" },
	{ "5.7.21", "authfailure" }, { "5.7.22", "authfailure" },
	{ "5.7.23", "authfailure" }, { "5.7.24", "authfailure" },
	{ "5.7.25", "requireptr" }, { "5.7.26", "authfailure" },
	{ "5.7.27", "notaccept" },
	{ "4.1.6", "hasmoved" }, { "4.1.7", "rejected" },
	{ "4.1.8", "rejected" }, { "4.2.2", "mailboxfull" },
	{ "4.2.3", "exceedlimit" }, { "4.3.1", "systemfull" },
	{ "4.4.5", "systemfull" }, { "4.7.25", "requireptr" },
	{ "4.7.26", "authfailure" },
	{ NULL, NULL }
};

/* RFC 3463 codes that name a reason when the text says nothing known */
static const struct reason_code reason_fallback[] = {
	{ "5.1.0", "rejected" }, { "5.1.10", "notaccept" },
	{ "5.1.4", "filtered" }, { "5.1.9", "systemerror" },
	{ "5.2.0", "filtered" },
	{ "5.2.1", "suspend" }, { "5.2.4", "filtered" },
	{ "5.3.0", "systemerror" }, { "5.3.1", "systemfull" },
	{ "5.3.2", "notaccept" }, { "5.3.3", "systemerror" },
	{ "5.3.5", "systemerror" }, { "5.4.0", "networkerror" },
	{ "5.4.3", "systemerror" }, { "5.4.6", "networkerror" },
	{ "5.4.7", "expired" }, { "5.5.4", "systemerror" },
	{ "5.5.5", "systemerror" },
	{ "4.2.1", "suspend" }, { "4.3.2", "notaccept" },
	{ "4.4.1", "expired" }, { "4.4.2", "networkerror" },
	{ "4.4.4", "networkerror" }, { "4.4.6", "networkerror" },
	{ "4.4.7", "expired" }, { "4.7.1", "blocked" },
	{ NULL, NULL }
};

static const char *reason_by_code(const struct reason_code *table,
				  const char *status)
{
	if (status == NULL)
		return NULL;
	for (size_t i = 0; table[i].code != NULL; i++) {
		if (strcmp(table[i].code, status) == 0)
			return table[i].reason;
	}
	return NULL;
}

/* reason_class - the reason a status names by its class alone */
static const char *reason_class(const char *status)
{
	if (status == NULL || strlen(status) < 3)
		return NULL;
	if (status[2] == '6')
		return "contenterror";
	if (status[2] == '7')
		return "securityerror";
	return NULL;
}

#define REASON_TRI_BITS 16384
/* a text up to this long gets the triples (a diagnostic line, mostly) */
#define REASON_TRI_MAX 4096

/*
 * A text searched for phrases: lower-cased, white space squeezed, and
 * (a superset of) the set of byte pairs it holds, so that most phrases
 * are ruled out by bit tests before any substring search
 */
struct reason_text {
	char *s;			/* NULL when there is no text */
	const char *raw;		/* or: lower case, not squeezed */
	int has_tri;			/* a short text: tri is set */
	uint64_t tri[REASON_TRI_BITS / 64];
	uint64_t pairs[65536 / 64];
};

#define REASON_PAIR(a, b) (((unsigned)(unsigned char)(a) << 8) | \
			   (unsigned char)(b))
#define REASON_BIT(t, pair) (((t)->pairs[(pair) >> 6] >> ((pair) & 63)) & 1)
/* a short text's byte triples, hashed: a sharper first test */
#define REASON_TRI(a, b, c) ((((unsigned)(unsigned char)(a) * 961u) + \
			      (unsigned)(unsigned char)(b) * 31u + \
			      (unsigned char)(c)) & (REASON_TRI_BITS - 1))
#define REASON_TRI_BIT(t, h) (((t)->tri[(h) >> 6] >> ((h) & 63)) & 1)

/* the white space a squeezed text makes one space of */
static const unsigned char reason_space[256] = {
	[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1
};

/* reason_may_have - can phrase occur in t, by its first pair or triple? */
static inline int reason_may_have(const struct reason_text *t, const char *p)
{
	if (p[0] == '\0' || p[1] == '\0')
		return 1;
	if (t->has_tri && p[2] != '\0')
		return REASON_TRI_BIT(t, REASON_TRI(p[0], p[1], p[2]));
	return REASON_BIT(t, REASON_PAIR(p[0], p[1]));
}

static char *reason_squeeze(const char *s, size_t len, int lower);

/*
 * reason_raw_follows - does the rest of a phrase follow at p in a text
 * that is not squeezed: its space matches a whole run of white space
 */
static int reason_raw_follows(const unsigned char *p, const char *rest)
{
	for (const unsigned char *r = (const unsigned char *)rest; *r != '\0';
	     r++) {
		if (*r == ' ') {
			if (!reason_space[*p])
				return 0;
			while (reason_space[*p])
				p++;
		} else if (*p++ != *r)
			return 0;
	}
	return 1;
}

/*
 * reason_raw_has - does phrase occur in the squeezed form of raw (lower
 * case, no white space at its start)? A phrase has single spaces and
 * none at its start, so its first word is found as it is and the rest
 * is matched with every space against a run of white space.
 */
static int reason_raw_has(const char *raw, const char *phrase)
{
	const char *sp = strchr(phrase, ' ');
	size_t k = sp == NULL ? 0 : (size_t)(sp - phrase);
	char word[128];

	if (sp == NULL)
		return strstr(raw, phrase) != NULL;
	if (k == 0 || k >= sizeof(word)) {
		/* not so in any table: squeeze, then search */
		char *sq = reason_squeeze(raw, strlen(raw), 0);
		int found = sq != NULL && strstr(sq, phrase) != NULL;

		free(sq);
		return found;
	}
	memcpy(word, phrase, k);
	word[k] = '\0';
	for (const char *q = raw; (q = strstr(q, word)) != NULL; q++) {
		if (reason_raw_follows((const unsigned char *)q + k, sp))
			return 1;
	}
	return 0;
}

/* reason_text_has - does phrase occur in t? (every pair of it first) */
static int reason_text_has(const struct reason_text *t, const char *phrase)
{
	const unsigned char *p = (const unsigned char *)phrase;

	if (!reason_may_have(t, phrase))
		return 0;
	for (size_t i = 0; p[i] != '\0' && p[i + 1] != '\0'; i++) {
		unsigned pair = REASON_PAIR(p[i], p[i + 1]);

		if (!REASON_BIT(t, pair))
			return 0;
	}
	if (t->raw != NULL)
		return reason_raw_has(t->raw, phrase);
	return strstr(t->s, phrase) != NULL;
}

/* reason_text_empty - no text, or only white space */
static int reason_text_empty(const struct reason_text *t)
{
	const char *s = t->s != NULL ? t->s : t->raw;

	return s == NULL || s[0] == '\0';
}

/*
 * The phrase tables indexed by the hashed triple each phrase starts
 * with, made once at start-up: a short text (with its triples) looks up
 * the phrases its own triples start, instead of testing every phrase.
 */
#define REASON_MAX_PHRASES 2048
#define REASON_BUCKETS 1024		/* the triple's hash, folded */

struct reason_index {
	int ok;				/* else: test every phrase */
	size_t count;			/* phrases, in table order */
	const char **phrase;
	const char **reason;
	uint16_t start[REASON_BUCKETS + 1];	/* bucket b: list[start[b]..] */
	uint16_t *list;
	size_t nshort;			/* phrases of under three bytes */
	uint16_t *shorts;
};

static struct reason_index reason_index_report, reason_index_strong,
	reason_index_weak;

static void reason_index_build(struct reason_index *ix,
			       const struct reason_rule *rules)
{
	uint16_t fill[REASON_BUCKETS];
	size_t n = 0;

	ix->ok = 0;
	for (size_t i = 0; rules[i].reason != NULL; i++) {
		for (size_t j = 0; rules[i].phrases[j] != NULL; j++)
			n++;
	}
	if (n > REASON_MAX_PHRASES)
		return;
	ix->phrase = malloc(n * sizeof(*ix->phrase) + 1);
	ix->reason = malloc(n * sizeof(*ix->reason) + 1);
	ix->list = malloc(n * sizeof(*ix->list) + 1);
	ix->shorts = malloc(n * sizeof(*ix->shorts) + 1);
	if (ix->phrase == NULL || ix->reason == NULL || ix->list == NULL ||
	    ix->shorts == NULL)
		return;
	n = 0;
	for (size_t i = 0; rules[i].reason != NULL; i++) {
		for (size_t j = 0; rules[i].phrases[j] != NULL; j++) {
			ix->phrase[n] = rules[i].phrases[j];
			ix->reason[n] = rules[i].reason;
			n++;
		}
	}
	ix->count = n;
	ix->nshort = 0;
	memset(ix->start, 0, sizeof(ix->start));
	for (size_t g = 0; g < n; g++) {
		const char *p = ix->phrase[g];

		if (p[0] == '\0' || p[1] == '\0' || p[2] == '\0')
			ix->shorts[ix->nshort++] = (uint16_t)g;
		else
			ix->start[REASON_TRI(p[0], p[1], p[2]) %
				  REASON_BUCKETS + 1]++;
	}
	for (size_t b = 0; b < REASON_BUCKETS; b++)
		ix->start[b + 1] = (uint16_t)(ix->start[b + 1] + ix->start[b]);
	memcpy(fill, ix->start, sizeof(fill));
	for (size_t g = 0; g < n; g++) {
		const char *p = ix->phrase[g];

		if (p[0] != '\0' && p[1] != '\0' && p[2] != '\0')
			ix->list[fill[REASON_TRI(p[0], p[1], p[2]) %
				      REASON_BUCKETS]++] = (uint16_t)g;
	}
	ix->ok = 1;
}

__attribute__((constructor)) static void reason_index_init(void)
{
	reason_index_build(&reason_index_report, reason_report_rules);
	reason_index_build(&reason_index_strong, reason_strong_rules);
	reason_index_build(&reason_index_weak, reason_weak_rules);
}

/*
 * reason_by_index - reason_by_phrases for a short text: the phrases
 * that start with one of its triples (or another in the same bucket),
 * tried in table order
 */
static const char *reason_by_index(const struct reason_index *ix,
				   const struct reason_text *t)
{
	uint64_t cand[REASON_MAX_PHRASES / 64];
	const unsigned char *p = (const unsigned char *)t->s;
	size_t words = (ix->count + 63) / 64;

	memset(cand, 0, words * sizeof(cand[0]));
	for (size_t k = 0; k < ix->nshort; k++)
		cand[ix->shorts[k] >> 6] |= (uint64_t)1 << (ix->shorts[k] & 63);
	for (; p[0] != '\0' && p[1] != '\0' && p[2] != '\0'; p++) {
		unsigned b = REASON_TRI(p[0], p[1], p[2]) % REASON_BUCKETS;

		for (unsigned k = ix->start[b]; k < ix->start[b + 1]; k++)
			cand[ix->list[k] >> 6] |= (uint64_t)1 << (ix->list[k] & 63);
	}
	for (size_t w = 0; w < words; w++) {
		uint64_t bits = cand[w];

		while (bits != 0) {
			size_t g = w * 64 + (size_t)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (reason_text_has(t, ix->phrase[g]))
				return ix->reason[g];
		}
	}
	return NULL;
}

/* reason_by_phrases - first rule whose phrases occur in t */
static const char *reason_by_phrases(const struct reason_rule *rules,
				     const struct reason_text *t)
{
	const struct reason_index *ix = NULL;

	if (reason_text_empty(t))
		return NULL;
	if (rules == reason_report_rules)
		ix = &reason_index_report;
	else if (rules == reason_strong_rules)
		ix = &reason_index_strong;
	else if (rules == reason_weak_rules)
		ix = &reason_index_weak;
	if (t->has_tri && ix != NULL && ix->ok)
		return reason_by_index(ix, t);
	for (size_t i = 0; rules[i].reason != NULL; i++) {
		for (size_t j = 0; rules[i].phrases[j] != NULL; j++) {
			const char *p = rules[i].phrases[j];

			/* most are out at the first test: no call */
			if (!reason_may_have(t, p))
				continue;
			if (reason_text_has(t, p))
				return rules[i].reason;
		}
	}
	return NULL;
}

/*
 * reason_squeeze - s[0..len) lower-cased (unless already lower), every
 * run of white space made one space, none at the start; a new string
 */
static char *reason_squeeze(const char *s, size_t len, int lower)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t hi = 0x8080808080808080ULL;
	char *out = malloc(len + 1);
	size_t i = 0, o = 0;
	int space = 1;

	if (out == NULL)
		return NULL;
	/*
	 * Already lower case: eight bytes at a time while none is below
	 * 0x21 (no white space); the first such byte of a word is exact
	 */
	while (!lower && i + 8 <= len) {
		uint64_t x, m;
		unsigned n;

		memcpy(&x, s + i, 8);
		m = (x - ones * 0x21) & ~x & hi;
		if (m == 0) {
			memcpy(out + o, &x, 8);
			i += 8;
			o += 8;
			space = 0;
			continue;
		}
		n = (unsigned)__builtin_ctzll(m) / 8;
		if (n > 0) {
			memcpy(out + o, &x, 8);
			i += n;
			o += n;
			space = 0;
		}
		unsigned char c = (unsigned char)s[i++];

		if (reason_space[c]) {
			if (!space)
				out[o++] = ' ';
			space = 1;
		} else {
			out[o++] = (char)c;
			space = 0;
		}
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (reason_space[c]) {
			if (!space)
				out[o++] = ' ';
			space = 1;
			continue;
		}
		if (lower && (unsigned)(c - 'A') < 26u)
			c = (unsigned char)(c + ('a' - 'A'));
		out[o++] = (char)c;
		space = 0;
	}
	out[o] = '\0';
	return out;
}

/*
 * reason_text_init - t from s: lower case, every run of white space made
 * one space (so that "in reply to\n    RCPT TO" is found), its pairs.
 * The classifier's own text (already lower case, its pairs indexed)
 * lends its pair bitmap: squeezing only turns white space into spaces
 * and drops some, so every pair of the squeezed text is a pair of the
 * text with its white space counted as a space.
 */
static void reason_text_init(struct reason_text *t, const char *s)
{
	const uint64_t *shared;
	size_t len;

	t->s = NULL;
	t->raw = NULL;
	t->has_tri = 0;
	if (s == NULL) {
		memset(t->pairs, 0, sizeof(t->pairs));
		return;
	}
	shared = classify_text_index_pairs(s, &len);
	if (shared != NULL) {
		static const unsigned char ws[] = { '\t', '\r', '\n' };
		uint64_t *sp = t->pairs + (' ' << 8) / 64;

		/* searched as it is, white space matched by runs */
		while (reason_space[(unsigned char)*s])
			s++;
		t->raw = s;
		memcpy(t->pairs, shared, sizeof(t->pairs));
		for (size_t k = 0; k < sizeof(ws); k++) {
			const uint64_t *row = t->pairs + (ws[k] << 8) / 64;

			for (size_t w = 0; w < 256 / 64; w++)
				sp[w] |= row[w];
		}
		/* (a, white space): all in the first word of a's row */
		for (unsigned a = 0; a < 256; a++) {
			uint64_t *w = &t->pairs[a << 2];

			if (*w & ((1u << '\t') | (1u << '\r') | (1u << '\n')))
				*w |= (uint64_t)1 << ' ';
		}
		return;
	}
	memset(t->pairs, 0, sizeof(t->pairs));
	memset(t->tri, 0, sizeof(t->tri));
	t->s = reason_squeeze(s, strlen(s), 1);
	if (t->s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)t->s;
	     p[0] != '\0' && p[1] != '\0'; p++) {
		unsigned pair = REASON_PAIR(p[0], p[1]);

		t->pairs[pair >> 6] |= (uint64_t)1 << (pair & 63);
		if (p[2] != '\0' && (size_t)(p - (const unsigned char *)t->s) <
		    REASON_TRI_MAX) {
			unsigned h = REASON_TRI(p[0], p[1], p[2]);

			t->tri[h >> 6] |= (uint64_t)1 << (h & 63);
		}
	}
	t->has_tri = strlen(t->s) <= REASON_TRI_MAX;
}

/*
 * reason_smtp_command - the SMTP command the remote server refused, as
 * the MTAs report it: 'R' RCPT, 'D' DATA, 'M' MAIL, 'C' connection or
 * greeting; 0 if unknown
 */
static char reason_smtp_command(const struct reason_text *t)
{
	static const struct {
		const char *phrase;
		char command;
	} cmds[] = {
		{ "in reply to rcpt to", 'R' }, { "after rcpt to", 'R' },
		{ ">>> rcpt to", 'R' }, { "does not like recipient", 'R' },
		{ "rcpt to response", 'R' }, { "after rcpt command", 'R' },
		{ "[rcpt_to]", 'R' }, { "smtp:rcpt", 'R' },
		{ "in reply to end of data", 'D' }, { "after end of data", 'D' },
		{ "in reply to data", 'D' }, { "did not like our final data", 'D' },
		{ "after data", 'D' }, { ">>> data", 'D' }, { "[data]", 'D' },
		{ "in reply to mail from", 'M' }, { "after mail from", 'M' },
		{ ">>> mail from", 'M' }, { "sender was rejected", 'M' },
		{ "[mail_from]", 'M' }, { "smtp:mail", 'M' },
		{ "refused to talk to me", 'C' },
		{ "in reply to helo", 'C' }, { "in reply to ehlo", 'C' },
	};

	if (reason_text_empty(t))
		return 0;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (reason_text_has(t, cmds[i].phrase))
			return cmds[i].command;
	}
	return 0;
}

/*
 * reason_unknown_user - "unknown user" text: userunknown when said at
 * RCPT time or with an addressing status (x.1.x, x.2.1) or in a report
 * that gives a status; said at MAIL FROM it is "rejected", after DATA
 * (or with no stage and no status at all) the filter's ("filtered")
 */
static const char *reason_unknown_user(const char *status, char command)
{
	if (status != NULL && strlen(status) >= 5 &&
	    (status[2] == '1' || strncmp(status + 1, ".2.1", 4) == 0))
		return "userunknown";
	if (command == 'R')
		return "userunknown";
	if (command == 'M')
		return "rejected";
	return "filtered";
}

/* reason_status_generic - x.0.0, which says nothing of the cause */
static int reason_status_generic(const char *status)
{
	return strlen(status) == 5 && strcmp(status + 1, ".0.0") == 0;
}

/*
 * reason_status_in - the first RFC 3463 code written in s ("... 550 5.1.1
 * <x@y>: ...", "ERROR_CODE :5.1.1"), copied to buf; NULL if none
 */
static const char *reason_status_in(const char *s, char *buf, size_t size)
{
	if (s == NULL)
		return NULL;
	for (const char *p = s; *p != '\0'; p++) {
		const char *q = p + 2;
		size_t n;

		if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.' ||
		    (p > s && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9'))))
			continue;
		n = strspn(q, "0123456789");
		if (n < 1 || n > 3 || q[n] != '.')
			continue;
		q += n + 1;
		n = strspn(q, "0123456789");
		if (n < 1 || n > 3 || q[n] == '.' ||
		    (q[n] >= '0' && q[n] <= '9'))
			continue;
		n = (size_t)(q + n - p);
		if (n >= size)
			continue;
		memcpy(buf, p, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

/*
 * reason_status_overrules - a precise status the text cannot gainsay:
 * an addressing status against anything but a refusal for another cause,
 * "exceeds the recipient's limit" (x.2.3) against a generic size phrase
 */
static int reason_status_overrules(const char *by_status, const char *by_text)
{
	static const char *const beats_user[] = {
		"norelaying", "blocked", "mailboxfull", "hasmoved", "rejected",
		"notaccept", "mailererror", "speeding", "filtered",
		"suspend", NULL
	};

	if (by_status == NULL)
		return 0;
	if (strcmp(by_status, "userunknown") == 0) {
		for (size_t i = 0; beats_user[i] != NULL; i++) {
			if (strcmp(by_text, beats_user[i]) == 0)
				return 0;
		}
		return 1;
	}
	if (strcmp(by_status, "exceedlimit") == 0)
		return strcmp(by_text, "mesgtoobig") == 0;
	if (strcmp(by_status, "hostunknown") == 0)
		return strcmp(by_text, "userunknown") == 0;
	return 0;
}

/*
 * reason_vague - a reason a status alone gives that text may refine:
 * a delivery retried until it expired, a server or security error
 */
static int reason_vague(const char *reason)
{
	static const char *const vague[] = {
		"expired", "systemerror", "securityerror", "networkerror",
		"suspend", "filtered", NULL
	};

	for (size_t i = 0; vague[i] != NULL; i++) {
		if (strcmp(reason, vague[i]) == 0)
			return 1;
	}
	return 0;
}

/* reason_greylisted - does the diagnostic (or else the text) say so? */
static int reason_greylisted(const struct reason_text *diag,
			     const struct reason_text *text)
{
	static const char *const words[] = {
		"greylist", "graylist", "grey-list", "gray-list", NULL
	};
	const struct reason_text *t = reason_text_empty(diag) ? text : diag;

	for (size_t i = 0; words[i] != NULL; i++) {
		if (!reason_text_empty(t) && reason_text_has(t, words[i]))
			return 1;
	}
	return 0;
}

/*
 * reason_temporary - was the refusal temporary? Exim reports a failure
 * as x.0.0 and quotes the 4xx reply it retried until its retry rule
 * gave up: that reply says what happened, not the report's status
 */
static int reason_temporary(const char *status, const char *in_reply)
{
	return (status != NULL && status[0] == '4') ||
	       (in_reply != NULL && in_reply[0] == '4');
}

/* reason_decide - the reason from normalised diagnostic and text */
static const char *reason_decide(enum classify_kind kind, const char *status,
				 const struct reason_text *diag_t,
				 const struct reason_text *text)
{
	const char *diag = diag_t->s;
	const char *precise = reason_by_code(reason_precise, status);
	const char *reason, *in_text;
	char command = reason_smtp_command(diag_t);
	int strong = 0;

	if (command == 0)
		command = reason_smtp_command(text);
	/* report-wide signatures that decide whatever the line says */
	reason = reason_by_phrases(reason_report_rules, text);
	if (reason != NULL)
		return reason;

	reason = reason_by_phrases(reason_strong_rules, diag_t);
	strong = reason != NULL;
	if (reason != NULL && precise != NULL &&
	    reason_status_overrules(precise, reason))
		reason = precise;
	if (reason == NULL)
		reason = precise;
	if (reason == NULL)
		reason = reason_by_phrases(reason_weak_rules, diag_t);
	if (reason == NULL)
		reason = reason_by_code(reason_fallback, status);
	if (reason == NULL)
		reason = reason_class(status);
	if (reason == NULL && diag != NULL && strncmp(diag, "x-unix", 6) == 0)
		reason = "mailererror";
	/* no diagnostic line: what the report says may be more precise */
	if ((reason == NULL || reason_vague(reason)) &&
	    (diag == NULL || *diag == '\0')) {
		in_text = reason_by_phrases(reason_strong_rules, text);
		if (in_text != NULL) {
			reason = in_text;
			strong = 1;
		}
	}
	if (reason == NULL && kind == CLASSIFY_NDR_DELAYED)
		reason = "expired";
	if (reason == NULL) {
		reason = reason_by_phrases(reason_strong_rules, text);
		strong = reason != NULL;
	}
	if (reason == NULL)
		reason = reason_by_phrases(reason_weak_rules, text);
	if (reason != NULL && reason[0] == '=')
		return reason + 1;
	if (reason != NULL && strcmp(reason, "userunknown") == 0 &&
	    precise == NULL) {
		/* no remote reply quoted: the reporting host's own lookup */
		if (command == 0 && status == NULL &&
		    (diag == NULL || *diag == '\0'))
			return reason;
		return reason_unknown_user(status, command);
	}
	/* refused at MAIL FROM for no cause more specific: the sender */
	if (command == 'M' && !strong)
		return "rejected";
	/* refused at the greeting or HELO for no cause given: the client */
	if (command == 'C' && (reason == NULL || reason_vague(reason)))
		return "blocked";
	if (reason == NULL)
		return diag != NULL && *diag != '\0' ? "onhold" :
			status == NULL ? "onhold" : "undefined";
	return reason;
}

const char *reason_find(enum classify_kind kind, const char *status,
			const char *diagnostic, const char *text)
{
	struct reason_text *t;
	const char *reason, *in_reply = NULL;
	char code[16];

	if (kind == CLASSIFY_DSN_SUCCESS ||
	    (status != NULL && status[0] == '2'))
		return "delivered";
	t = malloc(2 * sizeof(*t));
	if (t == NULL)
		return "undefined";
	reason_text_init(&t[0], diagnostic);
	reason_text_init(&t[1], text);
	/* a code in the reply is more precise than a report's x.0.0 */
	if (status == NULL || reason_status_generic(status)) {
		in_reply = reason_status_in(t[0].s, code, sizeof(code));
		if (in_reply != NULL && (status == NULL ||
		    (in_reply[0] == status[0] &&
		     !reason_status_generic(in_reply))))
			status = in_reply;
	}
	reason = reason_decide(kind, status, &t[0], &t[1]);
	/*
	 * Greylisting only ever asks to try again later: a failure with
	 * its temporary (4.x.x) refusal is a delivery retried until the
	 * queue gave up on it, not a block
	 */
	if (kind == CLASSIFY_NDR_FAILED &&
	    reason_temporary(status, in_reply) &&
	    reason_greylisted(&t[0], &t[1]))
		reason = "expired";
	free(t[0].s);
	free(t[1].s);
	free(t);
	return reason;
}
