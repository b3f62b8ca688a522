/*
 * web-stats.c - /admin/stats: what the quarantine saw, drawn as SVG
 *
 * NAME
 *	web_page_stats - the postmaster's statistics page
 * DESCRIPTION
 *	Behind the admin credentials, like /admin. Four graphs, each an
 *	inline <svg> drawn here, so the page needs no script, no style
 *	but the page's own sheet and nothing from elsewhere (the same
 *	Content-Security-Policy as every page; colours are presentation
 *	attributes):
 *
 *	- bounces held per hour over the last 48 hours and per day over
 *	  the last 30, each bar stacked by the message's state now (held,
 *	  released, deleted, expired): one <rect class="seg"> per non-empty
 *	  state of a bar;
 *	- storms going on or ended in the last 7 days on a timeline, one
 *	  <rect class="storm"> each (at most 20, the newest);
 *	- the 10 most targeted mailboxes of the last 30 days, one
 *	  <rect class="top"> each.
 *
 *	Times are UTC, buckets aligned to whole hours and days. Every text
 *	from the database is escaped, its invalid UTF-8 replaced, so each
 *	<svg> is well-formed XML as well as HTML.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define STATS_STATES 4
#define STATS_MAX_BUCKETS 48
#define STATS_STORMS 20
#define STATS_TOP 10
#define STATS_W 720		/* every graph's viewBox width */

static const char *const stats_states[STATS_STATES] = {
	"held", "released", "deleted", "expired"
};
static const enum web_text stats_state_words[STATS_STATES] = {
	W_STATS_S_HELD, W_STATS_S_RELEASED, W_STATS_S_DELETED, W_STATS_S_EXPIRED
};
static const char *const stats_fill[STATS_STATES] = {
	"#dc2626", "#16a34a", "#6b7280", "#cbd5e1"
};

struct stats_series {
	long long start;
	unsigned int step, buckets;
	long long n[STATS_MAX_BUCKETS][STATS_STATES];
};

struct stats_storms {
	struct store_storm_row rows[STATS_STORMS];
	char mailbox[STATS_STORMS][128];
	unsigned int count;
};

struct stats_top {
	char name[STATS_TOP][128];
	long long n[STATS_TOP];
	unsigned int count;
};

/* stats_copy - s into a buffer of size bytes, cut at a character */
static void stats_copy(char *out, size_t size, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= size) {
		len = size - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	if (len > 0)
		memcpy(out, s, len);
	out[len] = '\0';
}

static void stats_svg_text(struct strbuf *out, const char *s);

/* stats_label - s cut to max characters, an ellipsis when cut: the
   label area of a graph is fixed (its <title> has the whole text) */
static void stats_label(struct strbuf *out, const char *s, unsigned int max)
{
	char cut[128];
	size_t len = 0;
	unsigned int chars = 0;

	while (s[len] != '\0' && chars < max) {
		len++;
		while (((unsigned char)s[len] & 0xc0) == 0x80)
			len++;
		chars++;
	}
	if (s[len] == '\0' || len >= sizeof(cut)) {
		stats_svg_text(out, s);
		return;
	}
	/* one character less, for the ellipsis */
	while (len > 0 && ((unsigned char)s[--len] & 0xc0) == 0x80)
		;
	memcpy(cut, s, len);
	cut[len] = '\0';
	stats_svg_text(out, cut);
	strbuf_puts(out, "\xe2\x80\xa6");
}

/*
 * stats_svg_text - text for SVG (XML): escaped, control characters
 * dropped, a byte that does not start a valid UTF-8 sequence made '?'
 */
static void stats_svg_text(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p != '\0') {
		size_t n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2
			: *p >= 0xe0 && *p <= 0xef ? 3
			: *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
		size_t i;

		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		if (n == 0 || i < n) {
			strbuf_putc(out, '?');
			p++;
			continue;
		}
		web_html_escape_len(out, (const char *)p, n);
		p += n;
	}
}

/* the ways a time is written on the page, all UTC */
enum stats_fmt {
	STATS_HOUR,		/* "14:00", under an hourly bar */
	STATS_DAY,		/* "11-27", under a daily bar */
	STATS_HOUR_FULL,	/* "2026-11-27 14:00 UTC" */
	STATS_DAY_FULL,		/* "2026-11-27" */
	STATS_MINUTE,		/* "2026-11-27 14:05" */
};

