/*
 * reply-text.c - the items an owner's reply names (reply-text.h)
 */
#include "autoconfig.h"
#include "reply-text.h"
#include "mime.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* reply_line_starts - does the line at p (n bytes) start with word? */
static int reply_line_starts(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	return n >= w && strncasecmp(p, word, w) == 0;
}

/* reply_line_quoted - the line at p starts a quote: '>' first */
static int reply_line_quoted(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	return n > 0 && *p == '>';
}

/* reply_next_text_line - the next line after end that is not blank */
static const char *reply_next_text_line(const char *end, const char *stop)
{
	const char *p = end;

	while (p < stop && (*p == '\n' || *p == '\r' || *p == ' '
			    || *p == '\t'))
		p++;
	return p;
}

/* reply_text_own - how much of text is the owner's before any quote */
size_t reply_text_own(const char *text, size_t len)
{
	const char *p = text, *stop = text + len;

	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		const char *end = nl ? nl : stop;
		size_t n = (size_t)(end - p);
		const char *next;

		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (reply_line_quoted(p, n)
		    || reply_line_starts(p, n, "-----Original Message")
		    || reply_line_starts(p, n, "From:")
		    || reply_line_starts(p, n, "________________")
		    || (n == 2 && p[0] == '-' && p[1] == '-'))
			return (size_t)(p - text);
		next = reply_next_text_line(end, stop);
		/* "On Thu, ... alice wrote:" above the quote */
		if (n > 0 && p[n - 1] == ':' && next < stop
		    && reply_line_quoted(next, (size_t)(stop - next)))
			return (size_t)(p - text);
		p = nl ? nl + 1 : stop;
	}
	return len;
}

/* reply_add_number - n once, in the order named */
static void reply_add_number(struct reply_request *req, unsigned long n)
{
	if (n == 0 || n > REPLY_NUMBER_MAX)
		return;
	for (size_t i = 0; i < req->number_count; i++)
		if (req->numbers[i] == n)
			return;
	if (req->number_count < REPLY_NAMES_MAX)
		req->numbers[req->number_count++] = (unsigned int)n;
}

static int reply_number_before(const char *text, size_t i)
{
	char c = i == 0 ? ' ' : text[i - 1];

	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','
		|| c == ';' || c == '#' || c == '(';
}

static int reply_number_after(const char *text, size_t len, size_t i)
{
	char c = i >= len ? ' ' : text[i];

	if (c == '.')	/* "3." at the end of a sentence, not "3.5" */
		return i + 1 >= len || !isdigit((unsigned char)text[i + 1]);
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','
		|| c == ';' || c == ')';
}

/* reply_scan_digits - the digits at text+i: value, sets *end_r */
static unsigned long reply_scan_digits(const char *text, size_t len,
				       size_t i, size_t *end_r)
{
	unsigned long v = 0;

	while (i < len && isdigit((unsigned char)text[i])) {
		if (v <= REPLY_NUMBER_MAX)
			v = v * 10 + (unsigned long)(text[i] - '0');
		i++;
	}
	*end_r = i;
	return v;
}

/* reply_text_numbers - every standing-alone number and N-M range */
void reply_text_numbers(const char *text, size_t len,
			struct reply_request *req)
{
	size_t i = 0, end, end2;

	while (i < len) {
		unsigned long a, b;

		if (!isdigit((unsigned char)text[i])
		    || !reply_number_before(text, i)) {
			i++;
			continue;
		}
		a = reply_scan_digits(text, len, i, &end);
		if (end + 1 < len && text[end] == '-'
		    && isdigit((unsigned char)text[end + 1])) {
			b = reply_scan_digits(text, len, end + 1, &end2);
			if (reply_number_after(text, len, end2) && a <= b
			    && b <= REPLY_NUMBER_MAX)
				for (unsigned long n = a; n <= b; n++)
					reply_add_number(req, n);
			i = end2;
			continue;
		}
		if (reply_number_after(text, len, end))
			reply_add_number(req, a);
		i = end;
	}
}

/* reply_html_own - the owner's part of an HTML reply, tags dropped */
static void reply_html_own(const char *html, size_t len, struct strbuf *out)
{
	static const char *const quotes[] = {
		"<blockquote", "gmail_quote", "divRplyFwdMsg", "moz-cite-prefix",
		"OutlookMessageHeader", "yahoo_quoted", NULL };
	size_t cut = len;
	int tag = 0;

	for (int q = 0; quotes[q]; q++) {
		size_t ql = strlen(quotes[q]);
		for (size_t i = 0; i + ql <= cut; i++)
			if (strncasecmp(html + i, quotes[q], ql) == 0) {
				cut = i;
				break;
			}
	}
	for (size_t i = 0; i < cut; i++) {
		if (html[i] == '<') {
			tag = 1;
			strbuf_putc(out, ' ');
		} else if (html[i] == '>') {
			tag = 0;
		} else if (!tag) {
			strbuf_putc(out, html[i]);
		}
	}
}

