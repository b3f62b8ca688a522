#!/bin/bash
# test-lmtp-flood.sh - LMTP clients that send commands and never read
#
# ndrguardd runs with lmtp_command_timeout = 2s. tests/lmtp-flood.py opens
# first 1, then 100 connections that pipeline LHLO, NOOP and RSET and
# never read a reply. Each round asserts, through the daemon itself:
#   - its peak resident size (VmHWM in /proc/PID/status) stays under
#     32 MB: back-pressure stops reading a client whose unsent replies
#     pass SERVER_OUT_LIMIT (server.h), so its commands wait in the kernel's buffers
#     (and then in the client), not in the daemon;
#   - every flooding connection is closed by the daemon: commands sent
#     while replies wait do not move the deadline;
#   - an honest client on another connection completes its transactions
#     meanwhile (its message reaches the next hop).
# No time is asserted: the flood is bounded in bytes and seconds, and the
# closes are waited for up to 60 s (the deadline is 2 s).
#
# Under a sanitizer the daemon's size is its shadow memory's too: there
# the bound is the growth over the size before the flood (20 MB). Under
# valgrind (NDRGUARDD a wrapper script) the size is not checked.
set -u
: "${NDRGUARDD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "SKIP: smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
CLIENT="python3 $top_srcdir/tests/lmtp-client.py"
FLOOD="python3 $top_srcdir/tests/lmtp-flood.py"

. "$top_srcdir/tests/lib.sh"
lmtp_test_setup flood
lmtp_test_conf "lmtp_max_connections = 110" "lmtp_command_timeout = 2s" \
	"lmtp_idle_timeout = 3s"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 &
SINKPID=$!
wait_port $SPORT
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" &
DPID=$!
wait_port $LPORT

printf 'From: carol@example.net\nTo: bob@example.test\nSubject: honest\n\nhello\n' > "$T/honest.eml"
# honest N - N transactions, one connection each; prints the 250s
honest()
{
	for _ in $(seq "$1"); do
		printf '%s\n' '<' '> LHLO honest' '<' '> MAIL FROM:<carol@example.net>' '<' \
			'> RCPT TO:<bob@example.test>' '<' '> DATA' '<' "data $T/honest.eml" '<' \
			'> QUIT' '<' | $CLIENT 127.0.0.1:$LPORT | grep '^250 2.0.0 <bob@example.test> passed on'
	done
}
# vm FIELD - the daemon's VmHWM or VmRSS in kB
vm() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$DPID/status"; }

MEASURE=plain
head -c 2 "$NDRGUARDD" | grep -q '#!' && MEASURE=none
[ "$MEASURE" = plain ] && grep -q 'libasan\|libtsan' "/proc/$DPID/maps" && MEASURE=growth
[ "$(honest 1 | wc -l)" = 1 ] && ok "an honest transaction before the flood" || fail "honest transaction before the flood"
base=$(vm VmRSS)
echo "before the flood: VmRSS ${base} kB, VmHWM $(vm VmHWM) kB (size check: $MEASURE)"

# flood_round CLIENTS MAX_BYTES - one round, with an honest client meanwhile
flood_round()
{
	$FLOOD 127.0.0.1:$LPORT "$1" "$2" 8 60 > "$T/flood.out" 2>&1 &
	fpid=$!
	got=$(honest 5 | wc -l)
	wait $fpid
	echo "$1 flooding client(s): $(cat "$T/flood.out"); VmHWM $(vm VmHWM) kB"
	[ "$got" = 5 ] && ok "$1 flooding: 5 honest transactions completed meanwhile" ||
		fail "$1 flooding: $got of 5 honest transactions completed"
	grep -q "^clients=$1 .* closed=$1 open=0" "$T/flood.out" &&
		ok "$1 flooding: every flooding connection closed by the daemon" ||
		fail "$1 flooding: not all closed: $(cat "$T/flood.out")"
	hwm=$(vm VmHWM)
	case $MEASURE in
	plain) [ "$hwm" -lt 32768 ] && ok "$1 flooding: peak size ${hwm} kB < 32 MB" ||
		fail "$1 flooding: peak size ${hwm} kB, over 32 MB";;
	growth) [ $(( hwm - base )) -lt 20480 ] && ok "$1 flooding: peak grew $(( hwm - base )) kB < 20 MB" ||
		fail "$1 flooding: peak grew $(( hwm - base )) kB, over 20 MB";;
	esac
}
flood_round 1 40000000
flood_round 100 2000000
grep -c 'timeout after command' "$T/nd.log" | sed 's/^/timeouts logged: /'
kill -0 "$DPID" 2>/dev/null && ok "the daemon still runs" || fail "the daemon died"
[ "$(honest 1 | wc -l)" = 1 ] && ok "an honest transaction after the flood" || fail "honest transaction after the flood"
[ $fails -eq 0 ] || { echo "--- ndrguardd log (last 5 lines) ---"; tail -5 "$T/nd.log"; echo "$fails failure(s)"; exit 1; }
