/*
 * test-classify.c - kinds, recipients, statuses, reasons, originals and
 * verdicts on small hand-written messages; line-end independence;
 * hostile input; the JSON line
 */
#include "autoconfig.h"
#include "classify.h"
#include "relays.h"
#include "strbuf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char postfix_dsn[] =
	"Return-Path: <>\n"
	"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
	"To: user@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"B1\"\n\n"
	"--B1\nContent-Type: text/plain\n\n"
	"This is the mail system at host mx.example.org.\n\n"
	"<nobody@example.net>: host mx.example.net[192.0.2.9] said: 550 5.1.1\n"
	"    <nobody@example.net>: Recipient address rejected: User unknown\n"
	"    (in reply to RCPT TO command)\n\n"
	"--B1\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"Final-Recipient: rfc822; nobody@example.net\n"
	"Original-Recipient: rfc822;nobody@example.net\n"
	"Action: failed\nStatus: 5.1.1\n"
	"Remote-MTA: dns; mx.example.net\n"
	"Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient\n"
	"    address rejected: User unknown\n\n"
	"--B1\nContent-Type: message/rfc822\n\n"
	"Received: from laptop.example.org (laptop.example.org [192.0.2.50])\n"
	"\tby mx.example.org (Postfix) with ESMTP id 1234\n"
	"Message-ID: <abc@example.org>\n"
	"From: user@example.org\nTo: nobody@example.net\n"
	"Subject: =?UTF-8?Q?caf=C3=A9?=\n\nhello\n"
	"--B1--\n";

static const char qmail_text[] =
	"Return-Path: <>\n"
	"From: MAILER-DAEMON@mail.example.com\n"
	"To: victim@example.org\n"
	"Subject: failure notice\n\n"
	"Hi. This is the qmail-send program at mail.example.com.\n"
	"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	"This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	"<gone@example.com>:\n"
	"Sorry, no mailbox here by that name. (#5.1.1)\n\n"
	"--- Below this line is a copy of the message.\n\n"
	"Return-Path: <victim@example.org>\n"
	"Received: from spambot.example.biz (unknown [203.0.113.7])\n"
	"  by mail.example.com with SMTP; 1 Jan 2024 00:00:00 -0000\n"
	"Message-ID: <spam123@example.org>\n"
	"From: victim@example.org\nTo: gone@example.com\nSubject: buy\n\nspam\n";

static const char vacation[] =
	"From: Boss <boss@example.com>\nTo: me@example.org\n"
	"Auto-Submitted: auto-replied\nSubject: Out of office\n\n"
	"I am out of the office until Monday.\n";

static const char ordinary[] =
	"From: friend@example.com\nTo: me@example.org\n"
	"Subject: lunch?\n\nThe delivery of the pizza failed, user unknown :)\n";

/* Amazon SES through SNS: the notification is a JSON string in JSON */
static const char ses_sns[] =
	"From: SES <no-reply@sns.amazonaws.com>\nTo: me@example.org\n"
	"Subject: AWS Notification Message\n"
	"Content-Type: text/plain; charset=UTF-8\n\n"
	"{\n  \"Type\" : \"Notification\",\n"
	"  \"Message\" : \"{\\\"notificationType\\\":\\\"Bounce\\\","
	"\\\"bounce\\\":{\\\"bounceType\\\":\\\"Permanent\\\","
	"\\\"bouncedRecipients\\\":[{\\\"emailAddress\\\":"
	"\\\"gone@example.net\\\",\\\"action\\\":\\\"failed\\\","
	"\\\"status\\\":\\\"5.1.1\\\",\\\"diagnosticCode\\\":"
	"\\\"smtp; 550 5.1.1 user unknown\\\"}],\\\"reportingMTA\\\":"
	"\\\"dsn; a1.smtp-out.example.com\\\"},\\\"mail\\\":{"
	"\\\"headers\\\":[{\\\"name\\\":\\\"Subject\\\","
	"\\\"value\\\":\\\"Hello \\\\u00e9\\\"}]}}\"\n}\n";

