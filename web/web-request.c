/*
 * web-request.c - what a page reads from its request
 *
 * This module implements the helpers every page uses on the request
 * web-server.c has read whole: query arguments, headers, the fields of
 * a urlencoded form, and the same-origin check of a POST. It calls no
 * page and no other web file, so the pages depend on it and never on
 * the server.
 */
#include "autoconfig.h"
#include "web-private.h"

#include "xalloc.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

/* web_request_arg - a query argument, or NULL */
const char *web_request_arg(struct web_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* web_request_header - a request header, or NULL */
const char *web_request_header(struct web_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* web_request_field - the first value of a form field, or NULL */
const char *web_request_field(const struct web_request *req, const char *name)
{
	for (size_t i = 0; i < req->field_count; i++)
		if (strcmp(req->fields[i].name, name) == 0)
			return req->fields[i].value;
	return NULL;
}

/* web_request_decode - application/x-www-form-urlencoded text to bytes */
static char *web_request_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < len &&
			   strbuf_hexval(s[i + 1]) >= 0 && strbuf_hexval(s[i + 2]) >= 0) {
			char c = (char)(strbuf_hexval(s[i + 1]) << 4 | strbuf_hexval(s[i + 2]));

			*o++ = c == '\0' ? ' ' : c;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* web_request_parse_form - the fields of a urlencoded body, in order */
void web_request_parse_form(struct web_request *req, const char *body, size_t len)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (stop > p && req->field_count < 1024) {
			struct web_field *f;

			req->fields = xrealloc(req->fields,
				(req->field_count + 1) * sizeof(*req->fields));
			f = &req->fields[req->field_count++];
			f->name = web_request_decode(p, (size_t)((eq ? eq : stop) - p));
			f->value = eq ? web_request_decode(eq + 1,
						(size_t)(stop - eq - 1))
				: xstrdup("");
		}
		p = stop + 1;
	}
}

/*
 * web_request_same_origin - did this POST come from one of our pages? Browsers
 * say where a request comes from in Sec-Fetch-Site and Origin; Origin is
 * "null" for our own forms, as the pages are served with
 * Referrer-Policy: no-referrer. A client that sends neither (curl, a
 * mail client's one-click unsubscribe) is let through: the token and the
 * anti-forgery field are what protect the action.
 */
int web_request_same_origin(struct web_request *req)
{
	const char *site = web_request_header(req, "Sec-Fetch-Site");
	const char *origin = web_request_header(req, "Origin");
	const char *host = web_request_header(req, "Host");

	if (site != NULL && (strcasecmp(site, "cross-site") == 0 ||
			     strcasecmp(site, "same-site") == 0))
		return 0;
	if (origin == NULL || strcmp(origin, "null") == 0)
		return 1;
	if (strcasecmp(origin, req->server->origin) == 0)
		return 1;
	if (host != NULL) {
		const char *rest = NULL;

		if (strncasecmp(origin, "http://", 7) == 0)
			rest = origin + 7;
		else if (strncasecmp(origin, "https://", 8) == 0)
			rest = origin + 8;
		if (rest != NULL && strcasecmp(rest, host) == 0)
			return 1;
	}
	return 0;
}
