/*
 * web-metrics.c - /metrics: Prometheus text exposition format 0.0.4
 *
 * NAME
 *	web_page_metrics - what the quarantine holds and what ndrguardd did
 * DESCRIPTION
 *	Read from the database on every scrape: held messages by kind and
 *	state, the audit log's totals per action (quarantined, released,
 *	deleted, expired), storms active and started, digests sent, pending
 *	and failed sends, the database file's size. When ndrguardd serves
 *	the page, also its own counters since it started (metrics.h): LMTP
 *	connections, messages, and recipients by decision.
 *
 *	Who may read it: on metrics_listen, whoever can connect (the
 *	postmaster chooses the address, and nothing else is served
 *	there); on http_listen, the public page's port, only the admin,
 *	with admin_user's credentials, and nobody at all once
 *	metrics_listen is set or when no admin is configured (404). The
 *	figures name no mailbox, but they tell an outsider how the server
 *	is doing, and a reverse proxy on this host makes every visitor look
 *	local, so being on loopback proves nothing.
 */
#include "autoconfig.h"
#include "web-private.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#define WEB_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* web_metrics_label - a label value: \ " and newline escaped */
static void web_metrics_label(struct strbuf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			strbuf_putc(out, '\\');
		if (*s == '\n')
			strbuf_puts(out, "\\n");
		else
			strbuf_putc(out, *s);
	}
}

static void web_metrics_head(struct strbuf *out, const char *name,
			     const char *type, const char *help)
{
	strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		      type);
}

static int web_metrics_kind_row(const char *kind, const char *state,
				long long n, void *context)
{
	struct strbuf *out = context;

	strbuf_puts(out, "ndrguard_messages{kind=\"");
	web_metrics_label(out, kind);
	strbuf_puts(out, "\",state=\"");
	web_metrics_label(out, state ? state : "");
	strbuf_printf(out, "\"} %lld\n", n);
	return 0;
}

struct web_metrics_totals {
	long long audit[4];	/* quarantined, released, deleted, expired */
	long long storms_active, storms_all;
	long long digests_sent, digests_pending, digest_failures;
	long long db_bytes;
};

static const char *const web_metrics_actions[4] = {
	"quarantined", "released", "deleted", "expired"
};

static int web_metrics_total_row(const char *group, const char *name,
				 long long n, void *context)
{
	struct web_metrics_totals *t = context;

	if (name == NULL)
		return 0;
	if (strcmp(group, "audit") == 0) {
		for (int i = 0; i < 4; i++)
			if (strcmp(name, web_metrics_actions[i]) == 0)
				t->audit[i] = n;
	} else if (strcmp(group, "storm") == 0) {
		if (strcmp(name, "active") == 0)
			t->storms_active = n;
		else if (strcmp(name, "all") == 0)
			t->storms_all = n;
	} else if (strcmp(group, "digest") == 0) {
		if (strcmp(name, "sent") == 0)
			t->digests_sent = n;
		else if (strcmp(name, "pending") == 0)
			t->digests_pending = n;
		else if (strcmp(name, "failed_sends") == 0)
			t->digest_failures = n;
	} else if (strcmp(group, "database") == 0 &&
		   strcmp(name, "bytes") == 0) {
		t->db_bytes = n;
	}
	return 0;
}

/* web_metrics_daemon - ndrguardd's own counters since it started */
static void web_metrics_daemon(struct strbuf *out)
{
	static const struct {
		enum metric_id id;
		const char *decision;
	} decisions[] = {
		{ METRIC_DECISION_HELD, "held" },
		{ METRIC_DECISION_PASSED, "passed" },
		{ METRIC_DECISION_DEFERRED, "deferred" },
		{ METRIC_DECISION_REJECTED, "rejected" },
	};

	web_metrics_head(out, "ndrguard_start_time_seconds", "gauge",
			 "When ndrguardd started, unix time.");
	strbuf_printf(out, "ndrguard_start_time_seconds %lld\n",
		      metrics_started());
	web_metrics_head(out, "ndrguard_lmtp_connections_total", "counter",
			 "LMTP connections accepted since start.");
	strbuf_printf(out, "ndrguard_lmtp_connections_total %llu\n",
		      metrics_get(METRIC_LMTP_CONNECTIONS));
	web_metrics_head(out, "ndrguard_lmtp_connections_refused_total",
			 "counter", "LMTP connections refused over "
			 "lmtp_max_connections since start.");
	strbuf_printf(out, "ndrguard_lmtp_connections_refused_total %llu\n",
		      metrics_get(METRIC_LMTP_REFUSED));
	web_metrics_head(out, "ndrguard_lmtp_messages_total", "counter",
			 "Messages received over LMTP since start.");
	strbuf_printf(out, "ndrguard_lmtp_messages_total %llu\n",
		      metrics_get(METRIC_LMTP_MESSAGES));
	web_metrics_head(out, "ndrguard_lmtp_recipients_total", "counter",
			 "Recipients of LMTP messages since start, by "
			 "decision (held, passed on, deferred with 451, "
			 "rejected as too big).");
	for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++)
		strbuf_printf(out, "ndrguard_lmtp_recipients_total"
			      "{decision=\"%s\"} %llu\n", decisions[i].decision,
			      metrics_get(decisions[i].id));
}

