/*
 * test-msgid.c - Message-IDs normalised alike on both sides of the index
 */
#include "autoconfig.h"
#include "msgid.h"
#include "check-main.h"

#include <check.h>
#include <string.h>

/* norm - msgid_normalize into a static buffer */
static const char *norm(const char *v)
{
	static char out[MSGID_MAX + 1];

	msgid_normalize(v, out, sizeof(out));
	return out;
}

START_TEST(test_forms)
{
	ck_assert_str_eq(norm("<Abc.123@Mail.Example.ORG>"), "Abc.123@mail.example.org");
	ck_assert_str_eq(norm("  <a@B>  "), "a@b");
	ck_assert_str_eq(norm("a@B"), "a@b");
	ck_assert_str_eq(norm("(comment) <x@Y.test> (more)"), "x@y.test");
	/* the local part keeps its case; only the domain is folded */
	ck_assert_str_eq(norm("<MiXeD@DoMaIn>"), "MiXeD@domain");
}
END_TEST

START_TEST(test_rejects)
{
	ck_assert_str_eq(norm(""), "");
	ck_assert_str_eq(norm("<no-at-sign>"), "");
	ck_assert_str_eq(norm("<@domain>"), "");
	ck_assert_str_eq(norm("<local@>"), "");
	ck_assert_str_eq(norm("<a b@c>"), "");
	ck_assert_str_eq(norm("<unterminated@x"), "");
	ck_assert_str_eq(norm("<a\x01@b>"), "");
	char longid[400];
	memset(longid, 'a', sizeof(longid));
	longid[0] = '<';
	memcpy(longid + 300, "@b>", 4);
	ck_assert_str_eq(norm(longid), "");
}
END_TEST

START_TEST(test_list)
{
	char ids[4][MSGID_MAX + 1];
	size_t n = msgid_list("<one@A> <two@B>\t<bad> garbage <three@C>", ids, 4);

	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ids[0], "three@c");	/* newest first */
	ck_assert_str_eq(ids[1], "two@b");
	ck_assert_str_eq(ids[2], "one@a");
	ck_assert_uint_eq(msgid_list("<one@A> <two@B> <three@C>", ids, 2), 2);
	ck_assert_str_eq(ids[0], "three@c");
	ck_assert_uint_eq(msgid_list("", ids, 4), 0);
	ck_assert_uint_eq(msgid_list("(((", ids, 4), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msgid");
	TCase *tc = tcase_create("msgid");

	tcase_add_test(tc, test_forms);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	return check_main_run(s);
}
