/*
 * format-mdn.c - RFC 8098 message disposition notifications
 *
 * Recognised while the MIME structure is walked: a multipart/report
 * with report-type=disposition-notification (ctx->is_mdn). A read
 * receipt is an MDN; a refusal by a Sieve "reject" (RFC 5429) is sent
 * as one too, and is a non-delivery report.
 */
#include "autoconfig.h"
#include "format.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* format_mdn_field - a copy of field name's value in an MDN, or NULL */
static char *format_mdn_field(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p != NULL && *p != '\0';
	     p = strchr(p, '\n'), p = p == NULL ? NULL : p + 1) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return xstrndup(v, strcspn(v, "\n"));
		}
	}
	return NULL;
}

/*
 * format_mdn_rejected - an MDN that is a refusal: a Sieve "reject"
 * (RFC 5429) answers with an MDN whose disposition is automatic and
 * "deleted" (or an older "rejected"/"failed"), explained in its text.
 * That is a non-delivery report: the Final-Recipient is the recipient
 * whose filter refused the message.
 */
static int format_mdn_rejected(struct classify_ctx *ctx)
{
	struct strbuf sb = STRBUF_INIT;
	char *disp, *rcpt, *addr = NULL;
	int ret = 0;

	if (ctx->mdn_part == NULL)
		return 0;
	mime_part_decoded(ctx->mdn_part, &sb);
	disp = format_mdn_field(strbuf_cstr(&sb), "Disposition");
	rcpt = format_mdn_field(strbuf_cstr(&sb), "Final-Recipient");
	if (disp != NULL && rcpt != NULL) {
		classify_lower(disp, strlen(disp));
		addr = dsn_address_clean(rcpt);
	}
	if (addr != NULL && strstr(disp, "automatic-action") != NULL &&
	    (strstr(disp, "deleted") != NULL || strstr(disp, "rejected") != NULL ||
	     strstr(disp, "failed") != NULL)) {
		classify_add_recipient(ctx, addr, NULL, "failed",
				       ctx->text.data, NULL);
		ret = 1;
	}
	free(addr);
	free(disp);
	free(rcpt);
	strbuf_free(&sb);
	return ret;
}

/* format_mdn_read - a refusal is a failure, any other MDN an MDN */
static int format_mdn_read(struct classify_ctx *ctx, enum classify_kind *kind_r)
{
	if (!ctx->is_mdn)
		return 0;
	*kind_r = format_mdn_rejected(ctx) ? CLASSIFY_NDR_FAILED : CLASSIFY_MDN;
	return 1;
}

const struct classify_format format_mdn = { "mdn", format_mdn_read };
