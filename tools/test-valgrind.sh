#!/bin/bash
# test-valgrind.sh - the daemon's integration tests with every ndrguard
# process under valgrind (memcheck)
#
# SYNOPSIS
#	tools/test-valgrind.sh [TEST...]	(in a built tree; builds nothing)
#
# DESCRIPTION
#	Runs tests/test-lmtp.sh, tests/integration/test-lmtp-postfix.sh,
#	tests/test-web.sh, tests/test-lmtp-iconv-soak.sh, tests/test-bad-input.sh
#	and tests/test-privilege.sh
#	(or the TESTs named) with NDRGUARDD, NDRGUARD and NDRGUARD_WEB
#	pointing at small wrappers that exec the built programs (and the
#	ndrguard-digest that `ndrguard digest` runs) under
#
#	    valgrind --error-exitcode=99 --leak-check=full
#	             --errors-for-leak-kinds=definite,indirect
#
#	each process writing its own log. A test passes when the script
#	passes and no log of a process it started reports an error (invalid
#	access, uninitialised value, definite or indirect leak); the logs
#	with errors are printed. The exit status of a process alone is not
#	enough: the tests stop the daemon with signals and do not all look
#	at its status.
#
#	The tests wait up to NDRGUARD_TEST_WAIT seconds (30 here, instead
#	of 5) for a program to start listening or to show it has acted:
#	what they assert is unchanged.
#
#	tools/valgrind.supp holds the suppressions, each for a documented
#	issue in a library ndrguard uses, never in ndrguard.
#
#	The last line is "valgrind: N passed, N failed, N skipped".
#	Exit 0 when nothing failed.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
command -v valgrind >/dev/null || {
	echo "test-valgrind.sh: valgrind is not installed (Debian package valgrind)"
	echo "valgrind: 0 passed, 0 failed, 1 skipped"; exit 0; }
for p in daemon/ndrguardd cli/ndrguard cli/ndrguard-digest web/ndrguard-web; do
	[ -x "$top/$p" ] || { echo "test-valgrind.sh: $p is not built (run make first)"
		echo "valgrind: 0 passed, 1 failed, 0 skipped"; exit 1; }
done
[ $# -gt 0 ] || set -- tests/test-lmtp.sh tests/integration/test-lmtp-postfix.sh tests/test-web.sh \
	tests/test-lmtp-iconv-soak.sh \
	tests/test-bad-input.sh tests/test-privilege.sh

work=$(mktemp -d /tmp/ndrguard-vg.XXXXXX) || exit 1
# the wrappers run as the pipe and daemon users too: reachable, and the
# log directory writable for them (it holds nothing of ndrguard's)
chmod 755 "$work"
mkdir -p "$work/bin" "$work/log" && chmod 1777 "$work/log"
trap 'rm -rf "$work"' EXIT INT TERM

# wrap NAME PROGRAM - $work/bin/NAME runs PROGRAM under valgrind
wrap()
{
	# a copy of the program: the Postfix fixture copies NDRGUARD to a
	# place the pipe user can reach, and the build tree may not be one
	cp "$2" "$work/bin/$1.real" && chmod 755 "$work/bin/$1.real"
	cat > "$work/bin/$1" <<EOF
#!/bin/sh
exec valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--num-callers=30 --suppressions="$top/tools/valgrind.supp" \\
	--log-file="$work/log/$1.%p.log" "$work/bin/$1.real" "\$@"
EOF
	chmod 755 "$work/bin/$1"
}
wrap ndrguardd "$top/daemon/ndrguardd"
wrap ndrguard "$top/cli/ndrguard"
wrap ndrguard-web "$top/web/ndrguard-web"
# `ndrguard digest` execs the ndrguard-digest beside its own program
wrap ndrguard-digest "$top/cli/ndrguard-digest"

# vg_errors - the logs in $work/log with a reported error, and the count
vg_errors()
{
	local f n bad=0
	for f in "$work"/log/*.log; do
		[ -e "$f" ] || continue
		# -q: a clean process leaves an empty log; anything else is an
		# error, a leak or valgrind's own complaint
		n=$(grep -c '^==[0-9]*==' "$f")
		if [ "$n" -gt 0 ]; then
			echo "--- $f"
			cat "$f"
			bad=$((bad + 1))
		fi
	done
	return $bad
}

pass=0 failed=0 skipped=0
for t in "$@"; do
	rm -f "$work"/log/*.log
	start=$(date +%s)
	top_srcdir=$top top_builddir=$top \
	NDRGUARD="$work/bin/ndrguard" NDRGUARDD="$work/bin/ndrguardd" \
	NDRGUARD_WEB="$work/bin/ndrguard-web" \
	NDRGUARD_CORPUS="${NDRGUARD_CORPUS:-$top/../shared/corpus}" \
	NDRGUARD_TEST_WAIT=30 CK_VERBOSITY=normal \
		bash "$t" > "$work/test.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	nlogs=$(ls "$work"/log/*.log 2>/dev/null | wc -l)
	if [ $rc -eq 77 ]; then
		echo "SKIP: $t ($(tail -1 "$work/test.log"))"
		skipped=$((skipped + 1))
		continue
	fi
	vg_errors > "$work/errors"; bad=$?
	if [ $rc -eq 0 ] && [ $bad -eq 0 ]; then
		echo "PASS: $t (${secs}s, $nlogs processes under valgrind, no errors)"
		pass=$((pass + 1))
	else
		echo "FAIL: $t (exit $rc, $bad of $nlogs processes with valgrind errors, ${secs}s)"
		[ $rc -eq 0 ] || grep -E '^(FAIL|not ok)|FAIL:' "$work/test.log" | head -20
		[ $rc -eq 0 ] || tail -20 "$work/test.log"
		cat "$work/errors"
		failed=$((failed + 1))
	fi
done
echo "valgrind: $pass passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
