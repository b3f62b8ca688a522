#!/bin/sh
# digest-bench.sh - one digest run for many mailboxes into smtp-sink
#
# SYNOPSIS
#	bench/digest-bench.sh [-m MAILBOXES] [-i ITEMS] [-r ROUNDS] [-d DIR]
#
# DESCRIPTION
#	Measures what the daily run costs when a large site has many
#	mailboxes under attack at once: MAILBOXES (default 10000) mailboxes,
#	each with ITEMS (default 3) held bounces in one storm, all due. One
#	`ndrguard digest --now` builds, records and sends every digest
#	through digest_relay, here Postfix's smtp-sink on loopback writing
#	each message to a file, and the script checks that exactly
#	MAILBOXES digests arrived and were recorded sent.
#
#	The held messages are real: ITEMS bounces from
#	tests/integration/gen-mail.sh are delivered with `ndrguard deliver`
#	(storm_threshold = 1) for one mailbox, then their rows are copied
#	in SQL to the other mailboxes (delivering 30,000 bounces one
#	process each would measure the pipe agent, not the digest).
#	Between rounds the digest tables are emptied, so every round sends
#	the same MAILBOXES digests.
#
#	Per digest the run does: a few SQLite reads, one classify of each
#	listed message (whom it bounced for), template rendering, one
#	commit recording it pending (synchronous=FULL), one SMTP session,
#	and one commit marking it sent.
#
#	DIR (default a new directory under /var/tmp, on disk, so commits
#	reach the disk) holds the database; the sink writes under it too.
#
# OUTPUT
#	One line per round, the time of one --dry-run pass (building every
#	digest, sending and recording none), then the median as a row for
#	bench/results/digest.md. Exit 1 when a round does not send exactly
#	MAILBOXES digests.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
NDRGUARD=${NDRGUARD:-$top/cli/ndrguard}
M=10000
I=3
ROUNDS=3
DIR=
while getopts m:i:r:d: opt; do
	case $opt in
	m) M=$OPTARG ;;
	i) I=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	*) echo "usage: digest-bench.sh [-m MAILBOXES] [-i ITEMS] [-r ROUNDS] [-d DIR]" >&2; exit 64 ;;
	esac
done
[ -x "$NDRGUARD" ] || { echo "digest-bench.sh: build first: no $NDRGUARD" >&2; exit 1; }
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "digest-bench.sh: needs smtp-sink (Debian postfix)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "digest-bench.sh: needs sqlite3" >&2; exit 1; }

[ -n "$DIR" ] || DIR=$(mktemp -d /var/tmp/ndrg-digest-bench.XXXXXX)
chmod 755 "$DIR"
SINKPID=
cleanup() { [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM

PORT=$((30000 + $$ % 5000))
cat > "$DIR/ndrguard.conf" <<EOF
database = $DIR/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 1
our_relays = mail.example.test
our_domains = example.test
digest_relay = smtp:127.0.0.1:$PORT
digest_from = quarantine@example.test
base_url = https://q.example.test
secret_file = $DIR/secret
digest_templates = $top/templates
EOF

# the held messages: ITEMS real ones for user1, copied to the others
sh "$top/tests/integration/gen-mail.sh" ndr "$I" "$DIR/gen" user1@example.test B >/dev/null
n=0
for f in "$DIR"/gen/*.eml; do
	n=$((n + 1))
	"$NDRGUARD" -c "$DIR/ndrguard.conf" deliver -f '' -q "B$n" -- user1@example.test < "$f" >/dev/null
done
sqlite3 "$DIR/q.db" "
WITH RECURSIVE u(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM u WHERE i < $M)
INSERT INTO storm (mailbox, started, last_seen, count)
	SELECT 'user' || i || '@example.test', started, last_seen, count
	FROM storm, u WHERE mailbox = 'user1@example.test';
INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, status,
	reason, reporting_mta, verdict, evidence, orig_subject, orig_from,
	orig_message_id, storm_id, state, state_changed, size, raw)
	SELECT q.queue_id || '.' || s.id, q.sender, s.mailbox, q.arrived, q.kind,
		q.status, q.reason, q.reporting_mta, q.verdict, q.evidence,
		q.orig_subject, q.orig_from, q.orig_message_id, s.id, q.state,
		q.state_changed, q.size, q.raw
	FROM quarantine q, storm s
	WHERE q.recipient = 'user1@example.test' AND s.mailbox != 'user1@example.test';"
held=$(sqlite3 "$DIR/q.db" "SELECT count(*) FROM quarantine WHERE state = 'held'")
[ "$held" -eq $((M * I)) ] || { echo "digest-bench.sh: $held held, expected $((M * I))" >&2; exit 1; }

mkdir -p "$DIR/sink" && chmod 777 "$DIR/sink"
"$SINK" -4 -u nobody -d "$DIR/sink/%H%M%S." 127.0.0.1:$PORT 256 &
SINKPID=$!
sleep 0.5

results=
r=1
while [ "$r" -le "$ROUNDS" ]; do
	rm -rf "$DIR/sink" && mkdir -p "$DIR/sink" && chmod 777 "$DIR/sink"
	sqlite3 "$DIR/q.db" "DELETE FROM digest_item; DELETE FROM digest;"
	start=$(date +%s%N)
	"$NDRGUARD" -c "$DIR/ndrguard.conf" digest --now > "$DIR/out" 2>/dev/null || {
		echo "digest-bench.sh: round $r failed: $(cat "$DIR/out")" >&2; exit 1; }
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep 0.5
	got=$(find "$DIR/sink" -type f | wc -l)
	sent=$(sqlite3 "$DIR/q.db" "SELECT count(*) FROM digest WHERE state = 'sent'")
	covered=$(sqlite3 "$DIR/q.db" "SELECT count(*) FROM digest_item")
	bytes=$(sed -n 's/.* \([0-9]*\) bytes$/\1/p' "$DIR/out")
	if [ "$got" -ne "$M" ] || [ "$sent" -ne "$M" ] || [ "$covered" -ne $((M * I)) ]; then
		echo "digest-bench.sh: round $r: sink $got, recorded $sent, covered $covered; want $M" >&2
		exit 1
	fi
	rate=$(awk "BEGIN { printf \"%.0f\", $M / ($ms / 1000) }")
	echo "round $r: $M digests in $ms ms = $rate digests/s, $((bytes / M)) bytes each"
	results="$results $ms"
	r=$((r + 1))
done
# where the time goes: the same run building every digest but sending
# and recording none (--dry-run writes them to stdout)
sqlite3 "$DIR/q.db" "DELETE FROM digest_item; DELETE FROM digest;"
start=$(date +%s%N)
"$NDRGUARD" -c "$DIR/ndrguard.conf" digest --now --dry-run > /dev/null 2>&1
dry=$(( ($(date +%s%N) - start) / 1000000 ))
echo "dry run (build only, no SMTP, no commits): $M digests in $dry ms"
med=$(echo $results | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
rate=$(awk "BEGIN { printf \"%.0f\", $M / ($med / 1000) }")
per=$(awk "BEGIN { printf \"%.2f\", $med / $M }")
echo
echo "median: $M digests in $med ms: $rate digests/s ($per ms each)"
echo "| $(date -u +%Y-%m-%d) | $M | $I | $ROUNDS | $med ms | $rate/s | $per ms | $dry ms | $((bytes / M)) B |"
