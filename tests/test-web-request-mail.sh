#!/bin/bash
# test-web-request-mail.sh - release_mode = request: one POST, one mail
#
# An owner selects 490 held messages on the mailbox page and asks for
# their release: the postmaster gets one mail listing all 490, not 490
# mails. Each mailbox gets at most 6 such mails an hour
# (WEB_NOTIFY_PER_HOUR); requests over the cap are still recorded. The
# mails are counted as they arrive at tests/slow-smtp.py.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-reqmail.XXXXXX) && chmod 755 "$T"
HOPPID= WEBPID=
cleanup() {
	for p in $HOPPID $WEBPID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

HOP=$(free_port)
mkdir -p "$T/hop"
python3 "$top_srcdir/tests/slow-smtp.py" "$HOP" "$T/hop" & HOPPID=$!
wait_port "$HOP"

BASE_URL=http://ndrguard.test
cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$HOP
storm_threshold = 1
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
digest_templates = $top_srcdir/templates
base_url = $BASE_URL
http_rate_limit = 0
release_mode = request
release_notify = postmaster@example.test
EOF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
hold() { # hold MAILBOX COUNT TAG
	bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$2" "$T/ndr-$3" "$1" "$3$$" >/dev/null
	local n=0 m
	for m in "$T/ndr-$3"/*.eml; do
		n=$((n + 1))
		ng deliver -f '' -q "$3$n" -- "$1" < "$m" || fail "deliver $3$n"
	done
}
hold dave@example.test 500 D
hold eve@example.test 1 E
ids_of() { ng list --mailbox "$1" --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]' | sort -n; }
mapfile -t DAVE < <(ids_of dave@example.test)
mapfile -t EVE < <(ids_of eve@example.test)
[ "${#DAVE[@]}" -eq 500 ] && [ "${#EVE[@]}" -eq 1 ] || { echo "held: ${#DAVE[@]} + ${#EVE[@]}"; exit 99; }

"$WEB" -f -c "$T/ndrguard.conf" > "$T/web.out" 2> "$T/web.log" & WEBPID=$!
for _ in $(seq 100); do URL=$(sed -n 's/^listening on //p' "$T/web.out"); [ -n "$URL" ] && break; sleep 0.05; done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }

link() { local l; l=$("$WEB" -c "$T/ndrguard.conf" --link "$@"); echo "${l#"$BASE_URL"}"; }
csrf_at() { curl -s "$URL$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
post() { curl -s -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$2" "$URL$1"; }
# mails_to ADDR - mails the hop got for ADDR (the hop saves each before
# it answers, and ndrguard-web answers the POST after the hop did)
mails_to() { grep -l "^X-Envelope: .*RCPT TO:<$1>" "$T"/hop/msg-*.eml 2>/dev/null | wc -l; }
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }

# one POST asking for 490 of dave's messages
MB=$(link mailbox dave@example.test)
C=$(csrf_at "$MB")
{ printf 'csrf=%s&do=selected' "$C"; for i in "${DAVE[@]:0:490}"; do printf '&id=%s' "$i"; done; } > "$T/form"
expect "POST for 490" 200 "$(post "$MB" "$T/form")"
grep -q "Requested: 490" "$T/body" && ok "the page counts 490 requests" || fail "page: $(grep -o 'note [a-z]*">[^<]*' "$T/body")"
expect "mails to the postmaster for one POST" 1 "$(mails_to postmaster@example.test)"
M=$(grep -l "RCPT TO:<postmaster@example.test>" "$T"/hop/msg-*.eml | head -1)
grep -q "^Subject: Release requested for 490 held messages" "$M" && ok "the subject counts them" || fail "subject: $(grep '^Subject' "$M")"
# the request lists held bounces' subjects: ndrguard knows it as its own
"$NDRGUARD" inspect --json "$M" | grep -q '"kind":"not_bounce".*own release request' \
	&& ok "inspect: the request mail is ndrguard's own" || fail "inspect: $("$NDRGUARD" inspect --json "$M" | cut -c1-200)"
listed=0
for i in "${DAVE[@]:0:490}"; do grep -q "^  $i  " "$M" && listed=$((listed + 1)); done
expect "ids listed in the one mail" 490 "$listed"
grep -q "^  ${DAVE[490]}  " "$M" && fail "an item not asked for is listed" || ok "only the asked-for items are listed"

# the same POST again: nothing new, no mail
expect "POST again" 200 "$(post "$MB" "$T/form")"
expect "mails after asking again" 1 "$(mails_to postmaster@example.test)"

# one item at a time: mails 2 to 6 go out, then the hourly cap holds
for k in 490 491 492 493 494 495 496; do
	IT=$(link item "${DAVE[$k]}")
	printf 'csrf=%s' "$(csrf_at "$IT")" > "$T/form1"
	post "$IT" "$T/form1" > /dev/null
	grep -q "sent to the postmaster" "$T/body" || fail "item ${DAVE[$k]} not requested"
done
expect "mails to the postmaster for dave in the hour (the cap)" 6 "$(mails_to postmaster@example.test)"
curl -s "$URL$(link item "${DAVE[496]}")" > "$T/body"
grep -q "waiting for the postmaster" "$T/body" && ok "a request over the cap is still recorded" || fail "capped request lost"
grep -q "not mailed to postmaster@example.test: 6 mails this hour already" "$T/web.log" && ok "the cap is logged" || fail "cap not logged"

# the cap is per mailbox: eve's request still mails
IT=$(link item "${EVE[0]}")
printf 'csrf=%s' "$(csrf_at "$IT")" > "$T/form1"
post "$IT" "$T/form1" > /dev/null
expect "mails after eve asked" 7 "$(mails_to postmaster@example.test)"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
