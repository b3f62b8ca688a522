/*
 * deliver-batv.h - a recipient's BATV tag decides its bounce
 *
 * A bounce (a kind that can be backscatter) to a recipient of
 * batv_domains is judged by the recipient's prvs= tag (batv.h), one
 * recipient at a time, before the storm meter:
 *
 * - a valid tag: legitimate with certainty ("batv: valid tag"); never
 *   metered nor held, passed on to the address without the tag (a
 *   tagged recipient is that mailbox's, for the meter and the held
 *   item too: the digest and a release go to the real mailbox);
 * - a tag that fails (bad signature, expired, unknown key, malformed):
 *   backscatter with certainty, held from the first message;
 * - no tag, once batv_days have passed since batv_since, with
 *   batv_untagged = hold: held from the first message ("batv: untagged");
 *   else metered as without BATV.
 *
 * A message whose verdict is already legitimate (our DKIM signature,
 * our relays) is not held for a failing tag, and the outbound index
 * still passes everything it knows. The check touches no store:
 * deliver_prepare() runs it.
 *
 * Ownership: deliver_batv_load() returns a struct deliver_batv freed
 * by deliver_batv_free(); the env only points at it.
 */
#ifndef NDRGUARD_DELIVER_BATV_H
#define NDRGUARD_DELIVER_BATV_H

struct deliver_batv;
struct deliver_outcome;
struct settings;

/*
 * deliver_batv_load - the keys and domains the settings name; *batv_r is
 * NULL when batv_key_file is empty (BATV off). 0, or -1 with *error_r.
 */
int deliver_batv_load(const struct settings *set, struct deliver_batv **batv_r,
		      const char **error_r);
/* deliver_batv_free - free what deliver_batv_load() made; NULL is fine */
void deliver_batv_free(struct deliver_batv **_batv);

/*
 * deliver_batv_judge - set o's BATV verdict (o->batv, o->batv_evidence,
 * o->mailbox) for a bounce arriving at now; batv may be NULL (off)
 */
void deliver_batv_judge(const struct deliver_batv *batv, long long now,
			struct deliver_outcome *o);

#endif
