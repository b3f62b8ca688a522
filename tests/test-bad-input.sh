#!/bin/bash
# test-bad-input.sh - hostile input against the real programs
#
# The rows of doc/bad-input.md that no other test covers: ndrguardd over
# a real LMTP socket (tests/lmtp-client.py), its release page over HTTP
# (curl), and the command line (`ndrguard inspect --json`, `deliver`,
# `list --json`, `digest --dry-run`). Each case says what a user would
# check: the reply code, that the daemon still answers, that output is
# valid JSON and UTF-8, that nothing leaks into headers or pages, that
# no link without a valid token shows message data.
#
# Cases: 10,000 recipients in one transaction; a 1 MB header line;
# 10,000 levels of MIME nesting; NUL bytes, invalid UTF-8 and undeclared
# 8-bit in headers; bare CR and CR LF smuggled into commands, addresses
# and the envelope sender; SQL metacharacters in addresses; every route
# with no, forged, truncated, expired, wrong-action and other-mailbox
# tokens; slow (slowloris) LMTP commands and data; a locked database.
#
# NDRGUARD_TEST_WAIT (seconds, default 5) is how long a program may take
# to start listening.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}" "${top_builddir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "SKIP: smtp-sink not installed (Debian package postfix)"; exit 77; }
for c in python3 curl; do
	command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ndrguardd drops to daemon_user)"; exit 77; }
WEB=${NDRGUARD_WEB:-$top_builddir/web/ndrguard-web}
CLIENT="python3 $top_srcdir/tests/lmtp-client.py"
WAIT=${NDRGUARD_TEST_WAIT:-5}
RUNAS=nobody

