/*
 * classify-private.h - what the parts of the recognition engine share
 *
 * classify.c drives the work: it walks the MIME structure, gathers the
 * report's text and asks the bounce formats (format.h, one file each:
 * format-dsn.c, format-text.c, ...) which of them it is; classify-text.c
 * holds what tells prose from a bounce, shared by the formats;
 * classify-original.c finds and reads the returned original;
 * classify-verdict.c judges it against our relays; reason.c names the
 * reason. Not installed, not for other modules.
 */
#ifndef NDRGUARD_CLASSIFY_PRIVATE_H
#define NDRGUARD_CLASSIFY_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "dsn.h"
#include "mime.h"
#include "strbuf.h"

/* how much report text is read: bounces say what they mean early on */
#define CLASSIFY_MAX_TEXT (512 * 1024)
#define CLASSIFY_MAX_RECIPIENTS 64
#define CLASSIFY_MAX_DSN_PARTS 8

struct classify_ctx {
	struct mime_message *mime;
	struct mime_part *root;
	const char *from;		/* top From header, raw */
	char *from_addr;		/* its address, or NULL */
	char *subject;			/* decoded, lower case */
	struct strbuf text;		/* the report's text (UTF-8) */
	struct strbuf lower;		/* the same, ASCII lower-cased */
	size_t error_len;		/* text before the quoted original */
	struct mime_part *dsn_part, *orig_part;
	struct mime_part *dsn_parts[CLASSIFY_MAX_DSN_PARTS];
	size_t dsn_part_count;
	int is_arf, is_mdn, has_report;
	struct dsn_report dsn;
	struct mime_header *orig_headers;	/* parsed inline original */
	size_t orig_header_count;
	int orig_inline;
	size_t orig_inline_off;		/* where it starts in text */
	struct mime_message *inner;	/* a bounce quoted whole, parsed */
	int bounce_cache, delay_cache;	/* -1 until computed */
	const char *sender;		/* envelope sender, NULL if unknown */
	struct mime_part *mdn_part;	/* message/disposition-notification */
	int person_sent;		/* a person's or service's own mail */
	struct classify_result *res;
};

/* classify-text.c */
int classify_text_is_bounce(struct classify_ctx *ctx);
/* the mail system's own From address and a bounce's subject */
int classify_text_system_bounce(struct classify_ctx *ctx);
int classify_text_is_delay(struct classify_ctx *ctx);
int classify_text_has(const char *hay, size_t len, const char *const *needles);
/* the text classify_text_has() is mostly asked about: indexed until _end */
void classify_text_index_begin(const char *hay, size_t len);
void classify_text_index_end(void);
/* its byte pairs, bit (a << 8 | b), when hay is the indexed text */
const uint64_t *classify_text_index_pairs(const char *hay, size_t *len_r);
char *classify_text_reporting_mta(struct classify_ctx *ctx);
/* is this a person's (or a service's) own mail, not the mail system's? */
int classify_text_person_sent(struct classify_ctx *ctx);
/* an address that only the mail system sends from (mailer-daemon@, ...) */
int classify_text_machine_address(const char *addr);
/* a top header lower-cased ("" when absent); the caller frees it */
char *classify_text_header_lower(const struct classify_ctx *ctx,
				 const char *name);
/* an empty Return-Path; a From naming a mailer daemon; "Re: ..." */
int classify_text_null_sender(const struct classify_ctx *ctx);
int classify_text_daemon_sender(const struct classify_ctx *ctx);
int classify_text_reply_subject(const char *subj);

/* classify-original.c */
void classify_original_find(struct classify_ctx *ctx);
void classify_original_fill(struct classify_ctx *ctx);
char *classify_original_sole_recipient(struct classify_ctx *ctx);

/* classify-own.c: a few words naming ndrguard's own digest or release
   request (its X-Ndrguard header), or NULL for any other message */
const char *classify_own_notice(const struct mime_part *root);

/* classify-verdict.c */
void classify_verdict_judge(struct classify_ctx *ctx,
			    const struct relays *relays);

/* reason.c */
const char *reason_find(enum classify_kind kind, const char *status,
			const char *diagnostic, const char *text);

/* classify.c helpers used by the others */
/* a bounce forwarded as text: parse the quoted report, read its DSN */
void classify_read_inner(struct classify_ctx *ctx);
void classify_add_recipient(struct classify_ctx *ctx, const char *address,
			    const char *status, const char *action,
			    const char *diagnostic, const char *remote_mta);
char *classify_addr_extract(const char *s);
void classify_lower(char *s, size_t len);

#endif