static const char ses_delivery[] =
	"From: SES <no-reply@sns.amazonaws.com>\nTo: me@example.org\n"
	"Subject: AWS Notification Message\n\n"
	"{\"notificationType\":\"Delivery\",\"delivery\":{\"recipients\":"
	"[\"ok@example.net\"],\"smtpResponse\":\"250 2.6.0 Message received\"}}\n";

/* two reports in one mbox file, the second a copy of the first */
static const char mbox_two[] =
	"From MAILER-DAEMON Thu Jul  2 12:05:05 2020\n"
	"From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"Q\"\n\n"
	"--Q\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.0\n\n"
	"--Q--\n"
	"From double-bounce@mx.example.org Thu Jul  2 12:05:05 2020\n"
	"From: MAILER-DAEMON@mx.example.org\nSubject: Postmaster Copy\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"Q\"\n\n"
	"--Q\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.0\n\n"
	"--Q--\n";

/* Exim: X-Failed-Recipients, each reason indented under its address */
static const char exim_two[] =
	"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
	"To: me@example.org\nSubject: Mail delivery failed\n"
	"X-Failed-Recipients: a@example.jp, b@example.jp\n\n"
	"A message that you sent could not be delivered to one or more of its\n"
	"recipients. This is a permanent error. The following address(es) failed:\n\n"
	"  a@example.jp\n    host mx.example.jp: 550 5.1.1 <a@example.jp>... User Unknown\n"
	"  b@example.jp\n    host mx.example.jp: 550 5.2.2 <b@example.jp>... Mailbox Full\n";

/* a DSN in Amazon's field order, and a report that names nobody */
static const char action_first[] =
	"From: postmaster@example.jp\nSubject: Delivery Status Notification (Failure)\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"Z\"\n\n"
	"--Z\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; inbound.example.com\n\n"
	"Action: failed\nFinal-Recipient: rfc822; x@example.jp\n"
	"Original-Recipient: rfc822; x@example.jp\n"
	"Diagnostic-Code: smtp; 550 5.1.1 Mailbox does not exist\nStatus: 5.1.1\n\n"
	"--Z--\n";

static const char names_nobody[] =
	"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"N\"\n\n"
	"--N\nContent-Type: text/plain\n\n"
	"I'm sorry to have to inform you that your message could not\n"
	"be delivered to one or more recipients.\n\n"
	"--N\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"--N\nContent-Type: text/rfc822-headers\n\n"
	"Message-ID: <m@example.org>\nFrom: me@example.org\nTo: them@example.fr\n"
	"Subject: hi\n\n--N--\n";

/* prose from "Mail Delivery System" with the failed message quoted */
static const char prose_ndr[] =
	"From: Mail Delivery System <support@mail.example.biz>\n"
	"To: me@example.org\nSubject: Undelivered Mail\n\n"
	"Your message could not be delivered to gone@example.net.\n\n"
	"--- Original message follows.\n\n"
	"Message-ID: <q1@example.org>\nFrom: me@example.org\n"
	"To: gone@example.net\nSubject: hi\n\nhello\n";

/* a person forwards a Postfix report as an attachment */
static const char forwarded_dsn[] =
	"From: Frank <frank@example.org>\nTo: helpdesk@example.org\n"
	"Subject: Fwd: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/mixed; boundary=\"F\"\n\n"
	"--F\nContent-Type: text/plain\n\nWhy does this bounce?\n\n"
	"--F\nContent-Type: message/rfc822\n\n"
	"From: MAILER-DAEMON@mx.example.org\nTo: frank@example.org\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"Content-Type: multipart/report; report-type=delivery-status; "
	"boundary=\"R\"\n\n"
	"--R\nContent-Type: message/delivery-status\n\n"
	"Reporting-MTA: dns; mx.example.org\n\n"
	"Final-Recipient: rfc822; orders@example.net\nAction: failed\n"
	"Status: 5.1.1\n\n--R--\n\n--F--\n";

