#!/bin/bash
# test-web-request.sh - release_mode = request: the owner asks, an admin decides
#
# The owner's Release button records a request and mails release_notify
# (through reinject, into smtp-sink); the message stays held and the item
# page says the request is pending. /admin asks for HTTP Basic
# credentials checked against a PBKDF2 hash; approving re-injects the
# message, refusing leaves it held and tells the owner.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-webreq.XXXXXX) && chmod 755 "$T"
SINKPID= WEBPID=
cleanup() {
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

SPORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 &
SINKPID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$SPORT) 2>/dev/null && break; sleep 0.1; done
sunk() { sleep 0.3; find "$T/sink" -type f | wc -l; }

HASH=$(echo 'correct horse' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }
case $HASH in pbkdf2-sha256\$*) ok "password hashed";; *) fail "hash: $HASH";; esac
[ "$(echo 'correct horse' | "$WEB" --hash-password)" != "$HASH" ] && ok "salted: two hashes differ" || fail "unsalted hash"

BASE_URL=http://ndrguard.test
cat > "$T/web.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
digest_templates = $top_srcdir/templates
base_url = $BASE_URL
http_rate_limit = 0
release_mode = request
release_notify = postmaster@example.test
admin_user = pm
admin_password_hash = $HASH
EOF
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 3 "$T/ndr" dave@example.test "R$$" >/dev/null
n=0
for m in "$T"/ndr/*.eml; do
	n=$((n + 1))
	"$NDRGUARD" -c "$T/web.conf" deliver -f '' -q "R$n" -- dave@example.test < "$m" || fail "deliver"
done
NDRG_CONF=$T/web.conf
I1=$(list_field id | head -1)
I2=$((I1 + 1))
"$WEB" -c "$T/web.conf" -f > "$T/out" 2> "$T/web.log" &
WEBPID=$!
for _ in $(seq 50); do URL=$(sed -n 's/^listening on //p' "$T/out"); [ -n "$URL" ] && break; sleep 0.1; done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }

link() { local l; l=$("$WEB" -c "$T/web.conf" --link "$@"); echo "${l#"$BASE_URL"}"; }
get() { local p=$1; shift; curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p"; }
post() { local p=$1; shift; get "$p" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/body" | head -1; }
state() { item_state "$1"; }
# req_state ID - the request as the item's page tells its owner: pending,
# refused, or none (no request, or one approved: the item is released)
req_state() {
	curl -s -o "$T/req.body" "$URL$(link item "$1")"
	if grep -q "waiting for the postmaster" "$T/req.body"; then echo pending
	elif grep -q "refused to release" "$T/req.body"; then echo refused
	else echo none; fi
}
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }
has() { grep -q -- "$1" "$T/body"; }

# the owner asks
IT=$(link item "$I1")
expect "item page" 200 "$(get "$IT")"
has "Ask for release" && ok "the button asks" || fail "no Ask button"
C=$(csrf_of)
expect "ask for release" 200 "$(post "$IT" -d "csrf=$C")"
has "sent to the postmaster" && ok "owner told the request went out" || fail "no request note"
[ "$(state "$I1")" = held ] && [ "$(req_state "$I1")" = pending ] && ok "held, request pending" \
	|| fail "state $(state "$I1") request $(req_state "$I1")"
[ "$(sunk)" = 1 ] && f=$(find "$T/sink" -type f) && grep -q '^X-Rcpt-Args: <postmaster@example.test>' "$f" \
	&& grep -q "held message $I1" "$f" && ok "postmaster mailed" || fail "no mail to the postmaster"
expect "ask again" 200 "$(post "$IT" -d "csrf=$C")"
has "waiting for the postmaster" && [ "$(req_state "$I1")" = pending ] && [ "$(sunk)" = 1 ] \
	&& ok "second ask: one request, one mail" || fail "second ask: $(req_state "$I1"), sink $(sunk)"
get "$IT" >/dev/null
has "waiting for the postmaster" && ok "item page shows the pending request" || fail "pending not shown"
get "$(link item "$I2")" >/dev/null; C2=$(csrf_of)
post "$(link item "$I2")" -d "csrf=$C2" >/dev/null

# the admin page
expect "admin without credentials" 401 "$(get /admin)"
grep -qi '^WWW-Authenticate: Basic' "$T/hdr" && ok "asks for Basic credentials" || fail "no challenge"
grep -qi "^Content-Security-Policy:" "$T/hdr" || fail "401 without security headers"
expect "admin, wrong password" 401 "$(get /admin -u pm:wrong)"
expect "admin, wrong user" 401 "$(get /admin -u root:'correct horse')"
expect "admin" 200 "$(get /admin -u pm:'correct horse')"
[ "$(grep -c 'value="approve"' "$T/body")" = 2 ] && ok "two pending requests listed" || fail "requests listed: $(grep -c 'value="approve"' "$T/body")"
A=$(csrf_of)
expect "approve without the field" 403 "$(post /admin -u pm:'correct horse' -d "item=$I1&do=approve")"
expect "approve with the owner's field" 403 "$(post /admin -u pm:'correct horse' -d "csrf=$C&item=$I1&do=approve")"
expect "approve without credentials" 401 "$(post /admin -d "csrf=$A&item=$I1&do=approve")"
[ "$(state "$I1")" = held ] && ok "refused attempts changed nothing" || fail "state $(state "$I1")"
expect "approve" 200 "$(post /admin -u pm:'correct horse' -d "csrf=$A&item=$I1&do=approve")"
[ "$(state "$I1")" = released ] && [ "$(req_state "$I1")" = none ] && [ "$(sunk)" = 3 ] \
	&& ok "approved: released and re-injected" || fail "approve: $(state "$I1") $(req_state "$I1") sink $(sunk)"
grep -q "id=$I1: released by admin:pm" "$T/web.log" && [ "$(store_total audit released)" = 1 ] \
	&& ok "audited, the log names the admin" || fail "audit actor: $(grep "id=$I1:" "$T/web.log")"
expect "approve twice" 200 "$(post /admin -u pm:'correct horse' -d "csrf=$A&item=$I1&do=approve")"
has "already decided" && [ "$(sunk)" = 3 ] && ok "second approval does nothing" || fail "second approval"
expect "refuse" 200 "$(post /admin -u pm:'correct horse' -d "csrf=$A&item=$I2&do=refuse")"
[ "$(state "$I2")" = held ] && [ "$(req_state "$I2")" = refused ] && ok "refused: still held" || fail "refuse"
get "$(link item "$I2")" >/dev/null
has "refused to release" && ok "owner sees the refusal" || fail "refusal not shown"
expect "admin, bad decision" 400 "$(post /admin -u pm:'correct horse' -d "csrf=$A&item=$I2&do=maybe")"
get /admin -u pm:'correct horse' >/dev/null
has "No pending requests" && ok "nothing pending" || fail "list not empty"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
