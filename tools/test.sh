#!/bin/sh
# test.sh - install what is needed, build, and run the whole test suite
#
# SYNOPSIS
#	tools/test.sh
#
# DESCRIPTION
#	tools/deps.sh, then ./autogen.sh && ./configure where not done yet,
#	make, and make check: the unit tests (Check), the recognition tests
#	over ../shared/corpus and the integration tests against a private
#	Postfix (which need root).  Failing tests' logs are printed.  The
#	last line is the tally from automake's test-suite.log:
#		N passed, N failed, N skipped
#	(ERROR and XPASS count as failed).  Exit status 0 only when nothing
#	failed.  This is what CI runs (.ci/run).
set -u

cd "$(dirname "$0")/.." || exit 1

fail()
{
	echo "test.sh: $*" >&2
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

sh tools/deps.sh || fail "installing packages failed"
if [ ! -x configure ]; then
	./autogen.sh || fail "./autogen.sh failed"
fi
if [ ! -f Makefile ]; then
	./configure || fail "./configure failed"
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" || fail "the build failed"

rm -f test-suite.log
make -j"$jobs" check VERBOSE=1
status=$?

[ -f test-suite.log ] || fail "make check wrote no test-suite.log"
# total NAME - the "# NAME: n" line of automake's summary
total()
{
	sed -n "s/^# $1: *\\([0-9][0-9]*\\)\$/\\1/p" test-suite.log | head -n 1
}
pass=$(total PASS)
failed=$(( $(total FAIL) + $(total ERROR) + $(total XPASS) ))
skip=$(total SKIP)
echo "${pass:-0} passed, $failed failed, ${skip:-0} skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
