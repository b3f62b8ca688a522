#!/bin/bash
# test-release-once.sh - a held message is released exactly once
#
# The release page (ndrguard-web) and `ndrguard release` work on one
# quarantine, re-injecting into tests/slow-smtp.py, a hop that can hold
# its answer to DATA or to the final dot and keeps every message it got.
# Copies are counted by the message's own Message-ID in what the hop
# kept; states are read with `ndrguard list --json`, the audit through
# /metrics. Every wait is for an event (the hop's log, a caller's
# answer), bounded, never a fixed time.
#
#  1. page and CLI at once, the hop slow: one copy, one "released", the
#     other told it is being released (or released), one audit line
#  2. the database write-locked (a sqlite3 in BEGIN IMMEDIATE): nothing
#     sent, "still held" is true, the next click sends one copy; locked
#     while the hop answers: retried, and reported released
#  3. `ndrguard release` killed -9 before the final dot: the next
#     release sends one copy; killed after the hop took it: in doubt,
#     no second copy, the Message-ID reported; --mark-released and
#     --resend settle it
#  4. the same through sendmail (a stand-in that keeps what it is given):
#     the bytes and arguments as sendmail(1) expects them, and a release
#     killed while sendmail runs is in doubt, with one copy
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-once.XXXXXX) && chmod 755 "$T"
HOPPID= WEBPID= LOCKPID=
cleanup() {
	for p in $HOPPID $WEBPID $LOCKPID; do kill "$p" 2>/dev/null; done
	exec 7>&- 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

HOP=$(free_port)
METRICS=$(free_port)
mkdir -p "$T/hop"
python3 "$top_srcdir/tests/slow-smtp.py" "$HOP" "$T/hop" & HOPPID=$!
wait_port "$HOP"

BASE_URL=http://ndrguard.test
cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$HOP
storm_threshold = 1
busy_timeout = 1s
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
digest_templates = $top_srcdir/templates
metrics_listen = inet:127.0.0.1:$METRICS
base_url = $BASE_URL
http_rate_limit = 0
EOF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 10 "$T/ndr" alice@example.test "O$$" >/dev/null
n=0
for m in "$T"/ndr/*.eml; do
	n=$((n + 1))
	ng deliver -f '' -q "O$n" -- alice@example.test < "$m" || fail "deliver $n"
done
# ids oldest first
mapfile -t ID < <(ng list --json | python3 -c 'import json,sys; [print(r["id"]) for r in sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["id"])]')
[ "${#ID[@]}" -eq 10 ] || { echo "expected 10 held, got ${#ID[@]}"; exit 99; }

"$WEB" -f -c "$T/ndrguard.conf" > "$T/web.out" 2> "$T/web.log" & WEBPID=$!
for _ in $(seq 100); do URL=$(sed -n 's/^listening on //p' "$T/web.out"); [ -n "$URL" ] && break; sleep 0.05; done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }
declare -A CSRF MID

link() { local l; l=$("$WEB" -c "$T/ndrguard.conf" --link "$@"); echo "${l#"$BASE_URL"}"; }
# csrf_of ID - the anti-forgery field of the item's form (while held)
csrf_of() { curl -s "$URL$(link item "$1")" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1; }
# page_post ID BODYFILE - POST the item's form (field from the start);
# prints the status
page_post() {
	curl -s -o "$2" -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
		-d "csrf=${CSRF[$1]}" "$URL$(link item "$1")"
}
page_get() { curl -s -o "$2" -w '%{http_code}' "$URL$(link item "$1")"; }
# state ID - from ndrguard list --json
state() { ng list --json | python3 -c 'import json,sys; print(*[r["state"] for r in map(json.loads, sys.stdin) if r["id"] == int(sys.argv[1])])' "$1"; }
msgid() { ng show --raw "$1" | sed -n 's/^Message-ID: *//p' | head -1 | tr -d '\r'; }
# copies ID - how many copies of the item the hop kept (by the
# Message-ID it was held with)
copies() { grep -lF "Message-ID: ${MID[$1]}" "$T"/hop/msg-*.eml 2>/dev/null | wc -l; }
dots() { cat "$T/hop/events" 2>/dev/null | grep -c '^dot '; }
datas() { cat "$T/hop/events" 2>/dev/null | grep -c '^data '; }
# until CONDITION... - bounded wait for a condition (not a timing check)
until_() { for _ in $(seq 1200); do "$@" && return 0; sleep 0.05; done; return 1; }
at_least() { [ "$($1)" -ge "$2" ]; }
exists() { [ -s "$1" ]; }
grepq() { grep -q -- "$1" "$2" 2>/dev/null; }
released_total() { curl -s "http://127.0.0.1:$METRICS/metrics" | sed -n 's/^ndrguard_released_total //p'; }
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }
for i in "${ID[@]}"; do MID[$i]=$(msgid "$i"); CSRF[$i]=$(csrf_of "$i"); [ -n "${CSRF[$i]}" ] && [ -n "${MID[$i]}" ] || { echo "no form for $i"; exit 99; }; done

