/*
 * classify.c - what a message is: the recognition engine's driver
 *
 * This module implements classify_message() (classify.h). It parses the
 * MIME structure, looks for the standard reports first (RFC 3464 DSN,
 * RFC 5965 ARF, RFC 8098 MDN), and falls back on the text heuristics of
 * classify-text.c for the many MTAs that write free-form bounces. Then it
 * reads the returned original (classify-original.c), names the reason
 * (reason.c) and judges the verdict (classify-verdict.c).
 *
 * The result owns copies of everything it reports, so the parse tree is
 * freed before classify_message() returns.
 */
#include "autoconfig.h"
#include "classify-private.h"
#include "format.h"
#include "json.h"
#include "relays.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a pipe agent reads at most this much of one message */
#define CLASSIFY_MAX_SIZE (64 * 1024 * 1024)

void classify_lower(char *s, size_t len)
{
	const uint64_t hi = 0x8080808080808080ULL;
	size_t i = 0;

	/*
	 * ASCII only, as the phrase lists are; eight bytes at a time: a
	 * byte is upper case when below 0x80, at least 'A' and below '['
	 * (each byte is subtracted from with its top bit set, so no
	 * borrow crosses into the next one), and gets 0x20 added.
	 */
	for (; i + 8 <= len; i += 8) {
		uint64_t x, m;

		memcpy(&x, s + i, 8);
		m = ((x | hi) - 0x4141414141414141ULL) &
			~((x | hi) - 0x5b5b5b5b5b5b5b5bULL) & ~x & hi;
		x |= m >> 2;
		memcpy(s + i, &x, 8);
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		s[i] = (char)((unsigned int)(c - 'A') < 26u ? c + ('a' - 'A') : c);
	}
}

/* classify_addr_extract - the first address in s (dsn_address_clean) */
char *classify_addr_extract(const char *s)
{
	const char *lt = strchr(s, '<');
	char *addr = NULL;

	/* prefer the <angle> form, so display names with '@' do not win */
	if (lt != NULL)
		addr = dsn_address_clean(lt + 1);
	if (addr == NULL)
		addr = dsn_address_clean(s);
	return addr;
}

/* classify_strdup_clean - copy with runs of white space collapsed */
static char *classify_strdup_clean(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	int space = 0;

	if (s == NULL)
		return NULL;
	strbuf_grow(&sb, strlen(s));
	sb.data[0] = '\0';
	while (*s != '\0') {
		const char *run = s;

		if (isspace((unsigned char)*s)) {
			space = sb.len > 0;
			s++;
			continue;
		}
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (space)
			strbuf_putc(&sb, ' ');
		space = 0;
		strbuf_append(&sb, run, (size_t)(s - run));
	}
	return strbuf_steal(&sb);
}

void classify_add_recipient(struct classify_ctx *ctx, const char *address,
			    const char *status, const char *action,
			    const char *diagnostic, const char *remote_mta)
{
	struct classify_result *res = ctx->res;
	struct classify_recipient *r;

	if (res->recipient_count >= CLASSIFY_MAX_RECIPIENTS)
		return;
	for (size_t i = 0; address != NULL && i < res->recipient_count; i++) {
		if (res->recipients[i].address != NULL &&
		    strcasecmp(res->recipients[i].address, address) == 0)
			return;	/* Original- and Final-Recipient repeat */
	}
	res->recipients = xrealloc(res->recipients, (res->recipient_count + 1) *
				   sizeof(*res->recipients));
	r = &res->recipients[res->recipient_count++];
	r->address = address == NULL ? NULL : xstrdup(address);
	r->status = status == NULL ? NULL : xstrdup(status);
	r->action = action == NULL ? NULL : xstrdup(action);
	r->diagnostic = classify_strdup_clean(diagnostic);
	r->remote_mta = classify_strdup_clean(remote_mta);
}

