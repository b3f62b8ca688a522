#!/bin/bash
# test-web-limits.sh - the release page's limits against hostile clients
#
# ndrguard-web on loopback, several times with the limits each part needs;
# tests/web-clients.py plays the clients, each bound to its own loopback
# source address (all of 127.0.0.0/8 is this host). No assertion on time:
# timeouts are generous and only bound the waits.
#
# 1. trusted_proxies: behind a proxy (127.0.0.1), the rate limit and the
#    connection limit apply to the client X-Forwarded-For names (the
#    right-most address that is not a proxy), so one user's burst locks
#    out nobody else; an untrusted peer's X-Forwarded-For is ignored.
# 2. Admin sign-in: eight addresses of one /24 guess the password at once;
#    they get 429 or 503, never CPU in a queue, while GET / keeps being
#    answered and the admin signed in before is still let in.
# 3. Slowloris from eight addresses of 127.0.1.0/24: their network gets
#    http_network_connections, and a client of 127.0.2.0/24 is answered
#    while the attack goes on.
# 4. A mailbox page of 25 such subjects (9 MB escaped, before they were
#    cut to 300 bytes in the list) for 64 clients that never read it:
#    ndrguard-web's RSS stays under 32 MB over idle, a client of another
#    network gets the page meanwhile, and http_timeout closes them all.
#    (What a page may still weigh is bounded by http_response_memory,
#    whose accounting tests/unit/test-web checks.)
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=${NDRGUARD_WEB:-$top_builddir/web/ndrguard-web}
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.1.1", 0))' 2>/dev/null ||
	{ echo "cannot bind 127.0.1.1 (loopback is not 127.0.0.0/8)"; exit 77; }

T=$(mktemp -d /tmp/ndrg-weblimits.XXXXXX) && chmod 755 "$T"
WEBPID=
cleanup() {
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
CLIENTS="python3 $top_srcdir/tests/web-clients.py"
# val KEY [FILE] - the value printed for KEY by web-clients.py
val() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "${2:-$T/seen}"; }
# count KEY STATUS - how many answers of STATUS under KEY (0 if none)
count() { awk -v k="$1" -v s="$2" '$1 == k && $2 == s { n = $3 } END { print n + 0 }' "$T/seen"; }

BASE_URL=http://ndrguard.test
HASH=$(echo 'right horse' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }
# conf EXTRA-LINES... - write $T/web.conf with these settings too
conf() {
	{
		echo "database = $T/q.db"
		echo "reinject = smtp:127.0.0.1:9"
		echo "storm_threshold = 1"
		echo "secret_file = $T/secret"
		echo "http_listen = inet:127.0.0.1:0"
		echo "base_url = $BASE_URL"
		echo "digest_templates = $top_srcdir/templates"
		echo "admin_user = pm"
		echo "admin_password_hash = $HASH"
		for l in "$@"; do echo "$l"; done
	} > "$T/web.conf"
}
# start_web EXTRA-LINES... - ndrguard-web with these settings; sets PORT
start_web() {
	conf "$@"
	"$WEB" -c "$T/web.conf" -f > "$T/out" 2>> "$T/web.log" &
	WEBPID=$!
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 10))); do
		URL=$(sed -n 's/^listening on //p' "$T/out"); [ -n "$URL" ] && break; sleep 0.1
	done
	[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }
	PORT=${URL##*:}
}
stop_web() { kill "$WEBPID"; wait "$WEBPID" 2>/dev/null; WEBPID=; : > "$T/out"; }
# code SOURCE [curl args] PATH - the status of one GET from SOURCE
code() { local src=$1; shift; curl -s -o /dev/null -w '%{http_code}' --max-time 20 --interface "$src" "$@"; }

# --- the quarantine: 25 bounces for alice, each subject 60,000 '"' -------
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 25 "$T/a" alice@example.test "L$$" >/dev/null
QUOTES=$(head -c 60000 /dev/zero | tr '\0' '"')
conf
n=0
for m in "$T/a"/*.eml; do
	n=$((n + 1))
	sed -i "s/^Subject: Cheap watches .*/Subject: $n $QUOTES/" "$m"
	"$NDRGUARD" -c "$T/web.conf" deliver -f '' -q "L$n" -- alice@example.test < "$m" || fail "deliver $m"
