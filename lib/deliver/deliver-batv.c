/*
 * deliver-batv.c - a recipient's BATV tag decides its bounce
 * (deliver-batv.h)
 */
#include "autoconfig.h"
#include "batv.h"
#include "deliver.h"
#include "deliver-batv.h"
#include "relays.h"
#include "settings.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct deliver_batv {
	struct batv_keys *keys;
	struct relays *domains;
	unsigned int days;
	long long enforce_after;	/* day; -1: untagged never judged */
	int untagged_hold;
};

/* deliver_batv_since_day - batv_since (YYYY-MM-DD, checked) as a day */
static long long deliver_batv_since_day(const char *since)
{
	struct tm tm;
	int y, m, d;

	if (since == NULL || sscanf(since, "%d-%d-%d", &y, &m, &d) != 3)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return batv_day((long long)timegm(&tm));
}

int deliver_batv_load(const struct settings *set, struct deliver_batv **batv_r,
		      const char **error_r)
{
	struct deliver_batv *b;
	long long since;

	*batv_r = NULL;
	if (set->batv_key_file == NULL)
		return 0;
	b = xcalloc(1, sizeof(*b));
	if (batv_keys_load(set->batv_key_file, &b->keys, error_r) < 0) {
		free(b);
		return -1;
	}
	b->domains = relays_create(NULL, set->batv_domains, error_r);
	if (b->domains == NULL) {
		deliver_batv_free(&b);
		return -1;
	}
	b->days = set->batv_days;
	since = deliver_batv_since_day(set->batv_since);
	b->enforce_after = since < 0 ? -1 : since + set->batv_days;
	b->untagged_hold = set->batv_untagged != NULL &&
		strcmp(set->batv_untagged, "hold") == 0;
	*batv_r = b;
	return 0;
}

void deliver_batv_free(struct deliver_batv **_batv)
{
	struct deliver_batv *b = *_batv;

	if (b == NULL)
		return;
	batv_keys_free(&b->keys);
	relays_destroy(&b->domains);
	free(b);
	*_batv = NULL;
}

/* deliver_batv_ours - is the recipient's domain one of batv_domains? */
static int deliver_batv_ours(const struct deliver_batv *b, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');

	return at != NULL && at[1] != '\0' &&
		relays_match_domain(b->domains, at + 1);
}

/* deliver_batv_evidence - the evidence words of a failing result */
static const char *deliver_batv_evidence(enum batv_result r)
{
	switch (r) {
	case BATV_VALID:
		return "batv: valid tag";
	case BATV_UNTAGGED:
		return "batv: untagged";
	case BATV_MALFORMED:
		return "batv: malformed tag";
	case BATV_UNKNOWN_KEY:
		return "batv: unknown key";
	case BATV_BAD_SIGNATURE:
		return "batv: bad signature";
	case BATV_EXPIRED:
		return "batv: expired";
	}
	return "batv: bad tag";
}

void deliver_batv_judge(const struct deliver_batv *b, long long now,
			struct deliver_outcome *o)
{
	char untagged[BATV_ADDRESS_MAX] = "";
	long long today = batv_day(now);
	enum batv_result r;

	if (b == NULL || o->reply || !deliver_batv_ours(b, o->recipient))
		return;
	r = batv_verify(b->keys, o->recipient, today, b->days, untagged,
			sizeof(untagged));
	if (r == BATV_UNTAGGED) {
		/* mail sent before we signed has honest bounces for a while */
		if (!b->untagged_hold || b->enforce_after < 0 ||
		    today <= b->enforce_after)
			return;
		o->batv = DELIVER_BATV_HOLD;
	} else {
		o->batv = r == BATV_VALID ? DELIVER_BATV_LEGIT
			: DELIVER_BATV_HOLD;
	}
	/* a tagged bounce belongs to the mailbox without the tag */
	if (untagged[0] != '\0') {
		free(o->mailbox);
		o->mailbox = xstrdup(untagged);
	}
	o->batv_evidence = deliver_batv_evidence(r);
}
