#!/bin/sh
# demo-storm.sh - send a backscatter storm to the demo started by tools/run.sh
#
# SYNOPSIS
#	tools/demo-storm.sh [COUNT [RECIPIENT]]
#
# DESCRIPTION
#	Generates COUNT (default 60) RFC 3464 bounces for RECIPIENT (default
#	alice@example.test) with tests/integration/gen-mail.sh, sends them
#	with the null sender over SMTP to the demo Postfix, waits until its
#	queue is empty and prints how many reached the mailbox and how many
#	are held in the quarantine.
#
# ENVIRONMENT
#	NDRGUARD_DEMO, DEMO_PORT as for tools/run.sh.
set -eu

cd "$(dirname "$0")/.."
DEMO=${NDRGUARD_DEMO:-/var/tmp/ndrguard-demo}
PORT=${DEMO_PORT:-2525}
COUNT=${1:-60}
RCPT=${2:-alice@example.test}
PF=$DEMO/postfix
user=${RCPT%@*}

[ -f "$PF/etc/main.cf" ] || { echo "demo-storm.sh: no demo in $DEMO; run tools/run.sh first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count_mail()
{
	find "$PF/mail/$user/new" -type f 2>/dev/null | wc -l
}
count_held()
{
	runuser -u ndrguard -- sqlite3 "$DEMO/db/quarantine.db" \
		"SELECT count(*) FROM quarantine WHERE recipient='$RCPT' AND state='held'" 2>/dev/null || echo 0
}
queued()
{
	find "$PF/spool/maildrop" "$PF/spool/incoming" "$PF/spool/active" \
		"$PF/spool/deferred" -type f 2>/dev/null | wc -l
}

mail0=$(count_mail)
held0=$(count_held)
sh tests/integration/gen-mail.sh ndr "$COUNT" "$tmp" "$RCPT" "demo$(date +%s)"
t0=$(date +%s)
for f in "$tmp"/ndr-*.eml; do
	head -c -1 "$f" > "$tmp/data"
	swaks --server "127.0.0.1:$PORT" --silent 2 -f '<>' -t "$RCPT" \
		--helo mx.remote.test --data "@$tmp/data" </dev/null
done
echo "sent $COUNT bounces to $RCPT in $(( $(date +%s) - t0 ))s"
i=0
while [ "$(queued)" -gt 0 ] && [ $i -lt 300 ]; do
	sleep 0.2
	i=$(( i + 1 ))
done
echo "$RCPT: $(( $(count_mail) - mail0 )) delivered to the mailbox, $(( $(count_held) - held0 )) held in quarantine"
echo "(still queued: $(queued); see $PF/maillog)"
