#!/bin/bash
# test-lmtp-iconv-soak.sh - decision threads end without leaving their
# charset converters behind
#
# ndrguardd runs with lmtp_thread_idle_timeout = 2s, so its decision
# threads end after each burst. tests/lmtp-charset-burst.py sends CYCLES
# bursts of bounces in ISO-2022-JP, GB18030, UTF-7 and five more
# charsets on 12 connections at once; after each burst the test waits
# until the daemon is back to the threads it had before the first one
# (the decision threads have ended) and reads its VmRSS. Asserted:
#   - every bounce of every burst is answered 250;
#   - the threads do end between bursts;
#   - VmRSS after the last burst is within 3 MB of that after the
#     second (the first burst loads the gconv modules and warms malloc's
#     arenas): each thread's kept converters used to be lost with it;
#   - SIGTERM ends the daemon with status 0; under --enable-sanitizers
#     LeakSanitizer makes that status non-zero when anything leaked, and
#     tools/test-valgrind.sh checks the same under memcheck.
# Under valgrind (NDRGUARDD a wrapper script) or a sanitizer (whose
# quarantine of freed memory grows by design) the size is not checked.
set -u
: "${NDRGUARDD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "SKIP: smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
BURST="python3 $top_srcdir/tests/lmtp-charset-burst.py"
CYCLES=5

. "$top_srcdir/tests/lib.sh"
lmtp_test_setup soak
lmtp_test_conf "storm_threshold = 1000000" "lmtp_thread_idle_timeout = 2s"
# the sink throws the mail away: only the daemon's memory matters here
"$SINK" -4 -u nobody 127.0.0.1:$SPORT 64 &
SINKPID=$!
wait_port $SPORT
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" &
DPID=$!
wait_port $LPORT

status() { sed -n "s/^$1:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$DPID/status"; }
# deciders - how many decision threads (named lmtp-decide) the daemon has
deciders() { cat /proc/"$DPID"/task/*/comm 2>/dev/null | grep -c '^lmtp-decide'; }
MEASURE=yes
head -c 2 "$NDRGUARDD" | grep -q '#!' && MEASURE=no
grep -q 'libasan\|libtsan' "/proc/$DPID/maps" && MEASURE=no	# its quarantine grows
rss=() most=0
for c in $(seq $CYCLES); do
	out=$($BURST 127.0.0.1:$LPORT 12 8 alice@example.test "c$c.$$" 2>&1) ||
		fail "burst $c: $out"
	n=$(deciders); [ "$n" -gt $most ] && most=$n
	# wait (bounded) for the decision threads to end
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 40))); do
		[ "$(deciders)" -eq 0 ] && break
		sleep 0.05
	done
	[ "$(deciders)" -eq 0 ] || fail "burst $c: $(deciders) decision threads still there"
	rss[$c]=$(status VmRSS)
	echo "burst $c: $out, $n decision threads just after, none left; VmRSS ${rss[$c]} kB"
done
[ $most -gt 0 ] || fail "no decision thread seen after a burst (they end too soon to be seen ending)"
grep -q 'kind=' "$T/nd.log" || fail "no decision logged"
[ $fails -eq 0 ] && ok "$CYCLES bursts of $((12 * 8)) bounces answered, threads ended after each"
if [ "$MEASURE" = yes ]; then
	grown=$(( rss[CYCLES] - rss[2] ))
	[ $grown -lt 3072 ] && ok "VmRSS flat over the idle cycles: ${rss[2]} kB after burst 2, ${rss[CYCLES]} kB after burst $CYCLES" ||
		fail "VmRSS grew ${grown} kB from burst 2 to burst $CYCLES (${rss[*]})"
else
	echo "size not checked (under valgrind or a sanitizer, whose own memory grows)"
fi
kill -TERM "$DPID"; wait "$DPID"; rc=$?; DPID=
[ $rc -eq 0 ] && ok "exit status 0 after SIGTERM (nothing leaked under a leak checker)" ||
	{ fail "exit status $rc after SIGTERM"; tail -40 "$T/nd.log"; }
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
