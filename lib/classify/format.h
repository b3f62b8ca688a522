/*
 * format.h - the bounce formats, one reader each, tried in a fixed order
 *
 * A format knows how to recognise its reports and what they say: the
 * kind of report, and for each recipient the address, status and
 * diagnostic (added with classify_add_recipient()). classify.c walks
 * the MIME structure and gathers the text once (classify-private.h),
 * then asks each format of format_registry[] in turn; the first that
 * claims the message decides it.
 *
 * Adding a format: one file lib/classify/format-NAME.c defining
 * `const struct classify_format format_NAME`, its line in
 * format-registry.c (where in the order is part of the decision: a
 * format is only asked when those before it declined), its line in
 * lib/classify/classify.am, and its test messages in tests/messages with
 * their expectations in tests/messages/expected.tsv.
 */
#ifndef NDRGUARD_FORMAT_H
#define NDRGUARD_FORMAT_H

#include "classify-private.h"

struct classify_format {
	const char *name;
	/*
	 * read - 1 when the message is one of this format's reports:
	 * *kind_r is set and its recipients are added; 0 to let the next
	 * format try (what it added to ctx stays, as the next may use it)
	 */
	int (*read)(struct classify_ctx *ctx, enum classify_kind *kind_r);
};

/* in the order they are asked; NULL-terminated (format-registry.c) */
extern const struct classify_format *const format_registry[];

extern const struct classify_format format_arf;		/* RFC 5965 */
extern const struct classify_format format_mdn;		/* RFC 8098 */
extern const struct classify_format format_ses;		/* Amazon SES */
extern const struct classify_format format_dsn;		/* RFC 3464 */
extern const struct classify_format format_text;	/* prose bounces */
extern const struct classify_format format_other;	/* auto-replies... */

/* format-text.c: the recipients a prose report names (DSN uses it too) */
void format_text_recipients(struct classify_ctx *ctx);

#endif
