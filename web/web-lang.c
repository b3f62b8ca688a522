/*
 * web-lang.c - the release page's languages, from digest_templates
 *
 * This module implements web-lang.h: it finds the language folders,
 * loads their catalogs once (at start and at reload, never per
 * request), checks that each has every key the page uses, and picks a
 * request's language from Accept-Language.
 */
#include "autoconfig.h"
#include "web-lang.h"
#include "catalog.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* the catalog key of each text id */
static const char *const web_lang_keys[W_COUNT] = {
	[W_SITE] = "web.site",
	[W_FORBIDDEN_TITLE] = "web.forbidden_title",
	[W_FORBIDDEN_TEXT] = "web.forbidden_text",
	[W_NOTFOUND_TITLE] = "web.notfound_title",
	[W_NOTFOUND_TEXT] = "web.notfound_text",
	[W_ERROR_TITLE] = "web.error_title",
	[W_ERROR_TEXT] = "web.error_text",
	[W_TOO_MANY] = "web.too_many",
	[W_TOO_LARGE] = "web.too_large",
	[W_BAD_REQUEST] = "web.bad_request",
	[W_METHOD] = "web.method",
	[W_UNAUTHORIZED] = "web.unauthorized",
	[W_FORGED] = "web.forged",
	[W_HOME_TEXT] = "web.home_text",
	[W_ITEM_TITLE] = "web.item_title",
	[W_ITEM_INTRO] = "web.item_intro",
	[W_RECEIVED] = "web.received",
	[W_MAILBOX] = "web.mailbox",
	[W_SENDER] = "web.sender",
	[W_KIND] = "web.kind",
	[W_REPORTING] = "web.reporting",
	[W_STATUS] = "web.status",
	[W_REASON] = "web.reason",
	[W_DIAGNOSTIC] = "web.diagnostic",
	[W_ORIGINAL] = "web.original",
	[W_SUBJECT] = "web.subject",
	[W_FROM] = "web.from",
	[W_TO] = "web.to",
	[W_DATE] = "web.date",
	[W_VERDICT] = "web.verdict",
	[W_EVIDENCE] = "web.evidence",
	[W_V_BACKSCATTER] = "web.v_backscatter",
	[W_V_BACKSCATTER_TEXT] = "web.v_backscatter_text",
	[W_V_LEGIT] = "web.v_legit",
	[W_V_LEGIT_TEXT] = "web.v_legit_text",
	[W_V_UNKNOWN] = "web.v_unknown",
	[W_V_UNKNOWN_TEXT] = "web.v_unknown_text",
	[W_REPORT] = "web.report",
	[W_RELEASE] = "web.release",
	[W_REQUEST] = "web.request",
	[W_STATE_RELEASED] = "web.state_released",
	[W_STATE_DELETED] = "web.state_deleted",
	[W_STATE_EXPIRED] = "web.state_expired",
	[W_DONE_RELEASED] = "web.done_released",
	[W_ALREADY] = "web.already",
	[W_NOT_HELD] = "web.not_held",
	[W_RELEASE_FAILED] = "web.release_failed",
	[W_REQUESTED] = "web.requested",
	[W_REQ_PENDING] = "web.req_pending",
	[W_REQ_REFUSED] = "web.req_refused",
	[W_BUSY] = "web.busy",
	[W_IN_DOUBT] = "web.in_doubt",
	[W_STATE_RELEASING] = "web.state_releasing",
	[W_COUNT_DOUBT] = "web.count_doubt",
	[W_NO_SUBJECT] = "web.no_subject",
	[W_KIND_NDR_FAILED] = "web.kind_ndr_failed",
	[W_KIND_NDR_DELAYED] = "web.kind_ndr_delayed",
	[W_KIND_DSN_SUCCESS] = "web.kind_dsn_success",
	[W_KIND_AUTOREPLY] = "web.kind_autoreply",
	[W_KIND_CHALLENGE] = "web.kind_challenge",
	[W_KIND_AV_NOTICE] = "web.kind_av_notice",
	[W_KIND_OTHER] = "web.kind_other",
	[W_MAILBOX_TITLE] = "web.mailbox_title",
	[W_MAILBOX_EMPTY] = "web.mailbox_empty",
	[W_RELEASE_SELECTED] = "web.release_selected",
	[W_REQUEST_SELECTED] = "web.request_selected",
	[W_RELEASE_LEGIT] = "web.release_legit",
	[W_NEWER] = "web.newer",
	[W_OLDER] = "web.older",
	[W_PAGE] = "web.page",
	[W_DETAILS] = "web.details",
	[W_COUNT_RELEASED] = "web.count_released",
	[W_COUNT_REQUESTED] = "web.count_requested",
	[W_COUNT_SKIPPED] = "web.count_skipped",
	[W_COUNT_FAILED] = "web.count_failed",
	[W_NONE_SELECTED] = "web.none_selected",
	[W_SETTINGS_TITLE] = "web.settings_title",
	[W_DIGEST_Q] = "web.digest_q",
	[W_DAILY] = "web.daily",
	[W_STORMS] = "web.storms",
	[W_NEVER] = "web.never",
	[W_LANG_Q] = "web.lang_q",
	[W_LANG_AUTO] = "web.lang_auto",
	[W_LANG_NAME] = "web.lang_name",
	[W_SAVE] = "web.save",
	[W_SAVED] = "web.saved",
	[W_UNSUB_NOTE] = "web.unsub_note",
	[W_UNSUBSCRIBED] = "web.unsubscribed",
	[W_ADMIN_TITLE] = "web.admin_title",
	[W_ADMIN_EMPTY] = "web.admin_empty",
	[W_APPROVE] = "web.approve",
	[W_REFUSE] = "web.refuse",
	[W_REQUESTED_AT] = "web.requested_at",
	[W_APPROVED] = "web.approved",
	[W_REFUSED] = "web.refused",
	[W_DECIDED_ALREADY] = "web.decided_already",
	[W_STATS_TITLE] = "web.stats_title",
	[W_STATS_HOURLY] = "web.stats_hourly",
	[W_STATS_DAILY] = "web.stats_daily",
	[W_STATS_STORMS] = "web.stats_storms",
	[W_STATS_TOP] = "web.stats_top",
	[W_STATS_NONE] = "web.stats_none",
	[W_STATS_ACTIVE] = "web.stats_active",
	[W_STATS_S_HELD] = "web.stats_s_held",
	[W_STATS_S_RELEASED] = "web.stats_s_released",
	[W_STATS_S_DELETED] = "web.stats_s_deleted",
	[W_STATS_S_EXPIRED] = "web.stats_s_expired",
	[W_ITEM_TITLE_RELEASED] = "web.item_title_released",
	[W_ITEM_TITLE_DELETED] = "web.item_title_deleted",
	[W_SENDER_SYSTEM] = "web.sender_system",
	[W_SENDER_UNKNOWN] = "web.sender_unknown",
	[W_DELETE] = "web.delete",
	[W_DELETE_STORM] = "web.delete_storm",
	[W_DELETE_SELECTED] = "web.delete_selected",
	[W_DONE_DELETED] = "web.done_deleted",
	[W_ALREADY_DELETED] = "web.already_deleted",
	[W_DELETE_FAILED] = "web.delete_failed",
	[W_COUNT_DELETED] = "web.count_deleted",
	[W_STORM_DELETED] = "web.storm_deleted",
	[W_MORE_ACTIONS] = "web.more_actions",
	[W_ALLOW_DOMAIN] = "web.allow_domain",
	[W_ALLOW_RECIPIENT] = "web.allow_recipient",
	[W_ALLOW_ADDED] = "web.allow_added",
	[W_ALLOW_EXISTS] = "web.allow_exists",
	[W_ALLOW_TITLE] = "web.allow_title",
	[W_ALLOW_NONE] = "web.allow_none",
	[W_ALLOW_KIND_DOMAIN] = "web.allow_kind_domain",
	[W_ALLOW_KIND_RECIPIENT] = "web.allow_kind_recipient",
	[W_ALLOW_REMOVE] = "web.allow_remove",
	[W_ALLOW_REMOVED] = "web.allow_removed",
	[W_ALLOW_GONE] = "web.allow_gone",
	[W_TZ_Q] = "web.tz_q",
	[W_TZ_HINT] = "web.tz_hint",
	[W_TZ_BAD] = "web.tz_bad",
	[W_EV_NOT_BOUNCE] = "web.ev_not_bounce",
	[W_EV_NO_RELAYS] = "web.ev_no_relays",
	[W_EV_NO_ORIGINAL] = "web.ev_no_original",
	[W_EV_PASSED_RELAY] = "web.ev_passed_relay",
	[W_EV_OUR_MSGID] = "web.ev_our_msgid",
	[W_EV_NOT_VIA_RELAYS] = "web.ev_not_via_relays",
	[W_EV_WITHOUT_RELAYS] = "web.ev_without_relays",
	[W_EV_OWN_DIGEST] = "web.ev_own_digest",
	[W_EV_OWN_REQUEST] = "web.ev_own_request",
	[W_EV_OWNER_RULE] = "web.ev_owner_rule",
};

