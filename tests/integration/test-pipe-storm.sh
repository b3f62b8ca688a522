#!/bin/sh
# test-pipe-storm.sh - a bounce storm through a real Postfix into ndrguard
#
# DESCRIPTION
#	60 backscatter NDRs for alice@example.test arrive over SMTP within a
#	minute.  Postfix hands every one (null sender, access(5) FILTER) to
#	ndrguard deliver.  With storm_threshold = 20 the mailbox is in a
#	storm from the 20th on, so exactly 19 reach alice's Maildir and 41
#	are held in the quarantine.  Whatever was delivered or held carries
#	exactly the bytes that were sent; no message is lost or doubled;
#	each held row carries the Postfix queue id it came with.
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

N=60
THRESHOLD=20
RCPT=alice@$PF_DOMAIN

pf_setup $THRESHOLD
pf_start
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$D/sent" "$RCPT" "storm$$"

t0=$(date +%s)
for f in "$D"/sent/ndr-*.eml; do
	pf_send "$f" '' "$RCPT"
done
took=$(( $(date +%s) - t0 ))
pf_log "sent $N NDRs in ${took}s"
[ $took -le 60 ] || pf_fail "sending took ${took}s, the storm must arrive within a minute"

pf_wait_idle 60
pf_wait_log "to=<$RCPT>, relay=ndrguard,.* status=sent" $N 10

bad=$(grep -cE 'status=(deferred|bounced)' "$D/maillog")
[ "$bad" -eq 0 ] || pf_fail "$bad deliveries deferred or bounced"

delivered=$(pf_delivered alice)
held=$(pf_held "$RCPT")
pf_log "delivered $delivered, held $held"
[ "$delivered" -eq $(( THRESHOLD - 1 )) ] ||
	pf_fail "expected $(( THRESHOLD - 1 )) messages in alice's Maildir, found $delivered"
[ "$held" -eq $(( N - THRESHOLD + 1 )) ] ||
	pf_fail "expected $(( N - THRESHOLD + 1 )) held messages, found $held"

# Index of what was sent: Message-ID -> file.
for f in "$D"/sent/ndr-*.eml; do
	printf '%s %s\n' "$(pf_msgid "$f")" "$f"
done > "$D/sent.idx"

# Held messages as files, named by row id.
pf_held_files "$D/held" recipient="$RCPT" state=held ||
	pf_fail "cannot read raw messages from the quarantine"

# Every delivered or held message is byte for byte one that was sent.
: > "$D/seen.ids"
for f in "$(pf_maildir alice)"/* "$D"/held/*.eml; do
	id=$(pf_msgid "$f")
	src=$(awk -v id="$id" '$1 == id { print $2 }' "$D/sent.idx")
	[ -n "$src" ] || pf_fail "$f: Message-ID '$id' was never sent"
	pf_same "$f" "$src" || {
		diff "$src" "$f" | head -20
		pf_fail "$f differs from $src beyond Postfix's trace headers"
	}
	echo "$id" >> "$D/seen.ids"
done

# Each sent Message-ID turns up exactly once.
dups=$(sort "$D/seen.ids" | uniq -d | wc -l)
uniq_ids=$(sort -u "$D/seen.ids" | wc -l)
[ "$dups" -eq 0 ] || pf_fail "$dups messages both delivered and held, or twice"
[ "$uniq_ids" -eq $N ] || pf_fail "only $uniq_ids of $N messages accounted for"

# Each held row names the Postfix queue id of a pipe delivery to alice.
list_field queue_id recipient="$RCPT" state=held |
while read -r qid; do
	grep -q "postfix/pipe\[[0-9]*\]: $qid: to=<$RCPT>, relay=ndrguard" "$D/maillog" ||
		pf_fail "held row has queue id '$qid', which ndrguard never received"
done || exit 1

pf_log "PASS: $(( THRESHOLD - 1 )) delivered unchanged, $(( N - THRESHOLD + 1 )) held unchanged"
exit 0
