/*
 * format-text.c - prose bounces: the reports that are only text
 *
 * Half the MTAs in the wild send no RFC 3464 report: qmail, Exim, Gmail,
 * Exchange 2003, DragonFly, most Japanese carriers and every anti-spam
 * appliance write prose. classify-text.c recognises such prose as a
 * bounce and tells a failure from a delay warning; this format finds
 * the bounced recipients where the MTAs put them: alone on a line,
 * after "RCPT TO:" or "Recipient:", in "<addr>: reason" form, with the
 * paragraph about each as its diagnostic and the status code in it.
 */
#include "autoconfig.h"
#include "format.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* format_text_addr_char - may c stand in an address we pick from prose? */
static int format_text_addr_char(unsigned char c, int domain)
{
	/* 8-bit local parts exist (RFC 6531); domains are read as ASCII */
	if (isalnum(c) || c == '.' || c == '-' || (c >= 0x80 && !domain))
		return 1;
	return !domain && strchr("_%+=/!#$&'*?^`{|}~", c) != NULL && c != 0;
}

struct format_text_addr {
	size_t start, end;	/* in the text */
	size_t line;		/* start of its line */
	int strong;
};

/*
 * format_text_addr_unprefix - where an address starts once a transport tag
 * glued to it is dropped ("smtp=kim@...", "rfc822=...", "mailto=..."):
 * '=' may stand in a local part, these tags never do
 */
static size_t format_text_addr_unprefix(const char *text, size_t s, size_t at)
{
	static const char *const tags[] = {
		"smtp=", "rfc822=", "mailto=", "smtp:", "rfc822:", "mailto:",
		NULL
	};

	for (size_t i = 0; tags[i] != NULL; i++) {
		size_t n = strlen(tags[i]);

		if (at - s > n && strncasecmp(text + s, tags[i], n) == 0)
			return s + n;
	}
	return s;
}

/* format_text_addr_at - the address around the '@' at text[at], or 0 */
static int format_text_addr_at(const char *text, size_t len, size_t line,
			       size_t at, struct format_text_addr *a)
{
	size_t s = at, e = at + 1, dots = 0;

	while (s > line && at - s < 64 && format_text_addr_char((unsigned char)text[s - 1], 0))
		s--;
	while (e < len && e - at < 255 && format_text_addr_char((unsigned char)text[e], 1)) {
		if (text[e] == '.')
			dots++;
		e++;
	}
	while (e > at + 1 && text[e - 1] == '.') {
		e--;
		dots--;
	}
	while (s < at && (text[s] == '.' || text[s] == '\''))
		s++;
	s = format_text_addr_unprefix(text, s, at);
	if (s == at || e == at + 1 || dots == 0)
		return 0;
	a->start = s;
	a->end = e;
	a->line = line;
	return 1;
}

/* words after which an address is the recipient (lower case) */
static const char *const format_text_rcpt_prefixes[] = {
	"to", "for", "recipient", "recipients", "rcpt", "address", "addressee",
	"rfc822", "user", "mailbox", "account", "destinataire", "destinatario",
	"empf\xc3\xa4nger", "original-recipient", "final-recipient",
	"failed", "x-failed-recipients", "smtp", NULL
};

/* words after which an address is not a recipient */
static const char *const format_text_not_rcpt_prefixes[] = {
	"mail from", "envelope-from", "sender", "from", "return-path",
	"message-id", "reply-to", "references", "in-reply-to", "postmaster",
	"contact", NULL
};

/* format_text_prefix_ends - does the lower-case prefix end with word w? */
static int format_text_prefix_ends(const char *p, size_t len, const char *w)
{
	size_t n = strlen(w);

	if (len < n || memcmp(p + len - n, w, n) != 0)
		return 0;
	return len == n || !isalnum((unsigned char)p[len - n - 1]);
}

/* format_text_addr_classify - strong (1), weak (0) or excluded (-1) context */
static int format_text_addr_classify(const struct classify_ctx *ctx,
				     struct format_text_addr *a)
{
	const char *lower = ctx->lower.data;
	size_t plen = a->start - a->line;
	const char *p = lower + a->line;

