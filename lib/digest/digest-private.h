/*
 * digest-private.h - shared between the digest library's files
 *
 * digest.c runs the passes; digest-lang.c loads the markup and each
 * language's catalogs; digest-mail.c builds the message;
 * digest-smtp.c sends it. Nothing outside lib/digest*.c includes this.
 */
#ifndef NDRGUARD_DIGEST_PRIVATE_H
#define NDRGUARD_DIGEST_PRIVATE_H

#include <stddef.h>

struct catalog;
struct template;

/* one language: a folder of digest_templates with a "messages" file */
struct digest_lang {
	char *name;			/* "en", "es", "de" */
	struct catalog *messages;	/* the words, key = text */
	struct catalog *reasons;	/* reason name = the owner's words */
};

/* the markup, one for every language, and the languages */
struct digest_langs {
	struct template *subject, *text, *html;
	struct digest_lang *v;
	size_t count;
};

/*
 * digest_langs_load - dir's digest.subject, digest.txt and digest.html,
 * and every folder of dir holding "messages" (and "reasons"); each
 * catalog must hold every key the markup names, and required must be
 * one of the folders. Returns 0, or -1 with *error_r naming the file
 * (and line, or the key missing).
 */
int digest_langs_load(const char *dir, const char *required,
		      struct digest_langs **langs_r, const char **error_r);
void digest_langs_free(struct digest_langs **_langs);
/* digest_lang_find - by name, or NULL */
const struct digest_lang *digest_lang_find(const struct digest_langs *langs,
					   const char *name);
/* digest_lang_reason - the owner's words for a reason name, else name */
const char *digest_lang_reason(const struct digest_lang *lang,
			       const char *reason);

enum digest_smtp_result {
	DIGEST_SMTP_SENT,
	DIGEST_SMTP_REFUSED,
	DIGEST_SMTP_UNKNOWN,
};

/* one digest in a batch */
struct digest_smtp_msg {
	const char *to;
	const char *message;		/* CRLF lines, NUL-terminated */
	enum digest_smtp_result result;	/* out */
	char reply[512];		/* out: the relay's answer, one line */
	int data_started;		/* private */
};

/*
 * digest_smtp_send_batch - the messages in one SMTP session through relay
 * ("smtp:HOST:PORT"), each to its one recipient; sets each result and
 * reply. A relay that cannot be reached refuses them all.
 */
void digest_smtp_send_batch(const char *relay, unsigned int timeout_s,
			    const char *from, struct digest_smtp_msg *msgs,
			    size_t n);
/* digest_smtp_send - a batch of one */
enum digest_smtp_result digest_smtp_send(const char *relay,
					 unsigned int timeout_s,
					 const char *from, const char *to,
					 const char *message, char *reply,
					 size_t reply_size);

#endif
