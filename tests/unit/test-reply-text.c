/*
 * test-reply-text.c - what an owner's reply to a digest names, and the
 * form of the reply address (lib/release/reply-text.h, reply-address.h)
 */
#include "autoconfig.h"
#include "reply-text.h"
#include "reply-address.h"

#include <check.h>
#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* parse - the request of a whole message given as text */
static void parse(const char *msg, struct reply_request *req)
{
	const char *err = NULL;

	ck_assert_msg(reply_request_parse(msg, strlen(msg), req, &err) == 0,
		      "%s", err);
}

#define HEAD "From: Alice <Alice@Example.test>\nTo: r@x\n" \
	"Message-ID: <m1@client>\nSubject: Re: digest\n"

START_TEST(numbers_plain)
{
	struct reply_request req;

	parse(HEAD "\nPlease release 1, 3 and #5. Thanks\n", &req);
	ck_assert_uint_eq(req.number_count, 3);
	ck_assert_uint_eq(req.numbers[0], 1);
	ck_assert_uint_eq(req.numbers[1], 3);
	ck_assert_uint_eq(req.numbers[2], 5);
	ck_assert_str_eq(req.from, "alice@example.test");
	ck_assert_str_eq(req.message_id, "<m1@client>");
	reply_request_free(&req);
}
END_TEST

/* the quoted digest is full of numbers: none of them counts */
START_TEST(quoted_digest_ignored)
{
	struct reply_request req;

	parse(HEAD "\n2\n\nOn Thu, 3 Dec 2026 at 16:00, postmaster wrote:\n"
	      "> 12 bounce messages were held\n> * [4] 2026-12-03 10:00\n",
	      &req);
	ck_assert_uint_eq(req.number_count, 1);
	ck_assert_uint_eq(req.numbers[0], 2);
	reply_request_free(&req);
	parse(HEAD "\n7\n-----Original Message-----\nFrom: postmaster\n"
	      "* [1] x\n* [3] y\n", &req);
	ck_assert_uint_eq(req.number_count, 1);
	ck_assert_uint_eq(req.numbers[0], 7);
	reply_request_free(&req);
}
END_TEST

/* times, dates, words, repeats and ranges */
START_TEST(numbers_tricky)
{
	struct reply_request req;

	parse(HEAD "\nat 10:30 on 2026-12-03 release 2-4, 3 again, x5 and 5000\n",
	      &req);
	ck_assert_uint_eq(req.number_count, 3);
	ck_assert_uint_eq(req.numbers[0], 2);
	ck_assert_uint_eq(req.numbers[1], 3);
	ck_assert_uint_eq(req.numbers[2], 4);
	reply_request_free(&req);
	parse(HEAD "\nno numbers here, just thanks\n", &req);
	ck_assert_uint_eq(req.number_count, 0);
	reply_request_free(&req);
}
END_TEST

/* an HTML-only reply: the text before the client's quote container */
START_TEST(html_only)
{
	struct reply_request req;

	parse(HEAD "Content-Type: text/html; charset=utf-8\n\n"
	      "<div>1, 3</div><div class=\"gmail_quote\">held [2] [4]"
	      "<blockquote>9</blockquote></div>\n", &req);
	ck_assert_uint_eq(req.number_count, 2);
	ck_assert_uint_eq(req.numbers[0], 1);
	ck_assert_uint_eq(req.numbers[1], 3);
	reply_request_free(&req);
}
END_TEST

/* an attached message gives its Message-ID, and its text no numbers */
START_TEST(attached_item)
{
	struct reply_request req;

	parse(HEAD "MIME-Version: 1.0\n"
	      "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	      "Content-Type: text/plain\n\nthis one\n--b\n"
	      "Content-Type: message/rfc822\n\nFrom: MAILER-DAEMON\n"
	      "Message-ID: <ndr.7@mx>\nSubject: failure\n\n1 2 3\n--b--\n",
	      &req);
	ck_assert_uint_eq(req.number_count, 0);
	ck_assert_uint_eq(req.message_id_count, 1);
	ck_assert_str_eq(req.message_ids[0], "<ndr.7@mx>");
	reply_request_free(&req);
}
END_TEST

/* auto-replies are known: Auto-Submitted, Precedence */
START_TEST(auto_reply)
{
	struct reply_request req;

	parse(HEAD "Auto-Submitted: auto-replied\n\nI am away. 1, 2\n", &req);
	ck_assert_int_eq(req.auto_reply, 1);
	reply_request_free(&req);
	parse(HEAD "Auto-Submitted: no\n\n1\n", &req);
	ck_assert_int_eq(req.auto_reply, 0);
	reply_request_free(&req);
	parse(HEAD "Precedence: bulk\n\n1\n", &req);
	ck_assert_int_eq(req.auto_reply, 1);
	reply_request_free(&req);
}
END_TEST

/* a huge text: only the first REPLY_TEXT_MAX bytes are read, at most
   REPLY_NAMES_MAX numbers kept */
START_TEST(huge_text)
{
	size_t n = 4 * REPLY_TEXT_MAX;
	char *msg = malloc(n + sizeof(HEAD) + 2);
	struct reply_request req;
	size_t o = 0;

	o += (size_t)sprintf(msg, "%s\n", HEAD);
	for (unsigned int i = 1; o + 8 < n; i = i % 999 + 1)
		o += (size_t)sprintf(msg + o, "%u, ", i);
	msg[o] = '\0';
	parse(msg, &req);
	ck_assert_uint_eq(req.number_count, REPLY_NAMES_MAX);
	reply_request_free(&req);
	free(msg);
}
END_TEST

START_TEST(address_form)
{
	char ref[REPLY_REF_LEN + 1], tok[REPLY_TOKEN_MAX + 1];
	const char *err;
	const char *good = "ndrguard-reply+0123456789ab."
		"abcdefghijklmnopqrstuvwxyz234567@Reply.Example.test";

	ck_assert_int_eq(reply_address_split("ndrguard-reply@reply.example.test",
					     good, ref, tok, &err), 0);
	ck_assert_str_eq(ref, "0123456789ab");
	ck_assert_str_eq(tok, "abcdefghijklmnopqrstuvwxyz234567");
	ck_assert_int_eq(reply_address_is("ndrguard-reply@reply.example.test",
					  good), 1);
	ck_assert_int_eq(reply_address_is(NULL, good), 0);
	ck_assert_int_eq(reply_address_is("", good), 0);
	ck_assert_int_eq(reply_address_is("ndrguard-reply@reply.example.test",
					  "alice@example.test"), 0);
	ck_assert_int_eq(reply_address_is("ndrguard-reply@reply.example.test",
					  "ndrguard-reply+0123456789ab.abc@"
					  "reply.example.test"), 0);
	ck_assert_int_eq(reply_address_is("ndrguard-reply@other.test", good), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reply-text");
	TCase *tc = tcase_create("reply-text");

	tcase_add_test(tc, numbers_plain);
	tcase_add_test(tc, quoted_digest_ignored);
	tcase_add_test(tc, numbers_tricky);
	tcase_add_test(tc, html_only);
	tcase_add_test(tc, attached_item);
	tcase_add_test(tc, auto_reply);
	tcase_add_test(tc, huge_text);
	tcase_add_test(tc, address_form);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
