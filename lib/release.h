/*
 * release.h - give a held message back to its mailbox
 *
 * The one release path for the command line and the web page: the stored
 * bytes are re-injected unchanged with their original envelope, and only
 * once the next hop has accepted them is the item marked released (with
 * an audit line naming who released it). The re-injected copy does not
 * pass through ndrguard again: it enters Postfix through sendmail or the
 * re-injection listener, where no FILTER sends it back.
 *
 * If the process dies between the hand-over and the state change, the
 * item still shows as held and a second release delivers it twice: a
 * duplicate, never a loss.
 */
#ifndef NDRGUARD_RELEASE_H
#define NDRGUARD_RELEASE_H

struct store;

enum release_outcome {
	RELEASE_DONE,
	RELEASE_NOT_FOUND,
	RELEASE_NOT_HELD,	/* released, deleted or expired already */
};

int release_item(struct store *st, const char *reinject, long long id,
		 const char *actor, long long now,
		 enum release_outcome *outcome_r, const char **error_r);
/* release_delete - mark a held item deleted (its bytes are kept until
   it expires, so a mistaken delete can still be looked at) */
int release_delete(struct store *st, long long id, const char *actor,
		   long long now, enum release_outcome *outcome_r,
		   const char **error_r);

#endif
