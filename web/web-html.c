/*
 * web-html.c - the page frame, its style sheet, and HTML escaping
 *
 * Pages are small and built in C: markup is written with web_put(), and
 * everything else -- a subject, an address, a server's message, even our
 * own translated texts -- goes through web_text(), which escapes. The
 * style sheet is one inline <style> whose SHA-256 is in the
 * Content-Security-Policy, so no other style, script or resource can run
 * or load, and the page needs nothing from anywhere else.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "json.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char web_css[] =
	"body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;margin:0;background:#f3f4f6;color:#1f2937}"
	"main{max-width:46rem;margin:0 auto;padding:1rem}"
	"header{font-size:.85rem;color:#4b5563;margin:.2rem 0 .6rem}"
	"h1{font-size:1.35rem;margin:.2rem 0 1rem}"
	"h2{font-size:1.05rem;margin:1.2rem 0 .5rem}"
	".card{background:#fff;border:1px solid #d1d5db;border-radius:8px;"
	"padding:1rem;margin:0 0 1rem}"
	"dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;"
	"gap:.35rem .9rem;margin:0}"
	"dt{color:#4b5563}dd{margin:0;overflow-wrap:anywhere}"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.82rem;"
	"background:#f9fafb;border:1px solid #e5e7eb;padding:.6rem;"
	"border-radius:6px;max-height:22rem;overflow:auto;margin:0}"
	"button{font:inherit;padding:.6rem 1.1rem;border-radius:6px;"
	"border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;"
	"min-height:44px;cursor:pointer;margin:.25rem .4rem .25rem 0}"
	"button.alt{background:#fff;color:#1d4ed8}"
	".badge{display:inline-block;padding:0 .5rem;border-radius:1rem;"
	"font-size:.8rem;white-space:nowrap}"
	".legit{background:#dcfce7;color:#14532d}"
	".backscatter{background:#fee2e2;color:#7f1d1d}"
	".unknown{background:#e5e7eb;color:#374151}"
	".note{padding:.7rem 1rem;border-radius:6px;margin:0 0 1rem}"
	".ok{background:#dcfce7}.warn{background:#fef3c7}.err{background:#fee2e2}"
	"ul.items{list-style:none;padding:0;margin:0}"
	"ul.items li{border-top:1px solid #e5e7eb;padding:.6rem 0;display:flex;"
	"gap:.6rem;align-items:flex-start}"
	"ul.items li:first-child{border-top:0}"
	"ul.items label{flex:1;overflow-wrap:anywhere}"
	"input[type=checkbox]{width:1.3rem;height:1.3rem;margin-top:.15rem}"
	"fieldset{border:0;padding:0;margin:0 0 1rem}"
	"fieldset label{display:block;padding:.35rem 0}"
	"select{font:inherit;padding:.3rem}"
	"small,.muted{color:#4b5563}"
	"a{color:#1d4ed8}"
	"nav{display:flex;justify-content:space-between;gap:1rem;"
	"margin-top:.8rem}"
	"@media (max-width:30rem){dl{grid-template-columns:1fr}"
	"dt{margin-top:.4rem;font-size:.85rem}main{padding:.6rem}"
	".card{padding:.8rem}}";

/* web_csp_hash - "'sha256-BASE64'" of the style sheet */
void web_csp_hash(char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;

	EVP_Digest(web_css, strlen(web_css), md, &mdlen, EVP_sha256(), NULL);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	snprintf(out, size, "'sha256-%s'", (const char *)b64);
}

/*
 * web_html_escape_len - text as HTML: & < > " ' become entities; control
 * characters other than tab and newline are dropped and bytes that are
 * not UTF-8 become U+FFFD, so nothing a message carries can end a tag,
 * an attribute or the page's encoding
 */
void web_html_escape_len(struct strbuf *out, const char *s, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *entity;

		switch (c) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default:
			if (c >= 0x80) {
				size_t n = json_utf8_valid_len(
					(const unsigned char *)s + i, len - i);
				if (n > 0) {
					i += n - 1;
					continue;
				}
				/* not UTF-8 (undeclared 8-bit, a cut
				   sequence): U+FFFD, as the page's charset
				   promises nothing else */
				entity = "\xef\xbf\xbd";
				break;
			}
			if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n')
				continue;
			entity = "";	/* a control character: dropped */
		}
		/* copy the plain run before this character in one go */
		strbuf_append(out, s + run, i - run);
		strbuf_puts(out, entity);
		run = i + 1;
	}
	strbuf_append(out, s + run, len - run);
}

void web_html_escape(struct strbuf *out, const char *s)
{
	if (s != NULL)
		web_html_escape_len(out, s, strlen(s));
}

void web_put(struct web_request *req, const char *markup)
{
	strbuf_puts(&req->out, markup);
}

void web_text(struct web_request *req, const char *text)
{
	web_html_escape(&req->out, text);
}

