#!/bin/bash
# test-web.sh - the release page over real HTTP, releasing into smtp-sink
#
# A quarantine is filled by `ndrguard deliver` (storm_threshold = 1) with
# bounces for alice, bob and carol; ndrguard-web serves it on a port the
# kernel picks; smtp-sink stands for the re-injection listener. Covers
# every route with valid, forged, expired, wrong-action and cross-mailbox
# tokens; GET never changing anything; POST needing the anti-forgery
# field; a double (and a concurrent) POST re-injecting once, byte for
# byte; paging and multi-select; settings and one-click unsubscribe;
# English and Spanish; escaping; the security headers on every answer;
# oversized, malformed, too fast and too slow clients; a failing next hop.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
# NDRGUARD_WEB: another ndrguard-web (tools/test-valgrind.sh's wrapper)
WEB=${NDRGUARD_WEB:-$top_builddir/web/ndrguard-web}
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-web.XXXXXX) && chmod 755 "$T"
SINKPID= WEBPIDS=
cleanup() {
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	for p in $WEBPIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SPORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
start_sink() {
	"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." "$@" 127.0.0.1:$SPORT 64 &
	SINKPID=$!
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/$SPORT) 2>/dev/null && return 0
		sleep 0.1
	done
	echo "smtp-sink did not start"; exit 99
}
stop_sink() { kill "$SINKPID" 2>/dev/null; wait "$SINKPID" 2>/dev/null; SINKPID=; }
sunk() { sleep 0.3; find "$T/sink" -type f | wc -l; }

