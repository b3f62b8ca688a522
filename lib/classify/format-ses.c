/*
 * format-ses.c - Amazon SES bounce, delay, delivery and complaint
 * notifications
 *
 * They carry no report part: the body is a JSON object, possibly wrapped
 * in an SNS envelope whose "Message" member is the notification as a
 * string. jansson parses it. A mail system that wrapped a long line
 * broke a string in two; such a break (with the indentation after it) is
 * taken out before parsing, and a raw control character in a string is
 * escaped, so that the report reads as it was sent. The text is at most
 * CLASSIFY_MAX_TEXT; a notification nested deeper than FORMAT_SES_DEPTH
 * or with more than FORMAT_SES_NODES values is not one.
 */
#include "autoconfig.h"
#include "format.h"
#include "xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_SES_DEPTH 32
#define FORMAT_SES_NODES 20000

/*
 * format_ses_unwrap - the JSON text with line breaks inside strings
 * dropped (and the blanks after them), other control characters inside
 * strings escaped as \u00XX
 */
static void format_ses_unwrap(const char *text, size_t len, struct strbuf *out)
{
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!in_string) {
			in_string = c == '"';
			strbuf_putc(out, (char)c);
		} else if (c == '\\' && i + 1 < len) {
			strbuf_append(out, text + i, 2);
			i++;
		} else if (c == '\n') {
			while (i + 1 < len && (text[i + 1] == ' ' ||
					       text[i + 1] == '\t'))
				i++;
		} else if (c < 0x20) {
			strbuf_printf(out, "\\u%04x", c);
		} else {
			in_string = c != '"';
			strbuf_putc(out, (char)c);
		}
	}
}

/* format_ses_within - no deeper and no more values than the limits */
static int format_ses_within(json_t *v, unsigned int depth, unsigned int *nodes)
{
	const char *key;
	json_t *item;
	size_t i;

	if (depth > FORMAT_SES_DEPTH || ++*nodes > FORMAT_SES_NODES)
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (!format_ses_within(item, depth + 1, nodes))
				return 0;
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			if (!format_ses_within(item, depth + 1, nodes))
				return 0;
	}
	return 1;
}

