/*
 * test-dsn.c - RFC 3464 fields in any order, RFC 3463 codes in prose
 */
#include "autoconfig.h"
#include "dsn.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_status_find)
{
	size_t n;
	const char *t = "host 192.168.5.1.2 said 550-5.1.1 <a@b>... User unknown";
	const char *p = dsn_status_find(t, strlen(t), &n);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strncmp(p, "5.1.1", n), 0);
	ck_assert_ptr_null(dsn_status_find("Postfix 2.10.1 and 5.8.1", 24, &n));
	ck_assert_ptr_null(dsn_status_find("v1.5.1.1", 8, &n));
	t = "code 5.7.26 here";
	p = dsn_status_find(t, strlen(t), &n);
	ck_assert_uint_eq(n, 6);
}
END_TEST

START_TEST(test_postfix_order)
{
	const char *t =
		"Reporting-MTA: dns; mx.example.org\n\n"
		"Final-Recipient: rfc822; a@example.net\n"
		"Original-Recipient: rfc822;a@example.net\n"
		"Action: failed\nStatus: 5.1.1\n"
		"Diagnostic-Code: smtp; 550 5.1.1 <a@example.net>:\n"
		"    Recipient address rejected\n\n"
		"Final-Recipient: rfc822; B@Example.NET\n"
		"Action: delayed\nStatus: 4.4.1\n";
	struct dsn_report r;

	memset(&r, 0, sizeof(r));
	dsn_parse(t, strlen(t), &r);
	ck_assert_uint_eq(r.recipient_count, 2);
	ck_assert_str_eq(r.recipients[0].final_recipient, "a@example.net");
	ck_assert_str_eq(r.recipients[0].status, "5.1.1");
	ck_assert_str_eq(r.recipients[0].diagnostic,
			 "smtp; 550 5.1.1 <a@example.net>: Recipient address rejected");
	ck_assert_str_eq(r.recipients[1].final_recipient, "B@example.net");
	ck_assert_str_eq(r.recipients[1].action, "delayed");
	ck_assert_str_eq(r.reporting_mta, "dns; mx.example.org");
	dsn_report_free(&r);
}
END_TEST

START_TEST(test_status_first)
{
	/* some MTAs write Status and Diagnostic-Code before the address */
	const char *t =
		"Diagnostic-Code: smtp; 550 5.1.1 no\nStatus: 5.1.1\n"
		"Final-Recipient: rfc822; a@x.org\nAction: failed\n"
		"Diagnostic-Code: smtp; 550 no\nStatus: 5.0.0\n"
		"Final-Recipient: rfc822; b@x.org\nAction: failed\n";
	struct dsn_report r;

	memset(&r, 0, sizeof(r));
	dsn_parse(t, strlen(t), &r);
	ck_assert_uint_eq(r.recipient_count, 2);
	ck_assert_str_eq(r.recipients[0].final_recipient, "a@x.org");
	ck_assert_str_eq(r.recipients[1].final_recipient, "b@x.org");
	ck_assert_str_eq(r.recipients[1].status, "5.0.0");
	dsn_report_free(&r);
}
END_TEST

START_TEST(test_address_clean)
{
	char *a = dsn_address_clean("rfc822; <Neko@Example.JP>");

	ck_assert_str_eq(a, "Neko@example.jp");
	free(a);
	ck_assert_ptr_null(dsn_address_clean("rfc822; nobody"));
}
END_TEST

static Suite *dsn_suite(void)
{
	Suite *s = suite_create("dsn");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_status_find);
	tcase_add_test(tc, test_postfix_order);
	tcase_add_test(tc, test_status_first);
	tcase_add_test(tc, test_address_clean);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dsn_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