/* a Sieve reject (RFC 5429) as Dovecot Pigeonhole sends it */
static const char sieve_reject[] =
	"From: Mail Delivery Agent <MAILER-DAEMON@store.example.net>\n"
	"To: me@example.org\nSubject: Rejected: hi\n"
	"Content-Type: multipart/report; report-type=disposition-notification;"
	" boundary=\"S\"\n\n"
	"--S\nContent-Type: text/plain\n\n"
	"Your message to <rita@example.net> was automatically rejected:\n"
	"no mail from you, please.\n\n"
	"--S\nContent-Type: message/disposition-notification\n\n"
	"Reporting-UA: store.example.net; Dovecot Mail Delivery Agent\n"
	"Final-Recipient: rfc822; rita@example.net\n"
	"Disposition: automatic-action/MDN-sent-automatically; deleted\n\n"
	"--S--\n";

/* a person answering an auto-reply; a notice with nothing failed in it */
static const char reply_to_ooo[] =
	"From: Ivan <ivan@example.com>\nTo: me@example.org\n"
	"Subject: Re: Out of Office: budget\nIn-Reply-To: <a@example.org>\n\n"
	"I saw you are out of the office, it can wait.\n";
static const char quota_warning[] =
	"Return-Path: <>\nFrom: postmaster@example.org\nTo: me@example.org\n"
	"Subject: Quota warning\n\nYour mailbox is 92% full. When it is full,"
	" new mail will be returned to the senders as undeliverable.\n";
static const char ooo_spanish[] =
	"From: Lucia <lucia@example.es>\nTo: me@example.org\n"
	"Subject: Fuera de la oficina: reunion\n\n"
	"Estaré fuera de la oficina hasta el lunes.\n";
static const char jmrp[] =
	"From: staff@hotmail.example\nTo: fbl@example.org\n"
	"Subject: complaint about message from 192.0.2.25\n"
	"Content-Type: multipart/mixed; boundary=\"J\"\n\n"
	"--J\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
	"--J\nContent-Type: message/rfc822\n\nFrom: news@example.org\n"
	"To: x@hotmail.example\nSubject: news\nMessage-ID: <n@example.org>\n\n"
	"news\n--J--\n";
static const char challenge[] =
	"From: nora@example.com\nTo: me@example.org\n"
	"Subject: Sender Verification Request\n\n"
	"Spam Arrest has held your message to nora@example.com. Please click "
	"the link below to complete the verification.\n";

/* classify - classify a C string, failing the test on error */
static struct classify_result *classify(const char *msg, size_t len,
					const struct relays *relays)
{
	struct classify_result *res = NULL;
	const char *error = NULL;

	ck_assert_int_eq(classify_message(msg, len, relays, &res, &error), 0);
	ck_assert_ptr_nonnull(res);
	return res;
}

START_TEST(test_postfix_dsn)
{
	struct classify_result *res = classify(postfix_dsn, strlen(postfix_dsn), NULL);

	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "nobody@example.net");
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	ck_assert_str_eq(res->recipients[0].action, "failed");
	ck_assert_str_eq(res->reason, "userunknown");
	ck_assert_str_eq(res->reporting_mta, "mx.example.org");
	ck_assert_str_eq(res->original.message_id, "<abc@example.org>");
	ck_assert_str_eq(res->original.subject, "caf\xc3\xa9");
	ck_assert_uint_eq(res->original.received_count, 1);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_UNKNOWN);
	classify_result_free(&res);
	ck_assert_ptr_null(res);
}
END_TEST

START_TEST(test_qmail_text)
{
	struct classify_result *res = classify(qmail_text, strlen(qmail_text), NULL);

	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "gone@example.com");
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	ck_assert_str_eq(res->original.message_id, "<spam123@example.org>");
	classify_result_free(&res);
}
END_TEST

START_TEST(test_other_kinds)
{
	struct classify_result *res = classify(vacation, strlen(vacation), NULL);

	ck_assert_int_eq(res->kind, CLASSIFY_AUTOREPLY);
	ck_assert_str_eq(res->reason, "vacation");
	classify_result_free(&res);
	res = classify(ordinary, strlen(ordinary), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_UNKNOWN);
	classify_result_free(&res);
}
END_TEST