/* format_ses_parse - the JSON value at the start of text, or NULL */
static json_t *format_ses_parse(const char *text, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned int nodes = 0;
	json_error_t error;
	json_t *v;

	format_ses_unwrap(text, len, &sb);
	v = json_loadb(sb.data != NULL ? sb.data : "", sb.len,
		       JSON_DISABLE_EOF_CHECK, &error);
	strbuf_free(&sb);
	if (v != NULL && !format_ses_within(v, 0, &nodes)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* format_ses_str - string member key of an object, or NULL */
static const char *format_ses_str(const json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

/* format_ses_status - an RFC 3463 code literally in s, copied, or NULL */
static char *format_ses_status(const char *s)
{
	const char *st;
	size_t n;

	if (s == NULL)
		return NULL;
	if ((n = dsn_status_valid(s, strlen(s))) > 0 && s[n] == '\0')
		return xstrndup(s, n);
	st = dsn_status_find(s, strlen(s), &n);
	return st == NULL ? NULL : xstrndup(st, n);
}

/* format_ses_recipients - one recipient per element of a recipients array */
static void format_ses_recipients(struct classify_ctx *ctx, const json_t *list,
				  const char *action, const char *response)
{
	const json_t *r;
	size_t i;

	if (!json_is_array(list))
		return;
	json_array_foreach(list, i, r) {
		const char *addr = json_is_string(r) ? json_string_value(r) :
			format_ses_str(r, "emailAddress");
		const char *diag = json_is_string(r) ? response :
			format_ses_str(r, "diagnosticCode");
		const char *act = format_ses_str(r, "action");
		char *clean, *status;

		if (addr == NULL || (clean = classify_addr_extract(addr)) == NULL)
			continue;
		status = format_ses_status(format_ses_str(r, "status"));
		if (status == NULL)
			status = format_ses_status(diag);
		classify_add_recipient(ctx, clean, status,
				       act != NULL ? act : action, diag, NULL);
		free(clean);
		free(status);
	}
}

/* format_ses_original - the returned message's headers from "mail" */
static void format_ses_original(struct classify_ctx *ctx, const json_t *mail)
{
	static const struct {
		const char *json, *name;
	} common_names[] = {
		{ "messageId", "Message-ID" }, { "date", "Date" }, { NULL, NULL }
	};
	const json_t *h = json_object_get(mail, "headers");
	const json_t *common = json_object_get(mail, "commonHeaders");
	struct mime_header *hs;
	size_t n = 0;

	if (!json_is_array(h) || json_array_size(h) == 0 ||
	    ctx->orig_part != NULL)
		return;
	hs = xcalloc(json_array_size(h) + 2, sizeof(*hs));
	for (size_t i = 0; i < json_array_size(h) && i < MIME_MAX_HEADERS; i++) {
		const char *name = format_ses_str(json_array_get(h, i), "name");
		const char *value = format_ses_str(json_array_get(h, i), "value");

		if (name == NULL || value == NULL)
			continue;
		mime_header_set(&hs[n], name, strlen(name), value,
				strlen(value));
		n++;
	}
	/* headers SES summarises but may leave out of the list */
	for (size_t i = 0; common_names[i].json != NULL; i++) {
		const char *v = format_ses_str(common, common_names[i].json);

		if (v == NULL || mime_headers_find(hs, n, common_names[i].name))
			continue;
		mime_header_set(&hs[n], common_names[i].name,
				strlen(common_names[i].name), v, strlen(v));
		n++;
	}
	mime_headers_free(ctx->orig_headers, ctx->orig_header_count);
	ctx->orig_headers = hs;
	ctx->orig_header_count = n;
}

/* format_ses_mta - "dsn; host" as a Reporting-MTA */
static void format_ses_mta(struct classify_ctx *ctx, const char *mta)
{
	if (mta == NULL || ctx->dsn.reporting_mta != NULL)
		return;
	ctx->dsn.reporting_mta = xstrdup(mta);
}

/* what each notification type holds, and the kind it is */
static const struct format_ses_type {
	const char *type, *member, *recipients, *action;
	enum classify_kind kind;
} format_ses_types[] = {
	{ "Bounce", "bounce", "bouncedRecipients", "failed",
	  CLASSIFY_NDR_FAILED },
	{ "DeliveryDelay", "deliveryDelay", "delayedRecipients", "delayed",
	  CLASSIFY_NDR_DELAYED },
	{ "Delivery", "delivery", "recipients", "delivered",
	  CLASSIFY_DSN_SUCCESS },
	{ "Complaint", "complaint", "complainedRecipients", NULL,
	  CLASSIFY_FEEDBACK_ARF },
	{ NULL, NULL, NULL, NULL, CLASSIFY_NOT_BOUNCE }
};

/* format_ses_notification - read one parsed notification; 1 if it is one */
static int format_ses_notification(struct classify_ctx *ctx, const json_t *n,
				   enum classify_kind *kind_r)
{
	const char *type = format_ses_str(n, "notificationType");
	const struct format_ses_type *t;
	const json_t *part = NULL;

	if (type == NULL)
		type = format_ses_str(n, "eventType");
	if (type == NULL)
		return 0;
	for (t = format_ses_types; t->type != NULL; t++)
		if (strcmp(type, t->type) == 0 &&
		    (part = json_object_get(n, t->member)) != NULL)
			break;
	if (t->type == NULL)
		return 0;
	/* only a delivery names the reply for the recipients it lists */
	format_ses_recipients(ctx, json_object_get(part, t->recipients),
			      t->action, t->kind == CLASSIFY_DSN_SUCCESS ?
			      format_ses_str(part, "smtpResponse") : NULL);
	/* a complaint has no reporting MTA */
	if (t->kind != CLASSIFY_FEEDBACK_ARF)
		format_ses_mta(ctx, format_ses_str(part, "reportingMTA"));
	*kind_r = t->kind;
	format_ses_original(ctx, json_object_get(n, "mail"));
	return 1;
}

/* format_ses_read - a body that is an SES notification, or its SNS envelope */
static int format_ses_read(struct classify_ctx *ctx, enum classify_kind *kind_r)
{
	const char *text = ctx->text.data, *msg;
	size_t len = ctx->text.len, skip = 0;
	json_t *outer, *inner = NULL;
	int ret;

	if (ctx->dsn_part != NULL)
		return 0;
	/* the notification is the whole body: it starts with its brace */
	while (skip < len && isspace((unsigned char)text[skip]))
		skip++;
	if (skip >= len || text[skip] != '{' ||
	    memmem(text, len, "notificationType", 16) == NULL ||
	    (outer = format_ses_parse(text + skip, len - skip)) == NULL)
		return 0;
	msg = format_ses_str(outer, "Message");
	if (msg != NULL)
		inner = format_ses_parse(msg, strlen(msg));
	ret = format_ses_notification(ctx, inner != NULL ? inner : outer,
				      kind_r);
	json_decref(inner);
	json_decref(outer);
	return ret;
}

const struct classify_format format_ses = { "ses", format_ses_read };
