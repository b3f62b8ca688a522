#!/bin/bash
# test-deliver.sh - ndrguard deliver end to end, re-injecting over SMTP
#
# A real SMTP server (Postfix's smtp-sink) stands for the re-injection
# listener; each message it receives is written to a file, so the test
# compares what arrived with what was sent. Covers: byte-for-byte pass
# through (dot-stuffing, CRLF), the storm threshold, retries not stored
# twice, and tempfail (75) when the next hop or the database fails.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }

T=$(mktemp -d /tmp/ndrg-deliver.XXXXXX) && chmod 755 "$T"
SINKPID=
cleanup() { [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

PORT=$((20000 + $$ % 5000))
mkdir -p "$T/sink" && chmod 777 "$T/sink"
start_sink() {
	"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." "$@" 127.0.0.1:$PORT 64 &
	SINKPID=$!
	wait_port "$PORT"
}
stop_sink() { kill "$SINKPID" 2>/dev/null; wait "$SINKPID" 2>/dev/null; SINKPID=; }

cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 3
storm_window = 10m
busy_timeout = 2s
EOF
deliver() { "$NDRGUARD" -c "$T/ndrguard.conf" deliver "$@"; }
# body_of FILE - what smtp-sink received, without the lines it added
body_of() { sed '1,/^Received: from/d' "$1" | sed -e '1,2{/^	/d}' -e '${/^$/d}'; }
sunk() { sleep 0.3; ls "$T/sink" | wc -l; }

start_sink

# 1. an ordinary message with a null sender passes through unchanged
printf 'From: a@example.net\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\n.starts with a dot\r\n..two dots\r\nplain\r\n.\r\nlast line\r\n' > "$T/plain.eml"
out=$(deliver -f '' -q PLAIN1 -- alice@example.test < "$T/plain.eml"); rc=$?
[ $rc -eq 0 ] || fail "ordinary message: exit $rc ($out)"
if [ "$(sunk)" -ne 1 ]; then fail "ordinary message did not reach the sink"; else
	f=$(ls "$T/sink" | head -1)
	tr -d '\r' < "$T/plain.eml" > "$T/plain.lf"
	body_of "$T/sink/$f" > "$T/got.lf"
	if cmp -s "$T/plain.lf" "$T/got.lf"; then ok "ordinary message passed byte for byte"
	else fail "ordinary message changed"; diff "$T/plain.lf" "$T/got.lf" | head; fi
	grep -q '^X-Mail-Args: <>' "$T/sink/$f" && ok "null sender kept" || fail "sender not <>"
	grep -q '^X-Rcpt-Args: <alice@example.test>' "$T/sink/$f" || fail "recipient changed"
fi
[ ! -e "$T/q.db" ] && ok "a non-bounce never opens the database" || fail "database opened for a non-bounce"
rm -f "$T/sink"/*

# 2. a storm: threshold 3 -> 2 passed, the rest held, counted exactly
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 6 "$T/ndr" alice@example.test "T$$" >/dev/null
i=0
for m in "$T"/ndr/*.eml; do
	i=$((i + 1))
	out=$(deliver -f '' -q "NDR$i" -- alice@example.test < "$m"); rc=$?
	[ $rc -eq 0 ] || fail "NDR $i: exit $rc ($out)"
done
n=$(sunk)
[ "$n" -eq 2 ] && ok "2 NDRs below the threshold passed" || fail "$n NDRs passed, expected 2"
[ "$(held_count recipient=alice@example.test)" = 4 ] && ok "4 NDRs held" || fail "held: $(held_count)"
item_raw "$(list_field id queue_id=NDR6)" > "$T/raw6"
cmp -s "$T/ndr/ndr-0006.eml" "$T/raw6" && ok "held copy is the exact bytes" || fail "held copy differs"

# 3. a retry of a held message is not stored twice
deliver -f '' -q NDR6 -- alice@example.test < "$T/ndr/ndr-0006.eml" >/dev/null; rc=$?
[ $rc -eq 0 ] && [ "$(held_count queue_id=NDR6)" = 1 ] && ok "retry stored once" \
	|| fail "retry: exit $rc, rows $(held_count queue_id=NDR6)"

# 4. mail to another mailbox is not affected by alice's storm
deliver -f '' -q BOB1 -- bob@example.test < "$T/ndr/ndr-0001.eml" >/dev/null || fail "bob's NDR"
[ "$(held_count recipient=bob@example.test)" = 0 ] && [ "$(sunk)" -eq 3 ] && ok "bob's NDR passed" || fail "bob's NDR not passed"

# 4b. a bounce of mail that really left through our relay is delivered
#     even in alice's storm; without our_relays it would have been held
sed -e 's/^Received: from pc[0-9]*\.dsl\.dialup\.test (unknown \[198\.51\.100\.[0-9]*\])/Received: from mx-out.example.test (mx-out.example.test [192.0.2.25])/' \
	-e 's/^Message-ID: <spam\./Message-ID: <real./' "$T/ndr/ndr-0005.eml" > "$T/legit.eml"
grep -q '^Received: from mx-out.example.test' "$T/legit.eml" || fail "could not make the legit bounce"
cp "$T/ndrguard.conf" "$T/relays.conf"
echo "our_relays = mx-out.example.test, 192.0.2.0/24" >> "$T/relays.conf"
out=$("$NDRGUARD" -c "$T/relays.conf" inspect --json "$T/legit.eml")
case $out in *'"verdict":"legit"'*) ok "inspect: legit";; *) fail "inspect verdict: $out";; esac
before=$(sunk)
NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/relays.conf" deliver -f '' -q LEGIT1 -- alice@example.test < "$T/legit.eml" 2> "$T/legit.log"; rc=$?
[ $rc -eq 0 ] && [ "$(sunk)" -eq $((before + 1)) ] && [ "$(held_count queue_id=LEGIT1)" = 0 ] \
	&& ok "legit bounce delivered during the storm" || fail "legit bounce: exit $rc, $(cat "$T/legit.log")"
grep -q 'LEGIT1: to=<alice@example.test>, from=<>, kind=ndr_failed, verdict=legit, action=pass' "$T/legit.log" \
	&& ok "log line keyed by queue id says legit, pass" || fail "log line: $(cat "$T/legit.log")"
NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/relays.conf" deliver -f '' -q SPAM7 -- alice@example.test < "$T/ndr/ndr-0004.eml" 2> "$T/spam.log"
grep -q 'SPAM7: .*verdict=backscatter, action=quarantine, storm=3+/10m, id=' "$T/spam.log" \
	&& ok "forged bounce judged backscatter and held" || fail "backscatter log: $(cat "$T/spam.log")"

# 5. the next hop down: tempfail
stop_sink
out=$(deliver -f '' -q DOWN1 -- carol@example.test < "$T/plain.eml"); rc=$?
[ $rc -eq 75 ] && ok "next hop down: exit 75" || fail "next hop down: exit $rc"
case $out in 4.*) ok "diagnostic starts with 4.x.x: $out";; *) fail "diagnostic: $out";; esac

# 6. the next hop rejecting the data: tempfail, never acknowledged
start_sink -f data
out=$(deliver -f '' -q REJ1 -- carol@example.test < "$T/plain.eml"); rc=$?
[ $rc -eq 75 ] && ok "next hop rejecting at DATA: exit 75 ($out)" || fail "next hop rejecting: exit $rc ($out)"
stop_sink

# 7. the database cannot be written: tempfail, naming the database
sed -i "s|^database = .*|database = $T/missing-dir/q.db|" "$T/ndrguard.conf"
out=$(deliver -f '' -q DB1 -- alice@example.test < "$T/ndr/ndr-0001.eml"); rc=$?
[ $rc -eq 75 ] && ok "database unavailable: exit 75" || fail "database unavailable: exit $rc"
case $out in 4.*missing-dir*) ok "says which database";; *) fail "diagnostic: $out";; esac

# 8. a bad config: 78 naming file and line
printf 'storm_threshold = 3\nstorm_windw = 5m\n' > "$T/bad.conf"
out=$("$NDRGUARD" -c "$T/bad.conf" deliver -f '' -- a@b < /dev/null 2>&1); rc=$?
[ $rc -eq 78 ] && ok "bad config: exit 78" || fail "bad config: exit $rc"
case $out in *bad.conf:2:*storm_windw*) ok "names file, line and parameter";; *) fail "bad config message: $out";; esac

# 9. usage errors tempfail rather than bounce
out=$(deliver -q X < /dev/null); rc=$?
[ $rc -eq 75 ] && ok "usage error: exit 75" || fail "usage error: exit $rc"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
