/*
 * web-server.c - the release page's HTTP server on libmicrohttpd
 *
 * NAME
 *	web_server_start, web_server_stop - serve the release page
 * DESCRIPTION
 *	libmicrohttpd runs a pool of http_threads threads, each with its own
 *	epoll loop on the shared listening socket and, opened on first use,
 *	its own connection to the quarantine database (an SQLite connection
 *	is used by one thread at a time).
 *
 *	Limits, all from ndrguard.conf(5): connections in all and per client
 *	address, an idle timeout (libmicrohttpd's, which every byte
 *	restarts), a deadline for the whole request (http_request_timeout:
 *	a thread of ours shuts down the sockets of clients that trickle),
 *	the size of a request's headers and body, and a per-address token
 *	bucket of http_rate_limit requests a minute. A request over a limit
 *	gets our own error page, with the same security headers as every
 *	other answer; only headers larger than the connection's whole
 *	memory budget are refused by libmicrohttpd itself.
 *
 *	A request is read whole, then routed by path to a page; pages never
 *	change anything on GET or HEAD.
 */
#include "autoconfig.h"
#include "web.h"
#include "web-private.h"
#include "config.h"
#include "endpoint.h"
#include "log.h"
#include "store.h"
#include "token.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WEB_RATE_SLOTS 4096
/* bytes of SO_SNDBUF per connection (the kernel doubles it) */
#define WEB_SEND_BUFFER (64 * 1024)

/* a token bucket per client address (direct-mapped by hash: two
   addresses that share a slot share a bucket, erring on the strict side) */
struct web_rate_slot {
	char addr[64];
	double tokens;
	double last;
};

struct web_rate {
	pthread_mutex_t lock;
	double per_second;
	double burst;
	struct web_rate_slot slots[WEB_RATE_SLOTS];
};

static void web_settings_lock_init(struct web_server *server);

static double web_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* web_rate_allow - take a token from addr's bucket; 0 if it is empty */
static int web_rate_allow(struct web_rate *rate, const char *addr)
{
	unsigned int h = 2166136261u;
	struct web_rate_slot *slot;
	double now = web_monotonic();
	int ok;

	if (rate == NULL)
		return 1;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		h = (h ^ *p) * 16777619u;
	slot = &rate->slots[h % WEB_RATE_SLOTS];
	pthread_mutex_lock(&rate->lock);
	if (strcmp(slot->addr, addr) != 0 &&
	    (slot->addr[0] == '\0' || now - slot->last > 60)) {
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->tokens = rate->burst;
		slot->last = now;
	}
	slot->tokens += (now - slot->last) * rate->per_second;
	if (slot->tokens > rate->burst)
		slot->tokens = rate->burst;
	slot->last = now;
	ok = slot->tokens >= 1;
	if (ok)
		slot->tokens -= 1;
	pthread_mutex_unlock(&rate->lock);
	return ok;
}

/* web_address - the client's address of conn as text, or "local" */
static void web_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, size, "local");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr,
			  buf, (socklen_t)size);
}

/*
 * web_conn_admit - count a new connection against its client's address
 * and network; one over a limit is shut down at once, unanswered, as
 * libmicrohttpd's own limits do. A trusted proxy's connections are
 * counted per request instead, for the client the proxy names.
 */
static void web_conn_admit(struct web_server *server,
			   struct MHD_Connection *conn, struct web_conn *wc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	int sndbuf = WEB_SEND_BUFFER;

	/* the kernel's share of an unread answer: on loopback it would
	   otherwise grow to megabytes per connection */
	if (wc->fd >= 0)
		setsockopt(wc->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
			   sizeof(sndbuf));
	wc->via_proxy = web_client_peer(server->admission,
					ci != NULL ? ci->client_addr : NULL,
					&wc->peer);
	snprintf(wc->client, sizeof(wc->client), "%s", wc->peer.addr);
	if (wc->via_proxy ||
	    web_admission_enter(server->admission, &wc->peer) == 0)
		return;
	wc->cut = 1;
	if (wc->fd >= 0)
		shutdown(wc->fd, SHUT_RDWR);
}

