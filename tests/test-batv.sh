#!/bin/bash
# test-batv.sh - a recipient's BATV tag decides its bounce, through
# ndrguard batv and ndrguard deliver
#
# Re-injection goes to tests/slow-smtp.py, which saves each message with
# its envelope (X-Envelope) before it answers. storm_threshold = 1 and
# an untagged bounce first: alice is in a storm, so whatever passes
# passed because of its tag (the untagged cases that must be metered use
# storm_threshold = 2, so that their first bounce passes).
#  - a valid tag passes during the storm, to the untagged address
#  - alice's tag replayed for bob is held at once: bad signature
#  - a tag signed 30 days ago (batv sign --at) is held at once: expired
#  - untagged with batv_untagged = hold, batv_since long past: held at once
#  - the same with batv_since in the future: metered, the first passes
#  - batv verify: 0 for a valid tag, 65 with the reason for a bad one
#  - ndrguardd (LMTP): a valid tag passes untagged, a replayed one is held
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
T=$(mktemp -d /tmp/ndrg-batv.XXXXXX)
SMTPPID= DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SMTPPID" ] && kill "$SMTPPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

PORT=$(free_port)
mkdir "$T/smtp"
python3 "$top_srcdir/tests/slow-smtp.py" "$PORT" "$T/smtp" &
SMTPPID=$!
wait_port "$PORT"

(umask 077 && printf '# batv keys\n3 batv-test-secret-0123456789abcdef\n' > "$T/batv.keys")
# conf UNTAGGED SINCE [THRESHOLD] - the config with batv_untagged,
# batv_since and storm_threshold (default 1)
conf() {
	cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = ${3:-1}
storm_window = 1h
batv_key_file = $T/batv.keys
batv_domains = example.test
batv_days = 7
batv_untagged = $1
batv_since = $2
EOF
}
# bounce ID RCPT - an RFC 3464 NDR of a message to a remote address
bounce() {
	cat <<EOF
From: MAILER-DAEMON@mx.remote.test
To: $2
Subject: Undelivered Mail Returned to Sender
Message-ID: <$1@mx.remote.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

--BB
Content-Type: text/plain

Your message could not be delivered.

--BB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.test

Final-Recipient: rfc822; x@remote.test
Action: failed
Status: 5.1.1

--BB
Content-Type: text/rfc822-headers

From: someone <$(echo "$2" | sed 's/^prvs=[^=]*=//')>
To: x@remote.test
Subject: hello $1
Message-ID: <$1@forged.example>

--BB--
EOF
}
deliver() {
	bounce "$1" "$2" | NDRGUARD_LOG_STDERR=1 ndrg deliver -f '' -q "$1" -- "$2" 2>"$T/$1.log"
}
held() { if [ -f "$T/q.db" ]; then held_count queue_id="$1"; else echo 0; fi; }
ev() { list_field evidence queue_id="$1"; }
# rcpt_of ID - the RCPT TO the re-injection sent for bounce ID
rcpt_of() {
	f=$(grep -l "^Message-ID: <$1@mx.remote.test>" "$T"/smtp/msg-*.eml 2>/dev/null | head -1)
	[ -n "$f" ] && head -1 "$f" | tr -d '\r' | sed -n 's/.*RCPT TO:\(<[^>]*>\).*/\1/Ip'
}

conf hold 2020-01-01
# 1. alice's storm: an untagged bounce with batv_untagged = hold and
#    batv_since long past is held from the first message
deliver UNT1 alice@example.test; rc=$?
[ $rc -eq 0 ] && [ "$(held UNT1)" = 1 ] && [ "$(ev UNT1)" = "batv: untagged" ] &&
	ok "untagged, batv_untagged = hold: held from the first" ||
	fail "untagged hold: exit $rc, held $(held UNT1), evidence '$(ev UNT1)'"
grep -q "evidence=batv: untagged" "$T/UNT1.log" && ok "the log line names batv: untagged" ||
	fail "log line: $(cat "$T/UNT1.log")"

# 2. a valid tag: not held in the storm, passed on untagged
TAG=$(ndrg batv sign alice@example.test); rc=$?
case "$TAG" in prvs=3?????????=alice@example.test) ok "batv sign: $TAG" ;;
	*) fail "batv sign: exit $rc, '$TAG'" ;; esac
[ "$(ndrg batv verify "$TAG")" = alice@example.test ] && ok "batv verify: valid, the untagged address" ||
	fail "batv verify of a fresh tag"
deliver VALID "$TAG"; rc=$?
[ $rc -eq 0 ] && [ "$(held VALID)" = 0 ] && [ "$(list_count queue_id=VALID)" = 0 ] &&
	ok "a valid tag is not held during alice's storm" ||
	fail "valid tag: exit $rc, held $(held VALID)"
[ "$(rcpt_of VALID)" = "<alice@example.test>" ] && ok "passed on to the untagged address" ||
	fail "valid tag passed on with RCPT '$(rcpt_of VALID)'"
grep -q "evidence=batv: valid tag" "$T/VALID.log" && ok "the log line names batv: valid tag" ||
	fail "log line: $(cat "$T/VALID.log")"

# 3. alice's tag replayed for bob: held at once, bad signature
REPLAY="${TAG%alice@example.test}bob@example.test"
err=$(ndrg batv verify "$REPLAY" 2>&1 >/dev/null); rc=$?
[ $rc -eq 65 ] && case "$err" in *"bad signature"*) true ;; *) false ;; esac &&
	ok "batv verify: a replayed tag exits 65, bad signature" || fail "verify replay: exit $rc, '$err'"
