#!/bin/bash
# test-envelope.sh - the envelope sender reaches the classifier: a
# message with the words and the quoted original of a bounce, but sent
# with a service's own address, is not the mail system's report. Through
# `ndrguard inspect -f` and `ndrguard deliver -f` (storm_threshold 1, so
# a bounce is held at once and anything else re-injected).
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
T=$(mktemp -d /tmp/ndrg-env.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
M="$top_srcdir/tests/messages/envelope/prose-from-service.eml"

kind() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["kind"])'; }
k=$("$NDRGUARD" inspect --json -f '' "$M" | kind)
[ "$k" = ndr_failed ] && ok "inspect -f '': $k" || fail "inspect -f '': $k"
k=$("$NDRGUARD" inspect --json -f MAILER-DAEMON "$M" | kind)
[ "$k" = ndr_failed ] && ok "inspect -f MAILER-DAEMON: $k" || fail "inspect -f MAILER-DAEMON: $k"
k=$("$NDRGUARD" inspect --json -f support@mail.example.biz "$M" | kind)
[ "$k" = not_bounce ] && ok "inspect -f support@: $k" || fail "inspect -f support@: $k"
# no -f: the (absent) Return-Path says nothing, the content decides
k=$("$NDRGUARD" inspect --json "$M" | kind)
[ "$k" = ndr_failed ] && ok "inspect without -f: $k" || fail "inspect without -f: $k"
k=$(sed '1i Return-Path: <support@mail.example.biz>' "$M" | "$NDRGUARD" inspect --json - | kind)
[ "$k" = not_bounce ] && ok "inspect, Return-Path of the service: $k" || fail "Return-Path: $k"

# deliver: re-injection through a stand-in sendmail that keeps its input
cat > "$T/sendmail" <<SH
#!/bin/sh
cat > "$T/passed.\$\$"
SH
chmod 755 "$T/sendmail"
cat > "$T/ndrguard.conf" <<CONF
database = $T/q.db
reinject = sendmail:$T/sendmail
storm_threshold = 1
CONF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
ng deliver -f support@mail.example.biz -q E1 -- alice@example.test < "$M" ||
	fail "deliver from the service"
ls "$T"/passed.* >/dev/null 2>&1 && ok "the service's mail was passed on" ||
	fail "the service's mail was not passed on"
ng deliver -f '' -q E2 -- alice@example.test < "$M" || fail "deliver null sender"
n=$(ng list --json | wc -l)
[ "$n" -eq 1 ] && ok "the null-sender copy is held, only it" || fail "held: $n"
ng list --json | grep -q '"kind":"ndr_failed"' && ok "held as ndr_failed" ||
	fail "held kind: $(ng list --json)"
[ "$fails" -eq 0 ]