/* classify_note_report - note a multipart/report and its report-type */
static void classify_note_report(struct classify_ctx *ctx,
				 const struct mime_part *part)
{
	const char *ct = mime_part_header(part, "Content-Type");
	char *rt = ct == NULL ? NULL : mime_param_get(ct, "report-type");

	ctx->has_report = 1;
	if (rt != NULL && strcasecmp(rt, "feedback-report") == 0)
		ctx->is_arf = 1;
	if (rt != NULL && strcasecmp(rt, "disposition-notification") == 0)
		ctx->is_mdn = 1;
	free(rt);
}

/* classify_take_text - append a text part to the report text */
static void classify_take_text(struct classify_ctx *ctx,
			       const struct mime_part *part)
{
	if (ctx->text.len >= CLASSIFY_MAX_TEXT)
		return;
	mime_part_text(part, &ctx->text);
	strbuf_putc(&ctx->text, '\n');
	if (ctx->text.len > CLASSIFY_MAX_TEXT) {
		ctx->text.len = CLASSIFY_MAX_TEXT;
		ctx->text.data[ctx->text.len] = '\0';
	}
}

/*
 * classify_walk_x - find the report parts and, with take_text, gather the
 * text, without entering the returned original (its text is the
 * spammer's, not the MTA's)
 */
static void classify_walk_x(struct classify_ctx *ctx, struct mime_part *part,
			    int take_text)
{
	const char *t = part->type;

	if (strcmp(t, "multipart/report") == 0)
		classify_note_report(ctx, part);
	if (strcmp(t, "message/delivery-status") == 0 ||
	    strcmp(t, "message/global-delivery-status") == 0) {
		if (ctx->dsn_part == NULL)
			ctx->dsn_part = part;
		if (ctx->dsn_part_count < CLASSIFY_MAX_DSN_PARTS)
			ctx->dsn_parts[ctx->dsn_part_count++] = part;
		return;
	}
	if (strcmp(t, "message/feedback-report") == 0) {
		ctx->is_arf = 1;
		return;
	}
	if (strcmp(t, "message/disposition-notification") == 0) {
		ctx->is_mdn = 1;
		if (ctx->mdn_part == NULL)
			ctx->mdn_part = part;
		return;
	}
	if (strncmp(t, "message/", 8) == 0 || strcmp(t, "text/rfc822-headers") == 0) {
		if (ctx->orig_part == NULL && part->child_count > 0)
			ctx->orig_part = part->children[0];
		return;
	}
	if (strncmp(t, "multipart/", 10) == 0 && part->child_count > 0) {
		for (size_t i = 0; i < part->child_count; i++)
			classify_walk_x(ctx, part->children[i], take_text);
		return;
	}
	/* a leaf: text, or a multipart whose boundary never showed up */
	if (take_text && (strncmp(t, "text/", 5) == 0 ||
			  strncmp(t, "multipart/", 10) == 0 || part == ctx->root))
		classify_take_text(ctx, part);
}

/* classify_walk - find the report parts and gather the report text */
static void classify_walk(struct classify_ctx *ctx, struct mime_part *part)
{
	classify_walk_x(ctx, part, 1);
}

/* classify_walk_reports - find the report parts only */
static void classify_walk_reports(struct classify_ctx *ctx,
				  struct mime_part *part)
{
	classify_walk_x(ctx, part, 0);
}

/*
 * classify_read_nested - a report inside the attached message (a bounce
 * forwarded as message/rfc822): its parts are the report's parts
 */
static void classify_read_nested(struct classify_ctx *ctx)
{
	struct mime_part *orig = ctx->orig_part;

	if (ctx->dsn_part != NULL || orig == NULL ||
	    strcmp(orig->type, "multipart/report") != 0)
		return;
	ctx->orig_part = NULL;
	classify_walk_x(ctx, orig, 0);
	if (ctx->orig_part == NULL)
		ctx->orig_part = orig;
}

