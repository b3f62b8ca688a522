/*
 * classify-original.c - the returned original message
 *
 * This module finds the original a bounce returns: a message/rfc822 or
 * text/rfc822-headers part when the MTA used MIME, otherwise a block of
 * header lines quoted inside the text ("------ This is a copy of the
 * message, including all the headers. ------" and its many cousins). It
 * also marks where the MTA's own words end (ctx->error_len), so that
 * addresses in the returned headers are not taken for bounced recipients.
 */
#include "autoconfig.h"
#include "classify-private.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* header names that start the quoted original (lower case, with colon) */
static const char *const classify_original_starts[] = {
	"received:", "return-path:", "message-id:", "from:", "to:",
	"subject:", "date:", "dkim-signature:", "mime-version:",
	"delivered-to:", "reply-to:", "x-", "content-type:", "sender:",
	"authentication-results:", "arc-", "x-received:", NULL
};

/* the headers that make a quoted block an original, not prose */
static const char *const classify_original_keys[] = {
	"received", "message-id", "from", "to", "subject", "date",
	"return-path", NULL
};

/* separator lines that announce the original (lower case substrings) */
static const char *const classify_original_markers[] = {
	"original message", "copy of the message", "copy of your message",
	"message headers follow", "headers of the message",
	"original headers", "returned message", "below this line is a copy",
	"unsent message below", "rfc822", "header of the original",
	"headers of your message", "undelivered message", "message follows",
	"text of the message", "original mail", "returned mail",
	NULL
};

/* classify_original_starts_line - might a header block start here? */
static int classify_original_starts_line(const char *lower, size_t len)
{
	/* most lines are ruled out by their first letter */
	if (len < 2 || strchr("acdfmrstx", lower[0]) == NULL)
		return 0;
	for (size_t i = 0; classify_original_starts[i] != NULL; i++) {
		const char *s = classify_original_starts[i];
		size_t n = strlen(s);

		if (s[0] == lower[0] && len >= n && memcmp(lower, s, n) == 0)
			return 1;
	}
	return 0;
}

/* classify_original_key_count - distinct key headers in a block */
static unsigned int classify_original_key_count(const struct mime_header *h,
						size_t count)
{
	unsigned int n = 0;

	for (size_t k = 0; classify_original_keys[k] != NULL; k++) {
		if (mime_headers_find(h, count, classify_original_keys[k]) != NULL)
			n++;
	}
	return n;
}

/*
 * classify_original_qualifies - enough of a message's headers: three
 * key headers, or two when one is a Received, Message-ID or Return-Path
 * (a bare "Subject: ... Date: ..." summary is the MTA's prose)
 */
static int classify_original_qualifies(const struct mime_header *h,
				       size_t count)
{
	unsigned int keys = classify_original_key_count(h, count);

	/* "To: Date: Subject:" alone is a summary of it (iMail), not it */
	if (keys >= 3 && (mime_headers_find(h, count, "From") != NULL ||
			  mime_headers_find(h, count, "Received") != NULL ||
			  mime_headers_find(h, count, "Message-ID") != NULL ||
			  mime_headers_find(h, count, "Return-Path") != NULL))
		return 1;
	return keys >= 2 && (mime_headers_find(h, count, "Received") != NULL ||
			     mime_headers_find(h, count, "Message-ID") != NULL ||
			     mime_headers_find(h, count, "Return-Path") != NULL);
}

/* classify_original_marker - is this line a separator naming the original? */
static int classify_original_marker(const char *lower, size_t len)
{
	int decorated = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (lower[i] == lower[i + 1] &&
		    (lower[i] == '-' || lower[i] == '=' || lower[i] == '*' ||
		     lower[i] == '_')) {
			decorated = 1;
			break;
		}
	}
	/*
	 * Undecorated, only a heading ("Original message:"), not a sentence
	 * that mentions it (Postfix: "... from the attached returned
	 * message."). Told before the (costlier) search for the words.
	 */
	if (!decorated && (len > 60 || len == 0 ||
			   !(lower[len - 1] == ':' ||
			     (lower[len - 1] == '.' && len <= 40))))
		return 0;
	for (size_t i = 0; classify_original_markers[i] != NULL; i++) {
		const char *m = classify_original_markers[i];

		if (memmem(lower, len, m, strlen(m)) != NULL)
			return 1;
	}
	return 0;
}

