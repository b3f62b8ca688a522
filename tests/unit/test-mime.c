/*
 * test-mime.c - MIME reading: line ends, unfolding, parameters,
 * multipart, transfer encodings, RFC 2047 and charsets, limits
 */
#include "autoconfig.h"
#include "mime.h"
#include "strbuf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_normalize)
{
	size_t len;
	char *s = mime_normalize("a\r\nb\rc\n\0d", 9, &len);

	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(s, "a\nb\nc\n d");
	free(s);
}
END_TEST

START_TEST(test_headers_unfold)
{
	const char *msg = "From x  Mon Jan 1\nSubject: one\n two\nX-A : b\n\nbody";
	struct mime_header *h = NULL;
	size_t n = 0, used = mime_headers_parse(msg, strlen(msg), &h, &n);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(mime_headers_find(h, n, "subject"), "one two");
	ck_assert_str_eq(mime_headers_find(h, n, "X-A"), "b");
	ck_assert_str_eq(msg + used, "body");
	mime_headers_free(h, n);
}
END_TEST

START_TEST(test_param)
{
	char *b = mime_param_get("multipart/mixed; charset=x;\n boundary=\"a b;c\"",
				 "boundary");
	char *c = mime_param_get("text/plain; name*0*=utf-8''ab; CHARSET=ISO-8859-1",
				 "charset");

	ck_assert_str_eq(b, "a b;c");
	ck_assert_str_eq(c, "ISO-8859-1");
	ck_assert_ptr_null(mime_param_get("text/plain", "charset"));
	free(b);
	free(c);
}
END_TEST

START_TEST(test_base64_qp)
{
	struct strbuf sb = STRBUF_INIT;

	mime_base64_decode("aGVs\nbG8=junk", 13, &sb);
	ck_assert_str_eq(strbuf_cstr(&sb), "hello");
	strbuf_reset(&sb);
	mime_qp_decode("a=3Db=\nc=ZZ", 11, &sb);
	ck_assert_str_eq(strbuf_cstr(&sb), "a=bc=ZZ");
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_rfc2047)
{
	struct strbuf sb = STRBUF_INIT;

	mime_header_decode("=?iso-8859-1?Q?caf=E9?= =?UTF-8?B?IOKCrA==?= x", &sb);
	ck_assert_str_eq(strbuf_cstr(&sb), "caf\xc3\xa9 \xe2\x82\xac x");
	strbuf_reset(&sb);
	/* ISO-2022-JP split across two words must be joined first */
	mime_header_decode("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", &sb);
	ck_assert_str_eq(strbuf_cstr(&sb), "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");
	strbuf_reset(&sb);
	mime_header_decode("=?bogus?Q?a?= =?broken", &sb);
	ck_assert_str_eq(strbuf_cstr(&sb), "a =?broken");
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_multipart)
{
	const char *msg =
		"Content-Type: multipart/report; boundary=\"XX\"\r\n\r\n"
		"preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n"
		"--XX--\r\n";
	struct mime_message *m = mime_parse(msg, strlen(msg));

	ck_assert_str_eq(m->root->type, "multipart/report");
	ck_assert_uint_eq(m->root->child_count, 2);
	ck_assert_uint_eq(m->root->children[0]->body_len, 5);
	ck_assert_uint_eq(m->root->children[1]->child_count, 1);
	ck_assert_str_eq(mime_part_header(m->root->children[1]->children[0],
					  "Subject"), "inner");
	mime_message_free(&m);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_missing_boundary)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=q\n\nno parts here\n";
	struct mime_message *m = mime_parse(msg, strlen(msg));

	ck_assert_uint_eq(m->root->child_count, 0);
	mime_message_free(&m);
}
END_TEST

START_TEST(test_depth_limit)
{
	struct strbuf sb = STRBUF_INIT;
	struct mime_message *m;

	for (int i = 0; i < 100; i++)
		strbuf_printf(&sb, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	m = mime_parse(sb.data, sb.len);
	ck_assert_uint_le(m->part_count, MIME_MAX_PARTS);
	mime_message_free(&m);
	strbuf_free(&sb);
}
END_TEST

static Suite *mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_normalize);
	tcase_add_test(tc, test_headers_unfold);
	tcase_add_test(tc, test_param);
	tcase_add_test(tc, test_base64_qp);
	tcase_add_test(tc, test_rfc2047);
	tcase_add_test(tc, test_multipart);
	tcase_add_test(tc, test_missing_boundary);
	tcase_add_test(tc, test_depth_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
