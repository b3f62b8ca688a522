#!/bin/sh
# test-pipe-unwritable.sh - nothing is lost while the quarantine cannot be written
#
# DESCRIPTION
#	Two NDRs for alice go through normally, so the database exists.
#	Then its directory and files are made read-only for the pipe user and
#	eight more NDRs arrive: ndrguard must answer EX_TEMPFAIL with a 4.x.x
#	status, so Postfix logs status=deferred and keeps every one of them.
#	Once the database is writable again and the queue is flushed, each of
#	the ten messages ends up exactly once either in alice's Maildir or in
#	the quarantine (threshold 5: 4 delivered, 6 held), none lost, none
#	twice.
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

THRESHOLD=5
FIRST=2
LATER=8
N=$(( FIRST + LATER ))
RCPT=alice@$PF_DOMAIN

pf_setup $THRESHOLD
pf_start
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$D/sent" "$RCPT" "unw$$"

i=0
for f in "$D"/sent/ndr-*.eml; do
	i=$(( i + 1 ))
	[ $i -le $FIRST ] || break
	pf_send "$f" '' "$RCPT"
done
pf_wait_idle 30
[ "$(pf_delivered alice)" -eq $FIRST ] ||
	pf_fail "set-up: $(pf_delivered alice) of the first $FIRST NDRs delivered"
[ -f "$D/db/quarantine.db" ] || pf_fail "ndrguard did not create $D/db/quarantine.db"

# Read-only for the pipe user (root could still write, so do not look).
chmod 555 "$D/db"
chmod 444 "$D"/db/quarantine.db*
pf_log "database made read-only"

i=0
for f in "$D"/sent/ndr-*.eml; do
	i=$(( i + 1 ))
	[ $i -gt $FIRST ] || continue
	pf_send "$f" '' "$RCPT"
done
defer_re="to=<$RCPT>, relay=ndrguard,.* dsn=4\.[0-9]+\.[0-9]+, status=deferred"
# deferred_ids - how many distinct queue ids ndrguard deferred so far
deferred_ids()
{
	grep -E "$defer_re" "$D/maillog" |
		sed 's/.*postfix\/pipe\[[0-9]*\]: \([0-9A-F]*\): .*/\1/' | sort -u | wc -l
}
deadline=$(( $(date +%s) + 40 ))
until [ "$(deferred_ids)" -ge $LATER ]; do
	[ "$(date +%s)" -le $deadline ] ||
		pf_fail "after 40 s only $(deferred_ids) of $LATER messages deferred"
	sleep 0.2
done
pf_log "all $LATER deferred ($(grep -cE "$defer_re" "$D/maillog") deferrals logged)"
bounced=$(grep -cE "status=bounced" "$D/maillog")
[ "$bounced" -eq 0 ] || pf_fail "$bounced messages bounced while the database was read-only"
[ "$(pf_delivered alice)" -eq $FIRST ] ||
	pf_fail "a message was delivered while the storm meter could not count it"
[ "$(pf_queue_files)" -eq $LATER ] ||
	pf_fail "Postfix holds $(pf_queue_files) messages, expected $LATER"

# Writable again: the deferred queue drains.
chmod 755 "$D/db"
chmod 644 "$D"/db/quarantine.db*
postqueue -c "$D/etc" -f || pf_fail "postqueue -f"
pf_wait_idle 40
pf_log "database writable again, queue empty"

delivered=$(pf_delivered alice)
held=$(pf_held "$RCPT")
pf_log "delivered $delivered, held $held"
[ $(( delivered + held )) -eq $N ] ||
	pf_fail "$N sent but $delivered delivered + $held held"
if [ "$delivered" -ne $(( THRESHOLD - 1 )) ] || [ "$held" -ne $(( N - THRESHOLD + 1 )) ]; then
	pf_fail "expected $(( THRESHOLD - 1 )) delivered and $(( N - THRESHOLD + 1 )) held"
fi

# Each Message-ID exactly once across the Maildir and the quarantine.
{
	for f in "$(pf_maildir alice)"/*; do
		pf_msgid "$f"
	done
	pf_held_files "$D/held" recipient="$RCPT" || pf_fail "cannot read the quarantine"
	cat "$D"/held/*.eml 2>/dev/null |
		awk 'tolower($0) ~ /^message-id: <ndr\./ { print $2 }'
} | sort > "$D/seen.ids"
for f in "$D"/sent/ndr-*.eml; do
	pf_msgid "$f"
done | sort > "$D/sent.ids"
cmp -s "$D/seen.ids" "$D/sent.ids" || {
	diff "$D/sent.ids" "$D/seen.ids"
	pf_fail "delivered + held is not exactly the set sent"
}
rows=$(list_count recipient="$RCPT")
[ "$rows" -eq "$held" ] || pf_fail "$rows quarantine rows, $held of them held"

pf_log "PASS: deferred while read-only, then $delivered delivered + $held held, none lost or twice"
exit 0