/*
 * classify_original_prefix - the quoting in front of a line: indentation
 * or "> " (repeated); 0 for a line at the margin
 */
static size_t classify_original_prefix(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '>'))
		i++;
	return i;
}

/*
 * classify_original_unquote - the lines from pos on that carry the same
 * quoting prefix (q bytes), without it, up to the first line without it
 * or with nothing after it; *end_r is where that stopped
 */
static char *classify_original_unquote(const char *text, size_t len,
				       size_t pos, size_t q, size_t *end_r)
{
	struct strbuf sb = STRBUF_INIT;
	const char *prefix = text + pos;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);
		size_t rest = eol - pos;

		/* the prefix's own trailing blank may be missing on "> " */
		if (rest < q || memcmp(text + pos, prefix, q) != 0 ||
		    classify_original_prefix(text + pos + q, rest - q) == rest - q)
			break;
		strbuf_append(&sb, text + pos + q, rest - q);
		strbuf_putc(&sb, '\n');
		pos = eol + 1;
	}
	*end_r = pos;
	strbuf_putc(&sb, '\n');
	return strbuf_steal(&sb);
}

/*
 * classify_original_quoted_last - nothing with an address follows the
 * block at the margin: a quoted original ends the report, while the
 * indented summary some MTAs start with ("Your message\n  To: ...\n
 * Subject: ...\n\ndid not reach:") is followed by the failed recipients
 */
static int classify_original_quoted_last(const char *text, size_t len,
					 size_t pos)
{
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);

		if (classify_original_prefix(text + pos, eol - pos) == 0 &&
		    memchr(text + pos, '@', eol - pos) != NULL)
			return 0;
		pos = eol + 1;
	}
	return 1;
}

/*
 * classify_original_quoted - a header block quoted or indented at
 * lower[pos] (prefix q): 1 and the headers set if it qualifies; *next_r
 * is where the scan goes on
 */
static int classify_original_quoted(struct classify_ctx *ctx, size_t pos,
				    size_t q, size_t *next_r)
{
	size_t end, count = 0;
	struct mime_header *h = NULL;
	char *block = classify_original_unquote(ctx->text.data, ctx->text.len,
						pos, q, &end);

	mime_headers_parse(block, strlen(block), &h, &count);
	free(block);
	*next_r = end > pos ? end : pos + 1;
	const char *from = mime_headers_find(h, count, "From");
	char *addr = from == NULL ? NULL : classify_addr_extract(from);
	/* the quoted headers of a bounce forwarded inline are not the
	   original's: that one is quoted further down */
	int bounce = addr != NULL ? classify_text_machine_address(addr) :
		from != NULL && (strcasestr(from, "mailer-daemon") != NULL ||
				 strcasestr(from, "postmaster") != NULL);

	free(addr);
	if (bounce || !classify_original_qualifies(h, count) ||
	    !classify_original_quoted_last(ctx->text.data, ctx->text.len, end)) {
		mime_headers_free(h, count);
		return 0;
	}
	ctx->orig_headers = h;
	ctx->orig_header_count = count;
	ctx->orig_inline = 1;
	ctx->orig_inline_off = pos;
	return 1;
}

/*
 * classify_original_inline - find a quoted header block in the text.
 * A block that fails to qualify is skipped whole, which keeps the scan
 * linear however many header-like lines the text holds.
 */
static void classify_original_inline(struct classify_ctx *ctx)
{
	const char *text = ctx->text.data, *lower = ctx->lower.data;
	size_t len = ctx->text.len, pos = 0, marker = (size_t)-1;

	while (pos < len) {
		const char *nl = memchr(lower + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - lower);
		struct mime_header *h = NULL;
		size_t count = 0, used;

		if (marker == (size_t)-1 &&
		    classify_original_marker(lower + pos, eol - pos))
			marker = pos;
		if (!classify_original_starts_line(lower + pos, eol - pos)) {
			size_t q = classify_original_prefix(lower + pos, eol - pos);
			size_t next;

			if (q == 0 || q >= eol - pos ||
			    !classify_original_starts_line(lower + pos + q,
							   eol - pos - q)) {
				pos = eol + 1;
				continue;
			}
			if (classify_original_quoted(ctx, pos, q, &next)) {
				ctx->error_len = marker < pos ? marker : pos;
				return;
			}
			pos = next;
			continue;
		}
		used = mime_headers_parse(text + pos, len - pos, &h, &count);
		if (classify_original_qualifies(h, count)) {
			ctx->orig_headers = h;
			ctx->orig_header_count = count;
			ctx->orig_inline = 1;
			ctx->orig_inline_off = pos;
			ctx->error_len = marker < pos ? marker : pos;
			return;
		}
		mime_headers_free(h, count);
		pos = used > eol - pos ? pos + used : eol + 1;
	}
	if (marker != (size_t)-1)
		ctx->error_len = marker;
}

