#!/bin/bash
# lmtp-e2e-bench.sh - SMTP into a private Postfix, lmtp to ndrguardd or smtp-sink
#
# SYNOPSIS
#	NDRGUARDD=daemon/ndrguardd bash bench/lmtp-e2e-bench.sh [MESSAGES [SESSIONS]]
#
# DESCRIPTION
#	End to end, one run, same machine, same 3 KB backscatter NDR as
#	lmtp-bench.sh: smtp-source -4 -s SESSIONS -m MESSAGES -f ''
#	(defaults 5000 and 10) into the smtpd of a private Postfix written
#	by tools/postfix-instance.sh -l (the lines of doc/postfix/lmtp-*:
#	the null sender is FILTERed to the ndrguard-lmtp transport, with
#	the re-injection listener of reinject-master.cf), timed until
#	Postfix's queue is empty again, against
#	  1. ndrguardd on the LMTP port, quarantining every message
#	     (storm_threshold = 1), durable commits, re-injection configured
#	     to the instance's re-injection smtpd;
#	  2. smtp-sink -L on the same port: the same Postfix with a sink
#	     that stores nothing behind it.
#	The Postfix instance, its configuration and the LMTP port are the
#	same for both; only the program listening on the port changes.
#	ROUNDS rounds (default 3), the two runs interleaved.  Every run must
#	end with MESSAGES more "status=sent" lines from the ndrguard-lmtp
#	transport in the maillog and none deferred, or the script fails.
#
#	Postfix tuning, identical for both runs (on top of what
#	tools/postfix-instance.sh writes, which includes in_flow_delay = 0):
#	ndrguard-lmtp process limit 10 (doc/postfix/lmtp-master.cf),
#	default_destination_concurrency_limit = 10,
#	initial_destination_concurrency = 10 (no slow start),
#	smtpd process limit: default_process_limit (100).
#
#	Prints a Markdown table of each round's seconds, medians, rates,
#	the ratio, ndrguardd's peak RSS (VmHWM) and the CPU seconds spent
#	by ndrguardd and by the Postfix processes in each median run.
#
# PREREQUISITES
#	root, postfix (with smtp-source and smtp-sink), sqlite3, python3.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${NDRGUARDD:=$top_srcdir/daemon/ndrguardd}"
: "${NDRGUARD:=$top_srcdir/cli/ndrguard}"
: "${ROUNDS:=3}"
M=${1:-5000}
S=${2:-10}
PATH=$PATH:/usr/sbin:/sbin
U=nobody

need() { command -v "$1" >/dev/null 2>&1 || { echo "lmtp-e2e-bench: $1 is not installed ($2)" >&2; exit 1; }; }
need postfix "apt-get install postfix"
need smtp-source "apt-get install postfix"
need smtp-sink "apt-get install postfix"
need sqlite3 "apt-get install sqlite3"
need python3 "apt-get install python3"
[ "$(id -u)" = 0 ] || { echo "lmtp-e2e-bench: run as root (a private Postfix instance)" >&2; exit 1; }
[ -x "$NDRGUARDD" ] || { echo "lmtp-e2e-bench: $NDRGUARDD is not built (make)" >&2; exit 1; }
[ -x "$NDRGUARD" ] || { echo "lmtp-e2e-bench: $NDRGUARD is not built (make)" >&2; exit 1; }