/* classify_read_reply_ids - an auto-reply's In-Reply-To and References */
static void classify_read_reply_ids(struct classify_ctx *ctx)
{
	const char *irt = mime_part_header(ctx->root, "In-Reply-To");
	const char *refs = mime_part_header(ctx->root, "References");

	if (ctx->res->kind != CLASSIFY_AUTOREPLY &&
	    ctx->res->kind != CLASSIFY_CHALLENGE)
		return;
	ctx->res->in_reply_to = irt != NULL ? xstrdup(irt) : NULL;
	ctx->res->references = refs != NULL ? xstrdup(refs) : NULL;
}

/* classify_read_top - the bounce's own From and Subject */
static void classify_read_top(struct classify_ctx *ctx)
{
	const char *subject = mime_part_header(ctx->root, "Subject");
	struct strbuf sb = STRBUF_INIT;

	ctx->from = mime_part_header(ctx->root, "From");
	if (ctx->from != NULL)
		ctx->from_addr = classify_addr_extract(ctx->from);
	if (subject != NULL)
		mime_header_decode(subject, &sb);
	ctx->subject = strbuf_steal(&sb);
	classify_lower(ctx->subject, strlen(ctx->subject));
}

/* classify_read_dsn - parse the delivery-status part, if there is one */
static void classify_read_dsn(struct classify_ctx *ctx)
{
	struct strbuf sb = STRBUF_INIT;

	/* several reports: a digest of bounces, or one forwarded with another */
	for (size_t i = 0; i < ctx->dsn_part_count; i++) {
		strbuf_reset(&sb);
		mime_part_decoded(ctx->dsn_parts[i], &sb);
		dsn_parse(strbuf_cstr(&sb), sb.len, &ctx->dsn);
	}
	strbuf_free(&sb);
}

/*
 * classify_read_inner - a bounce forwarded as text (a report quoted whole,
 * MIME structure and all): parse the quoted message and read its DSN
 */
void classify_read_inner(struct classify_ctx *ctx)
{
	const char *ct;
	struct mime_part *saved_orig = ctx->orig_part;

	if (!ctx->orig_inline || ctx->inner != NULL)
		return;
	ct = mime_headers_find(ctx->orig_headers, ctx->orig_header_count,
			       "Content-Type");
	if (ct == NULL || strcasestr(ct, "multipart/report") == NULL)
		return;
	ctx->inner = mime_parse(ctx->text.data + ctx->orig_inline_off,
				ctx->text.len - ctx->orig_inline_off);
	ctx->orig_part = NULL;
	classify_walk_reports(ctx, ctx->inner->root);
	if (ctx->orig_part == NULL)
		ctx->orig_part = saved_orig;
	classify_read_dsn(ctx);
}

/* classify_decide - the kind, from the first format that claims it */
static enum classify_kind classify_decide(struct classify_ctx *ctx)
{
	enum classify_kind kind = CLASSIFY_NOT_BOUNCE;

	for (size_t i = 0; format_registry[i] != NULL; i++)
		if (format_registry[i]->read(ctx, &kind))
			return kind;
	return CLASSIFY_NOT_BOUNCE;
}

/*
 * classify_fallback_recipient - a failure or delay report that names no
 * recipient anywhere: the returned original's sole addressee
 */
static void classify_fallback_recipient(struct classify_ctx *ctx)
{
	struct classify_result *res = ctx->res;
	char *addr;
	const char *st;
	size_t n;

	if ((res->kind != CLASSIFY_NDR_FAILED &&
	     res->kind != CLASSIFY_NDR_DELAYED) || res->recipient_count > 0 ||
	    (addr = classify_original_sole_recipient(ctx)) == NULL)
		return;
	st = dsn_status_find(ctx->text.data, ctx->error_len, &n);
	char *status = st == NULL ? NULL : xstrndup(st, n);
	classify_add_recipient(ctx, addr, status,
			       res->kind == CLASSIFY_NDR_FAILED ? "failed" :
			       "delayed", NULL, NULL);
	free(status);
	free(addr);
}

