/*
 * classify.h - what a message is: NDR recognition and backscatter verdict
 *
 * classify_message() reads one raw RFC 5322 message (any line ending: LF,
 * CRLF or CR) and tells what kind of message it is (a failure NDR, a delay
 * warning, an auto-reply, ...), whom it bounced for and why, what the
 * returned original was, and whether that original really left through our
 * own relays (the verdict).
 *
 * It never touches a database, the network or the file system, and keeps
 * no state between calls: it is safe to call from many threads at once.
 *
 * Ownership: the result and every string in it belong to the result and
 * are freed by classify_result_free(). String fields are NUL-terminated
 * UTF-8, or NULL where the message did not say. `reason` points to a
 * static string.
 */
#ifndef NDRGUARD_CLASSIFY_H
#define NDRGUARD_CLASSIFY_H

#include <stddef.h>

struct strbuf;
struct relays;

enum classify_kind {
	CLASSIFY_NOT_BOUNCE = 0,
	CLASSIFY_NDR_FAILED,
	CLASSIFY_NDR_DELAYED,
	CLASSIFY_DSN_SUCCESS,
	CLASSIFY_AUTOREPLY,
	CLASSIFY_CHALLENGE,
	CLASSIFY_AV_NOTICE,
	CLASSIFY_FEEDBACK_ARF,
	CLASSIFY_MDN,
};

enum classify_verdict {
	CLASSIFY_VERDICT_UNKNOWN = 0,
	CLASSIFY_VERDICT_BACKSCATTER,
	CLASSIFY_VERDICT_LEGIT,
};

struct classify_recipient {
	char *address;		/* the bounced recipient */
	char *status;		/* RFC 3463 code literally found, or NULL */
	char *action;		/* failed, delayed, delivered, relayed, expanded */
	char *diagnostic;	/* Diagnostic-Code or the MTA's text */
	char *remote_mta;
};

/* a header field of the returned original, unfolded as mime.h keeps it */
struct classify_header {
	char *name;
	char *value;
};

struct classify_original {
	char *message_id;
	char *from;
	char *to;
	char *subject;		/* RFC 2047 decoded to UTF-8 */
	char *date;
	char **received;	/* Received header values, top (newest) first */
	size_t received_count;
	/* its header block was returned (with a From), signed or not */
	int headers_quoted;
	/* every header field in order, kept only when one of them is a
	   DKIM-Signature (the check of our signature, dkim.h) */
	struct classify_header *headers;
	size_t header_count;
};

struct classify_result {
	enum classify_kind kind;
	const char *reason;	/* Sisimai reason name, static; NULL if none */
	struct classify_recipient *recipients;
	size_t recipient_count;
	char *reporting_mta;
	struct classify_original original;
	enum classify_verdict verdict;
	char *evidence;		/* a few words on why this verdict */
	/* the message's own In-Reply-To and References (an auto-reply
	   names the original there), or NULL */
	char *in_reply_to, *references;
};

/*
 * classify_message - classify one raw message
 *
 * relays may be NULL (nothing is ours: the verdict is then judged from the
 * message alone). Returns 0 and sets *result_r (caller frees it with
 * classify_result_free). Any byte sequence is valid input: a message that
 * cannot be parsed is classified as well as it can be, never rejected, so
 * the only failure is -1 with *error_r for a message over the size the
 * classifier accepts (static string).
 */
int classify_message(const char *msg, size_t len, const struct relays *relays,
		     struct classify_result **result_r, const char **error_r);
/*
 * classify_message_from - classify_message() knowing the envelope sender
 * (MAIL FROM): "" for the null sender, NULL when unknown (the message's
 * top Return-Path header is read instead). A real NDR comes from the
 * mail system (null sender, MAILER-DAEMON, postmaster); a message a
 * person or a service sent with its own address (a question about a
 * bounce, a reply to one, a bounce forwarded as an attachment, a parcel
 * or campaign report, a phishing mail dressed as an NDR) is not one
 * unless it carries a delivery-status report of its own.
 */
int classify_message_from(const char *msg, size_t len,
			  const struct relays *relays, const char *sender,
			  struct classify_result **result_r,
			  const char **error_r);
void classify_result_free(struct classify_result **_result);

/* classify_kind_name - the contract's name of a kind ("ndr_failed", ...) */
const char *classify_kind_name(enum classify_kind kind);
/* classify_verdict_name - "backscatter", "legit" or "unknown" */
const char *classify_verdict_name(enum classify_verdict verdict);
/*
 * classify_kind_is_backscatter - can this kind be backscatter at all?
 * True for NDRs, delay warnings, success DSNs, auto-replies, challenges
 * and anti-virus notices; false for ordinary mail, ARF reports and MDNs.
 */
int classify_kind_is_backscatter(enum classify_kind kind);

/*
 * classify_result_json - append the `inspect --json` object (one line, no
 * trailing newline) for result; file is the "file" member (may be NULL).
 */
void classify_result_json(const struct classify_result *result,
			  const char *file, struct strbuf *out);

#endif
