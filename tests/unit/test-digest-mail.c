/*
 * test-digest-mail.c - the digest message: clean values, headers, MIME
 */
#include "autoconfig.h"
#include "digest-mail.h"
#include "strbuf.h"

#include <check.h>
#include "check-main.h"
#include <stdlib.h>
#include <string.h>

/* crlf_only - every LF is preceded by CR, every CR followed by LF */
static int crlf_only(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			return 0;
		if (*p == '\r' && p[1] != '\n')
			return 0;
	}
	return 1;
}

static size_t longest_line(const char *s)
{
	size_t max = 0, cur = 0;

	for (; *s; s++) {
		if (*s == '\r' || *s == '\n') {
			if (cur > max)
				max = cur;
			cur = 0;
		} else {
			cur++;
		}
	}
	return cur > max ? cur : max;
}

START_TEST(clean_makes_one_line_of_utf8)
{
	char *s = digest_mail_clean("a\r\nBcc: x@y\tz\x01", 100);

	ck_assert_str_eq(s, "a  Bcc: x@y z ");
	free(s);
	s = digest_mail_clean("ca\xf1" "a \xc3\xb1 \xe2\x80\xae!", 100);
	ck_assert_str_eq(s, "ca\xef\xbf\xbd" "a \xc3\xb1  !");
	free(s);
	s = digest_mail_clean("\xc3\xb1\xc3\xb1\xc3\xb1", 2);
	ck_assert_str_eq(s, "\xc3\xb1\xc3\xb1...");
	free(s);
	s = digest_mail_clean(NULL, 5);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(addresses)
{
	ck_assert(digest_mail_address_ok("alice@example.test"));
	ck_assert(!digest_mail_address_ok("alice@example.test\r\nBcc: x@y"));
	ck_assert(!digest_mail_address_ok("alice"));
	ck_assert(!digest_mail_address_ok("a@b@c"));
	ck_assert(!digest_mail_address_ok("<a@b>"));
	ck_assert(!digest_mail_address_ok("a b@c"));
	ck_assert(!digest_mail_address_ok("\xc3\xb1@c"));
}
END_TEST

START_TEST(ascii_header_is_folded_between_words)
{
	struct strbuf sb = STRBUF_INIT;

	digest_mail_header(&sb, "Subject", "short");
	ck_assert_str_eq(strbuf_cstr(&sb), "Subject: short\r\n");
	strbuf_reset(&sb);
	digest_mail_header(&sb, "Subject",
			   "[ndrguard] 10000 bounces held for someone.with.a.long.name"
			   "@a-very-long-domain.example.test (10000 may be real)");
	ck_assert(crlf_only(strbuf_cstr(&sb)));
	ck_assert_uint_le(longest_line(strbuf_cstr(&sb)), 78);
	ck_assert_ptr_nonnull(strstr(strbuf_cstr(&sb), "held for\r\n someone.with"));
	strbuf_free(&sb);
}
END_TEST

START_TEST(non_ascii_header_is_rfc2047)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s;

	/* "ñ" as base64 of UTF-8 */
	digest_mail_header(&sb, "Subject", "\xc3\xb1");
	ck_assert_str_eq(strbuf_cstr(&sb), "Subject: =?UTF-8?B?w7E=?=\r\n");
	strbuf_reset(&sb);
	digest_mail_header(&sb, "Subject",
			   "[ndrguard] 3 rebotes retenidos (2 podr\xc3\xad" "an ser "
			   "aut\xc3\xa9nticos) \xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1"
			   "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1");
	s = strbuf_cstr(&sb);
	ck_assert(crlf_only(s));
	ck_assert_uint_le(longest_line(s), 78);
	ck_assert_ptr_nonnull(strstr(s, "\r\n =?UTF-8?B?"));
	for (const char *p = s; *p; p++)
		ck_assert(*p == '\r' || *p == '\n' || (*p >= ' ' && *p <= '~'));
	strbuf_free(&sb);
}
END_TEST

