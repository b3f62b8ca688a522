#!/bin/sh
# test-sanitizers.sh - the whole test suite again, built with AddressSanitizer
# and UndefinedBehaviorSanitizer
#
# SYNOPSIS
#	tools/test-sanitizers.sh	(after tools/test.sh has configured the tree)
#
# DESCRIPTION
#	Builds the distribution tree (make distdir, so a file missing from
#	the tarball shows up here too) in a temporary folder with
#	./configure --enable-sanitizers, and runs make check there; any
#	sanitizer report aborts the program that made it, so the test fails.
#	The corpus is found through NDRGUARD_CORPUS (../shared/corpus).
#	Prints "N passed, N failed, N skipped" last.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
work=$(mktemp -d /tmp/ndrguard-san.XXXXXX) || exit 1
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT INT TERM

make -s distdir distdir="$work/src" >/dev/null || { echo "test-sanitizers.sh: make distdir failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
cd "$work/src" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
{ ./configure -q --enable-sanitizers && make -s -j"$jobs"; } >build.log 2>&1 || {
	cat build.log; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
NDRGUARD_CORPUS="${NDRGUARD_CORPUS:-$top/../shared/corpus}" \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -j"$jobs" check VERBOSE=1
status=$?
total() { sed -n "s/^# $1: *\\([0-9][0-9]*\\)\$/\\1/p" test-suite.log | head -n 1; }
pass=$(total PASS)
failed=$(( $(total FAIL) + $(total ERROR) + $(total XPASS) ))
echo "sanitizers: ${pass:-0} passed, $failed failed, $(total SKIP) skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
