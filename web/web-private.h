/*
 * web-private.h - what the release page's files share
 *
 * web-server.c owns the server, the connections and the limits; it
 * turns each complete request into a struct web_request and routes it
 * to a page (web-pages.c, web-admin.c, web-stats.c, web-metrics.c),
 * which fills req->out and req->status. Dependencies run one way: the
 * server calls the pages, the pages call the helpers below them and
 * never the server:
 *
 *	web-request.c	arguments, headers, form fields, same-origin
 *	web-thread.c	a thread's database connection and cache
 *	web-csrf.c	the anti-forgery field of forms that act
 *	web-login.c	the admin's sign-in
 *	web-notice.c	the postmaster notice of release requests
 *	web-html.c	escaping and the page frame, error pages
 *	web-lang.c	languages: message catalogs and page templates
 *
 * T(id) is a page's words for a text id in the request's language.
 */
#ifndef NDRGUARD_WEB_PRIVATE_H
#define NDRGUARD_WEB_PRIVATE_H

#include "strbuf.h"
#include "web-lang.h"

#include <pthread.h>
#include <stddef.h>

struct MHD_Connection;
struct MHD_Daemon;
struct store;
struct token_key;
struct web_rate;
struct web_admission;
struct web_buckets;
struct sockaddr;
struct settings;
struct store_record;

/* a client as the limits see it (web-admission.c) */
struct web_client {
	char addr[64];		/* "192.0.2.7", "2001:db8::1" or "local" */
	char net[72];		/* "192.0.2.0/24", "2001:db8::/64" */
	int counted;		/* holds one of its connections' places */
	size_t reserved;	/* bytes of its answer in the memory budget */
};

struct web_field {
	char *name;
	char *value;
};

/* what a libmicrohttpd daemon is given: the server, and whether it is
   the metrics_listen one (which serves /metrics only, to anyone) */
struct web_listener {
	struct web_server *server;
	int metrics_only;
};

/*
 * a connection, as the whole-request deadline sees it: made when
 * libmicrohttpd accepts it, freed when it closes (before its socket is
 * closed, so fd is never another connection's while this is linked)
 */
struct web_conn {
	struct web_conn *prev, *next;
	int fd;
	double start;		/* monotonic: when the request began */
	int complete;		/* read whole: being answered, never cut */
	int cut;		/* shut down by the sweep */
	int via_proxy;		/* the peer is one of trusted_proxies */
	struct web_client peer;	/* counted unless via_proxy */
	char client[64];
};

struct web_server {
	struct MHD_Daemon *mhd;
	struct MHD_Daemon *metrics_mhd;	/* NULL: /metrics on http_listen */
	struct web_listener main_listener, metrics_listener;
	const struct token_key *key;
	int listen_fd;
	unsigned int port;
	/* copied from the settings */
	char *database;
	char *base_url;		/* no trailing slash */
	char *origin;		/* scheme://host[:port] of base_url */
	char *reinject;
	char *release_notify;
	char *digest_from;
	char *admin_user;	/* NULL: no admin page */
	char *admin_password_hash;
	int request_mode;	/* release_mode = request */
	unsigned int busy_timeout_ms;
	unsigned int quarantine_days;
	unsigned int storm_cooldown;	/* when a storm shows as over */
	unsigned int request_size_limit;
	char csp[256];
	/* the languages under digest_templates (web-lang.h) */
	struct web_langs *langs;
	/* the fields from the settings above: a request reads them, a
	   reload (web_server_reload()) replaces them */
	pthread_rwlock_t settings_lock;
	/* one release at a time, so a double POST re-injects once */
	pthread_mutex_t release_lock;
	/* per-thread state (database connection, cache), freed at stop */
	pthread_mutex_t threads_lock;
	struct web_thread **threads;
	size_t thread_count;
	struct web_rate *rate;
	struct web_admission *admission;
	/* the admin's sign-in: failures metered per network and per user
	   name, and one password hash checked at a time */
	struct web_buckets *login_net, *login_user;
	pthread_mutex_t login_lock;
	/* http_request_timeout: a thread shuts down the sockets of
	   connections whose request is not read whole in time */
	unsigned int request_timeout;
	pthread_mutex_t conns_lock;	/* conns, sweep_stop, each web_conn */
	pthread_cond_t sweep_cond;
	struct web_conn *conns;
	int sweep_stop;
	int sweep_running;
	pthread_t sweep_thread;
};

/* failed admin sign-ins allowed: a burst, then so many a minute */
#define WEB_LOGIN_NET_BURST 5
#define WEB_LOGIN_NET_PER_MINUTE 6
#define WEB_LOGIN_USER_BURST 10
#define WEB_LOGIN_USER_PER_MINUTE 10

#define WEB_CACHE_SLOTS 128

/*
 * What the item page derives from a held message's bytes (its parse and
 * classification), kept per thread by id: the bytes of a row never
 * change, except that expiry empties them, which changes the size.
 */
