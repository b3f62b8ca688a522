#!/bin/sh
# test-pipe-reply.sh - release by reply, through a real Postfix
#
# DESCRIPTION
#	A storm holds 4 bounces for alice; her digest goes out through
#	Postfix into her Maildir with its own Reply-To. She replies "1, 3"
#	above a quoted digest full of other numbers; Postfix hands the reply
#	to the ndrguard-reply transport: items 1 and 3 arrive in her
#	Maildir, one copy each, and so does an answer listing them. The same
#	reply again releases nothing new (the answer says "already"). A reply
#	to a forged address releases nothing and gets no answer. A reply
#	with item 2 attached as message/rfc822 releases item 2. Bounces to
#	the reply address are never metered or held, nor answered.
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

ALICE=alice@$PF_DOMAIN
PF_REPLY_DOMAIN=reply.$PF_DOMAIN
MAIL=$top_srcdir/tests/integration/reply-mail.py
pf_setup 3
[ -x "$D/bin/ndrguard-reply" ] || pf_fail "ndrguard-reply is not built beside $NDRGUARD"
cat >> "$D/etc/ndrguard.conf" <<CONF
reply_address = ndrguard-reply@$PF_REPLY_DOMAIN
secret_file = $D/db/secret
digest_relay = smtp:127.0.0.1:$PORT
digest_from = postmaster@mx.$PF_DOMAIN
base_url = http://127.0.0.1:8480
digest_templates = $top_srcdir/templates
log = file:$D/db/ndrguard.log
CONF
pf_start

# a storm: 2 delivered, 4 held
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 6 "$D/sent" "$ALICE" "reply$$"
for f in "$D"/sent/ndr-*.eml; do pf_send "$f" '' "$ALICE"; done
pf_wait_idle 60
[ "$(pf_held "$ALICE")" -eq 4 ] || pf_fail "expected 4 held, found $(pf_held "$ALICE")"

# the digest, through Postfix into alice's Maildir
runuser -u "$PF_USER" -- "$D/bin/ndrguard" -c "$D/etc/ndrguard.conf" digest --now ||
	pf_fail "ndrguard digest failed"