	/* trim the punctuation around "<addr>" and "rfc822; addr" */
	while (plen > 0 && strchr(" \t<\"'([:;=", p[plen - 1]) != NULL)
		plen--;
	for (size_t i = 0; format_text_not_rcpt_prefixes[i] != NULL; i++) {
		if (format_text_prefix_ends(p, plen, format_text_not_rcpt_prefixes[i]))
			return -1;
	}
	if (plen < 4 && (plen == 0 || memchr(p, '@', plen) == NULL))
		return 1;	/* alone at the start of its line */
	for (size_t i = 0; format_text_rcpt_prefixes[i] != NULL; i++) {
		if (format_text_prefix_ends(p, plen, format_text_rcpt_prefixes[i]))
			return 1;
	}
	return 0;
}

/* format_text_addr_excluded - the sender side of the bounce, never a recipient */
static int format_text_addr_excluded(const struct classify_ctx *ctx,
				     const char *addr, int listed)
{
	static const char *const locals[] = {
		"mailer-daemon@", "postmaster@", "abuse@", "hostmaster@",
		"webmaster@", NULL
	};
	const char *to = mime_part_header(ctx->root, "To");
	char *lower = xstrdup(addr);
	int ret = 0;

	classify_lower(lower, strlen(lower));
	/*
	 * An address on its own line in the list of failed recipients is
	 * one, even postmaster@ or the bounce's own To (mail to oneself).
	 */
	for (size_t i = 0; !listed && locals[i] != NULL; i++) {
		if (strncmp(lower, locals[i], strlen(locals[i])) == 0)
			ret = 1;
	}
	if (ctx->from_addr != NULL && strcasecmp(ctx->from_addr, addr) == 0)
		ret = 1;
	if (!listed && to != NULL && strcasestr(to, addr) != NULL)
		ret = 1;
	free(lower);
	return ret;
}

/* format_text_block_end - end of the paragraph starting at pos */
static size_t format_text_block_end(const char *text, size_t len, size_t pos)
{
	size_t lines = 0;

	while (pos < len && lines < 8) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);
		size_t i = pos;

		while (i < eol && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i == eol && lines > 0)
			return pos;
		pos = eol < len ? eol + 1 : len;
		lines++;
	}
	return pos;
}

/* format_text_smtp_line - first line with an SMTP reply or status code, or NULL */
static char *format_text_smtp_line(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text), n;

		for (size_t i = pos; i + 4 <= eol; i++) {
			if ((text[i] == '4' || text[i] == '5') &&
			    isdigit((unsigned char)text[i + 1]) &&
			    isdigit((unsigned char)text[i + 2]) &&
			    (text[i + 3] == ' ' || text[i + 3] == '-') &&
			    (i == pos || !isalnum((unsigned char)text[i - 1])))
				return xstrndup(text + pos, eol - pos);
		}
		if (dsn_status_find(text + pos, eol - pos, &n) != NULL)
			return xstrndup(text + pos, eol - pos);
		pos = eol + 1;
	}
	return NULL;
}

/*
 * format_text_add - add addr with diag: the status is the first code in
 * diag, else the first in the report's text
 */
static void format_text_add(struct classify_ctx *ctx, const char *addr,
			    const char *diag, const char *action)
{
	const char *st;
	char *status = NULL;
	size_t n;

	st = diag == NULL ? NULL : dsn_status_find(diag, strlen(diag), &n);
	if (st == NULL)
		st = dsn_status_find(ctx->text.data, ctx->error_len, &n);
	if (st != NULL)
		status = xstrndup(st, n);
	classify_add_recipient(ctx, addr, status, action, diag, NULL);
	free(status);
}

