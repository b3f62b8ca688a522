/*
 * deliver-outbound.h - certain verdicts from what we sent
 *
 * Between classification and the storm meter, two checks settle a
 * bounce's verdict with certainty:
 *
 * - our DKIM signature on the returned original's headers (dkim.h):
 *   valid, the bounce is legitimate ("our DKIM signature"); ours but
 *   failing, or missing where dkim_required = yes, the original is
 *   forged and the bounce is held from its first message;
 * - the outbound index (store_outbound_find()): an original Message-ID
 *   ndrguard-milter recorded, the bounce is legitimate ("outbound
 *   index"), whatever else was said of it.
 *
 * The DKIM check touches no store (deliver_prepare() runs it); the
 * index is one indexed read inside the decision's transaction.
 */
#ifndef NDRGUARD_DELIVER_OUTBOUND_H
#define NDRGUARD_DELIVER_OUTBOUND_H

struct classify_result;
struct deliver_env;
struct dkim_keys;
struct store;

/*
 * deliver_outbound_dkim - judge cr by our DKIM signature: may set its
 * verdict to legit; returns 1 when the original is forged (evidence
 * says why), else 0
 */
int deliver_outbound_dkim(const struct deliver_env *env,
			  struct classify_result *cr);

/*
 * deliver_outbound_known - is an original Message-ID of cr in the index?
 * 1 (and cr's verdict set to legit), 0, or -1 with *error_r
 */
int deliver_outbound_known(struct store *st, struct classify_result *cr,
			   const char **error_r);

#endif