/* classify_fill_reason - a reason for the result from its recipients */
static void classify_fill_reason(struct classify_ctx *ctx)
{
	struct classify_result *res = ctx->res;
	const char *text = ctx->lower.data;

	if (res->kind == CLASSIFY_AUTOREPLY) {
		res->reason = "vacation";
		return;
	}
	if (res->kind == CLASSIFY_FEEDBACK_ARF) {
		res->reason = "feedback";
		return;
	}
	if (res->kind == CLASSIFY_AV_NOTICE) {
		res->reason = "virusdetected";
		return;
	}
	if (res->kind != CLASSIFY_NDR_FAILED && res->kind != CLASSIFY_NDR_DELAYED &&
	    res->kind != CLASSIFY_DSN_SUCCESS)
		return;
	if (res->recipient_count > 0)
		res->reason = reason_find(res->kind, res->recipients[0].status,
					  res->recipients[0].diagnostic, text);
	else
		res->reason = reason_find(res->kind, NULL, NULL, text);
}

/* classify_prepare_text - lower-cased copy; error_len defaults to all */
static void classify_prepare_text(struct classify_ctx *ctx)
{
	strbuf_append(&ctx->lower, strbuf_cstr(&ctx->text), ctx->text.len);
	if (ctx->lower.data == NULL)
		strbuf_grow(&ctx->lower, 1);
	if (ctx->text.data == NULL)
		strbuf_grow(&ctx->text, 1);
	classify_lower(ctx->lower.data, ctx->lower.len);
	ctx->error_len = ctx->text.len;
}

/* classify_one - classify one message (one of an mbox) */
static struct classify_result *classify_one(const char *msg, size_t len,
					    const struct relays *relays,
					    const char *sender)
{
	struct classify_ctx ctx;
	const char *own;

	memset(&ctx, 0, sizeof(ctx));
	ctx.bounce_cache = ctx.delay_cache = -1;
	ctx.sender = sender;
	ctx.res = xcalloc(1, sizeof(*ctx.res));
	ctx.mime = mime_parse(msg, len);
	ctx.root = ctx.mime->root;
	if ((own = classify_own_notice(ctx.root)) != NULL) {
		/* never held, whatever it lists */
		ctx.res->evidence = xstrdup(own);
		mime_message_free(&ctx.mime);
		return ctx.res;
	}
	classify_read_top(&ctx);
	classify_walk(&ctx, ctx.root);
	/* a person's message with a bounce attached forwards it: the
	   attached report is not this message's */
	ctx.person_sent = classify_text_person_sent(&ctx);
	if (!ctx.person_sent)
		classify_read_nested(&ctx);
	classify_prepare_text(&ctx);
	classify_read_dsn(&ctx);
	classify_original_find(&ctx);
	/* from here on only the MTA's own words are searched */
	ctx.lower.data[ctx.error_len] = '\0';
	ctx.lower.len = ctx.error_len;
	classify_text_index_begin(ctx.lower.data, ctx.lower.len);
	ctx.res->kind = classify_decide(&ctx);
	classify_fallback_recipient(&ctx);
	classify_fill_reason(&ctx);
	ctx.res->reporting_mta = classify_text_reporting_mta(&ctx);
	classify_original_fill(&ctx);
	classify_read_reply_ids(&ctx);
	classify_verdict_judge(&ctx, relays);
	classify_text_index_end();

	dsn_report_free(&ctx.dsn);
	mime_headers_free(ctx.orig_headers, ctx.orig_header_count);
	mime_message_free(&ctx.mime);
	mime_message_free(&ctx.inner);
	strbuf_free(&ctx.text);
	strbuf_free(&ctx.lower);
	free(ctx.from_addr);
	free(ctx.subject);
	return ctx.res;
}

/* the reports of one mbox file that are read (the first one included) */
#define CLASSIFY_MAX_MBOX 16

/*
 * classify_mbox_next - where the next message of an mbox starts: a
 * "From " line (an mbox escapes those of the bodies as ">From "),
 * followed by a header line; len if none. Any line-end convention.
 */