T=$(mktemp -d /tmp/ndrg-bad.XXXXXX) && chmod 755 "$T"
DPID='' SINKPID='' LOCKPID=''
cleanup()
{
	[ -n "$LOCKPID" ] && kill "$LOCKPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
wait_port()
{
	for _ in $(seq $((WAIT * 20))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1"; exit 99
}
LPORT=$(free_port) SPORT=$(free_port) HPORT=$(free_port)
mkdir -p "$T/sink" "$T/db" && chmod 777 "$T/sink" && chown $RUNAS "$T/db"
BASE=http://127.0.0.1:$HPORT
HASH=$(echo 'correct horse' | "$WEB" --hash-password) || { echo "ndrguard-web --hash-password failed"; exit 99; }
cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
storm_window = 10m
busy_timeout = 2s
message_size_limit = 4m
lmtp_command_timeout = 2s
lmtp_idle_timeout = 3s
daemon_user = $RUNAS
pid_file =
http_listen = inet:127.0.0.1:$HPORT
http_rate_limit = 0
base_url = $BASE
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:9
admin_user = admin
admin_password_hash = $HASH
EOF
chmod 644 "$T/nd.conf"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 & SINKPID=$!
wait_port $SPORT
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" & DPID=$!
wait_port $LPORT; wait_port $HPORT

lmtp() { printf '%s\n' "$@" | $CLIENT 127.0.0.1:$LPORT; }
NDRG_CONF=$T/nd.conf
alive() { lmtp '<' '> NOOP' '<' '> QUIT' '<' | grep '^250 2.0.0' >/dev/null; }
# valid_json FILE - strict UTF-8 and JSON, as a consumer would parse it
valid_json() { python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' "$1" 2>&1; }
valid_utf8() { python3 -c 'import sys; open(sys.argv[1],"rb").read().decode("utf-8")' "$1" 2>&1; }
# deliver_lmtp RCPT FILE - one message over LMTP, the last data reply
deliver_lmtp()
{
	lmtp '<' '> LHLO c' '<' '> MAIL FROM:<>' '<' "> RCPT TO:<$1>" '<' '> DATA' '<' \
		"data $2" '<' '> QUIT' '<' | tail -2 | head -1
}
gen() { bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$1" "$T/$2" "$3" "B$$$2" >/dev/null; }
gen 3 ndr alice@example.test

# bounce_with HEADER-FILE BODY-FILE OUT - an NDR (from gen-mail.sh) with
# the given header lines added to its returned original and its top
python3 - "$T/ndr/ndr-0001.eml" "$T" <<'PY'
import sys
src = open(sys.argv[1], 'rb').read()
T = sys.argv[2]
head, sep, body = src.partition(b'\n\n')
def with_top(extra, name, tail=b''):
    open(T + '/' + name, 'wb').write(extra + head + sep + body + tail)
# a 1 MB header line (no folding), in the bounce's own header
with_top(b'X-Long: ' + b'A' * (1024 * 1024) + b'\n', 'long.eml')
# NUL bytes, a bare CR before a would-be header, invalid UTF-8 and
# undeclared 8-bit in the returned original's Subject (what the page,
# the digest and `list` show) and in a header of the bounce itself
hostile = (b'Subject: HOSTILE nul\x00 bad\xff\xfe latin1 caf\xe9 cut \xc3( '
           b'<b>x</b> cr\rBcc: evil@example.test')
assert b'\nSubject: Cheap watches' in body
open(T + '/bytes.eml', 'wb').write(b'X-Bad: \xff\x00\xc3(\n' + head + sep +
    body.replace(b'\nSubject: Cheap watches', b'\n' + hostile + b' Cheap watches', 1))
# 10,000 levels of multipart nesting after a bounce's headers
nest = b''.join(b'Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n' % (i, i)
                for i in range(10000))
open(T + '/deep.eml', 'wb').write(
    b'From: MAILER-DAEMON@mx.remote.test\nTo: alice@example.test\n'
    b'Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n' + nest)
PY

echo "daemon on $LPORT, release page on $HPORT"

# --- 1. 10,000 recipients in one transaction (limit 1000) ----------------
python3 - "$T/rcpts" <<'PY'
import sys
cmds = b'LHLO c\r\nMAIL FROM:<>\r\n' + b''.join(
    b'RCPT TO:<r%05d@example.test>\r\n' % i for i in range(10000)) + b'DATA\r\n'
open(sys.argv[1], 'wb').write(cmds)
PY
start=$SECONDS
lmtp '<' "file $T/rcpts" '< 10003' "data $T/ndr/ndr-0002.eml" '< 1000' '> QUIT' '<' > "$T/rcpts.out"
secs=$((SECONDS - start))
n250=$(grep -c '^250 2.1.5' "$T/rcpts.out") n452=$(grep -c '^452 4.5.3' "$T/rcpts.out")
nheld=$(grep -c '^250 2.0.0 <r[0-9]*@example.test> held' "$T/rcpts.out")
[ "$n250" = 1000 ] && [ "$n452" = 9000 ] && ok "10,000 RCPT: 1000 accepted, 9000 told 452 4.5.3" ||
	fail "10,000 RCPT: $n250 accepted, $n452 refused with 452 4.5.3"
[ "$nheld" = 1000 ] && tail -1 "$T/rcpts.out" | grep -q '^221' &&
	ok "one reply per accepted recipient after DATA (1000), then 221 (${secs}s)" ||
	fail "after DATA: $nheld per-recipient replies; last: $(tail -1 "$T/rcpts.out")"
[ "$(list_count 'recipient~r*@example.test')" = 1000 ] &&
	ok "1000 copies held" || fail "held: $(list_count 'recipient~r*@example.test')"

# --- 2. a 1 MB header line, 10,000 levels of MIME nesting ----------------
for f in long deep; do
	start=$SECONDS
	"$NDRGUARD" -c "$T/nd.conf" inspect --json "$T/$f.eml" > "$T/$f.json"; rc=$?
	err=$(valid_json "$T/$f.json")
	[ $rc -eq 0 ] && [ -z "$err" ] && [ $((SECONDS - start)) -le 10 ] &&
		ok "inspect --json $f.eml ($(wc -c < "$T/$f.eml") bytes): exit 0, valid JSON, $((SECONDS - start))s" ||
		fail "inspect $f.eml: exit $rc, $((SECONDS - start))s, $err"
	got=$(deliver_lmtp alice@example.test "$T/$f.eml")
	case $got in "250 2.0.0 <alice@example.test> held"*) ok "LMTP $f.eml: $got";;
		*) fail "LMTP $f.eml: $got";; esac
	"$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q "BIG$f" -- alice@example.test < "$T/$f.eml" > "$T/out"; rc=$?
	[ $rc -eq 0 ] && ok "deliver $f.eml: exit 0" || fail "deliver $f.eml: exit $rc $(cat "$T/out")"
done
alive && ok "daemon still answers" || fail "daemon gone after the big messages"

# a 1 MB command line (limit 2048): 500 5.5.2, the session goes on
long=$(head -c 1048576 /dev/zero | tr '\0' a)
printf 'LHLO c\r\nRCPT TO:<%s@example.test>\r\nNOOP\r\nQUIT\r\n' "$long" > "$T/longcmd"
got=$(lmtp '<' "file $T/longcmd" '< 4' 2>&1 | tail -3)
[ "$(echo "$got" | cut -c1-9 | tr '\n' ' ')" = "500 5.5.2 250 2.0.0 221 2.0.0 " ] &&
	ok "1 MB command line: 500 5.5.2, then served" || fail "1 MB command line: $got"

# --- 2b. deliver: beyond message_size_limit, passed on unclassified ----
sed 's/^message_size_limit = .*/message_size_limit = 20k/' "$T/nd.conf" > "$T/small.conf"
python3 -c 'import sys; d = open(sys.argv[1]).read(); open(sys.argv[2], "w").write(d + ("y" * 999 + "\n") * 100)' \
	"$T/ndr/ndr-0002.eml" "$T/big.eml"
rm -f "$T/sink"/*
"$NDRGUARD" -c "$T/small.conf" deliver -f '' -q BIGD -- big@example.test < "$T/big.eml" > "$T/out"; rc=$?
sleep 0.3
[ $rc -eq 0 ] && [ "$(ls "$T/sink" | wc -l)" = 1 ] &&
	[ "$(list_count recipient=big@example.test)" = 0 ] &&
	ok "deliver, 120 kB over a 20k limit: passed on unclassified, not held" ||
	fail "deliver over the limit: exit $rc, sink $(ls "$T/sink" | wc -l), $(cat "$T/out")"

# --- 3. NUL, bare CR, invalid UTF-8 and undeclared 8-bit -----------------
"$NDRGUARD" -c "$T/nd.conf" inspect --json "$T/bytes.eml" > "$T/bytes.json"; rc=$?
err=$(valid_json "$T/bytes.json")
[ $rc -eq 0 ] && [ -z "$err" ] && ok "inspect --json: valid JSON and UTF-8 from NUL, CR, \\xff, Latin-1" ||
	fail "inspect --json bytes.eml: exit $rc $err"
python3 - "$T/bytes.json" <<'PY' && ok "the subject survives as text: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["original"]["subject"])' "$T/bytes.json")" || fail "subject lost: $(cat "$T/bytes.json")"
import json, sys
s = json.load(open(sys.argv[1], encoding='utf-8'))['original']['subject']
# a bare CR ends the line (the Bcc: after it is another header of the
# original, never part of the subject); NUL becomes a space
sys.exit(0 if s and 'HOSTILE' in s and 'caf' in s and '<b>x</b>' in s
         and '\x00' not in s and '\r' not in s and 'Bcc' not in s else 1)
PY
got=$(deliver_lmtp bytes@example.test "$T/bytes.eml")
case $got in "250 2.0.0 <bytes@example.test> held"*) ok "LMTP: held ($got)";; *) fail "LMTP bytes.eml: $got";; esac
BID=$(list_field id recipient=bytes@example.test | tail -1)
"$NDRGUARD" -c "$T/nd.conf" list --json --mailbox bytes@example.test > "$T/list.json"; rc=$?
err=$(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1],"rb").read().decode("utf-8").splitlines()]' "$T/list.json" 2>&1)
[ $rc -eq 0 ] && [ -z "$err" ] && ok "list --json: valid JSON lines" || fail "list --json: exit $rc $err"
# the release page for that item and its mailbox
for u in "$("$WEB" -c "$T/nd.conf" --link item "$BID")" "$("$WEB" -c "$T/nd.conf" --link mailbox bytes@example.test)"; do
	code=$(curl -s -o "$T/page" -w '%{http_code}' "$u")
	err=$(valid_utf8 "$T/page")
	if [ "$code" = 200 ] && [ -z "$err" ] && grep -q HOSTILE "$T/page" && ! grep -q '<b>x</b>' "$T/page" &&
		! grep -qP '[\x00\r]' "$T/page"; then ok "page ${u%%\?*}: 200, UTF-8, no raw NUL/CR, markup escaped"
	else fail "page $u: $code $err $(grep -c HOSTILE "$T/page")"; fi
done
# the digest: headers ASCII, no header smuggled in, body UTF-8
"$NDRGUARD" -c "$T/nd.conf" digest --dry-run --now --mailbox bytes@example.test > "$T/digest.mbox" 2>"$T/digest.err"; rc=$?
python3 - "$T/digest.mbox" <<'PY' > "$T/chk"; prc=$?
import sys
data = open(sys.argv[1], 'rb').read()
head = data.split(b'\n\n', 1)[0].split(b'\r\n\r\n', 1)[0]
problems = []
if b'HOSTILE' not in data and b'HOSTILE'.lower() not in data.lower():
    problems.append('subject not in the digest')
if any(b > 127 for b in head): problems.append('8-bit in the header')
if any(l.lower().startswith(b'bcc:') for l in data.replace(b'\r', b'\n').split(b'\n')):
    problems.append('a Bcc: line')
if b'\x00' in data: problems.append('NUL')
try: data.decode('utf-8')
except UnicodeDecodeError as e: problems.append(str(e))
print('; '.join(problems)); sys.exit(1 if problems else 0)
PY
[ $rc -eq 0 ] && [ $prc -eq 0 ] && ok "digest --dry-run: ASCII header, no Bcc: line, UTF-8 body" ||
	fail "digest: exit $rc ($(cat "$T/digest.err")) $(cat "$T/chk")"

# --- 4. CR LF in addresses and the envelope ------------------------------
got=$(lmtp '<' '> LHLO c' '<' 'bytes b"MAIL FROM:<a@b.test\rRCPT TO:<evil@example.test>>\r\n"' '<' \
	'> MAIL FROM:<>' '<' 'bytes b"RCPT TO:<bob@example.test\rRCPT TO:<evil@example.test>>\r\n"' '<' \
	'bytes b"RCPT TO:<bob@example.test\nRCPT TO:<evil@example.test>>\r\n"' '< 2' '> QUIT' '<' | tail -6 | cut -c1-9 | tr '\n' ' ')
# a bare LF ends a command line: the two halves are two bad commands
[ "$got" = "501 5.5.4 250 2.1.0 501 5.5.4 501 5.5.4 555 5.5.4 221 2.0.0 " ] &&
	ok "bare CR / LF inside MAIL FROM and RCPT TO: 501/555, no recipient taken" || fail "CR in addresses: $got"
rm -f "$T/sink"/*
bash "$top_srcdir/tests/integration/gen-mail.sh" ordinary "$T/plain.eml" bob@example.test >/dev/null
"$NDRGUARD" -c "$T/nd.conf" deliver -f $'x@example.net\r\nRCPT TO:<evil@example.test>' -q CRLF1 -- bob@example.test \
	< "$T/ndr/ndr-0003.eml" > "$T/out"; rc=$?
[ $rc -eq 75 ] && grep -q '^4\.' "$T/out" && [ "$(list_count queue_id=CRLF1)" = 0 ] &&
	ok "deliver -f with CR LF: 75, $(head -1 "$T/out"), nothing stored" ||
	fail "deliver -f with CR LF: exit $rc, $(cat "$T/out"), rows $(list_count queue_id=CRLF1)"
"$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q CRLF2 -- $'bob@example.test\r\nRCPT TO:<evil@example.test>' \
	< "$T/plain.eml" > "$T/out"; rc=$?
sleep 0.3
[ $rc -eq 75 ] && [ -z "$(ls "$T/sink")" ] && ok "deliver recipient with CR LF: 75, nothing sent" ||
	fail "deliver recipient with CR LF: exit $rc, sink: $(ls "$T/sink")"

# --- 5. SQL metacharacters in addresses ----------------------------------
EVIL1="\"x'; DROP TABLE quarantine; --\"@example.test"
EVIL2="o'brien\\\\\"q@example.test"
for a in "$EVIL1" "$EVIL2"; do
	got=$(deliver_lmtp "$a" "$T/ndr/ndr-0003.eml")
	case $got in "250 2.0.0 <$a> held"*) ok "LMTP RCPT TO:<$a>: held";; *) fail "RCPT TO:<$a>: $got";; esac
done
[ "$(list_count recipient="$EVIL1")" = 1 ] &&
	ok "stored literally, the table still there" || fail "metacharacter address not stored literally"
"$NDRGUARD" -c "$T/nd.conf" list --json --mailbox "$EVIL2" > "$T/list.json"
python3 - "$T/list.json" "$EVIL2" <<'PY' && ok "list --json shows $EVIL2 literally" || fail "list --mailbox $EVIL2: $(cat "$T/list.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(rows) == 1 and rows[0]['recipient'] == sys.argv[2] else 1)
PY
u=$("$WEB" -c "$T/nd.conf" --link mailbox "$EVIL1")
code=$(curl -s -o "$T/page" -w '%{http_code}' "$u")
[ "$code" = 200 ] && grep -qF "&quot;x&#39;; DROP TABLE quarantine; --&quot;@example.test" "$T/page" &&
	! grep -qF "\"x'; DROP" "$T/page" && ok "mailbox page shows the address, escaped" ||
	fail "mailbox page for $EVIL1: $code $(grep -o '.\{20\}DROP TABLE.\{40\}' "$T/page" | head -1)"

# --- 6. tokens: no message data without a valid one, on every route ------
got=$(deliver_lmtp bob@example.test "$T/ndr/ndr-0001.eml"); BOBID=${got##* }
got=$(deliver_lmtp alice@example.test "$T/ndr/ndr-0001.eml"); AID=${got##* }
link() { "$WEB" -c "$T/nd.conf" --link "$@"; }
past=$(( $(date +%s) - 60 ))
forge() { local u=$1 n=$((${#1} - 10)) c; c=${u:$n:1}; [ "$c" = A ] && c=B || c=A; echo "${u:0:$n}$c${u:$((n + 1))}"; }
# no_data NAME URL [curl args] - 401/403/404 and nothing of a message
no_data()
{
	local what=$1 url=$2 code; shift 2
	code=$(curl -s -o "$T/page" -w '%{http_code}' "$@" "$url")
	case $code in 401|403|404) ;; *) fail "$what: HTTP $code"; return;; esac
	if grep -qiE 'alice|bob@|Cheap watches|DROP TABLE|HOSTILE|r0[0-9]{4}@' "$T/page"; then
		fail "$what: HTTP $code shows message data: $(grep -oiE '.{0,20}(alice|bob@|Cheap watches).{0,20}' "$T/page" | head -1)"
	else ok "$what: HTTP $code, no message data"; fi
}
I=$(link item "$AID") IB=$(link item "$BOBID")
M=$(link mailbox alice@example.test) MB=$(link mailbox bob@example.test)
S=$(link settings alice@example.test) SB=$(link settings bob@example.test)
code=$(curl -s -o "$T/page" -w '%{http_code}' "$I")
[ "$code" = 200 ] && grep -q 'Cheap watches' "$T/page" && ok "item: a valid token shows the message" || fail "item, valid token: $code"
code=$(curl -s -o "$T/page" -w '%{http_code}' "$M")
[ "$code" = 200 ] && grep -q 'alice@example.test' "$T/page" && ok "mailbox: a valid token shows it" || fail "mailbox, valid token: $code"
no_data "item, no token" "$BASE/item/$AID"
no_data "item, empty token" "$BASE/item/$AID?t="
no_data "item, forged token" "$(forge "$I")"
no_data "item, truncated token" "${I%?}"
no_data "item, token with a character more" "${I}A"
no_data "item, expired token" "$(link item "$AID" --expires $past)"
no_data "item, another item's token" "$BASE/item/$AID?t=${IB##*t=}"
no_data "item, the mailbox token" "$BASE/item/$AID?t=${M##*t=}"
no_data "item, id spelled 0$AID" "$BASE/item/0$AID?t=${I##*t=}"
no_data "mailbox, no token" "$BASE/mailbox?m=alice%40example.test"
no_data "mailbox, forged token" "$(forge "$M")"
no_data "mailbox, truncated token" "${M%?}"
no_data "mailbox, expired token" "$(link mailbox alice@example.test --expires $past)"
no_data "mailbox, bob's token for alice" "$BASE/mailbox?m=alice%40example.test&t=${MB##*t=}"
no_data "mailbox, alice's token with m=ALICE" "$BASE/mailbox?m=ALICE%40example.test&t=${M##*t=}"
no_data "mailbox, the settings token" "$BASE/mailbox?m=alice%40example.test&t=${S##*t=}"
no_data "mailbox, the item token" "$BASE/mailbox?m=alice%40example.test&t=${I##*t=}"
# two m= fields: the token is checked against the one the page shows
code=$(curl -s -o "$T/page" -w '%{http_code}' "$MB&m=alice%40example.test")
case $code in 200) grep -q 'bob@example.test' "$T/page" && ! grep -q 'alice@example.test' "$T/page" &&
	ok "mailbox, bob's link with a second m=alice: bob's page only" || fail "second m=: alice's data shown";;
	403) ok "mailbox, bob's link with a second m=alice: 403";; *) fail "second m=: HTTP $code";; esac
for r in settings unsubscribe; do
	no_data "$r, no token" "$BASE/$r?m=alice%40example.test"
	no_data "$r, bob's token for alice" "$BASE/$r?m=alice%40example.test&t=${SB##*t=}"
	no_data "$r, the mailbox token" "$BASE/$r?m=alice%40example.test&t=${M##*t=}"
	no_data "$r, forged token" "$(forge "${S/\/settings/\/$r}")"
done
# POSTs too: a release without a valid token does nothing
code=$(curl -s -o "$T/page" -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' \
	--data "action=release&csrf=x" "$(forge "$I")")
[ "$code" = 403 ] && [ "$(item_state "$AID")" = held ] &&
	ok "POST release with a forged token: 403, still held" || fail "forged POST: $code $(item_state "$AID")"
no_data "admin, no credentials" "$BASE/admin"
no_data "admin, wrong password" "$BASE/admin" -u 'admin:wrong horse'
no_data "admin/stats, no credentials" "$BASE/admin/stats"
no_data "admin/stats, wrong password" "$BASE/admin/stats" -u 'admin:wrong horse'
code=$(curl -s -o "$T/page" -w '%{http_code}' -u 'admin:correct horse' "$BASE/admin")
[ "$code" = 200 ] && ok "admin with the password: 200" || fail "admin with the password: $code"
code=$(curl -s -o "$T/page" -w '%{http_code}' -u 'admin:correct horse' "$BASE/metrics")
[ "$code" = 200 ] && ! grep -qiE 'alice|bob@|@example' "$T/page" && ok "/metrics: counts only, no address" ||
	fail "/metrics: $code $(grep -iE '@example' "$T/page" | head -1)"

# --- 7. slowloris on LMTP ---------------------------------------------------
# a command trickled a byte a second: the 2 s are for the whole line
start=$SECONDS
# (each byte comes well within the timeout of the one before)
got=$(lmtp '<' 'bytes b"N"' 'sleep 0.8' 'bytes b"O"' 'sleep 0.8' 'bytes b"O"' 'sleep 1.4' '<' 2>&1 | tail -1)
case $got in "421 4.4.2"*) ok "trickled command: $got after $((SECONDS - start))s";; *) fail "trickled command: $got";; esac
# the message data stops for longer than lmtp_command_timeout
head -c 600 "$T/ndr/ndr-0003.eml" | sed 's/$/\r/' > "$T/half"
got=$(lmtp '<' '> LHLO c' '<' '> MAIL FROM:<>' '<' '> RCPT TO:<slow@example.test>' '<' '> DATA' '<' \
	"file $T/half" 'sleep 3' '<' 2>&1 | tail -1)
sleep 0.3
case $got in "421 4.4.2"*) [ "$(list_count recipient=slow@example.test)" = 0 ] &&
	ok "stalled DATA: $got, nothing held" || fail "stalled DATA: a row was held";;
	*) fail "stalled DATA: $got";; esac
alive && ok "daemon still answers after the slow clients" || fail "daemon gone"

# --- 8. a locked database: 4xx within busy_timeout, then held -------------
runuser -u $RUNAS -- python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE"); print("locked", flush=True); time.sleep(6)' "$T/db/q.db" > "$T/lock" & LOCKPID=$!
for _ in $(seq 50); do grep -q locked "$T/lock" && break; sleep 0.1; done
start=$SECONDS
got=$(deliver_lmtp lock@example.test "$T/ndr/ndr-0003.eml")
secs=$((SECONDS - start))
case $got in 4[0-9][0-9]" 4."*) ok "locked database: '$got' after ${secs}s";; *) fail "locked database: $got";; esac
wait $LOCKPID; LOCKPID=
got=$(deliver_lmtp lock@example.test "$T/ndr/ndr-0003.eml")
case $got in "250 2.0.0 <lock@example.test> held"*) ok "lock gone: the retry is held";; *) fail "after the lock: $got";; esac

# --- 9. config files with bad values -------------------------------------
printf 'storm_threshold = 3\nlmtp_listen = inet:127.0.0.1:1\0x\n' > "$T/nul.conf"
printf 'storm_threshold = 3\nlmtp_recipient_limit = 0\n' > "$T/range.conf"
chmod 644 "$T/nul.conf" "$T/range.conf"
"$NDRGUARDD" -c "$T/nul.conf" -t > "$T/out" 2>&1; rc=$?
[ $rc -eq 78 ] && grep -q "nul.conf: contains a NUL byte" "$T/out" && ok "config with a NUL byte: 78, $(cat "$T/out")" ||
	fail "config with a NUL: exit $rc $(cat "$T/out")"
"$NDRGUARD" -c "$T/range.conf" deliver -f '' -q CFG1 -- alice@example.test < "$T/ndr/ndr-0001.eml" > "$T/out" 2>&1; rc=$?
[ $rc -eq 78 ] && grep -q "^4.3.5 .*range.conf:2: lmtp_recipient_limit = 0: value out of range" "$T/out" &&
	ok "deliver, value out of range: 78 with 4.3.5 and FILE:LINE" || fail "out of range: exit $rc $(cat "$T/out")"

echo "$fails failures"
[ $fails -eq 0 ]