/* web_metrics_text - the whole exposition into out; -1 with *error_r */
static int web_metrics_text(struct store *st, const struct store_calm *calm,
			    struct strbuf *out, const char **error_r)
{
	struct web_metrics_totals t;
	static const char *const help[4] = {
		"Messages quarantined (audit log).",
		"Held messages released (audit log).",
		"Held messages deleted (audit log).",
		"Held messages expired after quarantine_days (audit log).",
	};

	memset(&t, 0, sizeof(t));
	web_metrics_head(out, "ndrguard_messages", "gauge",
			 "Messages in the quarantine by kind and state.");
	if (store_stats_kinds(st, web_metrics_kind_row, out, error_r) < 0 ||
	    store_stats_totals(st, calm, web_metrics_total_row, &t,
				error_r) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		char name[64];

		snprintf(name, sizeof(name), "ndrguard_%s_total",
			 web_metrics_actions[i]);
		web_metrics_head(out, name, "counter", help[i]);
		strbuf_printf(out, "%s %lld\n", name, t.audit[i]);
	}
	web_metrics_head(out, "ndrguard_storms_active", "gauge",
			 "Storms going on.");
	strbuf_printf(out, "ndrguard_storms_active %lld\n", t.storms_active);
	web_metrics_head(out, "ndrguard_storms_total", "counter",
			 "Storms started (in the database).");
	strbuf_printf(out, "ndrguard_storms_total %lld\n", t.storms_all);
	web_metrics_head(out, "ndrguard_digests_sent_total", "counter",
			 "Digests the relay accepted.");
	strbuf_printf(out, "ndrguard_digests_sent_total %lld\n",
		      t.digests_sent);
	web_metrics_head(out, "ndrguard_digests_pending", "gauge",
			 "Digests written but not yet accepted by the relay.");
	strbuf_printf(out, "ndrguard_digests_pending %lld\n",
		      t.digests_pending);
	web_metrics_head(out, "ndrguard_digest_send_failures_total", "counter",
			 "Failed sends of digests that were kept to retry.");
	strbuf_printf(out, "ndrguard_digest_send_failures_total %lld\n",
		      t.digest_failures);
	web_metrics_head(out, "ndrguard_database_size_bytes", "gauge",
			 "Size of the quarantine database (page_count * "
			 "page_size).");
	strbuf_printf(out, "ndrguard_database_size_bytes %lld\n", t.db_bytes);
	if (metrics_enabled())
		web_metrics_daemon(out);
	return 0;
}

void web_page_metrics(struct web_request *req)
{
	struct store_calm calm = { req->now, req->server->storm_cooldown };
	struct store *st;
	const char *err;

	if (req->is_post) {
		req->status = MHD_HTTP_METHOD_NOT_ALLOWED;
		return;
	}
	if (req->metrics_only) {
		/* metrics_listen: whoever reaches it may read */
	} else if (req->server->metrics_mhd != NULL ||
		   req->server->admin_user == NULL ||
		   req->server->admin_password_hash == NULL) {
		req->status = MHD_HTTP_NOT_FOUND;
		return;
	} else if (!web_login_auth(req)) {
		return;
	}
	if ((st = web_thread_store(req, &err)) == NULL ||
	    web_metrics_text(st, &calm, &req->out, &err) < 0) {
		log_warning("http: metrics: %s", err);
		strbuf_reset(&req->out);
		req->status = MHD_HTTP_SERVICE_UNAVAILABLE;
		return;
	}
	req->content_type = WEB_METRICS_TYPE;
}
