/*
 * format-arf.c - RFC 5965 feedback reports (ARF): a complaint
 *
 * Recognised while the MIME structure is walked: a multipart/report
 * with report-type=feedback-report (classify.c sets ctx->is_arf). The
 * complained-of message is the returned original, read as any other.
 */
#include "autoconfig.h"
#include "format.h"

/* format_arf_read - a feedback report is a complaint, whatever it holds */
static int format_arf_read(struct classify_ctx *ctx, enum classify_kind *kind_r)
{
	if (!ctx->is_arf)
		return 0;
	*kind_r = CLASSIFY_FEEDBACK_ARF;
	return 1;
}

const struct classify_format format_arf = { "arf", format_arf_read };
