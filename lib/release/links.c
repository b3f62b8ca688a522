/*
 * links.c - the URL forms of links.h, built in one place
 *
 * The action names here are the ones the release page checks: "item",
 * "mailbox" and "settings" (the unsubscribe link shares "settings", as it
 * changes the same preference).
 */
#include "autoconfig.h"
#include "links.h"
#include "strbuf.h"
#include "token.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* links_url_encode - percent-encode all but RFC 3986 unreserved chars */
char *links_url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			strbuf_putc(&sb, (char)*p);
		} else {
			strbuf_putc(&sb, '%');
			strbuf_putc(&sb, hex[*p >> 4]);
			strbuf_putc(&sb, hex[*p & 15]);
		}
	}
	if (sb.data == NULL)
		return xstrdup("");
	return strbuf_steal(&sb);
}

/* links_base - base_url without its trailing slashes */
static void links_base(struct strbuf *sb, const char *base_url)
{
	size_t len = strlen(base_url);

	while (len > 0 && base_url[len - 1] == '/')
		len--;
	strbuf_append(sb, base_url, len);
}

/* links_mailbox_form - BASE/PATH?m=ADDR&t=TOKEN for a mailbox token */
static char *links_mailbox_form(const char *base_url,
				const struct token_key *key, const char *path,
				const char *action, const char *mailbox,
				long long expires)
{
	struct strbuf sb = STRBUF_INIT;
	char *addr = links_url_encode(mailbox);
	char *token = token_make(key, action, mailbox, expires);

	links_base(&sb, base_url);
	strbuf_printf(&sb, "/%s?m=%s&t=%s", path, addr, token);
	free(addr);
	free(token);
	return strbuf_steal(&sb);
}

char *links_item(const char *base_url, const struct token_key *key,
		 long long id, long long expires)
{
	struct strbuf sb = STRBUF_INIT;
	char subject[32];
	char *token;

	snprintf(subject, sizeof(subject), "%lld", id);
	token = token_make(key, "item", subject, expires);
	links_base(&sb, base_url);
	strbuf_printf(&sb, "/item/%lld?t=%s", id, token);
	free(token);
	return strbuf_steal(&sb);
}

char *links_mailbox(const char *base_url, const struct token_key *key,
		    const char *mailbox, long long expires)
{
	return links_mailbox_form(base_url, key, "mailbox", "mailbox",
				  mailbox, expires);
}

char *links_settings(const char *base_url, const struct token_key *key,
		     const char *mailbox, long long expires)
{
	return links_mailbox_form(base_url, key, "settings", "settings",
				  mailbox, expires);
}

char *links_unsubscribe(const char *base_url, const struct token_key *key,
			const char *mailbox, long long expires)
{
	return links_mailbox_form(base_url, key, "unsubscribe", "settings",
				  mailbox, expires);
}