static __thread char web_lang_error[2048];

/* web_text_key - the catalog key of a text id */
const char *web_text_key(enum web_text id)
{
	return (unsigned int)id < W_COUNT ? web_lang_keys[id] : "web.?";
}

/* web_text_get - id's text in lang (the key itself without a lang) */
const char *web_text_get(const struct web_lang *lang, enum web_text id)
{
	const char *text = lang ? catalog_get(lang->messages,
					      web_text_key(id)) : NULL;

	/* web_langs_load() saw every key: only a NULL lang gets here */
	return text != NULL ? text : web_text_key(id);
}

/* web_lang_code - the folder name of lang */
const char *web_lang_code(const struct web_lang *lang)
{
	return lang != NULL ? lang->code : "en";
}

/* web_lang_missing - -1 with *error_r listing the keys lang lacks */
static int web_lang_missing(const struct web_lang *lang, const char *path,
			    const char **error_r)
{
	size_t len, n = 0;

	len = (size_t)snprintf(web_lang_error, sizeof(web_lang_error),
			       "%.900s: missing", path);
	for (int id = 0; id < W_COUNT; id++) {
		if (catalog_get(lang->messages, web_lang_keys[id]) != NULL)
			continue;
		n++;
		if (len + strlen(web_lang_keys[id]) + 8 < sizeof(web_lang_error))
			len += (size_t)snprintf(web_lang_error + len,
						sizeof(web_lang_error) - len,
						" %s", web_lang_keys[id]);
	}
	*error_r = web_lang_error;
	return n > 0 ? -1 : 0;
}

