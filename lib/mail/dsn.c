/*
 * dsn.c - reading RFC 3464 delivery-status fields
 *
 * The fields are read line by line rather than as header blocks: real
 * DSNs forget the blank line between recipients, indent fields, or put
 * them in a text/plain part, and a line scanner copes with all of that.
 * A recipient starts at an Original-Recipient or Final-Recipient that the
 * current recipient already has, or that follows its Action or Status;
 * any field the current recipient already has also starts a new one
 * (some MTAs write Status and Diagnostic-Code before Final-Recipient).
 */
#include "autoconfig.h"
#include "dsn.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum dsn_field {
	DSN_FIELD_NONE = 0,
	DSN_FIELD_REPORTING_MTA,
	DSN_FIELD_ORIGINAL_RECIPIENT,
	DSN_FIELD_FINAL_RECIPIENT,
	DSN_FIELD_ACTION,
	DSN_FIELD_STATUS,
	DSN_FIELD_REMOTE_MTA,
	DSN_FIELD_DIAGNOSTIC,
};

static const struct {
	const char *name;
	enum dsn_field field;
} dsn_fields[] = {
	{ "reporting-mta", DSN_FIELD_REPORTING_MTA },
	{ "original-recipient", DSN_FIELD_ORIGINAL_RECIPIENT },
	{ "final-recipient", DSN_FIELD_FINAL_RECIPIENT },
	{ "action", DSN_FIELD_ACTION },
	{ "status", DSN_FIELD_STATUS },
	{ "remote-mta", DSN_FIELD_REMOTE_MTA },
	{ "diagnostic-code", DSN_FIELD_DIAGNOSTIC },
	/* Exchange and a few others */
	{ "x-display-name", DSN_FIELD_NONE },
};

size_t dsn_status_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	/* subject: one digit, 0-7 (RFC 3463 defines no more) */
	if (s[2] < '0' || s[2] > '7' || s[3] != '.')
		return 0;
	i = 4;
	for (n = 0; i < len && n < 3 && isdigit((unsigned char)s[i]); n++)
		i++;
	if (n == 0 || (i < len && isdigit((unsigned char)s[i])))
		return 0;
	return i;
}

/* dsn_status_alone - is the code at text[i..i+n) not part of a longer token? */
static int dsn_status_alone(const char *text, size_t len, size_t i, size_t n)
{
	if (i > 0) {
		unsigned char c = (unsigned char)text[i - 1];

		/* "550-5.7.26" (a multi-line SMTP reply) is fine, "x-5.1.1" not */
		int reply = c == '-' && i > 1 && isdigit((unsigned char)text[i - 2]);
		/* "ERROR_CODE :5.2.1", "Status:5.1.1", but not "::5.1.1" or "10:5.1.1" */
		int field = c == ':' && i > 1 && text[i - 2] != ':' &&
			!isxdigit((unsigned char)text[i - 2]);

		if (!reply && !field &&
		    (isalnum(c) || c == '.' || c == '-' || c == '_' ||
		     c == '/' || c == '=' || c == ':' || c == '@'))
			return 0;
	}
	if (i + n < len) {
		unsigned char c = (unsigned char)text[i + n];

		if (isalnum(c) || c == '@' || c == '_' || c == '/' ||
		    (c == '.' && i + n + 1 < len &&
		     isdigit((unsigned char)text[i + n + 1])))
			return 0;
	}
	return 1;
}

const char *dsn_status_find(const char *text, size_t len, size_t *len_r)
{
	for (size_t i = 0; i + 5 <= len; i++) {
		const char *p = memchr(text + i, '.', len - i);
		size_t n;

		if (p == NULL)
			return NULL;
		i = (size_t)(p - text);
		if (i == 0)
			continue;
		i--;
		n = dsn_status_valid(text + i, len - i);
		if (n > 0 && dsn_status_alone(text, len, i, n)) {
			*len_r = n;
			return text + i;
		}
		i++;	/* past the dot on the next round */
	}
	return NULL;
}

