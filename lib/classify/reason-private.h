/*
 * reason-private.h - the phrase tables reason.c decides with
 *
 * Phrases are lower case with single spaces; a rule's phrases are plain
 * substrings. The tables end with a { NULL, NULL } rule.
 */
#ifndef NDRGUARD_REASON_PRIVATE_H
#define NDRGUARD_REASON_PRIVATE_H

struct reason_rule {
	const char *reason;
	const char *const *phrases;
};

struct reason_code {
	const char *code, *reason;
};

/* signatures of whole reports (a mailing list host's refusal, ...) */
extern const struct reason_rule reason_report_rules[];
/* specific phrases: they beat all but a few precise status codes */
extern const struct reason_rule reason_strong_rules[];
/* generic phrases: used when neither those nor the status decide */
extern const struct reason_rule reason_weak_rules[];

#endif