pf_wait_idle 60
python3 "$MAIL" digest "$(pf_maildir alice)" > "$D/digest.map" || pf_fail "no digest in alice's Maildir"
cat "$D/digest.map"
REPLY_TO=$(sed -n 's/^reply-to //p' "$D/digest.map")
case $REPLY_TO in
ndrguard-reply+*@$PF_REPLY_DOMAIN) ;;
*) pf_fail "the digest's Reply-To is '$REPLY_TO'" ;;
esac
local_part=${REPLY_TO%@*}
[ ${#local_part} -le 64 ] || pf_fail "reply local part is ${#local_part} characters"
id_of() { awk -v n="$1" '$1 == n { print $2 }' "$D/digest.map"; }
ID1=$(id_of 1) ID2=$(id_of 2) ID3=$(id_of 3) ID4=$(id_of 4)
[ -n "$ID1" ] && [ -n "$ID4" ] || pf_fail "the digest does not number 4 items"
for i in $ID1 $ID2 $ID3 $ID4; do
	pf_store_env
	item_raw "$i" > "$D/item-$i.eml" || pf_fail "cannot read item $i"
done

# copies_of ID - how many messages in alice's Maildir are that item
copies_of() {
	_mid=$(pf_msgid "$D/item-$1.eml")
	grep -lF "Message-ID: $_mid" "$(pf_maildir alice)"/* 2>/dev/null | wc -l
}
answers() { python3 "$MAIL" answers "$(pf_maildir alice)" | grep -c '^=== answer'; }

# 1: "1, 3" above the quoted digest
python3 "$MAIL" reply "$REPLY_TO" "Please release 1, 3" "$D/reply.eml"
pf_send "$D/reply.eml" "$ALICE" "$REPLY_TO"
pf_wait_idle 60
pf_wait_log "relay=ndrguard-reply, .*status=sent" 1 30
[ "$(copies_of "$ID1")" -eq 1 ] || pf_fail "item 1 ($ID1): $(copies_of "$ID1") copies in alice's Maildir"
[ "$(copies_of "$ID3")" -eq 1 ] || pf_fail "item 3 ($ID3): $(copies_of "$ID3") copies"
[ "$(copies_of "$ID2")" -eq 0 ] || pf_fail "item 2 was released from the quoted digest"
[ "$(copies_of "$ID4")" -eq 0 ] || pf_fail "item 4 was released from the quoted digest"
[ "$(answers)" -eq 1 ] || pf_fail "expected 1 answer, found $(answers)"
python3 "$MAIL" answers "$(pf_maildir alice)" > "$D/answer1"
cat "$D/answer1"
awk '/^Released/,/^$/' "$D/answer1" | grep -q '^  1\. ' || pf_fail "the answer does not list 1 as released"
awk '/^Released/,/^$/' "$D/answer1" | grep -q '^  3\. ' || pf_fail "the answer does not list 3 as released"
pf_log "ok: 1 and 3 released once each, the answer lists them"

# 2: the same reply again: nothing new, the answer says "already"
pf_send "$D/reply.eml" "$ALICE" "$REPLY_TO"
pf_wait_idle 60
pf_wait_log "relay=ndrguard-reply, .*status=sent" 2 30
[ "$(copies_of "$ID1")" -eq 1 ] && [ "$(copies_of "$ID3")" -eq 1 ] ||
	pf_fail "a second identical reply released again"
[ "$(answers)" -eq 2 ] || pf_fail "expected 2 answers, found $(answers)"
python3 "$MAIL" answers "$(pf_maildir alice)" | awk '/^=== answer/ { n++ } n == 2' > "$D/answer2"
grep -q '^Already released' "$D/answer2" || { cat "$D/answer2"; pf_fail "the second answer does not say already released"; }
! grep -q '^Released' "$D/answer2" || pf_fail "the second answer claims a new release"
pf_log "ok: the replayed reply released nothing new"

# 3: a forged token (last character changed): nothing released, no answer
last=$(printf '%s' "$local_part" | tail -c 1)
[ "$last" = a ] && sub=b || sub=a
FORGED=$(printf '%s' "$local_part" | sed 's/.$//')$sub@$PF_REPLY_DOMAIN
python3 "$MAIL" reply "$FORGED" "2, 4" "$D/forged.eml"
pf_send "$D/forged.eml" "$ALICE" "$FORGED"
pf_wait_idle 60
pf_wait_log "relay=ndrguard-reply, .*status=sent" 3 30
[ "$(copies_of "$ID2")" -eq 0 ] && [ "$(copies_of "$ID4")" -eq 0 ] ||
	pf_fail "a forged reply released something"
[ "$(answers)" -eq 2 ] || pf_fail "a forged reply was answered"
[ "$(item_state "$ID2")" = held ] || pf_fail "item 2 is $(item_state "$ID2") after a forged reply"
grep -q "refused: bad token signature" "$D/db/ndrguard.log" || pf_fail "the forged reply was not logged"
pf_log "ok: the forged reply released nothing and got no answer"

# 4: item 2 forwarded as an attachment
python3 "$MAIL" forward "$REPLY_TO" "$D/item-$ID2.eml" "$D/forward.eml"
pf_send "$D/forward.eml" "$ALICE" "$REPLY_TO"
pf_wait_idle 60
pf_wait_log "relay=ndrguard-reply, .*status=sent" 4 30
[ "$(copies_of "$ID2")" -eq 1 ] || pf_fail "the forwarded item 2: $(copies_of "$ID2") copies"
[ "$(copies_of "$ID4")" -eq 0 ] || pf_fail "item 4 was released by the forward"
[ "$(answers)" -eq 3 ] || pf_fail "expected 3 answers, found $(answers)"

# 5: bounces (null sender) to the reply address: the pipe agent passes
# them on unclassified, never meters or holds them; ndrguard-reply
# ignores them as automatic, and answers nothing
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 4 "$D/sent-r" "$REPLY_TO" "rr$$"
for f in "$D"/sent-r/ndr-*.eml; do pf_send "$f" '' "$REPLY_TO"; done
pf_wait_idle 60
pf_wait_log "relay=ndrguard-reply, .*status=sent" 8 30
[ "$(pf_held "$REPLY_TO")" -eq 0 ] || pf_fail "bounces to the reply address were held"
[ "$(grep -c 'reason=reply to a digest' "$D/db/ndrguard.log")" -ge 4 ] ||
	pf_fail "the pipe agent did not pass the reply address on as such"
[ "$(answers)" -eq 3 ] || pf_fail "an automatic reply was answered"
pf_log "ok: bounces to the reply address pass, unmetered, unanswered"
pf_log "PASS: release by reply through Postfix"
exit 0