/* web_conn_notify - keep the list of open connections for the sweep */
static void web_conn_notify(void *cls, struct MHD_Connection *conn,
			    void **socket_context,
			    enum MHD_ConnectionNotificationCode toe)
{
	struct web_server *server = cls;
	struct web_conn *wc = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		wc = xcalloc(1, sizeof(*wc));
		wc->fd = ci != NULL ? ci->connect_fd : -1;
		wc->start = web_monotonic();
		web_conn_admit(server, conn, wc);
		pthread_mutex_lock(&server->conns_lock);
		wc->next = server->conns;
		if (wc->next != NULL)
			wc->next->prev = wc;
		server->conns = wc;
		pthread_mutex_unlock(&server->conns_lock);
		*socket_context = wc;
		return;
	}
	if (wc == NULL)
		return;
	pthread_mutex_lock(&server->conns_lock);
	if (wc->prev != NULL)
		wc->prev->next = wc->next;
	else
		server->conns = wc->next;
	if (wc->next != NULL)
		wc->next->prev = wc->prev;
	pthread_mutex_unlock(&server->conns_lock);
	web_admission_leave(server->admission, &wc->peer);
	free(wc);
	*socket_context = NULL;
}

/*
 * web_conn_mark - the request on conn is read whole (complete 1: the
 * deadline no longer applies), or it is done and the next one on the
 * connection begins its wait (complete 0)
 */
static void web_conn_mark(struct web_server *server,
			  struct MHD_Connection *conn, int complete)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct web_conn *wc = ci != NULL ? ci->socket_context : NULL;

	if (wc == NULL)
		return;
	pthread_mutex_lock(&server->conns_lock);
	wc->complete = complete;
	if (!complete)
		wc->start = web_monotonic();
	pthread_mutex_unlock(&server->conns_lock);
}

/*
 * web_sweep_main - five times a second, shut down the socket of each
 * connection whose request is still not read whole after
 * http_request_timeout. libmicrohttpd's own timeout restarts with every
 * byte, so a client trickling its request would keep it; the shut-down
 * socket reads as closed, and libmicrohttpd closes the connection in its
 * own thread. The list lock is held across shutdown(): a connection is
 * unlinked, under that lock, before its socket is closed, so the
 * descriptor cannot have been reused.
 */
static void *web_sweep_main(void *arg)
{
	struct web_server *server = arg;
	struct timespec ts;

	pthread_mutex_lock(&server->conns_lock);
	while (!server->sweep_stop) {
		double now = web_monotonic();

		for (struct web_conn *wc = server->conns; wc; wc = wc->next) {
			if (wc->complete || wc->cut || wc->fd < 0 ||
			    now - wc->start < server->request_timeout)
				continue;
			wc->cut = 1;
			shutdown(wc->fd, SHUT_RDWR);
			log_info("http: %s: request not complete after %us "
				 "(http_request_timeout), connection closed",
				 wc->client, server->request_timeout);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000 * 1000 * 1000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000 * 1000 * 1000;
		}
		pthread_cond_timedwait(&server->sweep_cond,
				       &server->conns_lock, &ts);
	}
	pthread_mutex_unlock(&server->conns_lock);
	return NULL;
}

/* web_sweep_init - the sweep's lock, and its wake-up on the monotonic clock */
static void web_sweep_init(struct web_server *server, unsigned int timeout)
{
	pthread_condattr_t attr;

	server->request_timeout = timeout;
	pthread_mutex_init(&server->conns_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&server->sweep_cond, &attr);
	pthread_condattr_destroy(&attr);
}

static int web_sweep_start(struct web_server *server, const char **error_r)
{
	if (pthread_create(&server->sweep_thread, NULL, web_sweep_main,
			   server) != 0) {
		*error_r = "cannot start the request deadline thread";
		return -1;
	}
	server->sweep_running = 1;
	return 0;
}

