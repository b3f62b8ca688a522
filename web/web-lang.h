/*
 * web-lang.h - the release page's languages: one folder each
 *
 * Every folder of digest_templates that holds a "messages" catalog
 * (catalog.h) is a language the page speaks, named by the folder ("en",
 * "de"): its "web.*" keys are the page's words, its "reasons" file
 * words a reason as the digest does. A new language is a folder, never
 * C. web_langs_load() refuses a catalog that lacks a key the page uses,
 * naming every missing one.
 *
 * Every text a page shows is a W_* id, whose key is "web." and the id's
 * name in lower case (W_ITEM_TITLE is web.item_title); web_text_get()
 * gives it in a language. The language is the mailbox's preference
 * where the page knows the mailbox, else the best of Accept-Language,
 * else English (or, without "en", the first folder in name order).
 */
#ifndef NDRGUARD_WEB_LANG_H
#define NDRGUARD_WEB_LANG_H

#include <stddef.h>

struct catalog;

/* one language: its folder's name and catalogs */
struct web_lang {
	char code[16];
	struct catalog *messages;
	struct catalog *reasons;	/* NULL: reasons shown by name */
};

/* the languages of one digest_templates, sorted by code */
struct web_langs {
	struct web_lang *langs;
	size_t count;
	const struct web_lang *fallback;
};

enum web_text {
	W_SITE,
	W_FORBIDDEN_TITLE,
	W_FORBIDDEN_TEXT,
	W_NOTFOUND_TITLE,
	W_NOTFOUND_TEXT,
	W_ERROR_TITLE,
	W_ERROR_TEXT,
	W_TOO_MANY,
	W_TOO_LARGE,
	W_BAD_REQUEST,
	W_METHOD,
	W_UNAUTHORIZED,
	W_FORGED,
	W_HOME_TEXT,
	W_ITEM_TITLE,
	W_ITEM_INTRO,
	W_RECEIVED,
	W_MAILBOX,
	W_SENDER,
	W_KIND,
	W_REPORTING,
	W_STATUS,
	W_REASON,
	W_DIAGNOSTIC,
	W_ORIGINAL,
	W_SUBJECT,
	W_FROM,
	W_TO,
	W_DATE,
	W_VERDICT,
	W_EVIDENCE,
	W_V_BACKSCATTER,
	W_V_BACKSCATTER_TEXT,
	W_V_LEGIT,
	W_V_LEGIT_TEXT,
	W_V_UNKNOWN,
	W_V_UNKNOWN_TEXT,
	W_REPORT,
	W_RELEASE,
	W_REQUEST,
	W_STATE_RELEASED,
	W_STATE_DELETED,
	W_STATE_EXPIRED,
	W_DONE_RELEASED,
	W_ALREADY,
	W_NOT_HELD,
	W_RELEASE_FAILED,
	W_REQUESTED,
	W_REQ_PENDING,
	W_REQ_REFUSED,
	W_BUSY,
	W_IN_DOUBT,
	W_STATE_RELEASING,
	W_COUNT_DOUBT,
	W_NO_SUBJECT,
	W_KIND_NDR_FAILED,
	W_KIND_NDR_DELAYED,
	W_KIND_DSN_SUCCESS,
	W_KIND_AUTOREPLY,
	W_KIND_CHALLENGE,
	W_KIND_AV_NOTICE,
	W_KIND_OTHER,
	W_MAILBOX_TITLE,
	W_MAILBOX_EMPTY,
	W_RELEASE_SELECTED,
	W_REQUEST_SELECTED,
	W_RELEASE_LEGIT,
	W_NEWER,
	W_OLDER,
	W_PAGE,
	W_DETAILS,
	W_COUNT_RELEASED,
	W_COUNT_REQUESTED,
	W_COUNT_SKIPPED,
	W_COUNT_FAILED,
	W_NONE_SELECTED,
	W_SETTINGS_TITLE,
	W_DIGEST_Q,
	W_DAILY,
	W_STORMS,
	W_NEVER,
	W_LANG_Q,
	W_LANG_AUTO,
	W_LANG_NAME,
	W_SAVE,
	W_SAVED,
	W_UNSUB_NOTE,
	W_UNSUBSCRIBED,
	W_ADMIN_TITLE,
	W_ADMIN_EMPTY,
	W_APPROVE,
	W_REFUSE,
	W_REQUESTED_AT,
	W_APPROVED,
	W_REFUSED,
	W_DECIDED_ALREADY,
	W_STATS_TITLE,
	W_STATS_HOURLY,
	W_STATS_DAILY,
	W_STATS_STORMS,
	W_STATS_TOP,
	W_STATS_NONE,
	W_STATS_ACTIVE,
	W_STATS_S_HELD,
	W_STATS_S_RELEASED,
	W_STATS_S_DELETED,
	W_STATS_S_EXPIRED,
	W_ITEM_TITLE_RELEASED,
	W_ITEM_TITLE_DELETED,
	W_SENDER_SYSTEM,
	W_SENDER_UNKNOWN,
	W_DELETE,
	W_DELETE_STORM,
	W_DELETE_SELECTED,
	W_DONE_DELETED,
	W_ALREADY_DELETED,
	W_DELETE_FAILED,
	W_COUNT_DELETED,
	W_STORM_DELETED,
	W_MORE_ACTIONS,
	W_ALLOW_DOMAIN,
	W_ALLOW_RECIPIENT,
	W_ALLOW_ADDED,
	W_ALLOW_EXISTS,
	W_ALLOW_TITLE,
	W_ALLOW_NONE,
	W_ALLOW_KIND_DOMAIN,
	W_ALLOW_KIND_RECIPIENT,
	W_ALLOW_REMOVE,
	W_ALLOW_REMOVED,
	W_ALLOW_GONE,
	W_TZ_Q,
	W_TZ_HINT,
	W_TZ_BAD,
	W_EV_NOT_BOUNCE,
	W_EV_NO_RELAYS,
	W_EV_NO_ORIGINAL,
	W_EV_PASSED_RELAY,
	W_EV_OUR_MSGID,
	W_EV_NOT_VIA_RELAYS,
	W_EV_WITHOUT_RELAYS,
	W_EV_OWN_DIGEST,
	W_EV_OWN_REQUEST,
	W_EV_OWNER_RULE,
	W_COUNT
};

/* web_langs_load - every language under dir; 0, or -1 with *error_r */
int web_langs_load(const char *dir, struct web_langs **langs_r,
		   const char **error_r);
void web_langs_free(struct web_langs **_langs);
/* web_text_get - text id in lang */
const char *web_text_get(const struct web_lang *lang, enum web_text id);
/* web_text_key - the catalog key of id ("web.item_title") */
const char *web_text_key(enum web_text id);
/* web_lang_code - "en", "de" */
const char *web_lang_code(const struct web_lang *lang);
/* web_lang_find - a language by code ("es", "es-MX", "ES"), or NULL */
const struct web_lang *web_lang_find(const struct web_langs *langs,
				     const char *code);
/* web_lang_accept - the best language of an Accept-Language value */
const struct web_lang *web_lang_accept(const struct web_langs *langs,
				       const char *header);
/* web_lang_reason - the user's words for a reason name, or NULL */
const char *web_lang_reason(const struct web_lang *lang, const char *reason);

#endif
