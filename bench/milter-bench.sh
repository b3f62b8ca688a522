#!/bin/sh
# milter-bench.sh - Postfix submission throughput with ndrguard-milter
#
# SYNOPSIS
#	sh bench/milter-bench.sh [COUNT [ROUNDS]]	(as root, in a built tree)
#
# DESCRIPTION
#	One private Postfix (tests/integration/postfix-fixture.sh) with two
#	smtpd ports that differ only in smtpd_milters: the submission-like
#	port passes ndrguard-milter (doc/postfix/milter-*.cf), the other
#	does not. smtp-source sends COUNT messages (default 500, 5
#	sessions) from bob to bob to one, then the other, ROUNDS times
#	(default 2) alternating; the time is until smtp-source has every
#	message accepted (queued), which is what a submitting client waits
#	for. The messages carry a Message-ID, so the milter records each.
#	Results go to bench/results/milter.md by hand.
set -eu
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
NDRGUARD=$top_builddir/cli/ndrguard
export top_srcdir top_builddir NDRGUARD
. "$top_srcdir/tests/integration/postfix-fixture.sh"
COUNT=${1:-500} ROUNDS=${2:-2}
SUB=$(pf_free_port)
# unix:$D/milter.sock, $D known once pf_setup made it (MILTER_TCP=1: TCP)
MPORT=$(pf_free_port)
if [ -n "${MILTER_TCP:-}" ]; then
	PF_INSTANCE_ARGS="-s $SUB -M inet:127.0.0.1:$MPORT"
else
	PF_INSTANCE_ARGS="-s $SUB -M unix:@D@/milter.sock"
fi
pf_setup 20
sed -i "s|@D@|$D|g" "$D/etc/main.cf" "$D/etc/master.cf"
MILT=$(grep -o 'non_smtpd_milters = .*' "$D/etc/main.cf" | sed 's/.*= //')
cat >> "$D/etc/ndrguard.conf" <<EOF
milter_listen = $MILT
daemon_user = $PF_USER
EOF
"$top_builddir/milter/ndrguard-milter" -c "$D/etc/ndrguard.conf" -f \
	> "$D/milter.log" 2>&1 &
MPID=$!
trap 'kill $MPID; wait $MPID; pf_cleanup' EXIT
pf_start
BOB=bob@$PF_DOMAIN
# a Message-ID, so the milter records each message (the same one: the
# record is written, and kept once)
{ printf 'From: <%s>\r\nTo: <%s>\r\nSubject: bench\r\n' "$BOB" "$BOB"
  printf 'Message-ID: <bench.%s@laptop.local>\r\n\r\n' "$$"
  for i in $(seq 30); do printf 'line %s of a message of about two kilobytes, to be sent\r\n' "$i"; done
} > "$D/msg.eml"

# run PORT - seconds for smtp-source to have COUNT messages accepted
run()
{
	_s=$(date +%s.%N)
	smtp-source -4 -s 5 -m "$COUNT" -F "$D/msg.eml" -f "$BOB" -t "$BOB" \
		"127.0.0.1:$1" || pf_fail "smtp-source on port $1"
	_e=$(date +%s.%N)
	echo "$_e - $_s" | bc -l
}

for r in $(seq "$ROUNDS"); do
	without=$(run "$PORT")
	pf_wait_idle 120
	with=$(run "$SUB")
	pf_wait_idle 120
	printf 'round %d: without %.0f msg/s, with %.0f msg/s, ratio %.2f\n' "$r" \
		"$(echo "$COUNT / $without" | bc -l)" "$(echo "$COUNT / $with" | bc -l)" \
		"$(echo "$without / $with" | bc -l)"
done
echo "milter failures logged: $(grep -c 'outbound index' "$D/milter.log" || true)"
echo "Postfix's milter warnings: $(grep -c 'warning:.*[Mm]ilter' "$D/maillog" || true)"
"$NDRGUARD" -c "$D/etc/ndrguard.conf" outbound find "<bench.$$@laptop.local>" ||
	pf_fail "the milter recorded nothing"