static void stats_time(char *buf, size_t size, long long when,
		       enum stats_fmt fmt)
{
	time_t t = (time_t)when;
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&t, &tm) != NULL) {
		switch (fmt) {
		case STATS_HOUR:
			n = strftime(buf, size, "%H:00", &tm);
			break;
		case STATS_DAY:
			n = strftime(buf, size, "%m-%d", &tm);
			break;
		case STATS_HOUR_FULL:
			n = strftime(buf, size, "%Y-%m-%d %H:00 UTC", &tm);
			break;
		case STATS_DAY_FULL:
			n = strftime(buf, size, "%Y-%m-%d", &tm);
			break;
		case STATS_MINUTE:
			n = strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
			break;
		}
	}
	if (n == 0)
		snprintf(buf, size, "%lld", when);
}

/* stats_scale - a round top for the y axis: 1, 2 or 5 times 10^k */
static long long stats_scale(long long max)
{
	long long unit = 1;

	for (;;) {
		if (max <= unit)
			return unit;
		if (max <= 2 * unit)
			return 2 * unit;
		if (max <= 5 * unit)
			return 5 * unit;
		unit *= 10;
	}
}

static int stats_series_row(long long bucket, const char *state,
			    long long count, void *context)
{
	struct stats_series *s = context;
	long long i = (bucket - s->start) / (long long)s->step;

	if (i < 0 || i >= (long long)s->buckets)
		return 0;
	/* a claim being handed on (or in doubt) is not released yet */
	if (strcmp(state, "releasing") == 0)
		state = "held";
	for (int k = 0; k < STATS_STATES; k++)
		if (strcmp(state, stats_states[k]) == 0)
			s->n[i][k] += count;
	return 0;
}

static int stats_storm_row(const struct store_storm_row *row, void *context)
{
	struct stats_storms *s = context;

	if (s->count >= STATS_STORMS)
		return -1;
	s->rows[s->count] = *row;
	stats_copy(s->mailbox[s->count], sizeof(s->mailbox[0]), row->mailbox);
	s->rows[s->count].mailbox = NULL;
	s->count++;
	return 0;
}

static int stats_top_row(const char *name, const char *state, long long n,
			 void *context)
{
	struct stats_top *t = context;

	if (t->count >= STATS_TOP)
		return -1;
	stats_copy(t->name[t->count], sizeof(t->name[0]), name);
	t->n[t->count++] = n;
	return 0;
}

/* stats_svg_begin - the figure, its caption and the <svg> element */
static void stats_svg_begin(struct web_request *req, const char *id,
			    const char *caption, int height)
{
	web_put(req, "<figure class=\"card\"><figcaption><h2>");
	web_text(req, caption);
	web_put(req, "</h2></figcaption>\n");
	strbuf_printf(&req->out, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
		      "id=\"%s\" viewBox=\"0 0 %d %d\" width=\"100%%\" "
		      "role=\"img\" font-family=\"sans-serif\" "
		      "font-size=\"11\" fill=\"#374151\" aria-label=\"", id,
		      STATS_W, height);
	web_text(req, caption);
	web_put(req, "\">\n");
}

static void stats_svg_end(struct web_request *req)
{
	web_put(req, "</svg></figure>\n");
}

/* stats_empty - the "nothing" line inside an empty graph */
static void stats_empty(struct web_request *req, int y)
{
	strbuf_printf(&req->out, "<text class=\"empty\" x=\"%d\" y=\"%d\" "
		      "text-anchor=\"middle\">", STATS_W / 2, y);
	stats_svg_text(&req->out, T(W_STATS_NONE));
	web_put(req, "</text>\n");
}

/*
 * stats_bars - a stacked bar graph of a series; label_every buckets get
 * a time below the axis in label_fmt, each segment a title in title_fmt
 */
static void stats_bars(struct web_request *req, const char *id,
		       const char *caption, const struct stats_series *s,
		       unsigned int label_every, enum stats_fmt label_fmt,
		       enum stats_fmt title_fmt)
{
	const int left = 44, right = 8, top = 10, height = 200, total_h = 262;
	const double bw = (double)(STATS_W - left - right) / s->buckets;
	long long max = 0, scale;
	char when[64];