static size_t classify_mbox_next(const char *msg, size_t len, size_t from)
{
	const char *p = msg + from;

	while ((p = memmem(p, len - (size_t)(p - msg), "From ", 5)) != NULL) {
		size_t at = (size_t)(p - msg), i;

		p += 5;
		if (msg[at - 1] != '\n' && msg[at - 1] != '\r')
			continue;
		i = at + 5;
		while (i < len && msg[i] != '\n' && msg[i] != '\r')
			i++;
		while (i < len && (msg[i] == '\n' || msg[i] == '\r'))
			i++;
		size_t name = i;
		while (i < len && (isalnum((unsigned char)msg[i]) || msg[i] == '-'))
			i++;
		if (i > name && i < len && msg[i] == ':')
			return at;
	}
	return len;
}

/* classify_merge - the recipients of a later report of the same mbox */
static void classify_merge(struct classify_result *res,
			   struct classify_result *more)
{
	if (!classify_kind_is_backscatter(res->kind) ||
	    (more->kind != CLASSIFY_NDR_FAILED &&
	     more->kind != CLASSIFY_NDR_DELAYED &&
	     more->kind != CLASSIFY_DSN_SUCCESS))
		return;
	for (size_t i = 0; i < more->recipient_count &&
		     res->recipient_count < CLASSIFY_MAX_RECIPIENTS; i++) {
		res->recipients = xrealloc(res->recipients,
					   (res->recipient_count + 1) *
					   sizeof(*res->recipients));
		res->recipients[res->recipient_count++] = more->recipients[i];
		memset(&more->recipients[i], 0, sizeof(more->recipients[i]));
	}
}

/*
 * classify_skip_lead - white space and blank lines before the first
 * header (a file saved with blank lines on top, a header indented by a
 * stray space): MTAs deliver such mail, so it is read from its first
 * header on
 */
static size_t classify_skip_lead(const char *msg, size_t len)
{
	size_t i = 0;

	while (i < len && (msg[i] == ' ' || msg[i] == '\t' || msg[i] == '\r' ||
			   msg[i] == '\n'))
		i++;
	return i < len ? i : 0;
}

int classify_message(const char *msg, size_t len, const struct relays *relays,
		     struct classify_result **result_r, const char **error_r)
{
	return classify_message_from(msg, len, relays, NULL, result_r, error_r);
}

/* classify_message_from - one message, or the reports of an mbox */
int classify_message_from(const char *msg, size_t len,
			  const struct relays *relays, const char *sender,
			  struct classify_result **result_r,
			  const char **error_r)
{
	size_t end, start, lead;

	if (len > CLASSIFY_MAX_SIZE) {
		*error_r = "message too large to classify";
		return -1;
	}
	lead = classify_skip_lead(msg, len);
	msg += lead;
	len -= lead;
	end = len;
	/*
	 * An mbox of several reports (a bounce and its postmaster copy,
	 * two bounces saved together): each is read on its own, and the
	 * later ones add their recipients to the first one's.
	 */
	if (len > 5 && memcmp(msg, "From ", 5) == 0)
		end = classify_mbox_next(msg, len, 5);
	*result_r = classify_one(msg, end, relays, sender);
	for (int n = 1; end < len && n < CLASSIFY_MAX_MBOX; n++) {
		struct classify_result *more;

		start = end;
		end = classify_mbox_next(msg, len, start + 5);
		more = classify_one(msg + start, end - start, NULL, NULL);
		classify_merge(*result_r, more);
		classify_result_free(&more);
	}
	return 0;
}

void classify_result_free(struct classify_result **_result)
{
	struct classify_result *res = *_result;
	struct classify_original *o;

	if (res == NULL)
		return;
	*_result = NULL;
	for (size_t i = 0; i < res->recipient_count; i++) {
		free(res->recipients[i].address);
		free(res->recipients[i].status);
		free(res->recipients[i].action);
		free(res->recipients[i].diagnostic);
		free(res->recipients[i].remote_mta);
	}
	free(res->recipients);
	free(res->reporting_mta);
	o = &res->original;
	free(o->message_id);
	free(o->from);
	free(o->to);
	free(o->subject);
	free(o->date);
	for (size_t i = 0; i < o->received_count; i++)
		free(o->received[i]);
	free(o->received);
	for (size_t i = 0; i < o->header_count; i++) {
		free(o->headers[i].name);
		free(o->headers[i].value);
	}
	free(o->headers);
	free(res->in_reply_to);
	free(res->references);
	free(res->evidence);
	free(res);
}

