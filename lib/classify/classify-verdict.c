/*
 * classify-verdict.c - did the returned original really leave through us?
 *
 * This module judges a bounce the way SpamAssassin's VBounce plugin does
 * with whitelist_bounce_relays: a bounce is genuine when the Received
 * chain of the original it returns shows one of our relays (by host name
 * or by address), and backscatter when the original is there but shows
 * none. With our_domains, a Message-ID of ours also counts, provided the
 * Received chain does not contradict it (an original whose oldest hop was
 * stamped by a host outside our domains did not start with us). Without
 * an original there is nothing to judge: unknown.
 */
#include "autoconfig.h"
#include "classify-private.h"
#include "relays.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* verdict_token_char - may c be part of a host name or address? */
static int verdict_token_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == ':' || c == '_';
}

/*
 * verdict_received_ours - does one Received value name our relay?
 * Every host-like token is tried: the "from" and "by" names, the
 * reverse-DNS name and [address] in parentheses, the HELO name.
 */
static int verdict_received_ours(const struct relays *relays, const char *rcvd)
{
	const char *p = rcvd;
	char tok[256];

	while (*p != '\0') {
		size_t n = 0;

		while (*p != '\0' && !verdict_token_char((unsigned char)*p))
			p++;
		while (verdict_token_char((unsigned char)p[n]))
			n++;
		if (n == 0)
			break;
		if (n < sizeof(tok)) {
			size_t t = n;

			memcpy(tok, p, n);
			tok[n] = '\0';
			while (t > 0 && tok[t - 1] == '.')
				tok[--t] = '\0';	/* "host.example." */
			if (t > 0 && (relays_match_host(relays, tok) ||
				      relays_match_ip(relays, tok)))
				return 1;
		}
		p += n;
	}
	return 0;
}

/* verdict_by_host - the host name after "by" in a Received value */
static char *verdict_by_host(const char *rcvd)
{
	const char *p = rcvd;

	while ((p = strstr(p, "by ")) != NULL) {
		if (p == rcvd || isspace((unsigned char)p[-1]) || p[-1] == ')') {
			p += 3;
			while (*p == ' ')
				p++;
			size_t n = 0;
			while (verdict_token_char((unsigned char)p[n]))
				n++;
			return n > 0 ? xstrndup(p, n) : NULL;
		}
		p += 3;
	}
	return NULL;
}

/* verdict_msgid_ours - is the original's Message-ID in our domains? */
static int verdict_msgid_ours(const struct relays *relays, const char *msgid)
{
	const char *at = msgid == NULL ? NULL : strrchr(msgid, '@');
	char *dom;
	int ret;

	if (at == NULL)
		return 0;
	dom = xstrndup(at + 1, strcspn(at + 1, "> \t"));
	ret = relays_match_domain(relays, dom);
	free(dom);
	return ret;
}

/* verdict_chain_agrees - the oldest hop was stamped by us (or no hops) */
static int verdict_chain_agrees(const struct relays *relays,
				const struct classify_original *o)
{
	char *by;
	int ret;

	if (o->received_count == 0)
		return 1;
	by = verdict_by_host(o->received[o->received_count - 1]);
	ret = by == NULL || relays_match_domain(relays, by) ||
		relays_match_host(relays, by);
	free(by);
	return ret;
}

/* verdict_set - store the verdict and its evidence */
static void verdict_set(struct classify_result *res, enum classify_verdict v,
			const char *evidence)
{
	res->verdict = v;
	res->evidence = xstrdup(evidence);
}

void classify_verdict_judge(struct classify_ctx *ctx,
			    const struct relays *relays)
{
	struct classify_result *res = ctx->res;
	const struct classify_original *o = &res->original;

	if (!classify_kind_is_backscatter(res->kind)) {
		verdict_set(res, CLASSIFY_VERDICT_UNKNOWN, "not a bounce");
		return;
	}
	if (relays_is_empty(relays)) {
		verdict_set(res, CLASSIFY_VERDICT_UNKNOWN, "no our_relays configured");
		return;
	}
	if (o->received_count == 0 && o->message_id == NULL) {
		verdict_set(res, CLASSIFY_VERDICT_UNKNOWN, "no returned original");
		return;
	}
	for (size_t i = 0; i < o->received_count; i++) {
		if (verdict_received_ours(relays, o->received[i])) {
			verdict_set(res, CLASSIFY_VERDICT_LEGIT,
				    "original passed our relay");
			return;
		}
	}
	if (verdict_msgid_ours(relays, o->message_id) &&
	    verdict_chain_agrees(relays, o)) {
		verdict_set(res, CLASSIFY_VERDICT_LEGIT, "our Message-ID");
		return;
	}
	verdict_set(res, CLASSIFY_VERDICT_BACKSCATTER,
		    o->received_count > 0 ? "original not via our relays" :
		    "original without our relays");
}