	for (unsigned int i = 0; i < s->buckets; i++) {
		long long sum = 0;

		for (int k = 0; k < STATS_STATES; k++)
			sum += s->n[i][k];
		if (sum > max)
			max = sum;
	}
	scale = stats_scale(max);
	stats_svg_begin(req, id, caption, total_h);
	/* the y axis: 0, half and the top, with grid lines */
	for (int g = 0; g <= 2; g++) {
		double y = top + height - height * g / 2.0;

		strbuf_printf(&req->out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
			      "y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
			      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
			      "%lld</text>\n", left, STATS_W - right, y, y,
			      left - 4, y + 4, scale * g / 2);
	}
	for (unsigned int i = 0; i < s->buckets; i++) {
		long long start = s->start + (long long)i * s->step;
		double x = left + bw * i, y = top + height;

		for (int k = 0; k < STATS_STATES; k++) {
			double h;

			if (s->n[i][k] == 0)
				continue;
			h = (double)height * (double)s->n[i][k] / (double)scale;
			y -= h;
			stats_time(when, sizeof(when), start, title_fmt);
			strbuf_printf(&req->out, "<rect class=\"seg\" "
				      "data-state=\"%s\" data-count=\"%lld\" "
				      "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				      "height=\"%.1f\" fill=\"%s\"><title>",
				      stats_states[k], s->n[i][k], x + 1, y,
				      bw > 3 ? bw - 2 : bw, h, stats_fill[k]);
			stats_svg_text(&req->out, when);
			web_put(req, ": ");
			stats_svg_text(&req->out, T(stats_state_words[k]));
			strbuf_printf(&req->out, " %lld</title></rect>\n",
				      s->n[i][k]);
		}
		if (i % label_every == 0) {
			stats_time(when, sizeof(when), start, label_fmt);
			strbuf_printf(&req->out, "<text x=\"%.1f\" y=\"%d\" "
				      "text-anchor=\"middle\">", x + bw / 2,
				      top + height + 14);
			stats_svg_text(&req->out, when);
			web_put(req, "</text>\n");
		}
	}
	if (max == 0)
		stats_empty(req, top + height / 2);
	/* the legend */
	for (int k = 0; k < STATS_STATES; k++) {
		int x = left + k * 130;

		strbuf_printf(&req->out, "<rect class=\"key\" x=\"%d\" y=\"%d\" "
			      "width=\"10\" height=\"10\" fill=\"%s\"/>"
			      "<text x=\"%d\" y=\"%d\">", x, total_h - 14,
			      stats_fill[k], x + 14, total_h - 5);
		stats_svg_text(&req->out, T(stats_state_words[k]));
		web_put(req, "</text>\n");
	}
	stats_svg_end(req);
}

/* stats_timeline - storms as bars over the last 7 days */
static void stats_timeline(struct web_request *req,
			   const struct stats_storms *s, long long since)
{
	const int left = 210, right = 10, row = 22, top = 8;
	const int total_h = top + row * (int)(s->count ? s->count : 1) + 24;
	const double span = (double)(req->now - since);
	const double w = STATS_W - left - right;
	char when[64], from[64], to[64];

	stats_svg_begin(req, "storms", T(W_STATS_STORMS), total_h);
	for (int d = 0; d <= 7; d++) {
		double x = left + w * d / 7.0;

		stats_time(when, sizeof(when), since + d * 86400LL, STATS_DAY);
		strbuf_printf(&req->out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\""
			      " y2=\"%d\" stroke=\"#e5e7eb\"/><text x=\"%.1f\" "
			      "y=\"%d\" text-anchor=\"%s\">%s</text>\n", x, x,
			      top, total_h - 20, x, total_h - 6,
			      d == 7 ? "end" : "middle", when);
	}
	for (unsigned int i = 0; i < s->count; i++) {
		const struct store_storm_row *r = &s->rows[i];
		long long a = r->started > since ? r->started : since;
		long long b = r->ended ? r->ended : req->now;
		double x = left + w * (double)(a - since) / span;
		double bw = w * (double)(b - a) / span;
		int y = top + row * (int)i;

		/* a clock that went back must not draw outside the graph */
		if (x > left + w - 2)
			x = left + w - 2;
		if (bw < 2)
			bw = 2;
		if (x + bw > left + w)
			bw = left + w - x;
		web_put(req, "<text x=\"4\" y=\"");
		strbuf_printf(&req->out, "%d\">", y + 15);
		stats_label(&req->out, s->mailbox[i], 32);
		web_put(req, "</text>\n");
		stats_time(from, sizeof(from), r->started, STATS_MINUTE);
		if (r->ended)
			stats_time(to, sizeof(to), r->ended, STATS_MINUTE);
		else
			stats_copy(to, sizeof(to), T(W_STATS_ACTIVE));
		strbuf_printf(&req->out, "<rect class=\"storm\" data-count="
			      "\"%lld\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			      "height=\"%d\" rx=\"3\" fill=\"%s\"><title>",
			      r->count, x, y + 3, bw, row - 6,
			      r->ended ? "#9ca3af" : "#dc2626");
		stats_svg_text(&req->out, s->mailbox[i]);
		strbuf_printf(&req->out, ": %lld, %s UTC - ", r->count, from);
		stats_svg_text(&req->out, to);
		web_put(req, "</title></rect>\n");
	}
	if (s->count == 0)
		stats_empty(req, top + 15);
	stats_svg_end(req);
}