START_TEST(test_verdict)
{
	const char *error = NULL;
	struct relays *ours = relays_create("mx.example.org", NULL, &error);
	struct relays *net = relays_create("192.0.2.0/24", NULL, &error);
	struct relays *dom = relays_create(NULL, "example.org", &error);
	struct classify_result *res;

	res = classify(postfix_dsn, strlen(postfix_dsn), ours);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_LEGIT);
	classify_result_free(&res);
	res = classify(postfix_dsn, strlen(postfix_dsn), net);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_LEGIT);
	classify_result_free(&res);
	res = classify(postfix_dsn, strlen(postfix_dsn), dom);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_LEGIT);
	classify_result_free(&res);
	/* spam forging our address, bounced by a stranger */
	res = classify(qmail_text, strlen(qmail_text), ours);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_BACKSCATTER);
	ck_assert_ptr_nonnull(res->evidence);
	classify_result_free(&res);
	/* our Message-ID domain, but the first hop was not ours */
	res = classify(qmail_text, strlen(qmail_text), dom);
	ck_assert_int_eq(res->verdict, CLASSIFY_VERDICT_BACKSCATTER);
	classify_result_free(&res);
	relays_destroy(&ours);
	relays_destroy(&net);
	relays_destroy(&dom);
}
END_TEST

/* convert - the same text with other line ends */
static char *convert(const char *lf, const char *eol)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = lf; *p != '\0'; p++) {
		if (*p == '\n')
			strbuf_puts(&sb, eol);
		else
			strbuf_putc(&sb, *p);
	}
	return strbuf_steal(&sb);
}

/* json_of - the JSON line of a message */
static char *json_of(const char *msg)
{
	struct classify_result *res = classify(msg, strlen(msg), NULL);
	struct strbuf sb = STRBUF_INIT;

	classify_result_json(res, "f", &sb);
	classify_result_free(&res);
	return strbuf_steal(&sb);
}

START_TEST(test_line_ends)
{
	const char *msgs[] = { postfix_dsn, qmail_text, vacation };

	for (size_t i = 0; i < 3; i++) {
		char *crlf = convert(msgs[i], "\r\n"), *cr = convert(msgs[i], "\r");
		char *a = json_of(msgs[i]), *b = json_of(crlf), *c = json_of(cr);

		ck_assert_str_eq(a, b);
		ck_assert_str_eq(a, c);
		free(crlf); free(cr); free(a); free(b); free(c);
	}
}
END_TEST

START_TEST(test_json)
{
	static const char msg[] =
		"From: MAILER-DAEMON@x.example\nSubject: Undeliverable\n\n"
		"Delivery failed to <a\"b@example.com>: \xff\x01 user unknown\n";
	char *j = json_of(msg);

	ck_assert_ptr_nonnull(strstr(j, "\"kind\":\"ndr_failed\""));
	ck_assert_ptr_nonnull(strstr(j, "\xef\xbf\xbd\\u0001"));
	ck_assert_ptr_null(strchr(j, '\n'));
	free(j);
}
END_TEST

START_TEST(test_hostile)
{
	struct strbuf sb = STRBUF_INIT;
	struct classify_result *res;
	char junk[4096];

	/* NUL bytes, 8-bit garbage, endless boundaries, huge base64 */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 256);
	res = classify(junk, sizeof(junk), NULL);
	classify_result_free(&res);
	strbuf_puts(&sb, "Content-Type: multipart/report; boundary=x\n\n");
	for (int i = 0; i < 5000; i++)
		strbuf_puts(&sb, "--x\nContent-Type: message/rfc822\n\n");
	strbuf_puts(&sb, "--x\nContent-Transfer-Encoding: base64\n\n");
	for (int i = 0; i < 100000; i++)
		strbuf_puts(&sb, "QUFB");
	res = classify(sb.data, sb.len, NULL);
	classify_result_free(&res);
	res = classify("", 0, NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	classify_result_free(&res);
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_ses_json)
{
	struct classify_result *res = classify(ses_sns, strlen(ses_sns), NULL);

	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "gone@example.net");
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	ck_assert_str_eq(res->recipients[0].diagnostic,
			 "smtp; 550 5.1.1 user unknown");
	ck_assert_str_eq(res->reporting_mta, "a1.smtp-out.example.com");
	ck_assert_str_eq(res->original.subject, "Hello \xc3\xa9");
	classify_result_free(&res);
	res = classify(ses_delivery, strlen(ses_delivery), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_DSN_SUCCESS);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "ok@example.net");
	ck_assert_str_eq(res->recipients[0].status, "2.6.0");
	classify_result_free(&res);
	/* malformed JSON is only text */
	static const char bad[] =
		"From: a@example.com\nSubject: x\n\n{\"notificationType\":[[[";
	res = classify(bad, strlen(bad), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	classify_result_free(&res);
}
END_TEST