void web_text_cut(struct web_request *req, const char *text, size_t max)
{
	size_t len = text != NULL ? strlen(text) : 0;

	if (len <= max) {
		web_html_escape_len(&req->out, text ? text : "", len);
		return;
	}
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	web_html_escape_len(&req->out, text, max);
	strbuf_puts(&req->out, "\xe2\x80\xa6");
}

void web_row(struct web_request *req, const char *label, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	web_put(req, "<dt>");
	web_text(req, label);
	web_put(req, "</dt><dd>");
	web_text_cut(req, value, WEB_ROW_MAX);
	web_put(req, "</dd>");
}

/* web_html_begin - doctype to <main>, with the page title */
void web_html_begin(struct web_request *req, const char *title)
{
	strbuf_printf(&req->out,
		      "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
		      "<meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,"
		      "initial-scale=1\">"
		      "<meta name=\"robots\" content=\"noindex,nofollow\">"
		      "<title>", web_lang_code(req->lang));
	web_text(req, title);
	web_put(req, " - ");
	web_text(req, web_text_get(req->lang, W_SITE));
	web_put(req, "</title><style>");
	web_put(req, web_css);
	web_put(req, "</style></head><body><main><header>");
	web_text(req, web_text_get(req->lang, W_SITE));
	web_put(req, "</header><h1>");
	web_text(req, title);
	web_put(req, "</h1>\n");
}

void web_html_end(struct web_request *req)
{
	web_put(req, "</main></body></html>\n");
}

/* the C library knows one time zone per process (TZ): a page that shows
   an owner's zone switches it and back under this lock */
static pthread_mutex_t web_zone_lock = PTHREAD_MUTEX_INITIALIZER;

/* web_html_date - a unix time in the server's zone, "2026-11-27 21:05 UTC" */
void web_html_date(struct strbuf *out, long long when)
{
	web_html_date_zone(out, when, NULL);
}

/* web_zone_valid - a zone name as in /usr/share/zoneinfo, and there */
int web_zone_valid(const char *zone)
{
	char path[128];
	size_t len = zone ? strlen(zone) : 0;

	if (len == 0 || len > 63 || zone[0] == '/' || zone[0] == '.' ||
	    strstr(zone, "..") != NULL ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789/_+-") != len)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", WEB_ZONEINFO, zone);
	return access(path, R_OK) == 0;
}

/* web_html_date_zone - the same in zone (NULL or "": the server's) */
void web_html_date_zone(struct strbuf *out, long long when, const char *zone)
{
	time_t t = (time_t)when;
	struct tm tm;
	char buf[80], old[128] = "";
	const char *env;
	int had, ok;

	pthread_mutex_lock(&web_zone_lock);
	env = getenv("TZ");
	had = env != NULL;
	if (had)
		snprintf(old, sizeof(old), "%s", env);
	if (zone != NULL && *zone != '\0') {
		setenv("TZ", zone, 1);
		tzset();
	}
	ok = localtime_r(&t, &tm) != NULL &&
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M %Z", &tm) > 0;
	if (zone != NULL && *zone != '\0') {
		if (had)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	pthread_mutex_unlock(&web_zone_lock);
	if (!ok)
		snprintf(buf, sizeof(buf), "%lld", when);
	strbuf_puts(out, buf);
}

/* web_html_error - a plain page for status that reveals nothing */
void web_html_error(struct web_request *req, unsigned int status)
{
	enum web_text title, text;

	switch (status) {
	case MHD_HTTP_FORBIDDEN:
		title = W_FORBIDDEN_TITLE;
		text = W_FORBIDDEN_TEXT;
		break;
	case MHD_HTTP_NOT_FOUND:
		title = W_NOTFOUND_TITLE;
		text = W_NOTFOUND_TEXT;
		break;
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		title = W_ERROR_TITLE;
		text = W_METHOD;
		break;
	case MHD_HTTP_UNAUTHORIZED:
		title = W_ERROR_TITLE;
		text = W_UNAUTHORIZED;
		break;
	case MHD_HTTP_CONTENT_TOO_LARGE:
	case MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE:
	case MHD_HTTP_URI_TOO_LONG:
		title = W_ERROR_TITLE;
		text = W_TOO_LARGE;
		break;
	case MHD_HTTP_TOO_MANY_REQUESTS:
		title = W_ERROR_TITLE;
		text = W_TOO_MANY;
		break;
	case MHD_HTTP_BAD_REQUEST:
	case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
		title = W_ERROR_TITLE;
		text = W_BAD_REQUEST;
		break;
	default:
		title = W_ERROR_TITLE;
		text = W_ERROR_TEXT;
		break;
	}
	strbuf_reset(&req->out);
	web_html_begin(req, T(title));
	web_put(req, "<p>");
	web_text(req, T(text));
	web_put(req, "</p>\n");
	web_html_end(req);
}