# 1. the page and the CLI at once, the hop holding its answer
I=${ID[0]}
touch "$T/hop/hold-dot"
page_post "$I" "$T/page1" > "$T/page1.code" &
P1=$!
ng release "$I" > "$T/cli1.out" 2> "$T/cli1.err" &
C1=$!
until_ at_least dots 1 || fail "the hop never got a message"
# the loser answers at once; today's code would send a second copy
until_ eval '! kill -0 $P1 2>/dev/null || ! kill -0 $C1 2>/dev/null || [ "$(dots)" -ge 2 ]'
rm -f "$T/hop/hold-dot"
wait $P1; wait $C1; CRC=$?
expect "double release: copies that arrived" 1 "$(copies "$I")"
page_done=0 cli_done=0
grep -q "Released: the message is on its way" "$T/page1" && page_done=1
[ $CRC -eq 0 ] && grep -q "^$I: released (250 2.0.0 Ok: queued as SLOW" "$T/cli1.out" && cli_done=1
expect "double release: callers that say they released it" 1 $((page_done + cli_done))
if [ $page_done -eq 1 ]; then
	{ [ $CRC -eq 75 ] && grep -q "already being released by web:" "$T/cli1.err"; } \
		|| { [ $CRC -eq 66 ] && grep -q "already released" "$T/cli1.err"; } \
		&& ok "the CLI was told the truth: $(cat "$T/cli1.err")" \
		|| fail "the CLI lost: exit $CRC, $(cat "$T/cli1.out" "$T/cli1.err")"
else
	grep -q -e "being released right now" -e "Already released" "$T/page1" \
		&& ! grep -q "could not be released" "$T/page1" \
		&& ok "the page was told the truth" \
		|| fail "the page lost: $(cat "$T/page1.code") $(grep -o 'note [a-z]*">[^<]*' "$T/page1")"
fi
expect "double release: state" released "$(state "$I")"
expect "double release: audit lines" 1 "$(released_total)"
ng release "$I" > /dev/null 2> "$T/err"; rc=$?
expect "release again: exit" 66 $rc
expect "release again: copies" 1 "$(copies "$I")"