# Short: unix sockets under $D/spool/private must fit in 108 bytes.
D=$(mktemp -d /var/tmp/ndge.XXXXXX)
chmod 755 "$D"
PF_PID='' TPID=''
cleanup()
{
	[ -z "$TPID" ] || { kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; } || :
	if [ -n "$PF_PID" ]; then
		postfix -c "$D/etc" stop >/dev/null 2>&1 || kill "$PF_PID" 2>/dev/null || :
		wait "$PF_PID" 2>/dev/null || :
	fi
	[ -n "${KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "lmtp-e2e-bench: nothing on port $1" >&2; exit 1
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rate() { echo "$M $1" | awk '{ printf "%.0f", $1 / $2 }'; }
queue_files()
{
	find "$D/spool/maildrop" "$D/spool/incoming" "$D/spool/active" \
		"$D/spool/deferred" "$D/spool/hold" -type f 2>/dev/null | wc -l
}
# cpu_of PID... - user + system CPU seconds (clock ticks / 100) of the processes
cpu_ticks()
{
	local p t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$(( t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat") ))
	done
	echo "$t"
}
# postfix_pids - master(8) and its children; master's cutime/cstime holds
# the CPU of the children it has reaped (lmtp, smtpd, cleanup retire)
postfix_pids()
{
	local m
	m=$(tr -d ' ' < "$D/spool/pid/master.pid")
	echo "$m" $(ps -o pid= --ppid "$m")
}

# the NDR of lmtp-bench.sh
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 1 "$D/gen" alice@example.test bench >/dev/null
python3 - "$D/gen/ndr-0001.eml" "$D/ndr.eml" <<'PY'
import sys
text = open(sys.argv[1]).read()
while len(text) < 3000:
    text += 'This part of the report is padding for the benchmark only.\n'
open(sys.argv[2], 'w').write(text)
PY
size=$(wc -c < "$D/ndr.eml")

PORT=$(port); REPORT=$(port); LMTP_PORT=$(port)
mkdir -p "$D/bin" "$D/db"
cp "$NDRGUARD" "$D/bin/ndrguard"; chmod 755 "$D/bin/ndrguard"
sh "$top_srcdir/tools/postfix-instance.sh" -p "$PORT" -r "$REPORT" \
	-b "$D/bin/ndrguard" -c "$D/nd.conf" -u "$U" -m "$U" -l "$LMTP_PORT" "$D"
cat >> "$D/etc/main.cf" <<EOF

# lmtp-e2e-bench.sh: the same for the ndrguardd and the smtp-sink runs
default_destination_concurrency_limit = 10
initial_destination_concurrency = 10
EOF
postfix -c "$D/etc" check >"$D/check.out" 2>&1 || { cat "$D/check.out" >&2; exit 1; }
postfix -c "$D/etc" start-fg >"$D/master.out" 2>&1 &
PF_PID=$!
wait_port "$PORT"

# target ndrguardd|sink - start it on LMTP_PORT, TPID
target()
{
	case $1 in
	ndrguardd)
		rm -rf "$D/db"; mkdir -p "$D/db"; chown "$U" "$D/db"
		cat > "$D/nd.conf" <<EOF
database = $D/db/q.db
lmtp_listen = inet:127.0.0.1:$LMTP_PORT
reinject = smtp:127.0.0.1:$REPORT
storm_threshold = 1
daemon_user = $U
pid_file =
http_listen =
digest_templates = $top_srcdir/templates
secret_file = $D/db/secret
digest_relay = smtp:127.0.0.1:9
EOF
		"$NDRGUARDD" -c "$D/nd.conf" -f 2>>"$D/ndrguardd.log" &
		;;
	sink)
		smtp-sink -4 -L -u "$U" "127.0.0.1:$LMTP_PORT" 256 &
		;;
	esac
	TPID=$!
	wait_port "$LMTP_PORT"
}

sent() { grep -c 'postfix/ndrguard-lmtp/.* status=sent' "$D/maillog" 2>/dev/null || :; }
deferred() { grep -c 'postfix/ndrguard-lmtp/.* status=deferred' "$D/maillog" 2>/dev/null || :; }

# one RUN_NAME - prints "seconds ndrguardd-cpu-s postfix-cpu-s VmHWM-kB held-rows"
one()
{
	local s0 d0 t0 t1 pfpids c0 c1 tc hwm=0 rows=-
	target "$1"
	s0=$(sent); d0=$(deferred)
	pfpids=$(postfix_pids)
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $pfpids)
	t0=$(date +%s.%N)
	smtp-source -4 -s "$S" -m "$M" -f '' -t alice@example.test \
		-F "$D/ndr.eml" "127.0.0.1:$PORT"
	# empty twice in a row: a message could be between two queues
	q=0
	while [ $q -lt 2 ]; do
		if [ "$(queue_files)" -eq 0 ]; then q=$(( q + 1 )); else q=0; fi
		sleep 0.05
	done
	t1=$(date +%s.%N)
	# Postfix processes come and go; count those alive now as well
	pfpids=$(postfix_pids)
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $pfpids)
	tc=$(cpu_ticks "$TPID")
	if [ "$1" = ndrguardd ]; then
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$TPID/status")
	fi
	kill "$TPID"; wait "$TPID" 2>/dev/null || :
	TPID=''
	if [ "$1" = ndrguardd ]; then
		rows=$(runuser -u "$U" -- sqlite3 "$D/db/q.db" "SELECT count(*) FROM quarantine WHERE state = 'held'")
		# what was not held: re-injected (delivered by virtual(8)) or what
		[ "$rows" -eq "$M" ] || echo "lmtp-e2e-bench: held $rows of $M;" \
			"rows by state: $(runuser -u "$U" -- sqlite3 "$D/db/q.db" "SELECT state, count(*) FROM quarantine GROUP BY state" | tr '\n' ' ')" \
			"Maildir: $(find "$D/mail" -type f | wc -l); ndrguardd log: $(tail -n 3 "$D/ndrguardd.log" | tr '\n' ' ')" >&2
	fi
	local ns=$(( $(sent) - s0 )) nd=$(( $(deferred) - d0 ))
	if [ "$ns" -ne "$M" ] || [ "$nd" -ne 0 ]; then
		echo "lmtp-e2e-bench: $1: $ns status=sent, $nd deferred, of $M" >&2
		tail -n 20 "$D/maillog" >&2
		return 1
	fi
	# lmtp(8) caches idle connections for up to 2 s: let them go
	sleep 3
	echo "$t0 $t1 $tc $c0 $c1 $hwm $rows" | awk '{ printf "%.2f %.2f %.2f %d %s\n", $2 - $1, $3 / 100, ($5 - $4) / 100, $6, $7 }'
}