struct web_item_extra {
	long long id;		/* 0: empty slot */
	long long size;
	char *diagnostic, *to, *date, *subject, *from;
	char *report_html;	/* escaped <pre> blocks, or NULL */
	char *failed;		/* the first bounced recipient, lower case */
	char *reporter;		/* the reporting system's host (reporter.h) */
};

/* a server thread's own state */
struct web_thread {
	struct store *store;
	struct web_item_extra cache[WEB_CACHE_SLOTS];
};

struct web_request {
	struct web_server *server;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	int is_post;
	long long now;
	const struct web_lang *lang;	/* set under the settings lock */
	int lang_fixed;		/* set from the mailbox's preference */
	int metrics_only;	/* came in on metrics_listen */
	char client[64];	/* the client's address, for the audit log */
	struct web_client who;	/* the same, with its network, for limits */
	int via_proxy;		/* who came from X-Forwarded-For */
	char log_path[128];	/* the path, printable and cut, for logs */
	/* the request body while it arrives, then its fields */
	struct strbuf body;
	size_t body_seen;
	int answered;		/* a response is queued already */
	struct web_field *fields;
	size_t field_count;
	/* the answer */
	unsigned int status;
	struct strbuf out;
	const char *content_type;	/* NULL: text/html */
	int www_authenticate;		/* 401 with a Basic challenge */
};

#define T(id) web_text_get(req->lang, (id))

/* web-request.c */
/* web_request_arg - a query argument; web_request_header - a header */
const char *web_request_arg(struct web_request *req, const char *name);
const char *web_request_header(struct web_request *req, const char *name);
/* web_request_field - the first value of a form field, or NULL */
const char *web_request_field(const struct web_request *req,
			      const char *name);
/* web_request_same_origin - 0 unless the POST came from a page of ours */
int web_request_same_origin(struct web_request *req);
/* web_request_parse_form - req's fields from a urlencoded body */
void web_request_parse_form(struct web_request *req, const char *body,
			    size_t len);

/* web-thread.c */
/* web_thread_get - this thread's state, its database opened on first
   use; NULL with *error_r */
struct web_thread *web_thread_get(struct web_request *req,
				  const char **error_r);
/* web_thread_store - this thread's database connection; NULL with
   *error_r */
struct store *web_thread_store(struct web_request *req, const char **error_r);
/* web_thread_extra_clear - empty a cache slot */
void web_thread_extra_clear(struct web_item_extra *x);
/* web_thread_free_all - every thread's state (at stop) */
void web_thread_free_all(struct web_server *server);

/* web-csrf.c: the anti-forgery form field; web_csrf_check() prepares a
   403 page and returns -1 when it is missing or bad */
char *web_csrf_make(const struct web_request *req, const char *scope,
		    const char *subject);
int web_csrf_check(struct web_request *req, const char *scope,
		   const char *subject);

/* web-login.c */
/*
 * web_login_auth - 1 when the request carries admin_user's credentials
 * (admin_user and admin_password_hash must be set); else 0 with
 * req->status set: 401 with a challenge, 429 when the client's network
 * or the user name failed too often, 503 when another check is running
 */
int web_login_auth(struct web_request *req);


/* web-pages.c */
void web_page_item(struct web_request *req, const char *id_text);
void web_page_mailbox(struct web_request *req);
void web_page_settings(struct web_request *req, int unsubscribe);
void web_page_home(struct web_request *req);

/* web-owner.c: the owner's actions besides release. The page has
   checked the link and the anti-forgery field; these keep each action
   to the link's mailbox and audit it. web_owner_delete_one - delete id
   (of mailbox; NULL: the item link's own); the outcome's text */
enum web_text web_owner_delete_one(struct web_request *req, struct store *st,
				   long long id, const char *mailbox);
/* web_owner_item_post - the item page's action `what` (delete,
   delete_storm, allow_domain, allow_recipient) on rec; *count_r: how
   many a storm's delete took */
enum web_text web_owner_item_post(struct web_request *req, struct store *st,
				  const struct store_record *rec,
				  const struct web_item_extra *x,
				  const char *what, unsigned int *count_r);
/* web_owner_item_more - the item's other actions, in the form that
   form_open (markup, with its csrf field) begins */
void web_owner_item_more(struct web_request *req,
			 const struct store_record *rec,
			 const struct web_item_extra *x, const char *form_open);
/* web_owner_rules - the settings page's list of mailbox's allow rules,
   each with a Remove button in a form that form_open begins */
void web_owner_rules(struct web_request *req, struct store *st,
		     const char *mailbox, const char *form_open);
/* web_owner_rule_remove - remove mailbox's rule rule_text (an id) */
enum web_text web_owner_rule_remove(struct web_request *req, struct store *st,
				    const char *mailbox, const char *rule_text);
/* web_owner_result_note - the note for an action's outcome text */
void web_owner_result_note(struct web_request *req, enum web_text text,
			   unsigned int count);
/* web_owner_evidence - an evidence code in the owner's words (the code
   itself when it is not one ndrguard writes) */