# 2. the database write-locked during the release
lock_db() {
	rm -f "$T/lock.fifo" "$T/lock.out"; mkfifo "$T/lock.fifo"
	sqlite3 "$T/q.db" < "$T/lock.fifo" > "$T/lock.out" 2>&1 & LOCKPID=$!
	exec 7> "$T/lock.fifo"
	echo "BEGIN IMMEDIATE; SELECT 'locked';" >&7
	until_ grepq locked "$T/lock.out" || fail "could not lock the database"
}
unlock_db() { echo "COMMIT;" >&7; exec 7>&-; wait $LOCKPID; LOCKPID=; }
I=${ID[1]}
lock_db
code=$(page_post "$I" "$T/page2")
expect "locked: page status" 503 "$code"
grep -q "could not be released just now; it is still held" "$T/page2" && ok "locked: page says still held" || { fail "locked: page said $(grep -o 'note [a-z]*">[^<]*' "$T/page2")"; head -c 600 "$T/page2"; tail -5 "$T/web.log"; }
ng release "$I" > /dev/null 2> "$T/err"; rc=$?
expect "locked: CLI exit" 75 $rc
grep -q "nothing sent, still held" "$T/err" && ok "locked: CLI says nothing was sent" || fail "locked: CLI said $(cat "$T/err")"
expect "locked: copies" 0 "$(copies "$I")"
unlock_db
expect "locked: state afterwards" held "$(state "$I")"
code=$(page_post "$I" "$T/page2")
grep -q "Released: the message is on its way" "$T/page2" && ok "second click releases" || fail "second click: $code $(grep -o 'note [a-z]*">[^<]*' "$T/page2")"
expect "second click: copies" 1 "$(copies "$I")"
page_post "$I" "$T/page2" >/dev/null
grep -q "Already released" "$T/page2" && ok "third click: already released" || fail "third click: $(grep -o 'note [a-z]*">[^<]*' "$T/page2")"
expect "third click: copies" 1 "$(copies "$I")"

# locked while the hop answers: the answer is recorded once the lock goes
I=${ID[2]}
touch "$T/hop/hold-dot"
d0=$(dots)
ng release "$I" > "$T/cli3.out" 2> "$T/cli3.err" &
C3=$!
until_ at_least dots $((d0 + 1)) || fail "locked answer: the hop got nothing"
lock_db
rm -f "$T/hop/hold-dot"
until_ grepq "recording it failed" "$T/cli3.err" && ok "locked answer: retrying" || fail "locked answer: no retry: $(cat "$T/cli3.err")"
unlock_db
wait $C3; rc=$?
expect "locked answer: exit" 0 $rc
grep -q "^$I: released (250 2.0.0 Ok: queued as SLOW" "$T/cli3.out" && ok "locked answer: says released with the hop's answer" || fail "locked answer: $(cat "$T/cli3.out" "$T/cli3.err")"
expect "locked answer: state" released "$(state "$I")"
expect "locked answer: copies" 1 "$(copies "$I")"

# 3a. killed before the final dot: the next release sends one copy
I=${ID[3]}
touch "$T/hop/hold-data"
a0=$(datas)
"$NDRGUARD" -c "$T/ndrguard.conf" release "$I" > /dev/null 2>&1 &
K=$!
until_ at_least datas $((a0 + 1)) || fail "kill before dot: the hop saw no DATA"
kill -9 $K; wait $K 2>/dev/null
rm -f "$T/hop/hold-data"
expect "killed before the dot: state" releasing "$(state "$I")"
ng release "$I" > "$T/out" 2> "$T/err"; rc=$?
expect "killed before the dot: next release exit" 0 $rc
expect "killed before the dot: copies" 1 "$(copies "$I")"
expect "killed before the dot: state" released "$(state "$I")"

# 3b. killed after the hop took it: in doubt, never sent again on its own
kill_after_dot() {
	touch "$T/hop/hold-dot"
	local d; d=$(dots)
	"$NDRGUARD" -c "$T/ndrguard.conf" release "$1" > /dev/null 2>&1 &
	K=$!
	until_ at_least dots $((d + 1)) || fail "kill after dot: the hop got nothing"
	kill -9 $K; wait $K 2>/dev/null
	rm -f "$T/hop/hold-dot"
}
I=${ID[4]}
kill_after_dot "$I"
expect "killed after the dot: copies" 1 "$(copies "$I")"
ng release "$I" > "$T/out" 2> "$T/err"; rc=$?
expect "in doubt: exit" 69 $rc
grep -q "in doubt" "$T/err" && grep -qF "${MID[$I]}" "$T/err" && ok "in doubt: names the Message-ID" || fail "in doubt: $(cat "$T/err")"
expect "in doubt: no second copy" 1 "$(copies "$I")"
expect "in doubt: state" releasing "$(state "$I")"
page_get "$I" "$T/page3" >/dev/null
grep -q "whether it arrived is not known" "$T/page3" && grep -qF "$(echo "${MID[$I]}" | sed 's/</\&lt;/; s/>/\&gt;/')" "$T/page3" \
	&& ok "in doubt: the page says so, with the Message-ID" || fail "in doubt page: $(grep -o 'note [a-z]*">[^<]*' "$T/page3")"
grep -q 'name="csrf"' "$T/page3" && fail "in doubt: the page offers a release button" || ok "in doubt: no release button"
page_post "$I" "$T/page3" >/dev/null
grep -q "whether it arrived is not known" "$T/page3" && ok "in doubt: a click is told so" || fail "in doubt click: $(grep -o 'note [a-z]*">[^<]*' "$T/page3")"
expect "in doubt: still one copy" 1 "$(copies "$I")"
ng release --mark-released "$I" > "$T/out" 2> "$T/err"; rc=$?
expect "--mark-released: exit" 0 $rc
expect "--mark-released: state" released "$(state "$I")"
expect "--mark-released: copies" 1 "$(copies "$I")"
ng release "$I" > /dev/null 2>&1; rc=$?
expect "after --mark-released: release exit" 66 $rc

I=${ID[5]}
kill_after_dot "$I"
ng release --resend "$I" > "$T/out" 2> "$T/err"; rc=$?
expect "--resend: exit" 0 $rc
expect "--resend: copies (the postmaster asked for one more)" 2 "$(copies "$I")"
expect "--resend: state" released "$(state "$I")"
ng release --mark-released "${ID[6]}" > /dev/null 2> "$T/err"; rc=$?
expect "--mark-released of a held item: exit" 66 $rc
grep -q "not in doubt" "$T/err" && ok "says it is not in doubt" || fail "$(cat "$T/err")"
expect "--mark-released of a held item: state" held "$(state "${ID[6]}")"

# 4. sendmail: started only on the whole message, after the hand-over mark
cat > "$T/sendmail" <<SH
#!/bin/sh
echo "started \$*" >> "$T/hop/sendmail.log"
i=0
while [ -e "$T/hop/hold-sendmail" ] && [ \$i -lt 2400 ]; do sleep 0.05; i=\$((i + 1)); done
cat > "$T/hop/sm.tmp" && mv "$T/hop/sm.tmp" "$T/hop/msg-sm-\$\$.eml"
SH
chmod 755 "$T/sendmail"
sed "s|^reinject = .*|reinject = sendmail:$T/sendmail|" "$T/ndrguard.conf" > "$T/sm.conf"
I=${ID[7]}
"$NDRGUARD" -c "$T/sm.conf" release "$I" > "$T/out" 2> "$T/err"; rc=$?
expect "sendmail: exit" 0 $rc
grep -q "^$I: released (sendmail exited 0)" "$T/out" && ok "sendmail: says released" || fail "sendmail: $(cat "$T/out" "$T/err")"
expect "sendmail: copies" 1 "$(copies "$I")"
cmp -s "$(grep -lF "Message-ID: ${MID[$I]}" "$T"/hop/msg-sm-*.eml)" <(ng show --raw "$I") && ok "sendmail: the stored bytes, unchanged" || fail "sendmail: bytes differ"
grep -q "^started -G -i -f  -- alice@example.test$" "$T/hop/sendmail.log" && ok "sendmail: -G -i -f SENDER -- RCPT" || fail "sendmail args: $(cat "$T/hop/sendmail.log")"
I=${ID[8]}
touch "$T/hop/hold-sendmail"
s0=$(wc -l < "$T/hop/sendmail.log")
"$NDRGUARD" -c "$T/sm.conf" release "$I" > /dev/null 2>&1 &
K=$!
until_ eval '[ "$(wc -l < "$T/hop/sendmail.log")" -gt $s0 ]' || fail "sendmail never started"
kill -9 $K; wait $K 2>/dev/null
rm -f "$T/hop/hold-sendmail"
until_ eval '[ "$(copies "$I")" -ge 1 ]' || fail "sendmail did not finish"
"$NDRGUARD" -c "$T/sm.conf" release "$I" > /dev/null 2> "$T/err"; rc=$?
expect "sendmail killed under it: in doubt, exit" 69 $rc
expect "sendmail killed under it: copies" 1 "$(copies "$I")"

# every release above counted once: 0, 1, 2, 3, 4 (marked), 5 (resent), 7
expect "audit: released lines" 7 "$(released_total)"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