START_TEST(from_with_a_display_name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s;

	digest_mail_from(&sb, NULL, "q@example.test");
	ck_assert_str_eq(strbuf_cstr(&sb), "From: q@example.test\r\n");
	strbuf_reset(&sb);
	digest_mail_from(&sb, "Quarantine", "q@example.test");
	ck_assert_str_eq(strbuf_cstr(&sb),
			 "From: Quarantine <q@example.test>\r\n");
	strbuf_reset(&sb);
	/* a comma or a dot would split or break the phrase: quoted */
	digest_mail_from(&sb, "Mail, Inc.", "q@example.test");
	ck_assert_str_eq(strbuf_cstr(&sb),
			 "From: \"Mail, Inc.\" <q@example.test>\r\n");
	strbuf_reset(&sb);
	/* "Correo Señal": encoded words, the address outside them */
	digest_mail_from(&sb, "Correo Se\xc3\xb1" "al", "q@example.test");
	ck_assert_str_eq(strbuf_cstr(&sb), "From: =?UTF-8?B?Q29ycmVvIFNlw7FhbA==?="
			 " <q@example.test>\r\n");
	strbuf_reset(&sb);
	/* one full encoded word (19 "ñ"): the address goes on the next line */
	digest_mail_from(&sb, "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1"
			 "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1"
			 "\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1\xc3\xb1",
			 "a-rather-long-local-part@mail.example.test");
	s = strbuf_cstr(&sb);
	ck_assert(crlf_only(s));
	ck_assert_uint_le(longest_line(s), 78);
	ck_assert_ptr_nonnull(strstr(s, "?=\r\n <a-rather-long-local-part@"));
	strbuf_free(&sb);
}
END_TEST

START_TEST(quoted_printable)
{
	struct strbuf sb = STRBUF_INIT;
	char line[200];

	digest_mail_qp(&sb, "a=b \n.dot\nFrom here\nend \t\n", 26);
	ck_assert_str_eq(strbuf_cstr(&sb),
			 "a=3Db=20\r\n=2Edot\r\n=46rom here\r\nend =09\r\n");
	strbuf_reset(&sb);
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	line[76] = '.';
	digest_mail_qp(&sb, line, sizeof(line));
	ck_assert(crlf_only(strbuf_cstr(&sb)));
	ck_assert_uint_le(longest_line(strbuf_cstr(&sb)), 76);
	ck_assert_ptr_null(strstr(strbuf_cstr(&sb), "\n."));
	strbuf_reset(&sb);
	digest_mail_qp(&sb, "\xc3\xb1\r\nx", 5);
	ck_assert_str_eq(strbuf_cstr(&sb), "=C3=B1\r\nx\r\n");
	strbuf_free(&sb);
}
END_TEST

START_TEST(compose_keeps_data_out_of_headers)
{
	struct strbuf sb = STRBUF_INIT;
	struct digest_mail m = {
		.date = "Fri, 27 Nov 2026 07:00:00 +0000",
		.from = "digest@example.test", .to = "alice@example.test",
		.subject = "held: <script>\r\nBcc: victim@example.test",
		.message_id = "<1@example.test>", .language = "en",
		.unsubscribe_url = "https://q.test/unsubscribe?m=a&t=x",
		.boundary = "=_b", .text = "text\n.\nmore\n",
		.html = "<p>x</p>\n",
	};
	const char *s, *body;

	digest_mail_compose(&m, &sb);
	s = strbuf_cstr(&sb);
	ck_assert(crlf_only(s));
	body = strstr(s, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	/* the injected line is inside the Subject, not a header */
	ck_assert_ptr_null(strstr(s, "\r\nBcc:"));
	ck_assert_ptr_nonnull(strstr(s, "Subject: held: <script> Bcc: victim@example.test\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nAuto-Submitted: auto-generated\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nList-Unsubscribe: <https://q.test/unsubscribe?m=a&t=x>\r\n"));
	ck_assert_ptr_nonnull(strstr(s, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\n--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\n--=_b\r\nContent-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "\r\n--=_b--\r\n"));
	ck_assert_ptr_nonnull(strstr(body, "text\r\n=2E\r\nmore"));
	strbuf_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("digest-mail");
	TCase *tc = tcase_create("digest-mail");

	tcase_add_test(tc, clean_makes_one_line_of_utf8);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, ascii_header_is_folded_between_words);
	tcase_add_test(tc, non_ascii_header_is_rfc2047);
	tcase_add_test(tc, from_with_a_display_name);
	tcase_add_test(tc, quoted_printable);
	tcase_add_test(tc, compose_keeps_data_out_of_headers);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