const char *web_owner_evidence(struct web_request *req, const char *code);
/* web_owner_sender - "Mail delivery system of HOST"; caller frees */
char *web_owner_sender(struct web_request *req,
		       const struct web_item_extra *x);
/* web_owner_fill - text with {{name}} replaced by value; caller frees */
char *web_owner_fill(const char *text, const char *name, const char *value);

/* web-admin.c */
void web_page_admin(struct web_request *req);

/* web-admission.c: clients, their networks, and what they may hold */
int web_admission_create(const struct settings *set,
			 struct web_admission **adm_r, const char **error_r);
void web_admission_destroy(struct web_admission **_adm);
/* web_client_peer - c from a socket address; 1 if it is a trusted proxy */
int web_client_peer(const struct web_admission *adm,
		    const struct sockaddr *sa, struct web_client *c);
/* web_client_forwarded - c from X-Forwarded-For (the right-most address
   that is not a trusted proxy); -1 if the header names none */
int web_client_forwarded(const struct web_admission *adm, const char *xff,
			 struct web_client *c);
/* web_admission_enter - count a connection of c; -1 over a limit.
   web_admission_leave - give it back (nothing unless it was counted) */
int web_admission_enter(struct web_admission *adm, struct web_client *c);
void web_admission_leave(struct web_admission *adm, struct web_client *c);
/* web_admission_reserve - take len bytes of http_response_memory for
   c's answer; -1 if it would go over. web_admission_release - give
   them back once the answer is sent or dropped */
int web_admission_reserve(struct web_admission *adm, struct web_client *c,
			  size_t len);
void web_admission_release(struct web_admission *adm, struct web_client *c);
/* web_buckets_create - token buckets by key, burst tokens each, refilled
   per_minute; web_buckets_use - 1 if key's bucket has a token (taken
   when take is set), else 0 */
struct web_buckets *web_buckets_create(double per_minute, double burst);
void web_buckets_destroy(struct web_buckets **_b);
int web_buckets_use(struct web_buckets *b, const char *key, int take);

/* web-metrics.c: /metrics, Prometheus text format */
void web_page_metrics(struct web_request *req);
/* web-stats.c: /admin/stats, graphs as inline SVG */
void web_page_stats(struct web_request *req);
/* web-notice.c: the mail to release_notify about owners' requests. One
   POST's new requests go into one batch and one mail; a mailbox gets at
   most WEB_NOTICE_PER_HOUR such mails an hour (the requests are recorded
   and listed on /admin all the same) */
#define WEB_NOTICE_PER_HOUR 6
#define WEB_BATCH_MAX 500
struct web_notice_batch {
	char mailbox[320];
	unsigned int count;
	long long ids[WEB_BATCH_MAX];
	char *subjects[WEB_BATCH_MAX];
};
/* web_notice_add - one new request (items of one mailbox only) */
void web_notice_add(struct web_notice_batch *batch, long long id,
			   const char *mailbox, const char *subject);
/* web_notice_send - the batch's one mail, then empty it */
void web_notice_send(struct web_request *req, struct store *st,
			      struct web_notice_batch *batch);

/* web-html.c */
extern const char web_css[];
void web_html_escape(struct strbuf *out, const char *s);
void web_html_escape_len(struct strbuf *out, const char *s, size_t len);
void web_html_begin(struct web_request *req, const char *title);
void web_html_end(struct web_request *req);
/* web_html_error - a plain page for status that reveals nothing */
void web_html_error(struct web_request *req, unsigned int status);
/* web_put - markup as it is (never text from a message or a client) */
void web_put(struct web_request *req, const char *markup);
/* web_text - text, escaped */
void web_text(struct web_request *req, const char *text);
/* web_text_cut - text, escaped, cut to max bytes (and an ellipsis): a
   header of a held message can be as long as the message, and a page
   of such must stay small enough to send (see http_response_memory) */
void web_text_cut(struct web_request *req, const char *text, size_t max);
#define WEB_ROW_MAX 2000
#define WEB_LIST_TEXT_MAX 300
/* web_row - a <dt>label</dt><dd>value</dd> pair, value escaped and cut
   to WEB_ROW_MAX bytes; nothing when value is NULL or empty */
void web_row(struct web_request *req, const char *label, const char *value);
/* web_html_date - "2026-11-27 21:05 UTC", in the server's time zone;
   web_html_date_zone - in zone ("Europe/Berlin": "... CET"; NULL or
   "": the server's); web_zone_valid - 1 when zone is a name under
   WEB_ZONEINFO (letters, digits, "/_+-", no "..") */
#define WEB_ZONEINFO "/usr/share/zoneinfo"
void web_html_date(struct strbuf *out, long long when);
void web_html_date_zone(struct strbuf *out, long long when, const char *zone);
int web_zone_valid(const char *zone);
/* web_csp_hash - "sha256-..." of web_css, for the Content-Security-Policy */
void web_csp_hash(char *out, size_t size);

/* web_pages_note - a note box of class cls (ok, warn, err) with text,
   escaped, for every page that tells the owner how an action went */
void web_pages_note(struct web_request *req, const char *cls,
		    const char *text);

#endif
