/*
 * test-reporter.c - which mail system sent a bounce, and the values an
 * allow rule accepts (lib/mail/reporter.c)
 */
#include "autoconfig.h"
#include "check-main.h"
#include "reporter.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* test_host - reporter_host on msg with reporting_mta, freed here; the
   result compared with want (NULL: no host) */
static void test_host(const char *msg, const char *reporting_mta,
		      const char *want)
{
	char *host = reporter_host(msg, msg ? strlen(msg) : 0, reporting_mta);

	if (want == NULL)
		ck_assert_ptr_null(host);
	else
		ck_assert_str_eq(host, want);
	free(host);
}

static const char reporter_msg[] =
	"Received: from relay.late.example (relay.late.example [192.0.2.9])\n"
	"\tby mx.ours.test; Tue, 14 May 2024 08:00:02 +0000\n"
	"Received: from Origin.Far-Away.TEST (unknown [198.51.100.1])\n"
	"\tby relay.late.example; Tue, 14 May 2024 08:00:01 +0000\n"
	"From: MAILER-DAEMON@from.example.net (Mail Delivery System)\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"\n"
	"body\n";

START_TEST(test_reporting_mta)
{
	/* the Reporting-MTA's host wins over the headers, lower-cased */
	test_host(reporter_msg, "MX1.Example.NET", "mx1.example.net");
	test_host(NULL, "gw.shop.example.net.", "gw.shop.example.net");
	/* a bare address literal or one label is no name: the headers */
	test_host(reporter_msg, "192.0.2.7", "origin.far-away.test");
	test_host(reporter_msg, "localhost", "origin.far-away.test");
	test_host(NULL, "[192.0.2.7]", NULL);
}
END_TEST

START_TEST(test_received_fallback)
{
	/* the oldest Received (the last one) names the first server */
	test_host(reporter_msg, NULL, "origin.far-away.test");
	/* CRLF line ends read the same */
	test_host("Received: from a.b.example (x)\r\n\tby c\r\n"
		  "From: <x@y.example>\r\n\r\nbody\r\n", NULL, "a.b.example");
	/* a Received without "from " does not count: the next older one */
	test_host("Received: from old.example.org by x\n"
		  "Received: by localhost with local\n\nbody\n", NULL,
		  "old.example.org");
}
END_TEST

START_TEST(test_from_fallback)
{
	test_host("From: MAILER-DAEMON@Mail.Example.ORG\n\nbody\n", NULL,
		  "mail.example.org");
	test_host("Received: from [192.0.2.1] by x\n"
		  "From: \"System\" <postmaster@relay.example.com>\n\nb\n",
		  NULL, "relay.example.com");
	/* nothing that names a host */
	test_host("From: MAILER-DAEMON\nSubject: x\n\nbody\n", NULL, NULL);
	test_host("From: x@nodots\n\nbody\n", NULL, NULL);
	test_host("", NULL, NULL);
	test_host(NULL, NULL, NULL);
}
END_TEST

START_TEST(test_domain)
{
	char *d;

	d = reporter_domain("mx.example.net");
	ck_assert_str_eq(d, "example.net");
	free(d);
	d = reporter_domain("example.net");
	ck_assert_str_eq(d, "example.net");
	free(d);
	d = reporter_domain("a.b.c.example");
	ck_assert_str_eq(d, "b.c.example");
	free(d);
	ck_assert_ptr_null(reporter_domain(NULL));
}
END_TEST

/* rule_ok - reporter_rule_value accepts value of kind as want */
static void rule_ok(const char *kind, const char *value, const char *want)
{
	const char *error = NULL;
	char *v = NULL;

	ck_assert_int_eq(reporter_rule_value(kind, value, &v, &error), 0);
	ck_assert_str_eq(v, want);
	free(v);
}

/* rule_bad - reporter_rule_value refuses value of kind with an error
   that holds part */
static void rule_bad(const char *kind, const char *value, const char *part)
{
	const char *error = NULL;
	char *v = (char *)"unset";

	ck_assert_int_eq(reporter_rule_value(kind, value, &v, &error), -1);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_nonnull(strstr(error, part));
}

START_TEST(test_rule_values)
{
	char label63[64], label64[65], long254[256], long253[254];

	rule_ok("domain", "ISP.Test", "isp.test");
	rule_ok("domain", "a-b.example", "a-b.example");
	rule_ok("recipient", "User7@Example.NET", "user7@example.net");
	rule_bad("domain", "bad..domain", "not a domain name");
	rule_bad("domain", ".lead.example", "not a domain name");
	rule_bad("domain", "trail.example.", "not a domain name");
	rule_bad("domain", "", "not a domain name");
	rule_bad("domain", "sp ace.example", "not a domain name");
	rule_bad("domain", "under_score.example", "not a domain name");
	rule_bad("recipient", "no-at-sign", "not a mail address");
	rule_bad("recipient", "@example.net", "not a mail address");
	rule_bad("recipient", "a b@example.net", "not a mail address");
	rule_bad("recipient", "<a>@example.net", "not a mail address");
	rule_bad("recipient", "a@bad..example", "not a mail address");
	rule_bad("sender", "isp.test", "domain or recipient");
	rule_bad(NULL, "isp.test", "domain or recipient");
	rule_bad("domain", NULL, "domain or recipient");

	/* a label: 63 bytes at most */
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	{
		char name[80];

		snprintf(name, sizeof(name), "%s.example", label63);
		rule_ok("domain", name, name);
		snprintf(name, sizeof(name), "%s.example", label64);
		rule_bad("domain", name, "not a domain name");
	}
	/* a name: 253 bytes at most (labels of 9 and dots) */
	for (size_t i = 0; i < sizeof(long254) - 1; i++)
		long254[i] = i % 10 == 9 ? '.' : 'b';
	long254[253] = 'c';
	long254[254] = '\0';
	rule_bad("domain", long254, "not a domain name");
	memcpy(long253, long254, 253);
	long253[252] = 'c';
	long253[253] = '\0';
	rule_ok("domain", long253, long253);
}
END_TEST

START_TEST(test_name_ok)
{
	ck_assert(reporter_name_ok("example.net"));
	ck_assert(reporter_name_ok("x"));
	ck_assert(!reporter_name_ok(NULL));
	ck_assert(!reporter_name_ok(""));
	ck_assert(!reporter_name_ok("a..b"));
	ck_assert(!reporter_name_ok("a.b\n"));
}
END_TEST

static Suite *reporter_suite(void)
{
	Suite *s = suite_create("reporter");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reporting_mta);
	tcase_add_test(tc, test_received_fallback);
	tcase_add_test(tc, test_from_fallback);
	tcase_add_test(tc, test_domain);
	tcase_add_test(tc, test_rule_values);
	tcase_add_test(tc, test_name_ok);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main_run(reporter_suite());
}
