#!/bin/bash
# lmtp-bench.sh - ndrguardd's LMTP rate against the protocol floor and Dovecot
#
# SYNOPSIS
#	NDRGUARDD=daemon/ndrguardd bash bench/lmtp-bench.sh [MESSAGES [SESSIONS]]
#
# DESCRIPTION
#	One run, same machine, same 3 KB backscatter NDR, Postfix's own load
#	generator: smtp-source -4 -L -s SESSIONS -m MESSAGES -f '' (defaults
#	20000 and 10) over loopback TCP against
#	  1. ndrguardd quarantining every message (storm_threshold = 1, so
#	     every recipient is in a storm), durable commits
#	     (synchronous=FULL) on the disk under /var/tmp;
#	  2. smtp-sink -L, which stores nothing: the protocol floor;
#	  3. Dovecot LMTP (dovecot -F) delivering into a Maildir on the same
#	     disk, passwd-file userdb, inet listener on 127.0.0.1.
#	With BASELINE set to another ndrguardd binary (an older build, say),
#	each round runs it too, the same way as 1., so that a change is
#	measured side by side with what it changes. With CEILING=yes each
#	round also runs ndrguardd with its database on tmpfs (/dev/shm): no
#	disk, so not durable; it shows what the storage costs and what
#	ndrguardd could reach on this machine without it.
#	ROUNDS rounds (default 3), the three runs interleaved in each round,
#	each run on a fresh database / Maildir.  Prints a Markdown table of
#	every round's seconds, the medians, messages per second of the
#	medians, the ratios to smtp-sink and to Dovecot, and ndrguardd's
#	peak RSS (VmHWM, the largest over the rounds).
#
# PREREQUISITES
#	postfix (smtp-source, smtp-sink), sqlite3, python3, and Dovecot's
#	dovecot-core and dovecot-lmtpd packages.  Run as root and missing,
#	the two Dovecot packages are installed with apt-get; otherwise the
#	script says what to install.  DOVECOT=no skips the Dovecot run.
#	The test suite needs none of Dovecot.
set -eu
: "${NDRGUARDD:=daemon/ndrguardd}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${ROUNDS:=3}"
: "${DOVECOT:=yes}"
: "${BASELINE:=}"
: "${CEILING:=no}"
M=${1:-20000}
S=${2:-10}
PATH=$PATH:/usr/sbin:/sbin

need() { command -v "$1" >/dev/null 2>&1 || { echo "lmtp-bench: $1 is not installed ($2)" >&2; exit 1; }; }
need smtp-source "apt-get install postfix"
need smtp-sink "apt-get install postfix"
need sqlite3 "apt-get install sqlite3"
need python3 "apt-get install python3"
[ -x "$NDRGUARDD" ] || { echo "lmtp-bench: $NDRGUARDD is not built (make)" >&2; exit 1; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "lmtp-bench: BASELINE $BASELINE is not an executable" >&2; exit 1; }
if [ "$DOVECOT" != no ] && { ! command -v dovecot >/dev/null 2>&1 || [ ! -x /usr/lib/dovecot/lmtp ]; }; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "lmtp-bench: installing dovecot-core dovecot-lmtpd (the Dovecot peer of this benchmark)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			dovecot-core dovecot-lmtpd >&2 ||
			{ echo "lmtp-bench: could not install dovecot-core dovecot-lmtpd; DOVECOT=no skips that run" >&2; exit 1; }
	else
		echo "lmtp-bench: Dovecot LMTP is not installed: as root," \
			"apt-get install dovecot-core dovecot-lmtpd (or DOVECOT=no to skip that run)" >&2
		exit 1
	fi
fi

T=$(mktemp -d /var/tmp/ndrg-bench.XXXXXX)
chmod 755 "$T"
PIDS=''
cleanup()
{
	[ ! -f "$T/dove/dovecot.conf" ] || doveadm -c "$T/dove/dovecot.conf" stop 2>/dev/null || :
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	rm -rf "$T" "/dev/shm/ndrg-bench-$$"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "lmtp-bench: nothing on port $1" >&2; exit 1
}
# run PORT - smtp-source against PORT, print elapsed seconds. The
# previous run's dirty pages (Dovecot's 20,000 files, a 80 MB database)
# are written out first: left to the kernel, their writeback lands in
# the next run's fsyncs and slows whichever run comes after Dovecot.
run()
{
	local t0 t1
	sync
	t0=$(date +%s.%N)
	smtp-source -4 -L -s "$S" -m "$M" -f '' -t alice@example.test \
		-F "$T/ndr.eml" "127.0.0.1:$1"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}