static void web_sweep_stop(struct web_server *server)
{
	if (!server->sweep_running)
		return;
	pthread_mutex_lock(&server->conns_lock);
	server->sweep_stop = 1;
	pthread_cond_signal(&server->sweep_cond);
	pthread_mutex_unlock(&server->conns_lock);
	pthread_join(server->sweep_thread, NULL);
	server->sweep_running = 0;
}

/* web_conn_of - our state of the request's connection, or NULL */
static struct web_conn *web_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * web_client_address - who sent the request: the peer, or the client a
 * trusted proxy names in X-Forwarded-For (the peer itself when the
 * header names nobody). Through a proxy, the request counts against
 * that client's connection limits; 0, or -1 when it is over them.
 */
static int web_client_address(struct web_request *req)
{
	struct web_server *server = req->server;
	struct web_conn *wc = web_conn_of(req->conn);
	const char *xff;

	if (wc == NULL) {
		web_address(req->conn, req->client, sizeof(req->client));
		snprintf(req->who.addr, sizeof(req->who.addr), "%s",
			 req->client);
		snprintf(req->who.net, sizeof(req->who.net), "%s",
			 req->client);
		return 0;
	}
	req->who = wc->peer;
	req->who.counted = 0;
	req->who.reserved = 0;
	if (wc->via_proxy) {
		xff = web_request_header(req, "X-Forwarded-For");
		req->via_proxy = web_client_forwarded(server->admission, xff,
						      &req->who) == 0;
		pthread_mutex_lock(&server->conns_lock);
		snprintf(wc->client, sizeof(wc->client), "%s", req->who.addr);
		pthread_mutex_unlock(&server->conns_lock);
	}
	snprintf(req->client, sizeof(req->client), "%s", req->who.addr);
	if (wc->via_proxy)
		return web_admission_enter(server->admission, &req->who);
	return 0;
}

/* web_server_has_body - does the request announce a body to read? */
static int web_server_has_body(struct web_request *req)
{
	const char *clen = web_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (clen != NULL && strtoull(clen, NULL, 10) > 0) ||
		web_request_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

struct web_header_size {
	size_t total;
	unsigned int count;
};

static enum MHD_Result web_count_header(void *cls, enum MHD_ValueKind kind,
					const char *key, const char *value)
{
	struct web_header_size *hs = cls;

	hs->total += strlen(key) + (value ? strlen(value) : 0) + 4;
	hs->count++;
	return MHD_YES;
}

/* web_server_request_new - the request's state, and what its headers decide */
static struct web_request *web_server_request_new(struct web_server *server,
					   struct MHD_Connection *conn,
					   const char *url, const char *method,
					   int metrics_only)
{
	struct web_request *req = xcalloc(1, sizeof(*req));
	struct web_header_size hs = { 0, 0 };
	const char *clen;
	int over;

	req->server = server;
	req->conn = conn;
	req->metrics_only = metrics_only;
	req->method = method;
	req->path = url;
	/* the path arrives percent-decoded: never let it end a log line */
	for (size_t i = 0; url[i] != '\0' && i + 1 < sizeof(req->log_path);
	     i++) {
		unsigned char c = (unsigned char)url[i];

		req->log_path[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	req->now = (long long)time(NULL);
	req->is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	strbuf_init(&req->body);
	strbuf_init(&req->out);
	over = web_client_address(req) < 0;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, web_count_header, &hs);
	clen = web_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 && !req->is_post)
		req->status = MHD_HTTP_METHOD_NOT_ALLOWED;
	else if (over || !web_rate_allow(server->rate, req->client))
		req->status = MHD_HTTP_TOO_MANY_REQUESTS;
	else if (hs.total + strlen(url) > server->request_size_limit ||
		 hs.count > 100)
		req->status = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
	else if (clen != NULL && strtoull(clen, NULL, 10) >
		 server->request_size_limit)
		req->status = MHD_HTTP_CONTENT_TOO_LARGE;
	return req;
}

static void web_server_request_free(struct web_request *req)
{
	web_admission_release(req->server->admission, &req->who);
	web_admission_leave(req->server->admission, &req->who);
	for (size_t i = 0; i < req->field_count; i++) {
		free(req->fields[i].name);
		free(req->fields[i].value);
	}
	free(req->fields);
	strbuf_free(&req->body);
	strbuf_free(&req->out);
	free(req);
}

/*
 * web_parse_one_click - RFC 8058 allows the one-click unsubscribe POST as
 * multipart/form-data too: find its one field, List-Unsubscribe=One-Click
 */
static void web_parse_one_click(struct web_request *req)
{
	static const char name[] = "name=\"List-Unsubscribe\"";
	const char *body = strbuf_cstr(&req->body);
	const char *p = memmem(body, req->body.len, name, sizeof(name) - 1);
	const char *end = body + req->body.len;

	if (p == NULL)
		return;
	p += sizeof(name) - 1;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n') {
			p++;
			break;
		}
	}
	if (p != NULL && end - p >= 9 && strncmp(p, "One-Click", 9) == 0)
		web_request_parse_form(req, "List-Unsubscribe=One-Click", 26);
}