/* ses_nested - a Bounce notification inside depth arrays around it */
static char *ses_nested(int depth)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_puts(&sb, "From: SES <no-reply@sns.amazonaws.com>\n"
		    "Subject: x\n\n{\"notificationType\":\"Bounce\",\"x\":");
	for (int i = 0; i < depth; i++)
		strbuf_putc(&sb, '[');
	for (int i = 0; i < depth; i++)
		strbuf_putc(&sb, ']');
	strbuf_puts(&sb, ",\"bounce\":{\"bouncedRecipients\":"
		    "[\"deep@example.net\"]}}\n");
	return strbuf_steal(&sb);
}

START_TEST(test_ses_lenient_and_bounded)
{
	/* a line the mail system wrapped inside a string, a raw tab */
	static const char wrapped[] =
		"From: SES <no-reply@sns.amazonaws.com>\nSubject: x\n\n"
		"{\"notificationType\":\"Bounce\",\"bounce\":{"
		"\"bouncedRecipients\":[{\"emailAddress\":\"gone@exam\n"
		"   ple.net\",\"diagnosticCode\":\"smtp;\t550 5.1.1 no\"}]}}\n";
	struct classify_result *res = classify(wrapped, strlen(wrapped), NULL);
	char *msg;

	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "gone@example.net");
	ck_assert_str_eq(res->recipients[0].diagnostic, "smtp; 550 5.1.1 no");
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	classify_result_free(&res);
	/* nested 31 deep it is read; 40 deep it is not a notification */
	msg = ses_nested(31);
	res = classify(msg, strlen(msg), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	classify_result_free(&res);
	free(msg);
	msg = ses_nested(40);
	res = classify(msg, strlen(msg), NULL);
	ck_assert_int_ne(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 0);
	classify_result_free(&res);
	free(msg);
}
END_TEST

START_TEST(test_recipients_found)
{
	struct classify_result *res = classify(mbox_two, strlen(mbox_two), NULL);

	/* one address per report, each report counted */
	ck_assert_uint_eq(res->recipient_count, 2);
	ck_assert_str_eq(res->recipients[1].address, "a@example.net");
	ck_assert_str_eq(res->recipients[1].status, "5.1.0");
	classify_result_free(&res);
	res = classify(exim_two, strlen(exim_two), NULL);
	ck_assert_uint_eq(res->recipient_count, 2);
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	ck_assert_str_eq(res->recipients[1].status, "5.2.2");
	classify_result_free(&res);
	res = classify(action_first, strlen(action_first), NULL);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "x@example.jp");
	ck_assert_str_eq(res->recipients[0].status, "5.1.1");
	classify_result_free(&res);
	res = classify(names_nobody, strlen(names_nobody), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "them@example.fr");
	classify_result_free(&res);
}
END_TEST

/* classify_from - classify_message_from, failing the test on error */
static struct classify_result *classify_from(const char *msg,
					     const char *sender)
{
	struct classify_result *res = NULL;
	const char *error = NULL;

	ck_assert_int_eq(classify_message_from(msg, strlen(msg), NULL, sender,
					       &res, &error), 0);
	return res;
}