rate() { echo "$M $1" | awk '{ printf "%.0f", $1 / $2 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }

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

# 1. ndrguardd (or $1), quarantining everything, its database in the
# directory $2 ($T/db by default); prints "seconds rows VmHWM-kB"
run_ndrguardd()
{
	local lp pid s rows hwm bin=${1:-$NDRGUARDD} db=${2:-$T/db}
	rm -rf "$db"; mkdir -p "$db" && chown nobody "$db"
	lp=$(port)
	cat > "$T/nd.conf" <<EOF
database = $db/q.db
lmtp_listen = inet:127.0.0.1:$lp
reinject = smtp:127.0.0.1:9
storm_threshold = 1
daemon_user = nobody
pid_file =
http_listen =
digest_templates = $top_srcdir/templates
secret_file = $db/secret
digest_relay = smtp:127.0.0.1:9
EOF
	"$bin" -c "$T/nd.conf" -f 2>>"$T/ndrguardd.log" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_port "$lp"
	s=$(run "$lp")
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	kill "$pid"; wait "$pid" || :
	rows=$(sqlite3 "$db/q.db" "SELECT count(*) FROM quarantine WHERE state = 'held'")
	echo "$s $rows $hwm"
}

# 2. smtp-sink -L: the protocol, no storage
run_sink()
{
	local sp pid s
	sp=$(port)
	smtp-sink -4 -L -u nobody "127.0.0.1:$sp" 256 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_port "$sp"
	s=$(run "$sp")
	kill "$pid"; wait "$pid" 2>/dev/null || :
	echo "$s"
}

# 3. Dovecot LMTP into a Maildir; prints "seconds messages-in-Maildir"
run_dovecot()
{
	local dp pid s n d=$T/dove
	rm -rf "$d"; mkdir -p "$d/home"
	chown nobody "$d/home"
	dp=$(port)
	echo "alice@example.test:{PLAIN}x:$(id -u nobody):$(id -g nobody)::$d/home/alice" > "$d/passwd"
	cat > "$d/dovecot.conf" <<EOF
protocols = lmtp
ssl = no
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = /dev/null
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = $d/passwd
}
userdb {
  driver = passwd-file
  args = $d/passwd
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $dp
  }
}
EOF
	dovecot -F -c "$d/dovecot.conf" 2>>"$d/dovecot.log" &
	pid=$!
	PIDS="$PIDS $pid"
	wait_port "$dp"
	s=$(run "$dp")
	doveadm -c "$d/dovecot.conf" stop 2>/dev/null || kill "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
	n=$(find "$d/home/alice/Maildir/new" "$d/home/alice/Maildir/cur" -type f 2>/dev/null | wc -l)
	if [ "$n" -ne "$M" ]; then
		echo "lmtp-bench: Dovecot stored $n of $M messages; its log:" >&2
		tail -n 20 "$d/dovecot.log" >&2
	fi
	cp "$d/dovecot.conf" "$T/dovecot.conf.last"
	echo "$s $n"
}

ND='' SINK='' DOVE='' HWM=0 ROWS='' DN='' BASE='' BROWS='' SHM=''
for r in $(seq "$ROUNDS"); do
	read -r s rows hwm < <(run_ndrguardd)
	ND="$ND $s"; ROWS="$ROWS $rows"
	[ "$hwm" -le "$HWM" ] || HWM=$hwm
	if [ -n "$BASELINE" ]; then
		read -r s rows hwm < <(run_ndrguardd "$BASELINE")
		BASE="$BASE $s"; BROWS="$BROWS $rows"
	fi
	if [ "$CEILING" = yes ]; then
		read -r s rows hwm < <(run_ndrguardd "$NDRGUARDD" "/dev/shm/ndrg-bench-$$")
		SHM="$SHM $s"
		rm -rf "/dev/shm/ndrg-bench-$$"
	fi
	s=$(run_sink); SINK="$SINK $s"
	if [ "$DOVECOT" != no ]; then
		read -r s n < <(run_dovecot)
		DOVE="$DOVE $s"; DN="$DN $n"
	fi
	echo "lmtp-bench: round $r: ndrguardd ${ND##* } s, baseline ${BASE##* } s, tmpfs ${SHM##* } s, smtp-sink ${SINK##* } s, Dovecot ${DOVE##* } s" >&2
done

# shellcheck disable=SC2086
{ nd_r=$(rate "$(median $ND)"); sink_r=$(rate "$(median $SINK)"); }
# row LABEL TIMES UNIT - one run's line: its rounds, median, rate, share
# of smtp-sink's rate, and ndrguardd's rate over its own (UNIT after it)
row()
{
	local m r
	# shellcheck disable=SC2086
	m=$(median $2)
	r=$(rate "$m")
	echo "| $1 |$2 | $m | $r | $(ratio "$r" "$sink_r" | awk '{ printf "%.0f%%", 100 * $1 }') | $(ratio "$nd_r" "$r")${3:-} |"
}
echo "| run | seconds, each round | median s | msg/s | vs smtp-sink | ndrguardd vs it |"
echo "|---|---|---|---|---|---|"
row "ndrguardd, every message quarantined (held rows:$ROWS; durable)" "$ND"
[ -z "$BASE" ] || row "baseline $BASELINE, the same way (held rows:$BROWS)" "$BASE" x
[ -z "$SHM" ] || row "ndrguardd, database on tmpfs (not durable: the ceiling without storage)" "$SHM"
row "smtp-sink -L (no storage)" "$SINK"
[ -z "$DOVE" ] || row "Dovecot $(dovecot --version | cut -d' ' -f1) LMTP into Maildir (messages stored:$DN)" "$DOVE" x
echo
echo "smtp-source -4 -L -s $S -m $M -f '' -t alice@example.test over TCP 127.0.0.1, message $size bytes, $ROUNDS rounds;"
echo "ndrguardd peak RSS (VmHWM, largest of the rounds): $(echo "$HWM" | awk '{ printf "%.1f MB", $1 / 1024 }'); $(nproc) cores, $(date -u +%Y-%m-%d)."