BASE_URL=http://ndrguard.test
write_conf() {	# write_conf FILE [extra lines...]
	local f=$1; shift
	{
		echo "database = $T/q.db"
		echo "reinject = smtp:127.0.0.1:$SPORT"
		echo "storm_threshold = 1"
		echo "busy_timeout = 5s"
		echo "secret_file = $T/secret"
		echo "http_listen = inet:127.0.0.1:0"
		echo "base_url = $BASE_URL"
		echo "http_threads = 2"
		echo "http_rate_limit = 0"
		echo "digest_templates = $top_srcdir/templates"
		for l in "$@"; do echo "$l"; done
	} > "$f"
}
# start_web CONF - run ndrguard-web, set URL to where it listens
start_web() {
	local out=$T/web.$RANDOM
	"$WEB" -c "$1" -f > "$out" 2>> "$T/web.log" &
	WEBPIDS="$WEBPIDS $!"
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 10))); do
		URL=$(sed -n 's/^listening on //p' "$out")
		[ -n "$URL" ] && return 0
		sleep 0.1
	done
	echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99
}
# link KIND SUBJECT [--expires T] - the link's path and query
link() { local l; l=$("$WEB" -c "$T/web.conf" --link "$@") || return 1; echo "${l#"$BASE_URL"}"; }
NDRG_CONF=$T/web.conf
state() { item_state "$1"; }
# pref MAILBOX - "DIGEST LANG" as the mailbox's settings page shows them
pref() {
	curl -s -o "$T/pref.body" "$URL$(link settings "$1")"
	echo "$(sed -n 's/.*name="digest" value="\([a-z]*\)" checked.*/\1/p' "$T/pref.body")" \
		"$(grep -o '<option value="[a-z]*" selected' "$T/pref.body" | sed 's/.*value="\([a-z]*\)".*/\1/')"
}
# get PATH [curl args] - body to $T/body, headers to $T/hdr, prints status
get() { local p=$1; shift; curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p"; }
post() { local p=$1; shift; get "$p" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
# forge URL - the URL with one character of its token changed
forge() { local u=$1 n=$((${#1} - 10)) c; c=${u:$n:1}; [ "$c" = A ] && c=B || c=A; echo "${u:0:$n}$c${u:$((n + 1))}"; }
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/body" | head -1; }
has() { grep -q -- "$1" "$T/body"; }
HEADERS_SEEN=0
# headers_ok - the security headers are on the last answer
headers_ok() {
	local h
	for h in "Content-Security-Policy: default-src 'none'" \
		 "X-Frame-Options: DENY" "Referrer-Policy: no-referrer" \
		 "X-Content-Type-Options: nosniff"; do
		grep -qi "^$h" "$T/hdr" || { echo "missing: $h"; return 1; }
	done
	HEADERS_SEEN=$((HEADERS_SEEN + 1))
}
expect() {	# expect WHAT WANT GOT: status, then the headers
	if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi
	headers_ok || fail "$1: security headers"
}

# --- the quarantine ---------------------------------------------------
write_conf "$T/web.conf"
gen() { bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$1" "$T/$2" "$3" "W$$$2" >/dev/null; }
gen 4 a alice@example.test
gen 2 b bob@example.test
gen 30 c carol@example.test
sed -i 's/^Subject: Cheap watches 0004.*/Subject: <script>alert(1)<\/script> \& "quoted"/' "$T/a/ndr-0004.eml"
n=0
for d in a b c; do
	case $d in a) r=alice;; b) r=bob;; c) r=carol;; esac
	for m in "$T/$d"/*.eml; do
		n=$((n + 1))
		"$NDRGUARD" -c "$T/web.conf" deliver -f '' -q "Q$n" -- "$r@example.test" < "$m" \
			|| fail "deliver $m"
	done
done
held=$(held_count)
[ "$held" = 36 ] || { echo "expected 36 held, got $held"; exit 99; }
A1=$(list_field id recipient=alice@example.test | head -1)
A4=$((A1 + 3)); B1=$((A1 + 4))
start_sink
start_web "$T/web.conf"
echo "serving on $URL"

# --- item page --------------------------------------------------------
IT=$(link item "$A1")
expect "item page, valid token" 200 "$(get "$IT")"
has "Release to my mailbox" && has 'method="post"' || fail "item page has no release form"
has "Delivery failure notice" && has "smtp-in\|mx\|Reporting" || fail "item page lacks the report"
has "Reporting-MTA: dns;" || fail "item page lacks the DSN text"
grep -q '<dt>Reason</dt><dd>[^<]* ([a-z]*)</dd>' "$T/body" && ok "the reason in words, as the digest says it" \
	|| fail "reason not in words"
grep -qi '^Cache-Control: no-store' "$T/hdr" || fail "no Cache-Control: no-store"
expect "HEAD item page" 200 "$(get "$IT" -I)"
[ "$(state "$A1")" = held ] && ok "GET and HEAD leave the item held" || fail "GET changed the item"

# a forged token: every answer for a bad link is the same plain 403
TOK=${IT#*t=}
FORGED="/item/$A1?t=$(echo "$TOK" | tr 'A-Za-z' 'B-ZAb-za')"
expect "forged token" 403 "$(get "$FORGED")"
has "alice" && fail "403 page reveals the mailbox" || ok "403 page reveals nothing"
cp "$T/body" "$T/403a"
expect "expired token" 403 "$(get "$(link item "$A1" --expires 1000)")"
cmp -s "$T/403a" "$T/body" && ok "expired and forged look the same" || fail "403 pages differ"
expect "no token" 403 "$(get "/item/$A1")"
expect "truncated token" 403 "$(get "${IT%?????}")"
expect "item token for another item" 403 "$(get "/item/$B1?t=$TOK")"
expect "mailbox token on an item" 403 "$(get "/item/$A1?t=$(link mailbox alice@example.test | sed 's/.*t=//')")"
expect "id with a leading zero" 403 "$(get "/item/0$A1?t=$TOK")"
expect "id not a number" 403 "$(get "/item/abc?t=$TOK")"

# --- release: anti-forgery field, origin, once only, byte for byte ------
get "$IT" >/dev/null; CSRF=$(csrf_of)
[ -n "$CSRF" ] && ok "the form carries an anti-forgery field" || fail "no csrf field"
expect "POST without the anti-forgery field" 403 "$(post "$IT" -d 'go=1')"
expect "POST with a forged field" 403 "$(post "$IT" -d "csrf=$(forge "$CSRF")")"
get "$(link item "$A4")" >/dev/null; OTHER=$(csrf_of)
expect "POST with another item's field" 403 "$(post "$IT" -d "csrf=$OTHER")"
expect "POST from another site's page" 403 "$(post "$IT" -d "csrf=$CSRF" -H 'Origin: http://evil.example')"
expect "POST marked cross-site" 403 "$(post "$IT" -d "csrf=$CSRF" -H 'Sec-Fetch-Site: cross-site')"
expect "POST as a GET form" 415 "$(get "$IT" -d "csrf=$CSRF" -H 'Content-Type: text/plain')"
[ "$(state "$A1")" = held ] && [ "$(sunk)" = 0 ] && ok "refused POSTs changed nothing" || fail "a refused POST acted"
expect "POST release" 200 "$(post "$IT" -d "csrf=$CSRF" -H 'Origin: null' -H 'Sec-Fetch-Site: same-origin')"
has "Released" || fail "no Released note"
[ "$(state "$A1")" = released ] && ok "item released" || fail "state: $(state "$A1")"
[ "$(sunk)" = 1 ] && ok "one message re-injected" || fail "sink has $(sunk)"
f=$(find "$T/sink" -type f | head -1)
sed '1,/^Received: from/d' "$f" | sed -e '1,2{/^	/d}' -e '${/^$/d}' | tr -d '\r' > "$T/got"
if cmp -s "$T/a/ndr-0001.eml" "$T/got"; then ok "re-injected byte for byte"
else fail "re-injected copy differs"; diff "$T/a/ndr-0001.eml" "$T/got" | head -5; fi
grep -q '^X-Rcpt-Args: <alice@example.test>' "$f" && ok "to its mailbox" || fail "wrong recipient"
grep -q '^X-Mail-Args: <>' "$f" && ok "with the null sender" || fail "sender changed"
expect "second POST" 200 "$(post "$IT" -d "csrf=$CSRF")"
has "Already released" && [ "$(sunk)" = 1 ] && ok "double POST re-injects once" || fail "double POST: sink has $(sunk)"
grep -q "id=$A1: released by web:127.0.0.1" "$T/web.log" && [ "$(store_total audit released)" = 1 ] \
	&& ok "audited once, the log names the web client" || fail "audit: $(store_total audit released), $(grep "id=$A1:" "$T/web.log")"
expect "released item page" 200 "$(get "$IT")"
has "has been released" && ! has 'method="post"' && ok "page shows released, no button" || fail "released page"

# two POSTs at once for the same item: still one copy
IT2=$(link item "$((A1 + 1))"); get "$IT2" >/dev/null; C2=$(csrf_of)
post "$IT2" -d "csrf=$C2" >/dev/null & post "$IT2" -d "csrf=$C2" -o /dev/null >/dev/null; wait $!
sleep 0.2
[ "$(sunk)" = 2 ] && ok "concurrent POSTs re-inject once" || fail "concurrent POSTs: sink has $(sunk)"

# --- escaping and language --------------------------------------------
expect "item with a <script> subject" 200 "$(get "$(link item "$A4")")"
has '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;' && ! has '<script>' \
	&& ok "<script> subject shown as text" || fail "subject not escaped"
expect "Spanish by Accept-Language" 200 "$(get "$IT" -H 'Accept-Language: fr;q=1, es-ES;q=0.8, en;q=0.5')"
has 'lang="es"' && { has "Rebote retenido" || has "Entregado en su buzón"; } && grep -qi '^Content-Language: es' "$T/hdr" \
	&& ok "page in Spanish" || fail "not Spanish"
get "$IT" -H 'Accept-Language: en-GB,es;q=0.9' >/dev/null
has 'lang="en"' && ok "English when preferred" || fail "not English"

# --- mailbox page -----------------------------------------------------
MB=$(link mailbox carol@example.test)
expect "mailbox page" 200 "$(get "$MB")"
rows=$(grep -c 'name="id"' "$T/body")
[ "$rows" = 25 ] && ok "first page holds 25" || fail "first page holds $rows"
ids=$(sed -n 's/.*name="id" value="\([0-9]*\)".*/\1/p' "$T/body" | tr '\n' ' ')
[ "$ids" = "$(echo "$ids" | tr ' ' '\n' | sed '/^$/d' | sort -rn | tr '\n' ' ')" ] \
	&& ok "newest first" || fail "order: $ids"
has "Cheap watches 0030" && ! has "alice@" && ok "only carol's items" || fail "mailbox page content"
has "Older" && grep -q 'p=1' "$T/body" || fail "no link to the next page"
expect "mailbox page 2" 200 "$(get "$MB&p=1")"
rows=$(grep -c 'name="id"' "$T/body")
[ "$rows" = 5 ] && has "Newer" && ok "second page holds the other 5" || fail "second page holds $rows"
expect "mailbox page, bad page" 400 "$(get "$MB&p=x")"
expect "mailbox token for another mailbox" 403 "$(get "/mailbox?m=bob%40example.test&t=${MB#*t=}")"
expect "settings token on the mailbox page" 403 "$(get "$(link settings carol@example.test | sed 's/settings/mailbox/')")"
expect "mailbox, forged token" 403 "$(get "$(forge "$MB")")"
# an item link from the mailbox page opens that item
get "$MB" >/dev/null
ilink=$(sed -n 's/.*<a href="\(\/item\/[^"]*\)".*/\1/p' "$T/body" | head -1 | sed 's/&amp;/\&/g')
expect "item link from the mailbox page" 200 "$(get "$ilink")"
# multi-select: two of carol's, one of bob's (refused: not this mailbox)
get "$MB" >/dev/null; C=$(csrf_of)
c1=$(echo "$ids" | cut -d' ' -f1); c2=$(echo "$ids" | cut -d' ' -f2)
before=$(sunk)
expect "mailbox POST without the field" 403 "$(post "$MB" -d "do=selected&id=$c1")"
expect "release selected" 200 "$(post "$MB" -d "csrf=$C&do=selected&id=$c1&id=$c2&id=$B1")"
[ "$(state "$c1")$(state "$c2")" = releasedreleased ] && ok "selected items released" || fail "selected: $(state "$c1") $(state "$c2")"
[ "$(state "$B1")" = held ] && ok "another mailbox's item untouched" || fail "cross-mailbox release"
[ $(($(sunk) - before)) = 2 ] && ok "two re-injected" || fail "sink grew by $(($(sunk) - before))"
has "Released: 2" || fail "no count of released"
# release all that look legitimate
# (a fixture write: a bounce of our own mail is never held, so none is)
sqlite_fixture "$T/q.db" "UPDATE quarantine SET verdict = 'legit' WHERE recipient = 'carol@example.test' AND state = 'held' AND id % 7 = 0"
nlegit=$(held_count recipient=carol@example.test verdict=legit)
before=$(sunk)
expect "release all legitimate" 200 "$(post "$MB" -d "csrf=$C&do=legit")"
[ "$nlegit" -gt 0 ] && [ "$(held_count recipient=carol@example.test verdict=legit)" = 0 ] \
	&& [ $(($(sunk) - before)) = "$nlegit" ] && ok "all $nlegit legitimate released, nothing else" || fail "legit release"
expect "mailbox POST, nothing selected" 200 "$(post "$MB" -d "csrf=$C&do=selected")"
has "Nothing was selected" || fail "no 'nothing selected' note"

# --- settings and unsubscribe -----------------------------------------
ST=$(link settings bob@example.test)
expect "settings page" 200 "$(get "$ST")"
grep -q 'value="daily" checked' "$T/body" && ok "daily by default" || fail "default not shown"
C=$(csrf_of)
expect "settings POST without the field" 403 "$(post "$ST" -d "digest=never")"
expect "settings POST, bad value" 400 "$(post "$ST" -d "csrf=$C&digest=hourly")"
expect "settings POST" 200 "$(post "$ST" -d "csrf=$C&digest=storms&lang=es")"
[ "$(pref bob@example.test)" = "storms es" ] \
	&& ok "preference stored" || fail "preference not stored"
has "Guardado" && ok "saved, now in the mailbox's language" || fail "not in Spanish after choosing it"
get "$(link item "$B1")" -H 'Accept-Language: en' >/dev/null
has 'lang="es"' && ok "the mailbox's language wins over the browser's" || fail "mailbox language ignored"
UN=$(link unsubscribe bob@example.test)
expect "unsubscribe page (GET)" 200 "$(get "$UN")"
[ "$(pref bob@example.test)" = "storms es" ] \
	&& ok "GET unsubscribe changes nothing" || fail "GET unsubscribed"
expect "one-click unsubscribe (RFC 8058)" 200 "$(post "$UN" -d "List-Unsubscribe=One-Click")"
[ "$(pref bob@example.test)" = "never es" ] \
	&& ok "unsubscribed" || fail "one-click did not unsubscribe"
C=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/pref.body" | head -1)
expect "settings POST, daily again" 200 "$(post "$ST" -d "csrf=$C&digest=daily&lang=es")"
[ "$(pref bob@example.test)" = "daily es" ] || fail "daily again: $(pref bob@example.test)"
expect "one-click unsubscribe as multipart/form-data" 200 "$(get "$UN" -F "List-Unsubscribe=One-Click")"
[ "$(pref bob@example.test)" = "never es" ] \
	&& ok "unsubscribed (multipart)" || fail "multipart one-click did not unsubscribe"
expect "unsubscribe with a forged token" 403 "$(post "$(forge "$UN")" -d "List-Unsubscribe=One-Click")"

# --- other routes, malformed and oversized requests --------------------
expect "home page" 200 "$(get /)"
expect "unknown path" 404 "$(get /nothing-here)"
expect "PUT" 405 "$(get "$IT" -X PUT)"
grep -qi '^Allow: GET, HEAD, POST' "$T/hdr" || fail "405 without Allow"
expect "admin page when not configured" 404 "$(get /admin)"
head -c 40000 /dev/zero | tr '\0' a > "$T/big"
expect "oversized body" 413 "$(post "$IT" --data-binary @"$T/big")"
expect "oversized body, chunked" 413 "$(post "$IT" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big")"
expect "oversized headers" 431 "$(get "$IT" -H "X-Big: $(head -c 17000 "$T/big")")"
expect "too many headers" 431 "$(get "$IT" $(for i in $(seq 120); do printf -- '-H X-H%d:1 ' "$i"; done))"
code=$(get "$IT" -H "X-Huge: $(head -c 39000 "$T/big")" -H "X-Huge2: $(head -c 39000 "$T/big")")
case $code in 431|413|400|000) ok "huge headers refused ($code)";; *) fail "huge headers: $code";; esac
expect "bad percent-encoding" 403 "$(get "/mailbox?m=%zz&t=%")"
hostport=${URL#http://}
exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
printf 'GARBAGE\r\n\r\n' >&3
reply=$(timeout 5 head -1 <&3); exec 3<&-
# libmicrohttpd answers a broken request line by closing, or with its own 400
case $reply in ""|"HTTP/1.1 400"*) ok "malformed request line refused";; *) fail "malformed request: '$reply'";; esac
exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
printf 'GET / HTTP/1.1\r\n\r\n' >&3
reply=$(timeout 5 head -1 <&3); exec 3<&-
case $reply in "HTTP/1.1 "[24]*) ok "HTTP/1.1 without Host answered";; *) fail "no Host: '$reply'";; esac
expect "still serving after all that" 200 "$(get "$IT")"
echo "security headers checked on $HEADERS_SEEN answers"