void classify_original_find(struct classify_ctx *ctx)
{
	if (ctx->orig_part != NULL && ctx->orig_part->header_count > 0)
		return;
	classify_original_inline(ctx);
}

/* classify_original_dup - copy of a header value, or NULL */
static char *classify_original_dup(const struct mime_header *h, size_t count,
				   const char *name)
{
	const char *v = mime_headers_find(h, count, name);

	return v == NULL ? NULL : xstrdup(v);
}

/* classify_original_decoded - a header value with RFC 2047 decoded */
static char *classify_original_decoded(const struct mime_header *h,
				       size_t count, const char *name)
{
	const char *v = mime_headers_find(h, count, name);
	struct strbuf sb = STRBUF_INIT;

	if (v == NULL)
		return NULL;
	mime_header_decode(v, &sb);
	return strbuf_steal(&sb);
}

/*
 * classify_original_keep_headers - copy the header fields when one is a
 * DKIM-Signature: its check needs the signed fields as they were, and
 * an original without one costs nothing
 */
static void classify_original_keep_headers(struct classify_original *o,
					   const struct mime_header *h,
					   size_t count)
{
	if (mime_headers_find(h, count, "DKIM-Signature") == NULL)
		return;
	o->headers = xcalloc(count, sizeof(*o->headers));
	for (size_t i = 0; i < count; i++) {
		o->headers[i].name = xstrdup(h[i].name);
		o->headers[i].value = xstrdup(h[i].value);
	}
	o->header_count = count;
}

void classify_original_fill(struct classify_ctx *ctx)
{
	struct classify_original *o = &ctx->res->original;
	const struct mime_header *h = ctx->orig_headers;
	size_t count = ctx->orig_header_count, n = 0;

	if (ctx->orig_part != NULL && ctx->orig_part->header_count > 0) {
		h = ctx->orig_part->headers;
		count = ctx->orig_part->header_count;
	}
	if (h == NULL)
		return;
	o->headers_quoted = mime_headers_find(h, count, "From") != NULL;
	classify_original_keep_headers(o, h, count);
	o->message_id = classify_original_dup(h, count, "Message-ID");
	o->from = classify_original_decoded(h, count, "From");
	o->to = classify_original_decoded(h, count, "To");
	o->date = classify_original_dup(h, count, "Date");
	o->subject = classify_original_decoded(h, count, "Subject");
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(h[i].name, "Received") == 0)
			n++;
	}
	if (n == 0)
		return;
	o->received = xmalloc(n * sizeof(char *));
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(h[i].name, "Received") == 0)
			o->received[o->received_count++] = xstrdup(h[i].value);
	}
}

/*
 * classify_original_sole_recipient - the one address the returned
 * original was sent to (its To, with no Cc), or NULL. For bounces that
 * name no recipient at all ("Delivery report unavailable"): the message
 * they return went to that address only.
 */
char *classify_original_sole_recipient(struct classify_ctx *ctx)
{
	const struct mime_header *h = ctx->orig_headers;
	size_t count = ctx->orig_header_count;
	const char *to, *at;

	if (ctx->orig_part != NULL && ctx->orig_part->header_count > 0) {
		h = ctx->orig_part->headers;
		count = ctx->orig_part->header_count;
	}
	if (h == NULL || mime_headers_find(h, count, "Cc") != NULL ||
	    (to = mime_headers_find(h, count, "To")) == NULL)
		return NULL;
	at = strchr(to, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL || strchr(to, ',') != NULL)
		return NULL;
	return classify_addr_extract(to);
}