/* format_text_add_found - add one recipient with its paragraph as diagnostic */
static void format_text_add_found(struct classify_ctx *ctx,
				  const struct format_text_addr *a,
				  const char *action)
{
	const char *text = ctx->text.data;
	size_t end = format_text_block_end(text, ctx->error_len, a->line);
	char *addr = xstrndup(text + a->end - (a->end - a->start), a->end - a->start);
	char *diag = xstrndup(text + a->end, end > a->end ? end - a->end : 0);

	for (char *q = strchr(addr, '@'); *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	/* strip the "...", ">:" and the like between address and reason */
	size_t skip = strspn(diag, ">:.;,) \t\n");
	if (strpbrk(diag + skip, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == NULL) {
		free(diag);
		diag = format_text_smtp_line(text, ctx->error_len);
		skip = 0;
	}
	format_text_add(ctx, addr, diag == NULL ? NULL : diag + skip, action);
	free(addr);
	free(diag);
}

/* format_text_indent - width of the white space that starts a line */
static size_t format_text_indent(const char *text, size_t len, size_t line)
{
	size_t i = line;

	while (i < len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	return i - line;
}

/*
 * format_text_listed_block - the lines indented under the address where it
 * stands alone at the start of its line (Exim: "  addr\n    SMTP error
 * ...\n    host ...: 550 5.2.1 ..."), joined; NULL if not so listed
 */
static char *format_text_listed_block(const struct classify_ctx *ctx,
				      const char *address)
{
	const char *lower = ctx->lower.data, *text = ctx->text.data, *p = lower;
	size_t len = ctx->error_len, n = strlen(address);
	char *addr = xstrdup(address), *ret = NULL;

	classify_lower(addr, n);
	while ((p = strstr(p, addr)) != NULL) {
		size_t at = (size_t)(p - lower), line = at, ind, pos, end;

		p += n;
		while (line > 0 && lower[line - 1] != '\n')
			line--;
		ind = format_text_indent(lower, len, line);
		if (line + ind != at || (at + n < len && lower[at + n] != '\n' &&
					 lower[at + n] != ':' && lower[at + n] != ' '))
			continue;
		pos = at + n;
		end = pos;
		while (pos < len) {
			const char *nl = memchr(lower + pos, '\n', len - pos);
			size_t next = nl == NULL ? len : (size_t)(nl - lower) + 1;

			if (pos > at + n) {
				size_t i = format_text_indent(lower, len, pos);

				if (i <= ind || pos + i >= next - 1)
					break;
			}
			end = next;
			pos = next;
		}
		if (end > at + n)
			ret = xstrndup(text + at + n, end - at - n);
		break;
	}
	free(addr);
	return ret;
}

/*
 * format_text_failed_header - Exim and Google name the failed recipients in an
 * X-Failed-Recipients header; the most reliable source when present
 */
static int format_text_failed_header(struct classify_ctx *ctx,
				     const char *action)
{
	const char *v = mime_part_header(ctx->root, "X-Failed-Recipients");
	char *copy, *tok, *save = NULL;
	int n = 0;

	if (v == NULL)
		return 0;
	copy = xstrdup(v);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		char *addr = dsn_address_clean(tok);
		char *diag = NULL;

		if (addr == NULL)
			continue;
		/* each address costs a search of the text: as many as kept */
		if (ctx->res->recipient_count >= CLASSIFY_MAX_RECIPIENTS) {
			free(addr);
			break;
		}
		diag = format_text_listed_block(ctx, addr);
		if (diag == NULL)
			diag = format_text_smtp_line(ctx->text.data, ctx->error_len);
		format_text_add(ctx, addr, diag, action);
		free(addr);
		free(diag);
		n++;
	}
	free(copy);
	return n;
}

/* phrases that introduce the list of failed recipients (lower case) */
static const char *const format_text_list_intros[] = {
	"did not reach the following recipient", "following recipient",
	"following address", "following destination", NULL
};

/*
 * format_text_list_start - where the list of failed recipients starts: after
 * the first phrase that introduces it, or 0. Exchange 2003 first repeats
 * the original's To and Subject ("Your message To: ... did not reach the
 * following recipient(s):"), which are not the bounced recipients.
 */
static size_t format_text_list_start(const struct classify_ctx *ctx)
{
	size_t best = 0;

	for (size_t i = 0; format_text_list_intros[i] != NULL; i++) {
		const char *p = strstr(ctx->lower.data, format_text_list_intros[i]);
		size_t off;

		if (p == NULL)
			continue;
		off = (size_t)(p - ctx->lower.data);
		if (best == 0 || off < best)
			best = off;
	}
	return best;
}

/* format_text_display_form - is the address followed by " <address>"? */
static int format_text_display_form(const char *text, size_t len, size_t end)
{
	size_t i = end;

	while (i < len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	if (i == end || i >= len || text[i] != '<')
		return 0;
	for (i++; i < len && text[i] != '>' && text[i] != '\n' && i - end < 300; i++) {
		if (text[i] == '@')
			return 1;
	}
	return 0;
}

void format_text_recipients(struct classify_ctx *ctx)
{
	const char *text = ctx->text.data;
	size_t len = ctx->error_len, pos = 0, line = 0, count = 0;
	struct format_text_addr found[CLASSIFY_MAX_RECIPIENTS];
	int have_strong = 0, after_list = 0;
	const char *action = classify_text_is_delay(ctx) ? "delayed" : "failed";
	size_t list = format_text_list_start(ctx);

	if (format_text_failed_header(ctx, action) > 0)
		return;

	while (pos < len && count < CLASSIFY_MAX_RECIPIENTS) {
		const char *at = memchr(text + pos, '@', len - pos);
		struct format_text_addr a;

		if (at == NULL)
			break;
		for (size_t i = pos; i < (size_t)(at - text); i++) {
			if (text[i] == '\n')
				line = i + 1;
		}
		pos = (size_t)(at - text) + 1;
		if (!format_text_addr_at(text, len, line, (size_t)(at - text), &a))
			continue;
		pos = a.end;
		/* "name@host <addr>": the first is a display name */
		if (format_text_display_form(text, len, a.end))
			continue;
		a.strong = format_text_addr_classify(ctx, &a);
		char *addr = xstrndup(text + a.start, a.end - a.start);
		int listed = list > 0 && a.start > list && a.start - a.line < 4;
		int excluded = a.strong < 0 ||
			format_text_addr_excluded(ctx, addr, listed);
		free(addr);
		if (excluded)
			continue;
		found[count++] = a;
		if (list > 0 && a.start > list)
			after_list = 1;
	}
	for (size_t i = 0; i < count; i++) {
		if (after_list && found[i].start < list)
			found[i].strong = -1;
		if (found[i].strong > 0)
			have_strong = 1;
	}
	for (size_t i = 0; i < count; i++) {
		if (found[i].strong >= 0 && (!have_strong || found[i].strong))
			format_text_add_found(ctx, &found[i], action);
	}
}

/*
 * format_text_names_failure - does a prose bounce show what failed: a
 * recipient, a returned original, or a status or SMTP reply code? A
 * quota warning, a parcel or fax notice and the like talk of delivery
 * in the same words, but name no failed message.
 */
static int format_text_names_failure(const struct classify_ctx *ctx)
{
	const char *text = ctx->text.data;
	size_t len = ctx->error_len, n;

	if (ctx->res->recipient_count > 0 || ctx->orig_part != NULL ||
	    ctx->orig_inline)
		return 1;
	if (dsn_status_find(text, len, &n) != NULL)
		return 1;
	for (size_t i = 0; i + 4 <= len; i++) {
		if ((text[i] == '4' || text[i] == '5') &&
		    (i == 0 || !isalnum((unsigned char)text[i - 1])) &&
		    isdigit((unsigned char)text[i + 1]) &&
		    isdigit((unsigned char)text[i + 2]) &&
		    (text[i + 3] == ' ' || text[i + 3] == '-'))
			return 1;
	}
	return 0;
}

/*
 * format_text_read - text the mail system wrote as a bounce, naming what
 * failed (a message that only talks of delivery is left to the others)
 */
static int format_text_read(struct classify_ctx *ctx,
			    enum classify_kind *kind_r)
{
	enum classify_kind kind;

	if (ctx->dsn_part == NULL && !classify_text_is_bounce(ctx))
		return 0;
	kind = classify_text_is_delay(ctx) ? CLASSIFY_NDR_DELAYED :
		CLASSIFY_NDR_FAILED;
	format_text_recipients(ctx);
	if (ctx->dsn_part == NULL && !format_text_names_failure(ctx) &&
	    !classify_text_system_bounce(ctx))
		return 0;
	*kind_r = kind;
	return 1;
}

const struct classify_format format_text = { "text", format_text_read };