const char *classify_kind_name(enum classify_kind kind)
{
	switch (kind) {
	case CLASSIFY_NOT_BOUNCE: return "not_bounce";
	case CLASSIFY_NDR_FAILED: return "ndr_failed";
	case CLASSIFY_NDR_DELAYED: return "ndr_delayed";
	case CLASSIFY_DSN_SUCCESS: return "dsn_success";
	case CLASSIFY_AUTOREPLY: return "autoreply";
	case CLASSIFY_CHALLENGE: return "challenge";
	case CLASSIFY_AV_NOTICE: return "av_notice";
	case CLASSIFY_FEEDBACK_ARF: return "feedback_arf";
	case CLASSIFY_MDN: return "mdn";
	}
	return "not_bounce";
}

const char *classify_verdict_name(enum classify_verdict verdict)
{
	switch (verdict) {
	case CLASSIFY_VERDICT_BACKSCATTER: return "backscatter";
	case CLASSIFY_VERDICT_LEGIT: return "legit";
	case CLASSIFY_VERDICT_UNKNOWN: return "unknown";
	}
	return "unknown";
}

int classify_kind_is_backscatter(enum classify_kind kind)
{
	switch (kind) {
	case CLASSIFY_NDR_FAILED:
	case CLASSIFY_NDR_DELAYED:
	case CLASSIFY_DSN_SUCCESS:
	case CLASSIFY_AUTOREPLY:
	case CLASSIFY_CHALLENGE:
	case CLASSIFY_AV_NOTICE:
		return 1;
	default:
		return 0;
	}
}

/* classify_json_recipients - the "recipients" array */
static void classify_json_recipients(const struct classify_result *res,
				     struct strbuf *out)
{
	strbuf_puts(out, ",\"recipients\":[");
	for (size_t i = 0; i < res->recipient_count; i++) {
		const struct classify_recipient *r = &res->recipients[i];

		if (i > 0)
			strbuf_putc(out, ',');
		strbuf_putc(out, '{');
		json_append_member(out, 1, "address", r->address);
		json_append_member(out, 0, "status", r->status);
		json_append_member(out, 0, "action", r->action);
		json_append_member(out, 0, "diagnostic", r->diagnostic);
		json_append_member(out, 0, "remote_mta", r->remote_mta);
		strbuf_putc(out, '}');
	}
	strbuf_putc(out, ']');
}

/* classify_json_original - the "original" object */
static void classify_json_original(const struct classify_original *o,
				   struct strbuf *out)
{
	strbuf_puts(out, ",\"original\":{");
	json_append_member(out, 1, "message_id", o->message_id);
	json_append_member(out, 0, "from", o->from);
	json_append_member(out, 0, "to", o->to);
	json_append_member(out, 0, "subject", o->subject);
	json_append_member(out, 0, "date", o->date);
	strbuf_puts(out, ",\"received\":[");
	for (size_t i = 0; i < o->received_count; i++) {
		if (i > 0)
			strbuf_putc(out, ',');
		json_append_string(out, o->received[i]);
	}
	strbuf_puts(out, "]}");
}

void classify_result_json(const struct classify_result *result,
			  const char *file, struct strbuf *out)
{
	strbuf_putc(out, '{');
	json_append_member(out, 1, "file", file);
	json_append_member(out, 0, "kind", classify_kind_name(result->kind));
	json_append_member(out, 0, "reason", result->reason);
	classify_json_recipients(result, out);
	json_append_member(out, 0, "reporting_mta", result->reporting_mta);
	classify_json_original(&result->original, out);
	json_append_member(out, 0, "verdict",
			   classify_verdict_name(result->verdict));
	json_append_member(out, 0, "evidence", result->evidence);
	strbuf_putc(out, '}');
}