/* web_route - run the page for the request's path */
static void web_route(struct web_request *req)
{
	const char *path = req->path;

	if (req->metrics_only) {
		if (strcmp(path, "/metrics") == 0)
			web_page_metrics(req);
		else
			req->status = MHD_HTTP_NOT_FOUND;
		return;
	}
	if (req->is_post) {
		const char *type = web_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);

		if (type != NULL && strcmp(path, "/unsubscribe") == 0 &&
		    strncasecmp(type, "multipart/form-data", 19) == 0) {
			web_parse_one_click(req);
		} else if (type == NULL || strncasecmp(type,
			   "application/x-www-form-urlencoded", 33) != 0) {
			req->status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
			return;
		} else {
			web_request_parse_form(req, strbuf_cstr(&req->body),
				       req->body.len);
		}
	}
	if (strncmp(path, "/item/", 6) == 0)
		web_page_item(req, path + 6);
	else if (strcmp(path, "/mailbox") == 0)
		web_page_mailbox(req);
	else if (strcmp(path, "/settings") == 0)
		web_page_settings(req, 0);
	else if (strcmp(path, "/unsubscribe") == 0)
		web_page_settings(req, 1);
	else if (strcmp(path, "/admin") == 0)
		web_page_admin(req);
	else if (strcmp(path, "/admin/stats") == 0)
		web_page_stats(req);
	else if (strcmp(path, "/metrics") == 0)
		web_page_metrics(req);
	else if (strcmp(path, "/") == 0 && !req->is_post)
		web_page_home(req);
	else
		req->status = MHD_HTTP_NOT_FOUND;
}

/* web_add_headers - what every answer carries */
static void web_add_headers(struct web_request *req,
			    struct MHD_Response *resp)
{
	char csp[400];

	snprintf(csp, sizeof(csp),
		 "default-src 'none'; style-src %s; form-action 'self'; "
		 "frame-ancestors 'none'; base-uri 'none'", req->server->csp);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		req->content_type ? req->content_type
				  : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
				"same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
				"same-origin");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	MHD_add_response_header(resp, "Content-Language",
				web_lang_code(req->lang));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Language");
	if (strncmp(req->server->base_url, "https:", 6) == 0)
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=31536000");
	if (req->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					"GET, HEAD, POST");
	if (req->status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "60");
	if (req->status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "5");
}