ND='' SINK='' HWM=0 ROWS='' NDCPU='' PFCPU_ND='' PFCPU_SINK='' SINKCPU=''
for r in $(seq "$ROUNDS"); do
	read -r s tc pc hwm rows < <(one ndrguardd)
	[ -n "${s:-}" ] || exit 1
	ND="$ND $s"; NDCPU="$NDCPU $tc"; PFCPU_ND="$PFCPU_ND $pc"; ROWS="$ROWS $rows"
	[ "$hwm" -le "$HWM" ] || HWM=$hwm
	read -r s tc pc _ _ < <(one sink)
	[ -n "${s:-}" ] || exit 1
	SINK="$SINK $s"; SINKCPU="$SINKCPU $tc"; PFCPU_SINK="$PFCPU_SINK $pc"
	echo "lmtp-e2e-bench: round $r: ndrguardd ${ND##* } s, smtp-sink ${SINK##* } s" >&2
done

# shellcheck disable=SC2086
{ nd_m=$(median $ND); sink_m=$(median $SINK); }
nd_r=$(rate "$nd_m"); sink_r=$(rate "$sink_m")
echo "| SMTP -> Postfix -> lmtp -> | seconds, each round | median s | msg/s | vs smtp-sink | CPU s of the LMTP server, each round | CPU s of Postfix, each round |"
echo "|---|---|---|---|---|---|---|"
echo "| ndrguardd, quarantining (held rows:$ROWS) |$ND | $nd_m | $nd_r | $(echo "$nd_r $sink_r" | awk '{ printf "%.0f%%", 100 * $1 / $2 }') |$NDCPU |$PFCPU_ND |"
echo "| smtp-sink -L |$SINK | $sink_m | $sink_r | 100% |$SINKCPU |$PFCPU_SINK |"
echo
echo "smtp-source -4 -s $S -m $M -f '' -t alice@example.test into Postfix $(postconf -d -h mail_version) smtpd on 127.0.0.1, message $size bytes, $ROUNDS rounds;"
echo "timed until the queue is empty; Postfix: ndrguard-lmtp process limit 10, default_destination_concurrency_limit = 10,"
echo "initial_destination_concurrency = 10, in_flow_delay = 0, the same for both runs;"
echo "ndrguardd peak RSS (VmHWM, largest of the rounds): $(echo "$HWM" | awk '{ printf "%.1f MB", $1 / 1024 }'); $(nproc) cores, $(date -u +%Y-%m-%d)."