START_TEST(test_envelope_sender)
{
	struct classify_result *res;

	/* the null sender, or no envelope at all: the quoted original and
	   the words make it a bounce */
	res = classify_from(prose_ndr, "");
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_str_eq(res->recipients[0].address, "gone@example.net");
	classify_result_free(&res);
	res = classify_from(prose_ndr, NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	classify_result_free(&res);
	/* sent with the service's own address: not the mail system's */
	res = classify_from(prose_ndr, "support@mail.example.biz");
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	classify_result_free(&res);
	/* MAILER-DAEMON as Postfix writes the null sender without
	   null_sender= is the mail system */
	res = classify_from(prose_ndr, "MAILER-DAEMON");
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	classify_result_free(&res);
	/* a structured report stays one whatever the envelope says */
	res = classify_from(postfix_dsn, "someone@example.com");
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	classify_result_free(&res);
}
END_TEST

START_TEST(test_odd_start)
{
	static const char *const leads[] = { "\n\n", "\r\n\r\n", "  \t\n ",
					     "\n \n" };
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(leads) / sizeof(leads[0]); i++) {
		struct classify_result *res;

		strbuf_reset(&sb);
		strbuf_puts(&sb, leads[i]);
		strbuf_puts(&sb, postfix_dsn);
		res = classify(strbuf_cstr(&sb), sb.len, NULL);
		ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
		ck_assert_uint_eq(res->recipient_count, 1);
		ck_assert_str_eq(res->recipients[0].address, "nobody@example.net");
		classify_result_free(&res);
	}
	strbuf_free(&sb);
	/* only white space: nothing to read, no crash */
	struct classify_result *res = classify("\n \n", 3, NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	classify_result_free(&res);
}
END_TEST

START_TEST(test_lookalikes)
{
	const char *const msgs[] = { forwarded_dsn, reply_to_ooo, quota_warning };

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct classify_result *res = classify(msgs[i], strlen(msgs[i]),
						       NULL);

		ck_assert_msg(res->kind == CLASSIFY_NOT_BOUNCE,
			      "message %zu: %s", i, classify_kind_name(res->kind));
		classify_result_free(&res);
	}
}
END_TEST

/* the mail system's address and a bounce subject, nothing else in it */
START_TEST(test_system_names_nothing)
{
	static const char bare[] =
		"From: MAILER-DAEMON@mx.remote.test\nTo: me@example.org\n"
		"Subject: Undelivered Mail Returned to Sender\n\n";
	static const char named[] =
		"From: \"Mail Delivery System\" <support@mx.remote.test>\n"
		"To: me@example.org\n"
		"Subject: Undelivered Mail Returned to Sender\n\n"
		"Your messages could not be delivered. Log in to release them.\n";
	struct classify_result *res = classify(bare, strlen(bare), NULL);

	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	classify_result_free(&res);
	/* only the display name is the mail system's: a look-alike */
	res = classify(named, strlen(named), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NOT_BOUNCE);
	classify_result_free(&res);
}
END_TEST

START_TEST(test_sieve_and_kinds)
{
	struct classify_result *res;

	res = classify(sieve_reject, strlen(sieve_reject), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_NDR_FAILED);
	ck_assert_uint_eq(res->recipient_count, 1);
	ck_assert_str_eq(res->recipients[0].address, "rita@example.net");
	ck_assert_str_eq(res->reason, "filtered");
	classify_result_free(&res);
	res = classify(ooo_spanish, strlen(ooo_spanish), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_AUTOREPLY);
	classify_result_free(&res);
	res = classify(jmrp, strlen(jmrp), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_FEEDBACK_ARF);
	classify_result_free(&res);
	res = classify(challenge, strlen(challenge), NULL);
	ck_assert_int_eq(res->kind, CLASSIFY_CHALLENGE);
	classify_result_free(&res);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(classify_kind_name(CLASSIFY_NDR_DELAYED), "ndr_delayed");
	ck_assert_str_eq(classify_kind_name(CLASSIFY_FEEDBACK_ARF), "feedback_arf");
	ck_assert_str_eq(classify_verdict_name(CLASSIFY_VERDICT_LEGIT), "legit");
	ck_assert(classify_kind_is_backscatter(CLASSIFY_CHALLENGE));
	ck_assert(!classify_kind_is_backscatter(CLASSIFY_MDN));
}
END_TEST

static Suite *classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_postfix_dsn);
	tcase_add_test(tc, test_qmail_text);
	tcase_add_test(tc, test_other_kinds);
	tcase_add_test(tc, test_verdict);
	tcase_add_test(tc, test_line_ends);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_ses_json);
	tcase_add_test(tc, test_recipients_found);
	tcase_add_test(tc, test_envelope_sender);
	tcase_add_test(tc, test_odd_start);
	tcase_add_test(tc, test_lookalikes);
	tcase_add_test(tc, test_sieve_and_kinds);
	tcase_add_test(tc, test_system_names_nothing);
	tcase_add_test(tc, test_ses_lenient_and_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(classify_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
