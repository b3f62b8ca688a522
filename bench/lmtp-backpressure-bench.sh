#!/bin/bash
# lmtp-backpressure-bench.sh - ndrguardd's size and an honest client's
# latency while clients flood it with commands they never read replies to
#
# SYNOPSIS
#	NDRGUARDD=daemon/ndrguardd bash bench/lmtp-backpressure-bench.sh [N]
#
# DESCRIPTION
#	One daemon, one run, three phases on loopback TCP:
#	  1. no flood: an honest client makes N transactions (default 200),
#	     one after another on one connection (MAIL, RCPT, DATA of a
#	     small ordinary message passed on to smtp-sink), timing each
#	     from MAIL to the final 250;
#	  2. the same while 1 client (tests/lmtp-flood.py) pipelines LHLO,
#	     NOOP and RSET without reading, up to 40 MB for up to 20 s;
#	  3. the same while 100 such clients send up to 4 MB each.
#	lmtp_command_timeout is 60 s, so the flooding connections stay open
#	(read from no more once back-pressure sets in) for the whole phase.
#	Prints a Markdown table: per phase the transactions' p50, p99 and
#	max in ms, and the daemon's VmRSS at the end of the phase and VmHWM
#	(its peak since start). Takes well under a minute.
#
# PREREQUISITES
#	postfix (smtp-sink), python3; run as root (the daemon drops to
#	nobody) or as any user (it keeps that user).
set -eu
: "${NDRGUARDD:=daemon/ndrguardd}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
N=${1:-200}
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink is missing (Debian package postfix)"; exit 1; }
. "$top_srcdir/tests/lib.sh"

T=$(mktemp -d /tmp/ndrg-bpbench.XXXXXX) && chmod 755 "$T"
DPID='' SINKPID='' FPID=''
cleanup()
{
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
USER_=$(id -un); [ "$(id -u)" = 0 ] && USER_=nobody
LPORT=$(free_port); SPORT=$(free_port); HPORT=$(free_port)
mkdir -p "$T/db" && chown "$USER_" "$T/db"
cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:$SPORT
lmtp_max_connections = 200
lmtp_command_timeout = 60s
lmtp_idle_timeout = 60s
daemon_user = $USER_
pid_file =
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:9
EOF
"$SINK" -4 -u "$USER_" 127.0.0.1:$SPORT 64 & SINKPID=$!
wait_port $SPORT
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" & DPID=$!
wait_port $LPORT
vm() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$DPID/status"; }

# honest - N timed transactions; prints "p50 p99 max" in ms
honest()
{
	python3 - "$LPORT" "$N" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=60)
f = s.makefile('rb')
def reply():
    while True:
        line = f.readline()
        if not line or line[3:4] != b'-':
            return line
reply(); s.sendall(b'LHLO bench\r\n'); reply()
msg = (b'From: carol@example.net\r\nTo: bob@example.test\r\n'
       b'Subject: honest\r\n\r\nhello\r\n.\r\n')
times = []
for _ in range(n):
    t0 = time.monotonic()
    s.sendall(b'MAIL FROM:<carol@example.net>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n')
    for _ in range(3):
        reply()
    s.sendall(msg)
    if not reply().startswith(b'250 '):
        sys.exit('a transaction failed')
    times.append((time.monotonic() - t0) * 1000)
s.sendall(b'QUIT\r\n'); reply()
times.sort()
print('%.2f %.2f %.2f' % (times[len(times) // 2],
                          times[min(len(times) - 1, len(times) * 99 // 100)],
                          times[-1]))
PY
}

# phase NAME CLIENTS BYTES - one table row; CLIENTS 0: no flood
phase()
{
	if [ "$2" -gt 0 ]; then
		python3 "$top_srcdir/tests/lmtp-flood.py" 127.0.0.1:$LPORT "$2" "$3" 20 0 \
			> "$T/flood.out" 2>&1 & FPID=$!
		sleep 0.2	# the flood is under way
	fi
	read -r p50 p99 max < <(honest)
	rss=$(vm VmRSS) hwm=$(vm VmHWM)
	[ -z "$FPID" ] || { wait "$FPID"; FPID=; }
	awk -v n="$1" -v c="$N" -v a="$p50" -v b="$p99" -v m="$max" -v r="$rss" -v h="$hwm" \
		'BEGIN { printf "| %s | %s | %s | %s | %s | %.1f MB | %.1f MB |\n", n, c, a, b, m, r / 1024, h / 1024 }'
}

echo "| phase | transactions | p50 ms | p99 ms | max ms | VmRSS after | VmHWM so far |"
echo "|---|---|---|---|---|---|---|"
phase "no flood" 0 0
phase "1 client flooding (40 MB, 20 s)" 1 40000000
phase "100 clients flooding (4 MB each, 20 s)" 100 4000000
echo
echo "$(nproc) cores, $(uname -r), commit $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')"
