#!/bin/bash
# lmtp-bench.sh - ndrguardd's LMTP rate against the protocol floor
#
# SYNOPSIS
#	NDRGUARDD=daemon/ndrguardd bash bench/lmtp-bench.sh [MESSAGES [SESSIONS]]
#
# DESCRIPTION
#	One run, same machine, same 3 KB backscatter NDR, Postfix's own load
#	generator: smtp-source -L -s SESSIONS -m MESSAGES -f '' (defaults
#	20000 and 10) over loopback TCP against
#	  1. ndrguardd quarantining every message (storm_threshold = 1, so
#	     every recipient is in a storm), durable commits
#	     (synchronous=FULL) on the disk under /var/tmp;
#	  2. smtp-sink -L, which stores nothing: the protocol floor;
#	  3. Dovecot LMTP into a Maildir, when dovecot is installed.
#	Prints a Markdown table: seconds, messages per second, ratios, and
#	ndrguardd's peak RSS (VmHWM) and rows stored.
set -eu
: "${NDRGUARDD:=daemon/ndrguardd}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
M=${1:-20000}
S=${2:-10}
PATH=$PATH:/usr/sbin
T=$(mktemp -d /var/tmp/ndrg-bench.XXXXXX)
chmod 755 "$T"
PIDS=''
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || :; done; rm -rf "$T"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing on port $1" >&2; exit 1
}
# run PORT - smtp-source against PORT, print elapsed seconds
run()
{
	local t0 t1
	t0=$(date +%s.%N)
	smtp-source -4 -L -s "$S" -m "$M" -f '' -t alice@example.test \
		-F "$T/ndr.eml" "127.0.0.1:$1"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}
rate() { echo "$M $1" | awk '{ printf "%.0f", $1 / $2 }'; }

# a realistic NDR, padded to 3 KB with a text epilogue
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 1 "$T/gen" alice@example.test bench >/dev/null
python3 - "$T/gen/ndr-0001.eml" "$T/ndr.eml" <<'PY'
import sys
text = open(sys.argv[1]).read()
while len(text) < 3000:
    text += 'This part of the report is padding for the benchmark only.\n'
open(sys.argv[2], 'w').write(text)
PY
size=$(wc -c < "$T/ndr.eml")

# 1. ndrguardd, quarantining everything
mkdir -p "$T/db" && chmod 777 "$T/db"
LP=$(port)
cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LP
reinject = smtp:127.0.0.1:9
storm_threshold = 1
daemon_user = nobody
pid_file =
EOF
"$NDRGUARDD" -c "$T/nd.conf" -f 2>/dev/null &
NDPID=$!
PIDS="$PIDS $NDPID"
wait_port "$LP"
nd_s=$(run "$LP")
nd_rss=$(awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$NDPID/status")
kill "$NDPID"; wait "$NDPID" || :
rows=$(sqlite3 "$T/db/q.db" "SELECT count(*) FROM quarantine")

# 2. smtp-sink -L: the protocol, no storage
SP=$(port)
smtp-sink -4 -L -u nobody "127.0.0.1:$SP" 256 &
SINKPID=$!
PIDS="$PIDS $SINKPID"
wait_port "$SP"
sink_s=$(run "$SP")
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null || :

# 3. Dovecot LMTP into Maildir, when there is one
dove_s=''
if command -v dovecot >/dev/null 2>&1; then
	DP=$(port)
	mkdir -p "$T/dove/home" && chown -R nobody "$T/dove/home"
	echo "alice:{PLAIN}x:$(id -u nobody):$(id -g nobody)::$T/dove/home/alice" > "$T/dove/passwd"
	cat > "$T/dove/dovecot.conf" <<EOF
protocols = lmtp
ssl = no
base_dir = $T/dove/run
state_dir = $T/dove/state
log_path = /dev/null
info_log_path = /dev/null
mail_location = maildir:~/Maildir
userdb { driver = passwd-file
  args = $T/dove/passwd }
passdb { driver = passwd-file
  args = $T/dove/passwd }
service lmtp { inet_listener lmtp { address = 127.0.0.1
    port = $DP } }
EOF
	dovecot -c "$T/dove/dovecot.conf"
	wait_port "$DP"
	dove_s=$(run "$DP")
	doveadm -c "$T/dove/dovecot.conf" stop 2>/dev/null || :
fi

nd_r=$(rate "$nd_s"); sink_r=$(rate "$sink_s")
echo "| run | seconds | msg/s | vs smtp-sink |"
echo "|---|---|---|---|"
echo "| ndrguardd, every message quarantined ($rows rows, durable) | $nd_s | $nd_r | $(echo "$nd_r $sink_r" | awk '{ printf "%.0f%%", 100 * $1 / $2 }') |"
echo "| smtp-sink -L (no storage) | $sink_s | $sink_r | 100% |"
if [ -n "$dove_s" ]; then
	dove_r=$(rate "$dove_s")
	echo "| Dovecot LMTP into Maildir | $dove_s | $dove_r | $(echo "$dove_r $sink_r" | awk '{ printf "%.0f%%", 100 * $1 / $2 }') |"
else
	echo "| Dovecot LMTP | not installed | | |"
fi
echo
echo "smtp-source -4 -L -s $S -m $M -f '' over TCP, message $size bytes;"
echo "ndrguardd peak RSS (VmHWM): $nd_rss; $(nproc) cores, $(date -u +%Y-%m-%d)."