/* reply_header_id - the Message-ID of a part's headers, or "" */
static char *reply_header_id(const struct mime_part *part)
{
	const char *v = mime_part_header(part, "Message-ID");
	const char *lt, *gt;

	if (v == NULL || (lt = strchr(v, '<')) == NULL
	    || (gt = strchr(lt, '>')) == NULL)
		return xstrdup("");
	return xstrndup(lt, (size_t)(gt - lt + 1));
}

struct reply_walk {
	const struct mime_part *plain, *html;
};

/* reply_walk_part - find the text parts and the attached messages */
static void reply_walk_part(const struct mime_part *part,
			    struct reply_walk *w, struct reply_request *req)
{
	if (strcmp(part->type, "message/rfc822") == 0) {
		if (part->child_count > 0
		    && req->message_id_count < REPLY_NAMES_MAX) {
			char *id = reply_header_id(part->children[0]);
			if (*id != '\0')
				req->message_ids[req->message_id_count++] = id;
			else
				free(id);
		}
		return;		/* its text is the item's, not the owner's */
	}
	if (strcmp(part->type, "text/plain") == 0 && w->plain == NULL
	    && part->child_count == 0)
		w->plain = part;
	if (strcmp(part->type, "text/html") == 0 && w->html == NULL)
		w->html = part;
	for (size_t i = 0; i < part->child_count; i++)
		reply_walk_part(part->children[i], w, req);
}

/* reply_address_of - the address in a From value, lower-cased */
static char *reply_address_of(const char *v)
{
	const char *lt = v ? strchr(v, '<') : NULL, *gt;
	char *a;

	if (v == NULL)
		return xstrdup("");
	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		a = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	else
		a = xstrdup(v + strspn(v, " \t"));
	a[strcspn(a, " \t\r\n")] = '\0';
	for (char *p = a; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return a;
}

/* reply_is_auto - RFC 3834 Auto-Submitted, or Precedence bulk/junk/list */
static int reply_is_auto(const struct mime_part *root)
{
	const char *as = mime_part_header(root, "Auto-Submitted");
	const char *pr = mime_part_header(root, "Precedence");

	if (as != NULL) {
		as += strspn(as, " \t");
		if (strncasecmp(as, "no", 2) != 0 || isalpha((unsigned char)as[2]))
			return 1;
	}
	if (pr != NULL) {
		pr += strspn(pr, " \t");
		if (strncasecmp(pr, "bulk", 4) == 0
		    || strncasecmp(pr, "junk", 4) == 0
		    || strncasecmp(pr, "list", 4) == 0)
			return 1;
	}
	return 0;
}

/* reply_request_parse - what msg asks for (reply-text.h) */
int reply_request_parse(const char *msg, size_t len,
			struct reply_request *req, const char **error_r)
{
	struct mime_message *m = mime_parse(msg, len);
	struct reply_walk w = { NULL, NULL };
	struct strbuf text = STRBUF_INIT, raw = STRBUF_INIT;

	memset(req, 0, sizeof(*req));
	if (m == NULL || m->root == NULL) {
		mime_message_free(&m);
		*error_r = "not a mail message";
		return -1;
	}
	req->auto_reply = reply_is_auto(m->root);
	req->from = reply_address_of(mime_part_header(m->root, "From"));
	req->message_id = reply_header_id(m->root);
	reply_walk_part(m->root, &w, req);
	if (w.plain != NULL) {
		mime_part_text(w.plain, &text);
	} else if (w.html != NULL) {
		mime_part_decoded(w.html, &raw);
		reply_html_own(raw.data ? raw.data : "", raw.len, &text);
	}
	if (text.len > REPLY_TEXT_MAX)
		text.len = REPLY_TEXT_MAX;
	if (text.data != NULL)
		reply_text_numbers(text.data, reply_text_own(text.data,
							     text.len), req);
	strbuf_free(&text);
	strbuf_free(&raw);
	mime_message_free(&m);
	return 0;
}

/* reply_request_free - what reply_request_parse() allocated */
void reply_request_free(struct reply_request *req)
{
	for (size_t i = 0; i < req->message_id_count; i++)
		free(req->message_ids[i]);
	free(req->from);
	free(req->message_id);
	memset(req, 0, sizeof(*req));
}
