#!/bin/sh
# test-pipe-ordinary.sh - mail that is not backscatter passes untouched
#
# DESCRIPTION
#	alice@example.test is put in a storm (threshold 3, 5 NDRs).  Then:
#	- an ordinary message (non-null sender) to alice is delivered, byte
#	  for byte, and never passes through ndrguard at all: the null-sender
#	  FILTER does not fire for it;
#	- a message with the null sender that is not a bounce (a notice from
#	  a no-reply system) to bob goes through ndrguard, which passes it
#	  on unchanged, byte for byte;
#	- the same kind of notice to alice, in the middle of her storm, goes
#	  through ndrguard too and is passed on as well: only backscatter is
#	  held, not everything with the null sender.
#	None of them ends up in the quarantine.
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

THRESHOLD=3
STORM=5
ALICE=alice@$PF_DOMAIN
BOB=bob@$PF_DOMAIN

pf_setup $THRESHOLD
pf_start
gen=$top_srcdir/tests/integration/gen-mail.sh
sh "$gen" ndr $STORM "$D/sent" "$ALICE" "ord$$"
sh "$gen" ordinary "$D/ordinary.eml" "$ALICE" "ord$$"
sh "$gen" notice "$D/notice.eml" "$BOB" "ord$$"
sh "$gen" notice "$D/notice-alice.eml" "$ALICE" "orda$$"

# queue_id_of MESSAGE-ID - the queue id(s) cleanup logged for it
queue_id_of()
{
	grep -F "message-id=$1" "$D/maillog" |
		sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): .*/\1/p'
}

# delivered_file USER MESSAGE-ID - the Maildir file holding it
delivered_file()
{
	grep -lF "Message-ID: $2" "$(pf_maildir "$1")"/* 2>/dev/null
}

for f in "$D"/sent/ndr-*.eml; do
	pf_send "$f" '' "$ALICE"
done
pf_wait_idle 30
held=$(pf_held "$ALICE")
[ "$held" -eq $(( STORM - THRESHOLD + 1 )) ] ||
	pf_fail "storm set-up: expected $(( STORM - THRESHOLD + 1 )) held, found $held"
pf_log "alice is in a storm: $held held"

pf_send "$D/ordinary.eml" bob@example.net "$ALICE"
pf_send "$D/notice.eml" '' "$BOB"
pf_send "$D/notice-alice.eml" '' "$ALICE"
pf_wait_idle 30

# 1. Ordinary mail: straight to virtual(8), unchanged.
ord_id=$(pf_msgid "$D/ordinary.eml")
qid=$(queue_id_of "$ord_id")
[ -n "$qid" ] || pf_fail "no queue id logged for $ord_id"
[ "$(echo "$qid" | wc -l)" -eq 1 ] ||
	pf_fail "ordinary mail was queued more than once: $qid"
grep -q "$qid: to=<$ALICE>, relay=virtual,.* status=sent" "$D/maillog" ||
	pf_fail "ordinary mail $qid was not delivered by virtual(8)"
! grep -q "$qid: to=<$ALICE>, relay=ndrguard" "$D/maillog" ||
	pf_fail "ordinary mail $qid went through ndrguard"
! grep -q "filter: RCPT .*from=<bob@example.net>" "$D/maillog" ||
	pf_fail "the null-sender FILTER fired for a non-null sender"
f=$(delivered_file alice "$ord_id")
[ -n "$f" ] || pf_fail "ordinary mail is not in alice's Maildir"
pf_same "$f" "$D/ordinary.eml" || {
	diff "$D/ordinary.eml" "$f"
	pf_fail "ordinary mail changed on its way"
}
pf_log "ordinary mail delivered untouched, never through ndrguard"

# 2. Null sender, not a bounce: through ndrguard, passed on unchanged.
not_id=$(pf_msgid "$D/notice.eml")
qids=$(queue_id_of "$not_id")
[ "$(echo "$qids" | wc -l)" -eq 2 ] ||
	pf_fail "notice should be queued twice (in, and re-injected): '$qids'"
first=$(echo "$qids" | head -n 1)
second=$(echo "$qids" | tail -n 1)
grep -q "$first: to=<$BOB>, relay=ndrguard,.* status=sent" "$D/maillog" ||
	pf_fail "null-sender notice $first did not go through ndrguard"
grep -q "$second: to=<$BOB>, relay=virtual,.* status=sent" "$D/maillog" ||
	pf_fail "re-injected notice $second was not delivered by virtual(8)"
f=$(delivered_file bob "$not_id")
[ -n "$f" ] || pf_fail "null-sender notice is not in bob's Maildir"
pf_same "$f" "$D/notice.eml" || {
	diff "$D/notice.eml" "$f"
	pf_fail "null-sender notice changed on its way through ndrguard"
}
[ "$(pf_delivered bob)" -eq 1 ] || pf_fail "bob has $(pf_delivered bob) messages, expected 1"
pf_log "null-sender notice passed through ndrguard unchanged"

# 3. The notice to alice during her storm: through ndrguard, not held.
na_id=$(pf_msgid "$D/notice-alice.eml")
qids=$(queue_id_of "$na_id")
first=$(echo "$qids" | head -n 1)
grep -q "$first: to=<$ALICE>, relay=ndrguard,.* status=sent" "$D/maillog" ||
	pf_fail "null-sender notice to alice $first did not go through ndrguard"
f=$(delivered_file alice "$na_id")
[ -n "$f" ] || pf_fail "a null-sender notice (not a bounce) to alice was held during her storm"
pf_same "$f" "$D/notice-alice.eml" || {
	diff "$D/notice-alice.eml" "$f"
	pf_fail "null-sender notice to alice changed on its way through ndrguard"
}
pf_log "null-sender notice to alice passed during her storm"

# None is in the quarantine; alice's count did not move.
pf_held_files "$D/held-all" || pf_fail "cannot read the quarantine"
n=$(cat "$D"/held-all/*.eml 2>/dev/null | grep -cF -e "$ord_id" -e "$not_id" -e "$na_id")
[ "$n" -eq 0 ] || pf_fail "$n of them ended up in the quarantine"
[ "$(pf_held "$ALICE")" -eq "$held" ] || pf_fail "alice's held count changed"
expect=$(( THRESHOLD - 1 + 2 ))
[ "$(pf_delivered alice)" -eq $expect ] ||
	pf_fail "alice has $(pf_delivered alice) messages, expected $expect"

pf_log "PASS"
exit 0
