/*
 * check-main.h - the end of every unit test's main(): run the suite with
 * Check (which prints its own totals, e.g. "100%: Checks: 9, Failures:
 * 0, Errors: 0") and turn the result into the exit status automake reads
 */
#ifndef NDRGUARD_CHECK_MAIN_H
#define NDRGUARD_CHECK_MAIN_H

#include <check.h>

static inline int check_main_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
