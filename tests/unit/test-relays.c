/*
 * test-relays.c - our_relays globs and networks, our_domains
 */
#include "autoconfig.h"
#include "relays.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_match)
{
	const char *error = NULL;
	struct relays *r = relays_create("mx.example.com, *.out.example.net\n"
					 "192.0.2.0/24 2001:db8::/32 198.51.100.7",
					 "example.org", &error);

	ck_assert_ptr_nonnull(r);
	ck_assert(!relays_is_empty(r));
	ck_assert(relays_match_host(r, "MX.Example.com"));
	ck_assert(relays_match_host(r, "a.b.out.example.net"));
	ck_assert(!relays_match_host(r, "out.example.net"));
	ck_assert(relays_match_ip(r, "192.0.2.254"));
	ck_assert(!relays_match_ip(r, "192.0.3.1"));
	ck_assert(relays_match_ip(r, "IPv6:2001:db8::1"));
	ck_assert(relays_match_ip(r, "198.51.100.7"));
	ck_assert(!relays_match_ip(r, "198.51.100.8"));
	ck_assert(relays_match_domain(r, "mail.example.org"));
	ck_assert(relays_match_domain(r, "EXAMPLE.ORG."));
	ck_assert(!relays_match_domain(r, "badexample.org"));
	relays_destroy(&r);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_errors)
{
	const char *error = NULL;

	ck_assert_ptr_null(relays_create("10.0.0.0/33", NULL, &error));
	ck_assert_str_eq(error, "our_relays: invalid element '10.0.0.0/33'");
	ck_assert_ptr_null(relays_create(NULL, "*.example.org", &error));
	ck_assert_ptr_null(relays_create("bad/host!", NULL, &error));
}
END_TEST

START_TEST(test_empty)
{
	const char *error = NULL;
	struct relays *r = relays_create(NULL, " , ", &error);

	ck_assert(relays_is_empty(r));
	ck_assert(relays_is_empty(NULL));
	relays_destroy(&r);
}
END_TEST

static Suite *relays_suite(void)
{
	Suite *s = suite_create("relays");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(relays_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
