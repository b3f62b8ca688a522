/*
 * web-i18n.h - the release page's words, in English and Spanish
 *
 * Every text a page shows is a W_* id; web_t() gives it in the request's
 * language. The language is the mailbox's preference where the page
 * knows the mailbox, else the best of Accept-Language, else English.
 * Adding a language: a value in enum web_lang, a column in the table of
 * web-i18n.c, a name in web_lang_code().
 */
#ifndef NDRGUARD_WEB_I18N_H
#define NDRGUARD_WEB_I18N_H

enum web_lang {
	WEB_LANG_EN,
	WEB_LANG_ES,
	WEB_LANG_COUNT
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
	W_COUNT
};

/* web_text_get - text id in lang */
const char *web_text_get(enum web_lang lang, enum web_text id);
/* web_lang_code - "en", "es" */
const char *web_lang_code(enum web_lang lang);
/* web_lang_parse - "en"/"es" (and "es-MX" etc.) to a language; -1 if none */
int web_lang_parse(const char *code);
/* web_lang_accept - the best language of an Accept-Language value */
enum web_lang web_lang_accept(const char *header);

#endif
