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

#endif