char *dsn_address_clean(const char *value)
{
	const char *semi = strchr(value, ';');
	const char *p = semi != NULL ? semi + 1 : value;
	const char *at, *start, *end;

	at = strchr(p, '@');
	if (at == NULL)
		return NULL;
	start = at;
	while (start > p && !strchr(" \t<>\"'(),;:[]", start[-1]))
		start--;
	end = at + 1;
	while (*end != '\0' && !strchr(" \t<>\"'(),;:[]", *end))
		end++;
	while (end > at + 1 && end[-1] == '.')
		end--;
	if (start == at || end == at + 1)
		return NULL;
	char *addr = xstrndup(start, (size_t)(end - start));
	for (char *q = strchr(addr, '@'); *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return addr;
}

/* dsn_field_lookup - which field is named by the line, and its value */
static enum dsn_field dsn_field_lookup(const char *line, size_t len,
				       size_t *value_off_r)
{
	/* the field names start with one of these letters */
	if (len == 0 || strchr("rofasdxROFASDX", line[0]) == NULL ||
	    line[0] == '\0')
		return DSN_FIELD_NONE;
	for (size_t i = 0; i < sizeof(dsn_fields) / sizeof(dsn_fields[0]); i++) {
		size_t n = strlen(dsn_fields[i].name);

		if (len > n && strncasecmp(line, dsn_fields[i].name, n) == 0 &&
		    line[n] == ':') {
			*value_off_r = n + 1;
			return dsn_fields[i].field;
		}
	}
	return DSN_FIELD_NONE;
}

/* dsn_new_recipient - start another recipient (NULL past the limit) */
static struct dsn_recipient *dsn_new_recipient(struct dsn_report *report)
{
	size_t n = report->recipient_count;

	if (n >= DSN_MAX_RECIPIENTS)
		return NULL;
	report->recipients = xrealloc(report->recipients,
				      (n + 1) * sizeof(*report->recipients));
	memset(&report->recipients[n], 0, sizeof(report->recipients[n]));
	report->recipient_count = n + 1;
	return &report->recipients[n];
}

/* dsn_field_slot - where a per-recipient field is kept */
static char **dsn_field_slot(struct dsn_recipient *r, enum dsn_field field)
{
	switch (field) {
	case DSN_FIELD_ORIGINAL_RECIPIENT: return &r->original_recipient;
	case DSN_FIELD_FINAL_RECIPIENT: return &r->final_recipient;
	case DSN_FIELD_ACTION: return &r->action;
	case DSN_FIELD_STATUS: return &r->status_raw;
	case DSN_FIELD_REMOTE_MTA: return &r->remote_mta;
	case DSN_FIELD_DIAGNOSTIC: return &r->diagnostic;
	default: return NULL;
	}
}

/* dsn_slot - where a field's value goes; may start a new recipient */
static char **dsn_slot(struct dsn_report *report, struct dsn_recipient **cur,
		       enum dsn_field field, int blank)
{
	struct dsn_recipient *r = *cur;

	if (field == DSN_FIELD_REPORTING_MTA)
		return &report->reporting_mta;
	/*
	 * Postfix writes Final- before Original-Recipient, others the other
	 * way round; both come before Action and Status. So an address field
	 * starts a new recipient when it repeats, or after Status. A blank
	 * line after a recipient with an address ends it (RFC 3464 blocks).
	 */
	int is_addr = field == DSN_FIELD_ORIGINAL_RECIPIENT ||
		field == DSN_FIELD_FINAL_RECIPIENT;
	int has_addr = r != NULL &&
		(r->final_recipient != NULL || r->original_recipient != NULL);
	/*
	 * The other address field joins a recipient that has only an
	 * Action so far (Amazon SES: Action, Final-, Original-Recipient,
	 * Diagnostic-Code, Status); after its Status or Diagnostic-Code
	 * it belongs to the next one.
	 */
	if (r == NULL || (blank && is_addr && has_addr) ||
	    (field == DSN_FIELD_ORIGINAL_RECIPIENT && r->original_recipient != NULL) ||
	    (field == DSN_FIELD_FINAL_RECIPIENT && r->final_recipient != NULL) ||
	    (is_addr && has_addr && (r->status_raw != NULL ||
				     r->diagnostic != NULL)) ||
	    (!is_addr && has_addr && dsn_field_slot(r, field) != NULL &&
	     *dsn_field_slot(r, field) != NULL))
		r = *cur = dsn_new_recipient(report);
	if (r == NULL)
		return NULL;
	return dsn_field_slot(r, field);
}

/* dsn_store - trim and store a collected value unless already set */
static void dsn_store(char **slot, struct strbuf *value)
{
	const char *v = strbuf_cstr(value);
	size_t len = value->len;

	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (slot != NULL && *slot == NULL && len > 0)
		*slot = xstrndup(v, len);
	strbuf_reset(value);
}

/* dsn_finish - derive the clean forms of the fields read this time */
static void dsn_finish(struct dsn_report *report, size_t first)
{
	for (size_t i = first; i < report->recipient_count; i++) {
		struct dsn_recipient *r = &report->recipients[i];
		char *addr;
		size_t n;

		if (r->final_recipient != NULL) {
			addr = dsn_address_clean(r->final_recipient);
			free(r->final_recipient);
			r->final_recipient = addr;
		}
		if (r->original_recipient != NULL) {
			addr = dsn_address_clean(r->original_recipient);
			free(r->original_recipient);
			r->original_recipient = addr;
		}
		if (r->action != NULL) {
			r->action[strcspn(r->action, " \t(;")] = '\0';
			for (char *p = r->action; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
		}
		if (r->status_raw != NULL &&
		    (n = dsn_status_valid(r->status_raw, strlen(r->status_raw))) > 0)
			r->status = xstrndup(r->status_raw, n);
	}
}

void dsn_parse(const char *text, size_t len, struct dsn_report *report)
{
	struct strbuf value = STRBUF_INIT;
	struct dsn_recipient *cur = NULL;
	char **slot = NULL;
	size_t pos = 0, first = report->recipient_count;
	int blank = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t eol = nl == NULL ? len : (size_t)(nl - text);
		const char *line = text + pos;
		size_t line_len = eol - pos, off;
		enum dsn_field field;

		pos = eol + 1;
		if (line_len > 0 && (line[0] == ' ' || line[0] == '\t') &&
		    slot != NULL) {
			while (line_len > 0 && (*line == ' ' || *line == '\t')) {
				line++;
				line_len--;
			}
			if (value.len < 4096) {
				strbuf_putc(&value, ' ');
				strbuf_append(&value, line, line_len);
			}
			continue;
		}
		if (slot != NULL)
			dsn_store(slot, &value);
		slot = NULL;
		while (line_len > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			line_len--;
		}
		if (line_len == 0) {
			blank = 1;
			continue;
		}
		field = dsn_field_lookup(line, line_len, &off);
		if (field == DSN_FIELD_NONE)
			continue;
		slot = dsn_slot(report, &cur, field, blank);
		blank = 0;
		strbuf_append(&value, line + off, line_len - off);
	}
	if (slot != NULL)
		dsn_store(slot, &value);
	strbuf_free(&value);
	dsn_finish(report, first);
}

void dsn_report_free(struct dsn_report *report)
{
	for (size_t i = 0; i < report->recipient_count; i++) {
		struct dsn_recipient *r = &report->recipients[i];

		free(r->final_recipient);
		free(r->original_recipient);
		free(r->action);
		free(r->status);
		free(r->status_raw);
		free(r->remote_mta);
		free(r->diagnostic);
	}
	free(report->recipients);
	free(report->reporting_mta);
	memset(report, 0, sizeof(*report));
}
