#!/bin/sh
# test-lmtp-oversize.sh - a bounce too big to examine is delivered, not lost
#
# DESCRIPTION
#	Postfix hands null-sender mail to ndrguardd over LMTP (the lines of
#	doc/postfix/lmtp-*.cf); ndrguardd runs with storm_threshold = 1, so
#	every bounce it examines is held, and message_size_limit = 64k.
#
#	1. A bounce of 4 kB is examined and held (`ndrguard list --json`).
#	2. A bounce of 300 kB, over the limit, is passed on unexamined: it
#	   arrives in alice's Maildir byte for byte, ndrguardd logs it with
#	   action=pass and the reason, and nothing bounced or was deferred.
#	   (ndrguardd used to announce SIZE 65536, so Postfix bounced it, and
#	   a client that sent it anyway got 552: either way the bounce was
#	   lost.)
#	3. The same through the pipe agent: `ndrguard deliver` passes an
#	   oversized message on too (tests/test-bad-input.sh), and both log
#	   the same reason.
#	4. With TMPDIR where no file can be made, the oversized bounce gets
#	   451 4.3.0 (Postfix defers it); after a restart with a good TMPDIR
#	   the retry delivers it.
. "${top_srcdir:-.}/tests/integration/lmtp-fixture.sh"

ALICE=alice@$PF_DOMAIN
lf_setup 1
echo "message_size_limit = 64k" >> "$D/etc/ndrguard.conf"
pf_start
lf_start_daemon

sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 2 "$D/sent" "$ALICE" "lbig$$" >/dev/null
# the second one grows to 300 kB: a returned message after the report
python3 - "$D/sent/ndr-0002.eml" <<'PY'
import sys
path = sys.argv[1]
text = open(path, 'rb').read()
pad = b''.join(b'returned body line %06d ' % i + b'x' * 50 + b'\n'
               for i in range(4200))
open(path, 'wb').write(text + b'\n' + pad)
PY
size=$(wc -c < "$D/sent/ndr-0002.eml")
[ "$size" -gt 300000 ] || pf_fail "the big bounce is only $size bytes"

# 1. an ordinary-sized bounce is examined and held
lf_send_many '' "$ALICE" "$D/sent/ndr-0001.eml"
pf_wait_idle 60
held=$("$NDRGUARD" -c "$D/etc/ndrguard.conf" list --json --mailbox "$ALICE" | grep -c '"state": *"held"')
[ "$held" -eq 1 ] || pf_fail "$held held for alice after the small bounce, expected 1"
pf_log "the small bounce is held (storm_threshold 1)"

# 2. the oversized one reaches the mailbox
lf_send_many '' "$ALICE" "$D/sent/ndr-0002.eml"
pf_wait_idle 60
[ "$(pf_delivered alice)" -eq 1 ] || pf_fail "alice has $(pf_delivered alice) messages, expected the big bounce"
f=$(find "$(pf_maildir alice)" -type f | head -1)
pf_same "$f" "$D/sent/ndr-0002.eml" || pf_fail "the delivered copy differs from the $size bytes sent"
bad=$(grep -cE 'status=(deferred|bounced)' "$D/maillog")
[ "$bad" -eq 0 ] || pf_fail "$bad deliveries deferred or bounced: $(grep -E 'status=(deferred|bounced)' "$D/maillog" | head -2)"
grep -q "to=<$ALICE>.*action=pass, reason=too big to examine" "$D/ndrguardd.log" ||
	pf_fail "no action=pass line with the reason in ndrguardd's log"
held=$("$NDRGUARD" -c "$D/etc/ndrguard.conf" list --json --mailbox "$ALICE" | grep -c '"state": *"held"')
[ "$held" -eq 1 ] || pf_fail "$held held for alice, expected still 1"
pf_log "the $size-byte bounce was delivered: $(grep -m1 'reason=too big' "$D/ndrguardd.log" | sed 's/.*: \([^:]*: to=\)/\1/')"

# 3. the pipe agent says the same
out=$(NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$D/etc/ndrguard.conf" deliver -f '' -q PIPE1 "$ALICE" \
	< "$D/sent/ndr-0002.eml" 2>&1) || pf_fail "deliver: $out"
echo "$out" | grep -q "PIPE1: to=<$ALICE>.*action=pass, reason=too big to examine" ||
	pf_fail "deliver logged: $out"
pf_wait_idle 60
[ "$(pf_delivered alice)" -eq 2 ] || pf_fail "alice has $(pf_delivered alice) messages after deliver, expected 2"

# 4. no room to spool it: Postfix is told 451 and keeps it; once the
#    spool can be written, the retry delivers it
lf_stop_daemon
TMPDIR=$D/no-such-dir lf_start_daemon
cp "$D/sent/ndr-0002.eml" "$D/sent/retry.eml"
sed -i 's/^Message-ID: <\(.*\)>$/Message-ID: <retry.\1>/' "$D/sent/retry.eml"
lf_send_many '' "$ALICE" "$D/sent/retry.eml"
pf_wait_log "to=<$ALICE>, relay=127.0.0.1.*status=deferred.*451 4.3.0.*cannot spool" 1 60
grep -q "cannot spool an oversized message" "$D/ndrguardd.log" || pf_fail "the spool failure is not logged"
lf_stop_daemon
lf_start_daemon
postqueue -c "$D/etc" -f >/dev/null 2>&1
pf_wait_idle 60
[ "$(pf_delivered alice)" -eq 3 ] || pf_fail "alice has $(pf_delivered alice) messages after the retry, expected 3"
pf_log "no room to spool: 451, and delivered on the retry"

lf_stop_daemon
pf_log "PASS: an oversized bounce is delivered unexamined through LMTP and the pipe agent"
exit 0
