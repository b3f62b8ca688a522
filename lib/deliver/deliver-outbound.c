/*
 * deliver-outbound.c - our DKIM signature and the outbound index decide
 * (deliver-outbound.h)
 */
#include "autoconfig.h"
#include "deliver.h"
#include "deliver-outbound.h"
#include "dkim.h"
#include "msgid.h"
#include "relays.h"
#include "store.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* deliver_outbound_set - a certain verdict and the evidence for it */
static void deliver_outbound_set(struct classify_result *cr,
				 enum classify_verdict v, const char *evidence)
{
	cr->verdict = v;
	free(cr->evidence);
	cr->evidence = xstrdup(evidence);
}

/* deliver_outbound_ours - dkim_ours_cb: a d= of our_domains */
static int deliver_outbound_ours(const char *domain, void *context)
{
	return relays_match_domain(context, domain);
}

int deliver_outbound_dkim(const struct deliver_env *env,
			  struct classify_result *cr)
{
	const struct classify_original *o = &cr->original;
	const char *detail;
	enum dkim_result r = DKIM_NONE;

	if (env->relays == NULL || !o->headers_quoted)
		return 0;
	if (o->header_count > 0) {
		const char **names = xcalloc(o->header_count, sizeof(*names));
		const char **values = xcalloc(o->header_count, sizeof(*values));

		for (size_t i = 0; i < o->header_count; i++) {
			names[i] = o->headers[i].name;
			values[i] = o->headers[i].value;
		}
		r = dkim_verify_headers(env->dkim_keys, names, values,
					o->header_count, deliver_outbound_ours,
					(void *)env->relays, &detail);
		free(names);
		free(values);
	}
	if (r == DKIM_PASS) {
		deliver_outbound_set(cr, CLASSIFY_VERDICT_LEGIT, detail);
		return 0;
	}
	if (r == DKIM_FAIL) {
		deliver_outbound_set(cr, CLASSIFY_VERDICT_BACKSCATTER,
				     "forged: our DKIM signature does not verify");
		return 1;
	}
	if (r == DKIM_NONE && env->dkim_required) {
		deliver_outbound_set(cr, CLASSIFY_VERDICT_BACKSCATTER,
				     "forged: no DKIM signature of ours"
				     " (dkim_required)");
		return 1;
	}
	return 0;
}

/* deliver_outbound_ids - the original's Message-IDs to look up */
static size_t deliver_outbound_ids(const struct classify_result *cr,
				   char ids[][MSGID_MAX + 1])
{
	size_t n = 0;

	if (cr->original.message_id != NULL &&
	    msgid_normalize(cr->original.message_id, ids[0], MSGID_MAX + 1) > 0)
		n++;
	if (cr->in_reply_to != NULL)
		n += msgid_list(cr->in_reply_to, ids + n,
				STORE_OUTBOUND_FIND_MAX - n);
	if (cr->references != NULL && n < STORE_OUTBOUND_FIND_MAX)
		n += msgid_list(cr->references, ids + n,
				STORE_OUTBOUND_FIND_MAX - n);
	return n;
}

int deliver_outbound_known(struct store *st, struct classify_result *cr,
			   const char **error_r)
{
	char ids[STORE_OUTBOUND_FIND_MAX][MSGID_MAX + 1];
	const char *ptrs[STORE_OUTBOUND_FIND_MAX];
	struct store_outbound rec;
	size_t n;
	int found;

	/* unclassified: nothing to look up */
	if (cr == NULL || (n = deliver_outbound_ids(cr, ids)) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = ids[i];
	if (store_outbound_find(st, ptrs, n, &rec, &found, error_r) < 0)
		return -1;
	if (found)
		deliver_outbound_set(cr, CLASSIFY_VERDICT_LEGIT,
				     "outbound index");
	return found;
}
