/*
 * reply-text.h - what an owner's reply to a digest asks for
 *
 * Only the owner's own new text counts, never the digest it quotes (a
 * digest is full of numbers: counts, times, dates). The text is the first
 * text/plain part outside any attached message, else the first text/html
 * one with its tags dropped; it ends at the first sign of quoted text: a
 * line starting with '>', an attribution line ending in ':' before such
 * a line, a "-----Original Message-----" or "From:" header block that
 * clients put above the quoted message, an HTML <blockquote> or a
 * client's quote container, or a "-- " signature line.
 *
 * In that text a number is a run of digits standing alone between
 * spaces, commas, semicolons, a final full stop, '#' or parentheses
 * ("1, 3", "#2", "release 4 and 5."); "N-M" is the range N to M. Digits
 * in times ("10:30"), dates ("2026-12-03" is a range only if both ends
 * are small: see REPLY_NUMBER_MAX) or words are not numbers.
 *
 * Attached messages (message/rfc822 parts: the owner forwarded an item
 * as an attachment) give their Message-ID instead.
 *
 * Ownership: reply_request_free() frees what reply_request_parse() made.
 */
#ifndef NDRGUARD_REPLY_TEXT_H
#define NDRGUARD_REPLY_TEXT_H

#include <stddef.h>

/* the largest number a reply may name; digest_max_items is smaller */
#define REPLY_NUMBER_MAX 1000
/* at most this many numbers and attached messages are taken */
#define REPLY_NAMES_MAX 200
/* at most this much of the owner's text is read */
#define REPLY_TEXT_MAX 65536

struct reply_request {
	unsigned int numbers[REPLY_NAMES_MAX];	/* in order, no repeats */
	size_t number_count;
	char *message_ids[REPLY_NAMES_MAX];	/* of attached messages */
	size_t message_id_count;
	int auto_reply;		/* Auto-Submitted other than "no", or a
				   Precedence of bulk, junk or list */
	char *from;		/* the From header's address, or "" */
	char *message_id;	/* the reply's own Message-ID, or "" */
};

/* reply_request_parse - read msg; 0, or -1 with *error_r when it is not
   a message at all */
int reply_request_parse(const char *msg, size_t len,
			struct reply_request *req, const char **error_r);
void reply_request_free(struct reply_request *req);
/* reply_text_numbers - the numbers in the owner's text (exposed for
   the unit test); adds to req */
void reply_text_numbers(const char *text, size_t len,
			struct reply_request *req);
/* reply_text_own - the owner's part of a plain reply text: its length */
size_t reply_text_own(const char *text, size_t len);

#endif
