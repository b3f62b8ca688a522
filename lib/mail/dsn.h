/*
 * dsn.h - RFC 3464 delivery-status fields and RFC 3463 status codes
 *
 * dsn_parse() reads the fields of a message/delivery-status part (or of
 * any text that carries such "Field: value" lines, as some MTAs put in
 * their plain-text bounces) into per-message and per-recipient values.
 * dsn_status_find() finds an enhanced status code written in free text.
 *
 * Ownership: a struct dsn_report owns its strings; dsn_report_free()
 * releases them (the struct itself is the caller's).
 */
#ifndef NDRGUARD_DSN_H
#define NDRGUARD_DSN_H

#include <stddef.h>

#define DSN_MAX_RECIPIENTS 256

struct dsn_recipient {
	char *final_recipient;	/* address only, "rfc822;" removed */
	char *original_recipient;
	char *action;		/* lower case */
	char *status;		/* the code only, if it is a valid one */
	char *status_raw;	/* the field as written */
	char *remote_mta;
	char *diagnostic;
};

struct dsn_report {
	char *reporting_mta;
	struct dsn_recipient *recipients;
	size_t recipient_count;
};

/* dsn_parse - collect the DSN fields found in text (LF line ends) */
void dsn_parse(const char *text, size_t len, struct dsn_report *report);
void dsn_report_free(struct dsn_report *report);

/* dsn_status_valid - length of an RFC 3463 code at s (bounded), else 0 */
size_t dsn_status_valid(const char *s, size_t len);
/*
 * dsn_status_find - first RFC 3463 code standing alone in text, NULL if
 * none; its length in *len_r
 */
const char *dsn_status_find(const char *text, size_t len, size_t *len_r);
/*
 * dsn_address_clean - the mailbox of a recipient field value
 * ("rfc822; <a@b>" -> "a@b"), lower-cased domain; caller frees.
 * NULL if no address in it.
 */
char *dsn_address_clean(const char *value);

#endif
