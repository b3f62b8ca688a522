/*
 * reinject.h - hand a message back to the MTA, envelope unchanged
 *
 * The `reinject` parameter says how: "sendmail:/path/to/sendmail" runs
 * Postfix's sendmail(1) as FILTER_README's simple content filter does
 * (sendmail -G -i -f SENDER -- RECIPIENT...), "smtp:HOST:PORT" speaks
 * SMTP to a re-injection listener (FILTER_README's advanced filter).
 *
 * The message bytes are passed on as they are, with only what the
 * transport itself requires: CRLF line ends and dot-stuffing for SMTP.
 * Every failure is temporary from the caller's point of view: the
 * message stays with Postfix, which retries.
 */
#ifndef NDRGUARD_REINJECT_H
#define NDRGUARD_REINJECT_H

#include <stddef.h>

/* reinject_check - is spec a valid `reinject` value? */
int reinject_check(const char *spec, const char **error_r);

/*
 * reinject_message - pass msg on for recipients. sender may be "" (the
 * null sender). Returns 0 once the next hop has accepted the message
 * (sendmail exited 0, or SMTP answered 250 to the end of data), else -1
 * with *error_r (valid until the next call in this thread), starting with
 * the next hop's own reply where there is one.
 */
int reinject_message(const char *spec, const char *sender,
		     const char *const *recipients, size_t recipient_count,
		     const char *msg, size_t len, const char **error_r);

/*
 * struct reinject_hand - the hand-over point of one re-injection
 *
 * handing() is called just before the one step that lets the hop take
 * the message: over SMTP, before the final "." (everything else is
 * written); with sendmail, before sendmail is started on the message,
 * which has been written in full to a file first (sendmail posts what it
 * read at end of input, so a writer killed half-way through a pipe
 * would post a truncated message). If it returns -1 nothing is handed
 * on and reinject_message_hand() fails with its error.
 *
 * Afterwards doubt is 1 when the hop may have the message but did not
 * say it accepted it (the connection broke, no answer, sendmail killed);
 * 0 when it answered either way. reply is the hop's last answer ("250
 * 2.0.0 Ok: queued as ..." or "sendmail exited 0").
 */
struct reinject_hand {
	int (*handing)(void *context, const char **error_r);
	void *context;
	int doubt;
	char reply[512];
};

/* reinject_message_hand - reinject_message() with a hand-over point */
int reinject_message_hand(const char *spec, const char *sender,
			  const char *const *recipients,
			  size_t recipient_count, const char *msg, size_t len,
			  struct reinject_hand *hand, const char **error_r);

/* reinject_timeout_bound - seconds a reinject_message_hand() can take
   at most, from its hand-over point to its return */
long long reinject_timeout_bound(void);

#endif