/* stats_top_bars - the most targeted mailboxes, longest bar first */
static void stats_top_bars(struct web_request *req, const struct stats_top *t)
{
	const int left = 260, right = 60, row = 22, top = 6;
	const int total_h = top + row * (int)(t->count ? t->count : 1) + 6;
	const double w = STATS_W - left - right;
	long long max = t->count ? t->n[0] : 1;

	stats_svg_begin(req, "top", T(W_STATS_TOP), total_h);
	for (unsigned int i = 0; i < t->count; i++) {
		int y = top + row * (int)i;
		double bw = max > 0 ? w * (double)t->n[i] / (double)max : 0;

		web_put(req, "<text x=\"4\" y=\"");
		strbuf_printf(&req->out, "%d\">", y + 15);
		stats_label(&req->out, t->name[i], 40);
		strbuf_printf(&req->out, "</text>\n<rect class=\"top\" "
			      "data-count=\"%lld\" x=\"%d\" y=\"%d\" "
			      "width=\"%.1f\" height=\"%d\" fill=\"#1d4ed8\">"
			      "<title>", t->n[i], left, y + 3,
			      bw < 1 ? 1 : bw, row - 6);
		stats_svg_text(&req->out, t->name[i]);
		strbuf_printf(&req->out, ": %lld</title></rect><text x=\"%.1f\" "
			      "y=\"%d\">%lld</text>\n", t->n[i],
			      left + bw + 4, y + 15, t->n[i]);
	}
	if (t->count == 0)
		stats_empty(req, top + 15);
	stats_svg_end(req);
}

/* stats_load - read everything the page shows; -1 with *error_r */
static int stats_load(struct store *st, struct web_request *req,
		      struct stats_series *hours, struct stats_series *days,
		      struct stats_storms *storms, struct stats_top *top,
		      long long storm_since, const char **error_r)
{
	struct store_calm calm = { req->now, req->server->storm_cooldown };

	hours->step = 3600;
	hours->buckets = 48;
	hours->start = (req->now / 3600 - 47) * 3600;
	days->step = 86400;
	days->buckets = 30;
	days->start = (req->now / 86400 - 29) * 86400;
	if (store_stats_series(st, hours->start, hours->step,
				stats_series_row, hours, error_r) < 0 ||
	    store_stats_series(st, days->start, days->step,
				stats_series_row, days, error_r) < 0 ||
	    store_storm_since(st, &calm, storm_since, STATS_STORMS,
			       stats_storm_row, storms, error_r) < 0 ||
	    store_stats_top(st, 0, days->start, STATS_TOP, stats_top_row,
			     top, error_r) < 0)
		return -1;
	return 0;
}

struct stats_data {
	struct stats_series hours, days;
	struct stats_storms storms;
	struct stats_top top;
};

void web_page_stats(struct web_request *req)
{
	struct web_server *server = req->server;
	long long storm_since = req->now - 7 * 86400LL;
	struct stats_data *d;
	struct store *st;
	const char *err;

	if (server->admin_user == NULL || server->admin_password_hash == NULL) {
		req->status = MHD_HTTP_NOT_FOUND;
		return;
	}
	if (!web_login_auth(req))
		return;
	if (req->is_post) {
		req->status = MHD_HTTP_METHOD_NOT_ALLOWED;
		return;
	}
	if ((st = web_thread_store(req, &err)) == NULL) {
		log_warning("http: stats: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return;
	}
	d = xcalloc(1, sizeof(*d));
	if (stats_load(st, req, &d->hours, &d->days, &d->storms, &d->top,
		       storm_since, &err) < 0) {
		log_warning("http: stats: %s", err);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		free(d);
		return;
	}
	web_html_begin(req, T(W_STATS_TITLE));
	stats_bars(req, "hourly", T(W_STATS_HOURLY), &d->hours, 6, STATS_HOUR,
		   STATS_HOUR_FULL);
	stats_bars(req, "daily", T(W_STATS_DAILY), &d->days, 5, STATS_DAY,
		   STATS_DAY_FULL);
	stats_timeline(req, &d->storms, storm_since);
	stats_top_bars(req, &d->top);
	web_put(req, "<p class=\"muted\"><a href=\"/admin\">");
	web_text(req, T(W_ADMIN_TITLE));
	web_put(req, "</a> &middot; <small>UTC</small></p>\n");
	web_html_end(req);
	free(d);
}