/* web_lang_load_one - dir/code/messages (all keys) and its reasons */
static int web_lang_load_one(struct web_lang *lang, const char *dir,
			     const char *code, const char **error_r)
{
	char path[4096];

	memset(lang, 0, sizeof(*lang));
	snprintf(lang->code, sizeof(lang->code), "%s", code);
	snprintf(path, sizeof(path), "%s/%s/messages", dir, code);
	if (catalog_load(path, &lang->messages, error_r) < 0 ||
	    web_lang_missing(lang, path, error_r) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/reasons", dir, code);
	if (access(path, F_OK) == 0 &&
	    catalog_load(path, &lang->reasons, error_r) < 0)
		return -1;
	return 0;
}

/* web_lang_cmp - order languages by code */
static int web_lang_cmp(const void *a, const void *b)
{
	return strcmp(((const struct web_lang *)a)->code,
		      ((const struct web_lang *)b)->code);
}

/* web_lang_is_code - a folder name that can be a language code */
static int web_lang_is_code(const char *name)
{
	size_t len = strlen(name);

	return len >= 2 && len < 16 && name[0] != '.' &&
		strspn(name, "abcdefghijklmnopqrstuvwxyz-_") == len;
}

/* web_langs_scan - load each language folder of d into langs */
static int web_langs_scan(struct web_langs *langs, DIR *d, const char *dir,
			  const char **error_r)
{
	struct dirent *de;
	char path[4096];

	while ((de = readdir(d)) != NULL) {
		if (!web_lang_is_code(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/messages", dir, de->d_name);
		if (access(path, F_OK) < 0)
			continue;
		langs->langs = xrealloc(langs->langs, (langs->count + 1) *
					sizeof(*langs->langs));
		if (web_lang_load_one(&langs->langs[langs->count++], dir,
				      de->d_name, error_r) < 0)
			return -1;
	}
	return 0;
}

/* web_langs_load - every language folder of dir, each complete */
int web_langs_load(const char *dir, struct web_langs **langs_r,
		   const char **error_r)
{
	struct web_langs *langs = xcalloc(1, sizeof(*langs));
	DIR *d = dir != NULL ? opendir(dir) : NULL;
	int ret;

	*langs_r = NULL;
	if (d == NULL) {
		snprintf(web_lang_error, sizeof(web_lang_error),
			 "digest_templates %.900s: cannot read the folder",
			 dir ? dir : "(unset)");
		*error_r = web_lang_error;
		free(langs);
		return -1;
	}
	ret = web_langs_scan(langs, d, dir, error_r);
	closedir(d);
	if (ret == 0 && langs->count == 0) {
		snprintf(web_lang_error, sizeof(web_lang_error),
			 "digest_templates %.900s: no LANG/messages", dir);
		*error_r = web_lang_error;
		ret = -1;
	}
	if (ret < 0) {
		web_langs_free(&langs);
		return -1;
	}
	qsort(langs->langs, langs->count, sizeof(*langs->langs), web_lang_cmp);
	langs->fallback = web_lang_find(langs, "en");
	if (langs->fallback == NULL)
		langs->fallback = &langs->langs[0];
	*langs_r = langs;
	return 0;
}

/* web_langs_free - free the languages and NULL the pointer */
void web_langs_free(struct web_langs **_langs)
{
	struct web_langs *langs = *_langs;

	if (langs == NULL)
		return;
	*_langs = NULL;
	for (size_t i = 0; i < langs->count; i++) {
		catalog_free(&langs->langs[i].messages);
		catalog_free(&langs->langs[i].reasons);
	}
	free(langs->langs);
	free(langs);
}

/* web_lang_find - the language of a code's primary tag */
const struct web_lang *web_lang_find(const struct web_langs *langs,
				     const char *code)
{
	size_t len = code != NULL ? strcspn(code, "-_;, \t") : 0;

	for (size_t i = 0; langs != NULL && len > 0 && i < langs->count; i++)
		if (strlen(langs->langs[i].code) == len &&
		    strncasecmp(langs->langs[i].code, code, len) == 0)
			return &langs->langs[i];
	return NULL;
}

/* web_lang_q - the q value after a language range (1000 = q=1) */
static int web_lang_q(const char *p, const char *end)
{
	const char *q = p;

	while ((q = strchr(q, ';')) != NULL && q < end) {
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
			double v = strtod(q + 2, NULL);

			if (v <= 0)
				return 0;
			return v >= 1 ? 1000 : (int)(v * 1000);
		}
	}
	return 1000;
}

/*
 * web_lang_accept - the highest-q language we speak; on a tie the one
 * listed first. "*" and languages we lack count for nothing.
 */
const struct web_lang *web_lang_accept(const struct web_langs *langs,
				       const char *header)
{
	const struct web_lang *best = langs ? langs->fallback : NULL;
	int best_q = 0;
	const char *p = header;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		const struct web_lang *lang;
		int q;

		if (end == NULL)
			end = p + strlen(p);
		while (*p == ' ' || *p == '\t')
			p++;
		lang = web_lang_find(langs, p);
		q = web_lang_q(p, end);
		if (lang != NULL && q > best_q) {
			best = lang;
			best_q = q;
		}
		p = *end == ',' ? end + 1 : NULL;
	}
	return best;
}

/* web_lang_reason - lang's words for a reason name, or NULL */
const char *web_lang_reason(const struct web_lang *lang, const char *reason)
{
	return lang != NULL ? catalog_get(lang->reasons, reason) : NULL;
}