# --- a next hop that fails: say so, keep the item held -----------------
stop_sink
IT3=$(link item "$A4"); get "$IT3" >/dev/null; C=$(csrf_of)
expect "release while the next hop is down" 503 "$(post "$IT3" -d "csrf=$C")"
has "still held" && [ "$(state "$A4")" = held ] && ok "failure shown, item still held" || fail "failed release: $(state "$A4")"
start_sink
expect "release once it is back" 200 "$(post "$IT3" -d "csrf=$C")"
[ "$(state "$A4")" = released ] && ok "released on retry" || fail "retry: $(state "$A4")"

# --- limits: rate and slow clients, on a second server ----------------
write_conf "$T/limits.conf" "http_rate_limit = 60" "http_timeout = 1s" "http_client_connections = 2"
start_web "$T/limits.conf"
codes=$(for _ in $(seq 30); do curl -s -o /dev/null -w '%{http_code}\n' "$URL/"; done | sort | uniq -c | tr -s ' \n' ' ')
case $codes in *" 429"*) ok "rate limit: $codes";; *) fail "no 429 in: $codes";; esac
get / >/dev/null; grep -qi '^Retry-After: 60' "$T/hdr" && headers_ok && ok "429 carries Retry-After and the headers" \
	|| fail "429 headers"
hostport=${URL#http://}
# two idle connections are all one client may hold: a third is closed
exec 4<>"/dev/tcp/${hostport%:*}/${hostport#*:}" 5<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
sleep 0.2
reply=$(exec 6<>"/dev/tcp/${hostport%:*}/${hostport#*:}" && printf 'GET / HTTP/1.0\r\n\r\n' >&6 && timeout 3 head -1 <&6)
[ -z "$reply" ] && ok "a third connection from one client is refused" || fail "third connection answered: $reply"
exec 4<&- 5<&-
sleep 0.3
start=$SECONDS
exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
printf 'GET / HTTP/1.1\r\nHost: x\r\n' >&3
timeout 10 cat <&3 >/dev/null; exec 3<&-
[ $((SECONDS - start)) -le 4 ] && ok "a client that stops sending is dropped ($((SECONDS - start)) s)" \
	|| fail "slow client kept $((SECONDS - start)) s"

# a clean stop: SIGTERM, exit 0 (under the sanitizers: nothing leaked)
for p in $WEBPIDS; do
	kill -TERM "$p"; wait "$p"; rc=$?
	[ $rc -eq 0 ] && ok "server $p stopped cleanly" || fail "server $p exited $rc"
done
WEBPIDS=

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