static enum MHD_Result web_respond(struct web_request *req)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *data;

	if (req->status == 0)
		req->status = MHD_HTTP_OK;
	if (req->status >= 400 && req->out.len == 0)
		web_html_error(req, req->status);
	/* an answer stays in memory until the client has read it */
	if (web_admission_reserve(req->server->admission, &req->who,
				  req->out.len) < 0) {
		strbuf_reset(&req->out);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		req->content_type = NULL;
		req->www_authenticate = 0;
		web_html_error(req, req->status);
		web_admission_reserve(req->server->admission, &req->who,
				      req->out.len);
	}
	len = req->out.len;
	data = strbuf_steal(&req->out);
	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(data);
		return MHD_NO;
	}
	web_add_headers(req, resp);
	if (req->www_authenticate)
		ret = MHD_queue_basic_auth_fail_response(req->conn,
							 "ndrguard admin", resp);
	else
		ret = MHD_queue_response(req->conn, req->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * web_answer - route the request (route 0: it was refused already) and
 * respond, under the settings lock: a reload waits for the answers in
 * progress, and an answer sees one version of the settings
 */
static enum MHD_Result web_answer(struct web_request *req, int route)
{
	struct web_server *server = req->server;
	enum MHD_Result ret;

	pthread_rwlock_rdlock(&server->settings_lock);
	req->lang = web_lang_accept(server->langs, web_request_header(req,
					MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	if (route && req->status == 0)
		web_route(req);
	ret = web_respond(req);
	pthread_rwlock_unlock(&server->settings_lock);
	return ret;
}

static enum MHD_Result web_access(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	const struct web_listener *listener = cls;
	struct web_server *server = listener->server;
	struct web_request *req = *con_cls;

	if (req == NULL) {
		req = web_server_request_new(server, conn, url, method,
				      listener->metrics_only);
		*con_cls = req;
		/* refused on its headers: answer now, read no body */
		if (req->status != 0) {
			req->answered = 1;
			if (!web_server_has_body(req))
				web_conn_mark(server, conn, 1);
			return web_answer(req, 0);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		req->body_seen += n;
		/* libmicrohttpd answers only once the body is read: past the
		   limit it is read and dropped, and a client that keeps
		   sending far beyond it is disconnected */
		if (req->body_seen > 4 * (size_t)server->request_size_limit)
			return MHD_NO;
		if (req->status != 0 || req->answered)
			return MHD_YES;
		if (!req->is_post)
			req->status = MHD_HTTP_BAD_REQUEST;
		else if (req->body_seen > server->request_size_limit)
			req->status = MHD_HTTP_CONTENT_TOO_LARGE;
		else
			strbuf_append(&req->body, upload_data, n);
		return MHD_YES;
	}
	if (req->answered)
		return MHD_YES;
	web_conn_mark(server, conn, 1);
	return web_answer(req, 1);
}

static void web_completed(void *cls, struct MHD_Connection *conn,
			  void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct web_server *server = cls;
	struct web_request *req = *con_cls;

	if (req != NULL)
		web_server_request_free(req);
	*con_cls = NULL;
	/* on a kept-alive connection, the wait for the next request counts */
	web_conn_mark(server, conn, 0);
}

__attribute__((format(printf, 2, 0)))
static void web_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t len;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	log_warning("http: %s", buf);
}

/* web_origin - "scheme://authority" of a URL */
static char *web_origin(const char *url)
{
	const char *p = strstr(url, "://");
	size_t len;

	if (p == NULL)
		return xstrdup(url);
	len = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	return xstrndup(url, len);
}

static char *web_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

static void web_server_free(struct web_server *server)
{
	web_thread_free_all(server);
	free(server->database);
	free(server->base_url);
	free(server->origin);
	free(server->reinject);
	free(server->release_notify);
	free(server->digest_from);
	free(server->admin_user);
	free(server->admin_password_hash);
	free(server->rate);
	web_admission_destroy(&server->admission);
	web_buckets_destroy(&server->login_net);
	web_buckets_destroy(&server->login_user);
	pthread_mutex_destroy(&server->login_lock);
	web_langs_free(&server->langs);
	pthread_mutex_destroy(&server->release_lock);
	pthread_mutex_destroy(&server->threads_lock);
	pthread_mutex_destroy(&server->conns_lock);
	pthread_cond_destroy(&server->sweep_cond);
	pthread_rwlock_destroy(&server->settings_lock);
	free(server);
}

/* web_listen - bind http_listen; the descriptor, or -1 with *error_r */
static int web_listen(const char *spec, const char **error_r)
{
	struct endpoint ep;

	if (endpoint_parse(spec, &ep, error_r) < 0)
		return -1;
	return endpoint_listen(&ep, 128, error_r);
}

int web_server_listen(const struct settings *set, const char **error_r)
{
	return web_listen(set->http_listen, error_r);
}

static unsigned int web_socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

int web_server_start(const struct settings *set, const struct token_key *key,
		     int listen_fd, struct web_server **server_r,
		     const char **error_r)
{
	struct web_server *server = xcalloc(1, sizeof(*server));
	size_t len;
	int fd = listen_fd;
	int flags;

	*server_r = NULL;
	server->key = key;
	server->main_listener.server = server;
	server->metrics_listener.server = server;
	server->metrics_listener.metrics_only = 1;
	server->database = xstrdup(set->database);
	server->base_url = xstrdup(set->base_url ? set->base_url : "");
	len = strlen(server->base_url);
	while (len > 0 && server->base_url[len - 1] == '/')
		server->base_url[--len] = '\0';
	server->origin = web_origin(server->base_url);
	server->reinject = xstrdup(set->reinject);
	server->release_notify = web_dup(set->release_notify);
	server->digest_from = web_dup(set->digest_from);
	server->admin_user = web_dup(set->admin_user);
	server->admin_password_hash = web_dup(set->admin_password_hash);
	server->request_mode = set->release_mode != NULL &&
		strcmp(set->release_mode, "request") == 0;
	server->busy_timeout_ms = settings_busy_timeout_ms(set);
	server->quarantine_days = set->quarantine_days;
	server->storm_cooldown = set->storm_cooldown;
	server->request_size_limit = set->http_request_size_limit;
	web_csp_hash(server->csp, sizeof(server->csp));
	pthread_mutex_init(&server->release_lock, NULL);
	pthread_mutex_init(&server->threads_lock, NULL);
	pthread_mutex_init(&server->login_lock, NULL);
	web_settings_lock_init(server);
	web_sweep_init(server, set->http_request_timeout);
	server->login_net = web_buckets_create(WEB_LOGIN_NET_PER_MINUTE,
					       WEB_LOGIN_NET_BURST);
	server->login_user = web_buckets_create(WEB_LOGIN_USER_PER_MINUTE,
						WEB_LOGIN_USER_BURST);
	if (web_langs_load(set->digest_templates, &server->langs,
			   error_r) < 0 ||
	    web_admission_create(set, &server->admission, error_r) < 0) {
		web_server_free(server);
		return -1;
	}
	if (set->http_rate_limit > 0) {
		server->rate = xcalloc(1, sizeof(*server->rate));
		pthread_mutex_init(&server->rate->lock, NULL);
		server->rate->per_second = set->http_rate_limit / 60.0;
		server->rate->burst = set->http_rate_limit / 4.0 < 5 ? 5
			: set->http_rate_limit / 4.0;
	}

	if (fd < 0 && (fd = web_listen(set->http_listen, error_r)) < 0) {
		web_server_free(server);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	server->listen_fd = fd;
	server->port = web_socket_port(fd);
	server->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ERROR_LOG,
		0, NULL, NULL, web_access, &server->main_listener,
		MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, server,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)(set->http_threads > 1 ? set->http_threads : 0),
		MHD_OPTION_CONNECTION_LIMIT, set->http_max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, set->http_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)set->http_request_size_limit * 2 + 16384,
		MHD_OPTION_NOTIFY_COMPLETED, web_completed, server,
		MHD_OPTION_NOTIFY_CONNECTION, web_conn_notify, server,
		MHD_OPTION_END);
	if (server->mhd == NULL) {
		*error_r = "libmicrohttpd could not start on http_listen";
		if (listen_fd < 0)
			close(fd);
		web_server_free(server);
		return -1;
	}
	if (web_sweep_start(server, error_r) < 0) {
		MHD_stop_daemon(server->mhd);
		web_server_free(server);
		return -1;
	}
	*server_r = server;
	return 0;
}

/* web_settings_lock_init - a reload must not wait behind a stream of
   requests: writers go first */
static void web_settings_lock_init(struct web_server *server)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&server->settings_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

/* web_replace - *field becomes a copy of value (NULL when empty) */
static void web_replace(char **field, const char *value)
{
	free(*field);
	*field = web_dup(value);
}

void web_server_reload(struct web_server *server, const struct settings *set)
{
	struct web_langs *langs = NULL;
	const char *err;
	char *base = xstrdup(set->base_url ? set->base_url : "");
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	/* read the catalogs before taking the lock; a broken one leaves
	   the page speaking as before */
	if (web_langs_load(set->digest_templates, &langs, &err) < 0)
		log_warning("reload: the page keeps its languages: %s", err);
	pthread_rwlock_wrlock(&server->settings_lock);
	free(server->base_url);
	server->base_url = base;
	free(server->origin);
	server->origin = web_origin(base);
	free(server->reinject);
	server->reinject = xstrdup(set->reinject);
	web_replace(&server->release_notify, set->release_notify);
	web_replace(&server->digest_from, set->digest_from);
	web_replace(&server->admin_user, set->admin_user);
	web_replace(&server->admin_password_hash, set->admin_password_hash);
	server->request_mode = set->release_mode != NULL &&
		strcmp(set->release_mode, "request") == 0;
	server->quarantine_days = set->quarantine_days;
	server->storm_cooldown = set->storm_cooldown;
	if (langs != NULL) {
		struct web_langs *was = server->langs;

		server->langs = langs;
		langs = was;
	}
	pthread_rwlock_unlock(&server->settings_lock);
	web_langs_free(&langs);
}

unsigned int web_server_port(const struct web_server *server)
{
	return server->port;
}

int web_server_metrics_listen(const struct settings *set,
			      const char **error_r)
{
	if (set->metrics_listen == NULL)
		return -2;
	return web_listen(set->metrics_listen, error_r);
}

/* one thread is plenty for a scraper or two */
int web_server_start_metrics(struct web_server *server,
			     const struct settings *set, int fd,
			     const char **error_r)
{
	int own = 0, flags;

	if (set->metrics_listen == NULL || fd == -2)
		return 0;
	if (fd < 0) {
		if ((fd = web_listen(set->metrics_listen, error_r)) < 0)
			return -1;
		own = 1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	server->metrics_mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
		MHD_USE_ERROR_LOG,
		0, NULL, NULL, web_access, &server->metrics_listener,
		MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, server,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT, 16u,
		MHD_OPTION_CONNECTION_TIMEOUT, set->http_timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)set->http_request_size_limit * 2 + 16384,
		MHD_OPTION_NOTIFY_COMPLETED, web_completed, server,
		MHD_OPTION_NOTIFY_CONNECTION, web_conn_notify, server,
		MHD_OPTION_END);
	if (server->metrics_mhd == NULL) {
		*error_r = "libmicrohttpd could not start on metrics_listen";
		if (own)
			close(fd);
		return -1;
	}
	return 0;
}

void web_server_stop(struct web_server **_server)
{
	struct web_server *server = *_server;

	if (server == NULL)
		return;
	*_server = NULL;
	web_sweep_stop(server);
	/* closes the listening socket too */
	if (server->metrics_mhd != NULL)
		MHD_stop_daemon(server->metrics_mhd);
	MHD_stop_daemon(server->mhd);
	web_server_free(server);
}