deliver REPLAY "$REPLAY"; rc=$?
[ $rc -eq 0 ] && [ "$(held REPLAY)" = 1 ] && [ "$(ev REPLAY)" = "batv: bad signature" ] &&
	[ "$(list_field recipient queue_id=REPLAY)" = bob@example.test ] &&
	ok "a replayed tag is held at once for bob's mailbox: bad signature" ||
	fail "replayed tag: exit $rc, held $(held REPLAY), evidence '$(ev REPLAY)'"
[ -z "$(rcpt_of REPLAY)" ] && ok "the replayed tag's bounce was not passed on" || fail "replay passed on"

# 4. a tag made 30 days ago: expired, held at once
OLD=$(ndrg batv sign --at "$(date -u -d '30 days ago' +%F)" carol@example.test)
deliver EXPIRED "$OLD"; rc=$?
[ $rc -eq 0 ] && [ "$(held EXPIRED)" = 1 ] && [ "$(ev EXPIRED)" = "batv: expired" ] &&
	ok "an expired tag is held at once" ||
	fail "expired tag ($OLD): exit $rc, held $(held EXPIRED), evidence '$(ev EXPIRED)'"

# 5. batv_since in the future: untagged bounces are metered (threshold 2
#    here: metered, the first passes; held at once, it would not)
conf hold "$(date -u -d '+30 days' +%F)" 2
deliver FUTURE dave@example.test; rc=$?
[ $rc -eq 0 ] && [ "$(held FUTURE)" = 0 ] && [ "$(rcpt_of FUTURE)" = "<dave@example.test>" ] &&
	ok "batv_since in the future: the first untagged bounce passes" ||
	fail "batv_since future: exit $rc, held $(held FUTURE)"

# 6. batv_untagged = meter: the same as without BATV
conf meter 2020-01-01 2
deliver METER erin@example.test; rc=$?
[ $rc -eq 0 ] && [ "$(held METER)" = 0 ] && ok "batv_untagged = meter: the first untagged bounce passes" ||
	fail "meter: exit $rc, held $(held METER)"

# 7. reject is refused with the reason
conf reject 2020-01-01
out=$(ndrg config 2>&1); rc=$?
[ $rc -ne 0 ] && case "$out" in *"policy service"*) true ;; *) false ;; esac &&
	ok "batv_untagged = reject is refused: no policy service yet" || fail "reject: exit $rc, '$out'"

# 8. a key file others may read is refused
conf hold 2020-01-01
chmod 644 "$T/batv.keys"
bounce LOOSE alice@example.test | ndrg deliver -f '' -q LOOSE -- alice@example.test >/dev/null 2>&1; rc=$?
[ $rc -eq 78 ] && ok "a key file readable by others: EX_CONFIG, nothing acknowledged" || fail "loose key file: exit $rc"
chmod 600 "$T/batv.keys"

# 9. the same verdicts through ndrguardd's LMTP service, as nobody with
#    its own database (the key file is read at start, as root)
if [ -n "${NDRGUARDD:-}" ] && [ "$(id -u)" = 0 ]; then
	LPORT=$(free_port) HPORT=$(free_port)
	chmod 755 "$T" && mkdir "$T/db" && chown nobody "$T/db"
	conf hold 2020-01-01
	sed -i "s|^database = .*|database = $T/db/q.db|" "$T/ndrguard.conf"
	printf '%s\n' "lmtp_listen = inet:127.0.0.1:$LPORT" \
		"http_listen = inet:127.0.0.1:$HPORT" \
		"base_url = http://127.0.0.1:$HPORT" "secret_file = $T/secret" \
		"pid_file = $T/db/nd.pid" "daemon_user = nobody" \
		"digest_templates = $top_srcdir/templates" \
		"digest_relay = smtp:127.0.0.1:9" >> "$T/ndrguard.conf"
	"$NDRGUARDD" -c "$T/ndrguard.conf" -f 2>>"$T/nd.log" &
	DPID=$!
	wait_port "$LPORT"
	TAG2=$(ndrg batv sign frank@example.test)
	# the store as the daemon's user sees it
	NDRG_USER=nobody
	REPLAY2="${TAG2%frank@example.test}gina@example.test"
	bounce LVALID "$TAG2" > "$T/lvalid.eml"
	bounce LREPLAY "$REPLAY2" > "$T/lreplay.eml"
	got=$(printf '%s\n' '<' '> LHLO c' '<' '> MAIL FROM:<>' '<' \
		"> RCPT TO:<$TAG2>" '<' '> DATA' '<' "data $T/lvalid.eml" '<' \
		'> MAIL FROM:<>' '<' "> RCPT TO:<$REPLAY2>" '<' '> DATA' '<' \
		"data $T/lreplay.eml" '<' '> QUIT' '<' |
		python3 "$top_srcdir/tests/lmtp-client.py" "127.0.0.1:$LPORT")
	case "$got" in *"passed on"*) true ;; *) false ;; esac &&
		[ "$(rcpt_of LVALID)" = "<frank@example.test>" ] && [ "$(held_count recipient=frank@example.test)" = 0 ] &&
		ok "LMTP: a valid tag is passed on to the untagged address" ||
		fail "LMTP valid tag: RCPT '$(rcpt_of LVALID)', held $(held_count recipient=frank@example.test): $got"
	# no XFORWARD here: no queue id, the mailbox tells the items apart
	[ "$(held_count recipient=gina@example.test)" = 1 ] &&
		[ "$(list_field evidence recipient=gina@example.test)" = "batv: bad signature" ] &&
		ok "LMTP: a replayed tag is held at once" ||
		fail "LMTP replayed tag: $(list_json)"
	NDRG_USER=
fi
[ $fails -eq 0 ]