done
[ "$("$NDRGUARD" -c "$T/web.conf" list --json | grep -o '"id":' | wc -l)" -ge 25 ] ||
	{ echo "expected 25 held"; exit 99; }
MBOX=$("$WEB" -c "$T/web.conf" --link mailbox alice@example.test) || { echo "no link"; exit 99; }
MBOX=${MBOX#"$BASE_URL"}

# --- 1. trusted_proxies ---------------------------------------------------
start_web "trusted_proxies = 127.0.0.1, 10.9.0.0/16" "http_rate_limit = 20" \
	"http_client_connections = 2"
xff() { code 127.0.0.1 -H "X-Forwarded-For: $1" "$URL/"; }
: > "$T/burst"
for _ in $(seq 10); do xff 192.0.2.1 >> "$T/burst"; echo >> "$T/burst"; done
grep -qx 429 "$T/burst" && ok "one client's burst through the proxy: 429 ($(sort "$T/burst" | uniq -c | tr -s ' \n' ' '))" ||
	fail "burst through the proxy never limited: $(tr '\n' ' ' < "$T/burst")"
got=$(xff 192.0.2.2)
[ "$got" = 200 ] && ok "another client through the same proxy: 200" || fail "another client through the proxy: $got, want 200"
got=$(xff "198.51.100.7, 192.0.2.1")
[ "$got" = 429 ] && ok "an address the client put in front is not believed: 429" || fail "forged X-Forwarded-For: $got, want 429"
got=$(xff "192.0.2.3, 10.9.1.1")
[ "$got" = 200 ] && ok "a chain of two trusted proxies: the client behind both" || fail "proxy chain: $got"
: > "$T/burst"
for i in $(seq 10); do code 127.0.0.5 -H "X-Forwarded-For: 203.0.113.$i" "$URL/" >> "$T/burst"; echo >> "$T/burst"; done
grep -qx 429 "$T/burst" && ok "an untrusted peer's X-Forwarded-For is ignored: its burst gets 429" ||
	fail "untrusted peer escaped the limit with X-Forwarded-For: $(tr '\n' ' ' < "$T/burst")"
# connections: two held requests of 192.0.2.8 fill its places; a third is
# refused at once, and another client of the proxy is still served
$CLIENTS hold 127.0.0.1 "$PORT" 127.0.0.1 192.0.2.8 3 192.0.2.9 > "$T/seen"
[ "$(grep -c '^held none' "$T/seen")" = 2 ] && [ "$(grep -c '^held 429' "$T/seen")" = 1 ] &&
	ok "the client's third request through the proxy: 429, its two others wait" ||
	fail "requests held through the proxy: $(tr '\n' ' ' < "$T/seen")"
[ "$(val other)" = 200 ] && ok "another client of the proxy meanwhile: 200" ||
	fail "another client of the proxy while one holds its limit: $(val other), want 200"
got=$(code 127.0.0.6 "$URL/admin" -H 'X-Forwarded-For: 192.0.2.77' -u pm:wrong)
grep -q 'admin sign-in from 127.0.0.6 refused' "$T/web.log" && ! grep -q '192.0.2.77' "$T/web.log" &&
	ok "the log names the untrusted peer, not its header" || fail "log: $(grep 'sign-in' "$T/web.log" | tail -1)"
code 127.0.0.1 "$URL/admin" -H 'X-Forwarded-For: 192.0.2.78' -u pm:wrong >/dev/null
grep -q 'admin sign-in from 192.0.2.78 refused' "$T/web.log" && ok "the log names the client behind the proxy" ||
	fail "log through the proxy: $(grep 'sign-in' "$T/web.log" | tail -1)"
stop_web

# --- 2. admin sign-in guessed from eight addresses ------------------------
start_web "http_rate_limit = 0" "http_threads = 4"
$CLIENTS guess 127.0.0.1 "$PORT" 127.0.0.2-9 8 pm:wrong 127.0.2.1 127.0.3.1 'pm:right horse' > "$T/seen"
throttled=$(( $(count guess 429) + $(count guess 503) ))
[ "$(val admin_before)" = 200 ] || fail "admin sign-in before the guessing: $(val admin_before)"
[ "$throttled" -gt 0 ] && [ "$(count guess 200)" = 0 ] &&
	ok "64 guesses: $(count guess 401) checked (401), $throttled refused at once (429/503)" ||
	fail "guesses: $(grep '^guess' "$T/seen" | tr '\n' ' '), want some 429 or 503 and no 200"
[ "$(count guess 401)" -le 8 ] && ok "at most the network's allowance checked: $(count guess 401)" ||
	fail "$(count guess 401) guesses checked, want at most 8"
[ "$(val honest_ok)" -gt 0 ] && [ "$(val honest_bad)" = 0 ] &&
	ok "GET / answered all along: $(val honest_ok) times" ||
	fail "GET / during the guessing: $(val honest_ok) ok, $(val honest_bad) not"
[ "$(val admin_after)" = 200 ] && ok "the admin signed in before is still let in" ||
	fail "admin after the guessing: $(val admin_after)"
stop_web

# --- 3. slowloris from a /24 ------------------------------------------------
start_web "http_rate_limit = 0" "http_threads = 2" "http_max_connections = 16" \
	"http_client_connections = 4" "http_network_connections = 8" \
	"http_timeout = 60s" "http_request_timeout = 60s"
$CLIENTS slowloris 127.0.0.1 "$PORT" 127.0.1.1-8 4 127.0.2.1 > "$T/seen"
[ "$(val honest)" = 200 ] && ok "a client of another /24 answered during the attack" ||
	fail "honest client during a slowloris from 127.0.1.0/24: $(val honest), want 200"
[ "$(val attack_open)" -ge 8 ] && ok "the attack went on meanwhile: $(val attack_open) connections open" ||
	fail "attack connections open: $(val attack_open)"
[ "$(val attack_accepted)" -le 8 ] && ok "its network held at most http_network_connections: $(val attack_accepted)" ||
	fail "the attacking network holds $(val attack_accepted) connections, want at most 8"
grep -q 'over http_client_connections or http_network_connections, refused' "$T/web.log" &&
	ok "the refusal is logged" || fail "no log line for the refusal"
stop_web

# --- 4. clients that never read a large page ---------------------------------
start_web "http_rate_limit = 0" "http_threads = 4" "http_timeout = 3s" \
	"http_client_connections = 0" "http_network_connections = 0"
got=$(curl -s -o "$T/page" -w '%{http_code} %{size_download}' --max-time 20 "$URL$MBOX")
size=${got#* }
[ "${got% *}" = 200 ] && [ "$size" -lt 200000 ] && grep -q '&quot;…</strong>' "$T/page" &&
	ok "the mailbox page, its subjects cut: $size bytes" ||
	fail "mailbox page: $got, want 200 and under 200 kB, subjects cut"
sleep 0.5
IDLE=$(awk '/^VmRSS:/ { print $2 }' "/proc/$WEBPID/status")
# Under AddressSanitizer freed memory stays in its quarantine (256 MB),
# so the size says nothing of what ndrguard keeps: not checked there.
MEASURE=yes
grep -q 'libasan' "/proc/$WEBPID/maps" && MEASURE=no
$CLIENTS noread 127.0.0.1 "$PORT" 127.0.1.1-8 8 "$MBOX" "$WEBPID" 127.0.2.1 > "$T/seen"
rss=$(val rss_kb)
if [ $MEASURE = no ]; then
	ok "64 clients not reading: size not checked under AddressSanitizer ($((rss / 1024)) MB)"
else
	[ $((rss - IDLE)) -lt 32768 ] && ok "64 clients not reading: RSS $((IDLE / 1024)) MB idle, at most $((rss / 1024)) MB" ||
		fail "64 clients not reading: RSS $((IDLE / 1024)) MB idle, $((rss / 1024)) MB with them, want under 32 MB more"
fi
read -r hst hbytes <<< "$(val honest)"
[ "$hst" = 200 ] && [ "$hbytes" -gt "$size" ] && [ "$hbytes" -lt $((size + 1000)) ] &&
	ok "a client of another network got the page meanwhile" || fail "honest client: $(val honest)"
[ "$(val closed)" = 64 ] && ok "http_timeout closed the 64 that never read" ||
	fail "closed $(val closed) of 64 clients that never read, $(val open) still open"
got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 20 "$URL$MBOX")
[ "$got" = "200 $size" ] && ok "afterwards the page again, whole" || fail "afterwards: $got"
stop_web

[ $fails -eq 0 ] || { echo "$fails failures"; tail -n 20 "$T/web.log"; exit 1; }
exit 0
