#!/bin/sh
# test-lmtp-postfix.sh - a bounce storm through a real Postfix into ndrguardd
#
# DESCRIPTION
#	Postfix hands null-sender mail to ndrguardd over LMTP (the lines of
#	doc/postfix/lmtp-*.cf), ndrguardd re-injects what it does not hold
#	through the listener of reinject-master.cf, and Postfix delivers it
#	into Maildirs.
#
#	1. 500 backscatter NDRs to alice: with storm_threshold = 20 the
#	   first 19 reach her Maildir, the other 481 are held.
#	2. Mail to bob, an ordinary message and NDRs below the threshold,
#	   is delivered.
#	3. ndrguardd stops: Postfix defers what arrives meanwhile; once
#	   ndrguardd is back, every message is delivered or held.
#	Throughout: every message sent turns up exactly once, delivered or
#	held, byte for byte, and each held row carries the queue id Postfix
#	logged for its LMTP delivery.
. "${top_srcdir:-.}/tests/integration/lmtp-fixture.sh"

N=500
THRESHOLD=20
ALICE=alice@$PF_DOMAIN
BOB=bob@$PF_DOMAIN

lf_setup $THRESHOLD
pf_start
lf_start_daemon
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$D/sent" "$ALICE" "lstorm$$"

# 1. the storm
t0=$(date +%s)
lf_send_many '' "$ALICE" "$D"/sent/ndr-*.eml
pf_wait_idle 120
pf_log "storm of $N through Postfix and ndrguardd in $(( $(date +%s) - t0 ))s"
pf_wait_log "to=<$ALICE>, relay=127.0.0.1.*status=sent" $N 10
bad=$(grep -cE 'status=(deferred|bounced)' "$D/maillog")
[ "$bad" -eq 0 ] || pf_fail "$bad deliveries deferred or bounced"
[ "$(pf_delivered alice)" -eq $(( THRESHOLD - 1 )) ] ||
	pf_fail "alice has $(pf_delivered alice) messages, expected $(( THRESHOLD - 1 ))"
[ "$(pf_held "$ALICE")" -eq $(( N - THRESHOLD + 1 )) ] ||
	pf_fail "$(pf_held "$ALICE") held for alice, expected $(( N - THRESHOLD + 1 ))"
pf_log "storm: $(( THRESHOLD - 1 )) delivered, $(( N - THRESHOLD + 1 )) held"

# 2. bob: an ordinary message (not filtered) and a few NDRs (filtered)
mkdir -p "$D/bob"
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 5 "$D/bob" "$BOB" "lbob$$"
sh "$top_srcdir/tests/integration/gen-mail.sh" ordinary "$D/bob/ordinary.eml" "$BOB" "lbob$$"
lf_send_many 'carol@example.net' "$BOB" "$D/bob/ordinary.eml"
lf_send_many '' "$BOB" "$D"/bob/ndr-*.eml
pf_wait_idle 60
[ "$(pf_delivered bob)" -eq 6 ] || pf_fail "bob has $(pf_delivered bob) messages, expected 6"
[ "$(pf_held "$BOB")" -eq 0 ] || pf_fail "mail to bob was held"

# 3. ndrguardd down: Postfix defers, and delivers when it is back
lf_stop_daemon
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 30 "$D/down" "$ALICE" "ldown$$"
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 5 "$D/downbob" "$BOB" "ldownbob$$"
lf_send_many '' "$ALICE" "$D"/down/ndr-*.eml
lf_send_many '' "$BOB" "$D"/downbob/ndr-*.eml
pf_wait_log "relay=none.*status=deferred.*127.0.0.1.*$LMTP_PORT" 35 60
pf_log "ndrguardd stopped: 35 deferred"
lf_start_daemon
postqueue -c "$D/etc" -f >/dev/null 2>&1 || postfix -c "$D/etc" flush >/dev/null 2>&1
pf_wait_idle 120
[ "$(pf_held "$ALICE")" -eq $(( N - THRESHOLD + 1 + 30 )) ] ||
	pf_fail "$(pf_held "$ALICE") held for alice after the restart, expected $(( N - THRESHOLD + 1 + 30 ))"
[ "$(pf_delivered bob)" -eq 11 ] || pf_fail "bob has $(pf_delivered bob) messages after the restart, expected 11"

# every message exactly once, byte for byte: Message-ID -> file sent
for f in "$D"/sent/ndr-*.eml "$D"/bob/*.eml "$D"/down/ndr-*.eml "$D"/downbob/ndr-*.eml; do
	printf '%s %s\n' "$(pf_msgid "$f")" "$f"
done > "$D/sent.idx"
pf_held_files "$D/held" ||
	pf_fail "cannot read raw messages from the quarantine"
: > "$D/seen.ids"
for f in "$(pf_maildir alice)"/* "$(pf_maildir bob)"/* "$D"/held/*.eml; do
	id=$(pf_msgid "$f")
	src=$(awk -v id="$id" '$1 == id { print $2 }' "$D/sent.idx")
	[ -n "$src" ] || pf_fail "$f: Message-ID '$id' was never sent"
	# held copies carry the Received: field of Postfix's smtpd on top
	pf_same "$f" "$src" || pf_fail "$f differs from $src beyond trace headers"
	echo "$id" >> "$D/seen.ids"
done
total=$(wc -l < "$D/sent.idx")
[ "$(sort "$D/seen.ids" | uniq -d | wc -l)" -eq 0 ] || pf_fail "some messages arrived twice"
[ "$(sort -u "$D/seen.ids" | wc -l)" -eq "$total" ] ||
	pf_fail "only $(sort -u "$D/seen.ids" | wc -l) of $total messages accounted for"

# each held row: the queue id of an LMTP delivery Postfix logged to ndrguardd
# (Postfix reuses queue ids once a queue file is gone, so two rows may
# share one; each row must have one)
list_field queue_id | sort -u > "$D/held.qids"
[ "$(list_field queue_id | grep -c .)" -eq $(( N - THRESHOLD + 1 + 30 )) ] ||
	pf_fail "held rows do not each carry a queue id"
grep -oE 'postfix/ndrguard-lmtp/lmtp\[[0-9]+\]: [0-9A-Za-z]+: to=<[^>]*>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:'"$LMTP_PORT"'.*status=sent' "$D/maillog" |
	sed -E 's/^[^ ]+ ([0-9A-Za-z]+):.*/\1/' | sort -u > "$D/lmtp.qids"
[ -z "$(comm -23 "$D/held.qids" "$D/lmtp.qids")" ] ||
	pf_fail "held rows with queue ids Postfix never delivered to ndrguardd: $(comm -23 "$D/held.qids" "$D/lmtp.qids" | head -3)"
grep -q ": $(head -1 "$D/held.qids"): to=<$ALICE>.*action=quarantine" "$D/ndrguardd.log" ||
	pf_fail "ndrguardd's log line is not keyed by the queue id"

lf_stop_daemon
pf_log "PASS: $total messages, each delivered or held exactly once"
exit 0
