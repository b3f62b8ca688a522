#!/bin/sh
# test-pipe-badconfig.sh - a broken ndrguard.conf defers mail, never bounces it
#
# DESCRIPTION
#	ndrguard.conf gets a line ndrguard does not know.  Three NDRs for
#	alice arrive: ndrguard exits EX_CONFIG with a 4.3.5 status first, so
#	pipe(8) defers them (exit 78 alone would bounce them as 5.3.5, and a
#	bounced bounce is lost).  Once the file is fixed and the queue is
#	flushed, all three reach alice (threshold 20, no storm).
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

N=3
RCPT=alice@$PF_DOMAIN

pf_setup 20
pf_start
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$D/sent" "$RCPT" "cfg$$"

cp "$D/etc/ndrguard.conf" "$D/ndrguard.conf.good"
echo "no_such_setting = 1" >> "$D/etc/ndrguard.conf"

for f in "$D"/sent/ndr-*.eml; do
	pf_send "$f" '' "$RCPT"
done
defer_re="to=<$RCPT>, relay=ndrguard,.* dsn=4\.[0-9]+\.[0-9]+, status=deferred"
pf_wait_log "$defer_re" $N 30
grep -q "status=bounced" "$D/maillog" && pf_fail "a message bounced on a config error"
grep -E "$defer_re" "$D/maillog" | head -n 1 | sed 's/^/  /'
[ "$(pf_delivered alice)" -eq 0 ] || pf_fail "delivered despite the broken config"

cp "$D/ndrguard.conf.good" "$D/etc/ndrguard.conf"
postqueue -c "$D/etc" -f || pf_fail "postqueue -f"
pf_wait_idle 30
[ "$(pf_delivered alice)" -eq $N ] ||
	pf_fail "$(pf_delivered alice) of $N delivered after the config was fixed"
grep -q "status=bounced" "$D/maillog" && pf_fail "a message bounced"

pf_log "PASS: deferred while the config was broken, all $N delivered after"
exit 0
