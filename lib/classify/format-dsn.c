/*
 * format-dsn.c - RFC 3464 delivery status notifications
 *
 * The fields of a message/delivery-status part (several of them in a
 * digest of bounces; dsn.c parses them), of a report quoted whole in a
 * forwarded bounce, or written into the text of a prose bounce. The
 * Action fields tell the kind; each recipient block gives the address,
 * Status and Diagnostic-Code, the status made more precise from the
 * diagnostic or the text where the MTA wrote a generic one.
 */
#include "autoconfig.h"
#include "format.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* format_dsn_last_status - the last RFC 3463 code in text, or NULL */
static const char *format_dsn_last_status(const char *text, size_t *len_r)
{
	const char *last = NULL, *p = text;
	size_t len = strlen(text), n;

	while ((p = dsn_status_find(p, len - (size_t)(p - text), &n)) != NULL) {
		last = p;
		*len_r = n;
		p += n;
	}
	return last;
}

/*
 * format_dsn_text_status - a specific code (not x.0.0) of class cls (any
 * if 0) in the report's text: on a line naming addr if there is one,
 * else the first; copied, or NULL
 */
static char *format_dsn_text_status(const struct classify_ctx *ctx,
				    const char *addr, char cls)
{
	const char *text = ctx->text.data, *first = NULL;
	size_t len = ctx->error_len, pos = 0, n, first_n = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);
		const char *p = text + pos;

		while ((p = dsn_status_find(p, eol - (size_t)(p - text), &n)) != NULL) {
			int generic = n == 5 && memcmp(p + 1, ".0.0", 4) == 0;

			if ((cls == 0 || p[0] == cls) && !generic) {
				if (memmem(text + pos, eol - pos, addr,
					   strlen(addr)) != NULL)
					return xstrndup(p, n);
				if (first == NULL) {
					first = p;
					first_n = n;
				}
			}
			p += n;
		}
		pos = eol + 1;
	}
	return first == NULL ? NULL : xstrndup(first, first_n);
}

/* format_dsn_recipients - one recipient per DSN recipient block */
static void format_dsn_recipients(struct classify_ctx *ctx)
{
	for (size_t i = 0; i < ctx->dsn.recipient_count; i++) {
		const struct dsn_recipient *r = &ctx->dsn.recipients[i];
		const char *addr = r->final_recipient != NULL ?
			r->final_recipient : r->original_recipient;
		const char *status = r->status;
		size_t n;
		char *found = NULL;

		/*
		 * The remote server's own code, in the diagnostic, is more
		 * precise than the reporting MTA's Status (often x.0.0, or a
		 * generic 4.4.7 wrapped around a 4.4.2); the last one there
		 * is the innermost cause. Both are literally in the message.
		 */
		if (r->diagnostic != NULL) {
			const char *p = format_dsn_last_status(r->diagnostic, &n);
			/* "Action: failed" with a 4.x.x Status: the remote's
			   permanent 5.x.x agrees with the Action */
			int failed = r->action != NULL &&
				strcmp(r->action, "failed") == 0 &&
				status != NULL && status[0] == '4' &&
				p != NULL && p[0] == '5';

			if (p != NULL && (status == NULL || p[0] == status[0] ||
					  failed))
				status = found = xstrndup(p, n);
		}
		/*
		 * A generic x.0.0 with nothing better in the diagnostic: the
		 * report's text may quote the remote reply (OpenSMTPD, the
		 * Sendmail transcript); the recipient's own line first.
		 */
		if (addr != NULL && found == NULL &&
		    ctx->res->recipient_count < CLASSIFY_MAX_RECIPIENTS &&
		    (status == NULL || strcmp(status + 1, ".0.0") == 0) &&
		    (found = format_dsn_text_status(ctx, addr,
						  status == NULL ? 0 : status[0])) != NULL)
			status = found;
		if (addr != NULL)
			classify_add_recipient(ctx, addr, status, r->action,
					       r->diagnostic, r->remote_mta);
		free(found);
	}
}

/*
 * format_dsn_status_carry - recipients read from the text of a report
 * whose recipient blocks name no address (Exim's "Final-Recipient:
 * rfc822;/path/to/mailbox"): with as many blocks as recipients, each
 * block's Status is the recipient's, where the text gave none
 */
static void format_dsn_status_carry(struct classify_ctx *ctx)
{
	struct classify_result *res = ctx->res;

	if (res->recipient_count != ctx->dsn.recipient_count)
		return;
	for (size_t i = 0; i < res->recipient_count; i++) {
		if (res->recipients[i].status == NULL &&
		    ctx->dsn.recipients[i].status != NULL)
			res->recipients[i].status =
				xstrdup(ctx->dsn.recipients[i].status);
	}
}

/* format_dsn_kind - the kind told by the DSN's Action fields */
static enum classify_kind format_dsn_kind(const struct classify_ctx *ctx)
{
	int failed = 0, delayed = 0, success = 0;

	for (size_t i = 0; i < ctx->dsn.recipient_count; i++) {
		const struct dsn_recipient *r = &ctx->dsn.recipients[i];
		const char *a = r->action != NULL ? r->action : "";
		char cls = r->status != NULL ? r->status[0] : '\0';

		if (strcmp(a, "failed") == 0 || (*a == '\0' && cls == '5'))
			failed++;
		else if (strncmp(a, "delay", 5) == 0 || (*a == '\0' && cls == '4'))
			delayed++;
		else if (strcmp(a, "delivered") == 0 || strcmp(a, "relayed") == 0 ||
			 strcmp(a, "deliverable") == 0 ||
			 strcmp(a, "expanded") == 0 || (*a == '\0' && cls == '2'))
			success++;
		else if (cls == '5')
			failed++;
		else if (cls == '4')
			delayed++;
	}
	if (failed)
		return CLASSIFY_NDR_FAILED;
	if (delayed)
		return CLASSIFY_NDR_DELAYED;
	if (success)
		return CLASSIFY_DSN_SUCCESS;
	return CLASSIFY_NOT_BOUNCE;
}

/* format_dsn_read - a report whose recipient blocks tell a kind */
static int format_dsn_read(struct classify_ctx *ctx, enum classify_kind *kind_r)
{
	enum classify_kind kind;

	if (ctx->dsn_part == NULL && classify_text_is_bounce(ctx))
		classify_read_inner(ctx);
	if (ctx->dsn.recipient_count == 0 && ctx->dsn_part == NULL &&
	    classify_text_is_bounce(ctx)) {
		/* DSN fields written into a text part */
		dsn_parse(ctx->text.data, ctx->error_len, &ctx->dsn);
	}
	kind = format_dsn_kind(ctx);
	if (kind == CLASSIFY_NOT_BOUNCE)
		return 0;
	if (kind == CLASSIFY_NDR_FAILED && ctx->dsn_part == NULL &&
	    classify_text_is_delay(ctx))
		kind = CLASSIFY_NDR_DELAYED;
	format_dsn_recipients(ctx);
	/* a report whose recipient fields name no address (Sendmail's
	   "Final-Recipient: RFC822; @host"): the text names them */
	if (ctx->res->recipient_count == 0) {
		format_text_recipients(ctx);
		format_dsn_status_carry(ctx);
	}
	*kind_r = kind;
	return 1;
}

const struct classify_format format_dsn = { "dsn", format_dsn_read };
