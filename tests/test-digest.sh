#!/bin/bash
# test-digest.sh - the daily digest end to end, into a real SMTP server
#
# Held messages come from `ndrguard deliver` (storm_threshold = 1, so the
# first bounce is held). Postfix's smtp-sink stands for digest_relay and
# writes each digest it accepts to a file; digest-check.py parses it with
# Python's email package. Covers: headers and both parts, counts, links,
# languages, legit first, a hostile subject, the relay refusing (451,
# 554), down, or hanging up after the data in the middle of a batch (one
# SMTP session carries several digests), a crash between the relay's
# 250 and the record, the second run of a day, the modes, and a
# 10,000-message storm. One markup for every language: an English, a
# Spanish and a German digest, each with its catalog's words in both
# parts, a From with a non-ASCII display name, the full-list link and a
# line per storm (its held messages and reporting servers counted).
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-digest.XXXXXX) && chmod 755 "$T"
SINKPID=
cleanup() { [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
CHECK="python3 $top_srcdir/tests/digest-check.py"

PORT=$((25000 + $$ % 5000))
mkdir -p "$T/sink" && chmod 777 "$T/sink"
start_sink() {
	"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." "$@" 127.0.0.1:$PORT 64 &
	SINKPID=$!
	wait_port "$PORT"
}
stop_sink() { [ -n "$SINKPID" ] && { kill "$SINKPID" 2>/dev/null; wait "$SINKPID" 2>/dev/null; }; SINKPID=; }

cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 1
storm_window = 10m
busy_timeout = 5s
our_relays = mail.example.test, 192.0.2.0/24
our_domains = example.test
digest_relay = smtp:127.0.0.1:$PORT
digest_from = Correo Señal <quarantine@example.test>
digest_timeout = 10s
base_url = https://q.example.test
secret_file = $T/secret
digest_templates = $top_srcdir/templates
EOF
# the digest's every decision on stderr too: the tests read them there
ng() { NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
# fixture writes only (held rows made older or in bulk, preferences);
# what a run did is read from its log lines and ndrguard's own verbs
fixture() { sqlite_fixture "$T/q.db" "$1"; }
# recorded - how many digests the store holds, pending or sent
recorded() { echo $(( $(store_total digest pending) + $(store_total digest sent) )); }
# logged_items MAILBOX STATUS [FILE] - items=N of the run's log line
logged_items() { sed -n "s/.*digest: to=<$1>, message-id=[^,]*, items=\([0-9]*\), status=$2.*/\1/p" "${3:-$T/run.err}"; }
# uncovered MAILBOX - its held messages no digest covers yet (a dry run)
uncovered() {
	ng digest --dry-run --now --mailbox "$1" 2>&1 >/dev/null |
		sed -n "s/.*digest: to=<$1>, message-id=[^,]*, items=\([0-9]*\), status=dry-run.*/\1/p" | grep . || echo 0
}
# digests - the digests in the sink (its files), for mailbox $1 if given
digests() {
	sleep 0.3
	grep -l "^X-Rcpt-Args: <${1:-}" "$T"/sink/* 2>/dev/null | sort
}
ndigests() { digests "${1:-}" | wc -l; }
run() { ng digest "$@" > "$T/run.out" 2> "$T/run.err"; }

# ---- held messages: alice (en, one unknown), bob (es), carol (a hostile
# subject), dave (never), frank (storms only)
hold() { # hold RCPT TAG COUNT [SED]
	bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$3" "$T/gen-$2" "$1" "$2" >/dev/null
	for m in "$T/gen-$2"/*.eml; do
		[ -n "${4:-}" ] && sed -i "$4" "$m"
		ng deliver -f '' -q "$2$(basename "$m" .eml | tr -dc 0-9)" -- "$1" < "$m" >/dev/null 2>&1 \
			|| fail "deliver $m"
	done
}
start_sink
hold alice@example.test A 6
# unknown: a bounce that returns nothing of the original
strip_original() { python3 -c '
import sys
s = open(sys.argv[1]).read()
i = s.index("Content-Description: Undelivered Message Headers")
j = s.rfind("\n--", 0, i)
open(sys.argv[1], "w").write(s[:j] + "\n--" + s.split("\n--")[-1])' "$1"; }
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 1 "$T/gen-U" alice@example.test U >/dev/null
strip_original "$T/gen-U/ndr-0001.eml"
ng deliver -f '' -q UNK1 -- alice@example.test < "$T/gen-U/ndr-0001.eml" >/dev/null 2>&1 || fail "deliver unknown"
hold bob@example.test B 3
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 1 "$T/gen-V" bob@example.test V >/dev/null
strip_original "$T/gen-V/ndr-0001.eml"
ng deliver -f '' -q UNK2 -- bob@example.test < "$T/gen-V/ndr-0001.eml" >/dev/null 2>&1 || fail "deliver unknown"
evil=$(printf '<script>alert(1)</script> caf\303\251\r\nBcc: evil@example.test' | base64 -w0)
hold carol@example.test C 2 "s/^Subject: Cheap watches .*/Subject: =?UTF-8?B?$evil?=/"
hold dave@example.test D 2
hold frank@example.test F 2
[ "$(held_count)" = 17 ] \
	&& ok "17 messages held" || fail "held: $(held_count)"
[ "$(ndigests)" = 0 ] || fail "something reached the sink while holding"
[ "$(list_field verdict queue_id=UNK1) $(list_field verdict queue_id=UNK2)" = "unknown unknown" ] && ok "a bounce without its original is held as unknown" || fail "UNK verdicts"
# a bounce of our own mail is never held (so never in a digest); mark one
# held message legit to see the order legit, unknown, backscatter
fixture "UPDATE quarantine SET verdict = 'legit' WHERE queue_id = 'A0003'"
fixture "INSERT INTO mailbox_pref (mailbox, digest, lang, changed) VALUES
	('bob@example.test', 'daily', 'es', 0),
	('dave@example.test', 'never', NULL, 0),
	('frank@example.test', 'storms', NULL, 0)"

# ---- a dry run prints and records nothing
run --dry-run --now --mailbox alice@example.test; rc=$?
[ $rc -eq 0 ] && grep -q '^From ndrguard-digest ' "$T/run.out" \
	&& grep -q '^To: alice@example.test$' "$T/run.out" \
	&& ok "dry run prints the digest" || fail "dry run: exit $rc"
[ "$(recorded)" = 0 ] && [ "$(ndigests)" = 0 ] && [ "$(uncovered alice@example.test)" = 7 ] \
	&& ok "dry run sends and records nothing" || fail "dry run recorded or sent"

# ---- the relay refusing or away: nothing marked, exit 75
for mode in "-r ." "-f ." "-f rcpt" ""; do
	stop_sink
	case $mode in
	"-r .") start_sink -r . ; what="451 after the data" ;;
	"-f .") start_sink -f . ; what="554 after the data" ;;
	"-f rcpt") start_sink -f rcpt ; what="554 to RCPT" ;;
	"") what="relay down" ;;
	esac
	run --now; rc=$?
	if [ $rc -eq 75 ] && [ "$(recorded)" = 0 ] && [ "$(uncovered alice@example.test)" = 7 ]; then
		ok "$what: exit 75, nothing marked"
	else
		fail "$what: exit $rc, recorded $(recorded)"; cat "$T/run.out" "$T/run.err"
	fi
	grep -q 'status=deferred' "$T/run.err" || fail "$what: no deferred log line"
done
stop_sink
rm -f "$T"/sink/*

# ---- the relay takes the data of the first digest of the batch (alice's)
# and hangs up without an answer: that digest stays pending and the next
# run sends the same bytes; the others of the batch never started and
# are dropped
start_sink -q .
run --now; rc=$?
pending=$(sed -n 's/.*digest: to=<alice@example.test>, message-id=\([^,]*\), .*status=unknown.*/\1/p' "$T/run.err")
[ $rc -eq 75 ] && [ -n "$pending" ] && grep -q 'alice@example.test.*status=unknown' "$T/run.err" \
	&& ok "no answer after the data: kept pending" || fail "hang-up: exit $rc, pending '$pending'"
[ "$(store_total digest pending)" = 1 ] && [ "$(recorded)" = 1 ] \
	&& [ "$(logged_items alice@example.test unknown)" = 7 ] && [ "$(uncovered alice@example.test)" = 0 ] \
	&& [ "$(uncovered bob@example.test)" = 4 ] \
	&& grep -q 'bob@example.test.*status=deferred' "$T/run.err" \
	&& ok "the rest of the batch: dropped, retried next run" \
	|| fail "rest of the batch: $(recorded) digests, alice $(uncovered alice@example.test) and bob $(uncovered bob@example.test) uncovered"
stop_sink
rm -f "$T"/sink/*

# ---- a crash after the relay's 250, before the record
start_sink
NDRGUARD_DIGEST_CRASH=accepted ng digest --now --mailbox alice@example.test >/dev/null 2>&1; rc=$?
[ $rc -eq 70 ] && [ "$(ndigests alice)" = 1 ] \
	&& [ "$(store_total digest pending)" = 1 ] && [ "$(store_total digest sent)" = 0 ] \
	&& ok "crash after the 250: one copy out, still pending" \
	|| fail "crash: exit $rc, $(ndigests alice) copies, $(store_total digest pending) pending"
# the copy out is the stored bytes of the pending digest, headers intact
# (that they are CRLF only is tests/unit/test-digest-mail's)
$CHECK "$(digests alice)" --mailbox alice@example.test > "$T/chk" \
	&& ok "the stored bytes: headers intact" || { fail "stored bytes"; grep FAIL "$T/chk"; }
run --now; rc=$?
[ $rc -eq 0 ] || { fail "run after the crash: exit $rc"; cat "$T/run.out" "$T/run.err"; }
ids=$(for f in $(digests alice); do grep -m1 '^Message-ID:' "$f"; done | sort -u)
[ "$(ndigests alice)" = 2 ] && [ "$(echo "$ids" | wc -l)" = 1 ] && [ "$ids" = "Message-ID: $pending" ] \
	&& ok "recovered: the same Message-ID sent again, not a new digest" \
	|| fail "recovery: $(ndigests alice) copies, ids: $ids"
cmp -s <(sed '1,/^Received: from/d' "$(digests alice | head -1)" | sed '1,2{/^	/d}') \
	<(sed '1,/^Received: from/d' "$(digests alice | tail -1)" | sed '1,2{/^	/d}') \
	&& ok "byte for byte the same message" || fail "the resent copy differs"
grep -q 'status=resent' "$T/run.err" || fail "no resent log line"
[ "$(logged_items alice@example.test resent)" = 7 ] && [ "$(uncovered alice@example.test)" = 0 ] \
	&& [ "$(store_total digest pending)" = 0 ] \
	&& ok "alice: one digest recorded, covering her 7 messages" || fail "alice's records"

# ---- what the others got in the same run
[ "$(ndigests bob)" = 1 ] && [ "$(ndigests carol)" = 1 ] && [ "$(ndigests frank)" = 1 ] \
	&& [ "$(ndigests dave)" = 0 ] && ok "bob, carol, frank got one each; dave (never) none" \
	|| fail "digests: bob $(ndigests bob) carol $(ndigests carol) frank $(ndigests frank) dave $(ndigests dave)"
# (a dry run counts them once dave wants digests again)
fixture "UPDATE mailbox_pref SET digest = 'daily' WHERE mailbox = 'dave@example.test'"
[ "$(uncovered dave@example.test)" = 2 ] \
	&& ok "dave's messages stay uncovered" || fail "dave's messages covered: $(uncovered dave@example.test) left"
fixture "UPDATE mailbox_pref SET digest = 'never' WHERE mailbox = 'dave@example.test'"
grep -q 'dave@example.test.*status=skipped' "$T/run.err" || fail "no skipped line for dave"

# servers MAILBOX - how many distinct reporting servers its held ones name
servers() { list_field reporting_mta recipient="$1" | tr A-Z a-z | sort -u | wc -l; }
# storms MAILBOX - how many storms its held ones belong to
storms() { list_field storm_id recipient="$1" | sort -u | wc -l; }
[ "$(storms alice@example.test)" = 1 ] && [ "$(storms bob@example.test)" = 1 ] \
	|| fail "fixture: one storm each expected"
FROM="Correo Señal <quarantine@example.test>"
# alice: English, 7 held, the legit one first
$CHECK "$(digests alice | tail -1)" --mailbox alice@example.test --lang en --total 7 \
	--from "$FROM" --storm "7 $(servers alice@example.test)" \
	--listed 7 --more 0 --legit 2 --first-heading "look at them first" \
	--first-item "$(list_field id queue_id=A0003)" \
	--contains "Your address is being forged" --contains "You did nothing wrong" \
	--contains "mx1.far-away.test" --contains "Cheap watches" --contains "the mailbox is full" \
	--not-contains "Forged subjects seen most" \
	> "$T/chk" && ok "alice's digest: headers, parts, counts, links, legit first" \
	|| { fail "alice's digest"; grep FAIL "$T/chk"; }
# bob: Spanish, RFC 2047 subject
$CHECK "$(digests bob)" --mailbox bob@example.test --lang es --total 4 --listed 4 --legit 1 \
	--from "$FROM" --storm "4 $(servers bob@example.test)" --more 0 \
	--first-heading "revíselos" \
	--first-item "$(list_field id queue_id=UNK2)" --contains "Alguien está falsificando su dirección" \
	> "$T/chk" && ok "bob's digest is Spanish" || { fail "bob's digest"; grep FAIL "$T/chk"; }
grep -q '^Subject: =?UTF-8?B?' "$(digests bob)" && ok "non-ASCII subject is RFC 2047 encoded" \
	|| fail "bob's subject: $(grep '^Subject:' "$(digests bob)")"
# gerd: German, from the one folder templates/de and no C of its own
# (digest_locale = de: sql/0003's mailbox_pref.lang admits en and es only)
hold gerd@example.test G 2
sed 's|^digest_relay|digest_locale = de\ndigest_relay|' "$T/ndrguard.conf" > "$T/de.conf"
NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/de.conf" digest --now --mailbox gerd@example.test \
	>/dev/null 2>"$T/run.err" || fail "gerd's run: $(cat "$T/run.err")"
[ "$(storms gerd@example.test)" = 1 ] || fail "fixture: gerd's storm"
$CHECK "$(digests gerd)" --mailbox gerd@example.test --lang de --total 2 --listed 2 \
	--from "$FROM" --storm "2 $(servers gerd@example.test)" --more 0 \
	--contains "Ihre Adresse wird gefälscht" --html-contains "Ihre Adresse wird gefälscht" \
	> "$T/chk" && ok "gerd's digest is German" || { fail "gerd's digest"; grep FAIL "$T/chk"; }
# the envelope sender stays the bare address, whatever the From's name
grep -q '^X-Mail-Args: <quarantine@example.test>' "$(digests gerd)" \
	&& ok "envelope sender: the bare address" \
	|| fail "envelope: $(grep -m1 '^X-Mail-Args' "$(digests gerd)")"
# carol: the hostile subject is text in both parts, never markup or a header
$CHECK "$(digests carol)" --mailbox carol@example.test --lang en --total 2 --listed 2 \
	--contains "<script>alert(1)</script> café  Bcc: evil@example.test" \
	--html-contains "&lt;script&gt;alert(1)&lt;/script&gt; café  Bcc: evil@example.test" \
	> "$T/chk" && ok "hostile subject escaped, CRLF kept inside the text, headers intact" \
	|| { fail "carol's digest"; grep FAIL "$T/chk"; }
grep -qi '^bcc:' "$(digests carol)" && fail "a Bcc header reached the wire"

# ---- the same day again: nothing
rm -f "$T"/sink/*
run --now; rc=$?
[ $rc -eq 0 ] && [ "$(ndigests)" = 0 ] && ok "second run the same day sends nothing" \
	|| fail "second run: exit $rc, $(ndigests) sent"
# a new bounce today: not due before the next digest_time...
hold alice@example.test A2 1
hold frank@example.test F2 1
run; rc=$?
[ $rc -eq 0 ] && [ "$(ndigests)" = 0 ] && grep -q 'alice@example.test.*not due' "$T/run.err" \
	&& ok "a new bounce waits for the next digest_time" || fail "not due: exit $rc, $(ndigests) sent"
# ...even when it is older than today's digest_time: one digest a day
fixture "UPDATE quarantine SET arrived = arrived - 2 * 86400 WHERE queue_id = 'A20001'"
run; [ "$(ndigests)" = 0 ] && ok "one digest a day" || fail "a second digest the same day"
# from cron (no terminal): nothing on stderr unless something went wrong
out=$("$NDRGUARD" -c "$T/ndrguard.conf" digest 2>&1 >/dev/null)
[ -z "$out" ] && ok "from cron, a run with nothing due says nothing on stderr" \
	|| fail "cron run wrote to stderr: $out"
# --now sends it; frank (storms only) has no new storm
run --now; rc=$?
[ $rc -eq 0 ] && [ "$(ndigests alice)" = 1 ] && [ "$(ndigests frank)" = 0 ] \
	&& grep -q 'frank@example.test.*storms only' "$T/run.err" \
	&& ok "--now sends alice's new one; frank (storms only) waits for a new storm" \
	|| fail "--now: exit $rc, alice $(ndigests alice), frank $(ndigests frank)"
$CHECK "$(digests alice)" --total 1 --listed 1 > "$T/chk" || { fail "alice's second digest"; grep FAIL "$T/chk"; }

# ---- a 10,000-message storm: a digest of bounded size
rm -f "$T"/sink/*
hold erin@example.test E 1
fixture "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
	INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, status, reason,
		reporting_mta, verdict, evidence, orig_subject, orig_from, orig_message_id,
		storm_id, state, state_changed, size, raw)
	SELECT 'E' || i, sender, recipient, arrived - i, kind, status, reason,
		'mx' || (i % 7) || '.far-away.test', verdict, evidence,
		CASE WHEN i % 2 = 0 THEN orig_subject ELSE orig_subject || ' ' || i END,
		orig_from, orig_message_id, storm_id, state, state_changed, size, raw
	FROM quarantine, n WHERE queue_id = 'E0001'"
start=$(date +%s%N)
run --now --mailbox erin@example.test; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
size=$(wc -c < "$(digests erin)")
$CHECK "$(digests erin)" --total 10000 --listed 50 --more 9950 --max-size 150000 \
	--contains "Forged subjects seen most" --contains "5000  Cheap watches 0001" \
	--contains "1429  mx1.far-away.test" > "$T/chk" \
	&& [ $rc -eq 0 ] && ok "10,000 held: 50 listed, 'and 9950 more', $size bytes, $ms ms" \
	|| { fail "10,000 storm: exit $rc"; grep FAIL "$T/chk"; }
[ "$(logged_items erin@example.test sent)" = 10000 ] && [ "$(uncovered erin@example.test)" = 0 ] \
	&& ok "the digest covers all 10,000" || fail "erin's digest covers $(logged_items erin@example.test sent)"

# ---- 120 mailboxes at once: three SMTP sessions of up to 50 digests
rm -f "$T"/sink/*
fixture "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
	INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, status, reason,
		reporting_mta, verdict, evidence, orig_subject, orig_from, orig_message_id,
		storm_id, state, state_changed, size, raw)
	SELECT 'M' || i, sender, 'm' || i || '@example.test', arrived, kind, status, reason,
		reporting_mta, verdict, evidence, orig_subject, orig_from, orig_message_id,
		storm_id, state, state_changed, size, raw
	FROM quarantine, n WHERE queue_id = 'E0001'"
# and one held for a recipient no digest can be addressed to: skipped,
# not an error that would fail every run
fixture "INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, verdict,
		state, state_changed, size, raw)
	SELECT 'ODD1', sender, 'odd name@example.test', arrived, kind, verdict, state,
		state_changed, size, raw FROM quarantine WHERE queue_id = 'E0001'"
run --now; rc=$?
grep -q 'odd name@example.test.*status=skipped' "$T/run.err" \
	&& ok "an unaddressable recipient is skipped" || fail "odd recipient not skipped"
[ $rc -eq 0 ] && [ "$(ndigests m)" = 120 ] \
	&& [ "$(grep -c 'digest: to=<m[0-9]*@example.test>, .*status=sent' "$T/run.err")" = 120 ] \
	&& [ "$(for f in $(digests m); do grep -m1 '^To:' "$f"; done | sort -u | wc -l)" = 120 ] \
	&& ok "120 mailboxes: 120 digests, each to its own mailbox, all recorded" \
	|| fail "120 mailboxes: exit $rc, $(ndigests m) received"

# ---- two runs at once (cron and the daemon): one digest per mailbox
rm -f "$T"/sink/*
fixture "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
	INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, status, reason,
		reporting_mta, verdict, evidence, orig_subject, orig_from, orig_message_id,
		storm_id, state, state_changed, size, raw)
	SELECT 'N' || i, sender, 'n' || i || '@example.test', arrived, kind, status, reason,
		reporting_mta, verdict, evidence, orig_subject, orig_from, orig_message_id,
		storm_id, state, state_changed, size, raw
	FROM quarantine, n WHERE queue_id = 'E0001'"
ng digest --now > "$T/par1.out" 2> "$T/par1.err" &
ng digest --now > "$T/par2.out" 2> "$T/par2.err"
wait $!
[ "$(ndigests n)" = 120 ] \
	&& [ "$(for f in $(digests n); do grep -m1 '^To:' "$f"; done | sort -u | wc -l)" = 120 ] \
	&& [ "$(cat "$T/par1.err" "$T/par2.err" | grep -c 'digest: to=<n[0-9]*@example.test>, .*status=sent')" = 120 ] \
	&& ok "two runs at once: 120 digests, none twice ($(cat "$T/par1.err" "$T/par2.err" | grep -c 'in progress') waited out)" \
	|| fail "two runs at once: $(ndigests n) received"

# ---- a mailbox's own digest time. digest_time is two hours ago, pat's
# last digest one hour ago: not due. Pat's own time ten minutes ago: due.
hhmm() { date -d "@$(( $(date +%s) - $1 * 60 ))" +%H:%M; }
# taken once: a minute may turn while the test runs
AGO120=$(hhmm 120) AGO10=$(hhmm 10)
sed "s|^digest_relay|digest_time = $AGO120\ndigest_relay|" "$T/ndrguard.conf" > "$T/time.conf"
fixture "INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, verdict,
		state, state_changed, size, raw)
	SELECT 'PAT1', sender, 'pat@example.test', arrived - 3 * 86400, kind, verdict,
		state, state_changed, size, raw FROM quarantine WHERE queue_id = 'E0001';
	INSERT INTO digest (mailbox, message_id, created, sent, state, item_count)
	VALUES ('pat@example.test', '<old.pat@example.test>', 0,
		strftime('%s', 'now') - 3600, 'sent', 0)"
rm -f "$T"/sink/*
NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test >/dev/null 2>"$T/run.err"
[ "$(ndigests pat)" = 0 ] && grep -q "pat@example.test.*not due before the next $AGO120" "$T/run.err" \
	&& ok "pat: not due at digest_time" || fail "pat at digest_time: $(ndigests pat) sent"
"$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test --set-time 25:00 2>/dev/null; rc=$?
[ $rc -eq 65 ] && ok "--set-time 25:00 refused (65)" || fail "--set-time 25:00: exit $rc"
# pat_dry - what a dry run (due or not, no --now) says of pat
pat_dry() { NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/time.conf" digest --dry-run --mailbox pat@example.test 2>&1 >/dev/null; }
"$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test --set-time "$AGO10" 2>/dev/null \
	&& pat_dry | grep -q 'pat@example.test.*status=dry' && ! pat_dry | grep -q 'not due' \
	|| fail "--set-time $AGO10: $(pat_dry)"
"$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test --set-time default 2>/dev/null \
	&& pat_dry | grep -q "pat@example.test.*not due before the next $AGO120" \
	&& ok "--set-time default: back to digest_time" || fail "--set-time default: $(pat_dry)"
"$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test --set-time "$AGO10" 2>/dev/null || fail "--set-time"
NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/time.conf" digest --mailbox pat@example.test >/dev/null 2>"$T/run.err"
[ "$(ndigests pat)" = 1 ] && ok "pat's own time $AGO10: due, sent" \
	|| { fail "pat at her own time: $(ndigests pat) sent"; cat "$T/run.err"; }

# ---- a broken template stops the run before anything is built
mkdir -p "$T/tpl" && cp -r "$top_srcdir/templates/." "$T/tpl/" && chmod -R u+w "$T/tpl"
printf 'ok\n{{#items}}\n' >> "$T/tpl/digest.html"
sed "s|^digest_templates = .*|digest_templates = $T/tpl|" "$T/ndrguard.conf" > "$T/bad.conf"
out=$("$NDRGUARD" -c "$T/bad.conf" digest --now 2>&1); rc=$?
case $out in *tpl/digest.html:*"{{#items}} is never closed"*) ok "broken template: exit $rc, $out" ;;
	*) fail "broken template: exit $rc, $out" ;; esac
[ $rc -eq 78 ] || fail "broken template: exit $rc, want 78"
# a language lacking a word the markup names: refused by file and key
rm -rf "$T/tpl" && mkdir -p "$T/tpl" && cp -r "$top_srcdir/templates/." "$T/tpl/" && chmod -R u+w "$T/tpl"
sed -i '/^digest.storm_servers.other =/d' "$T/tpl/de/messages"
out=$("$NDRGUARD" -c "$T/bad.conf" digest --now 2>&1); rc=$?
case $out in *"tpl/de/messages: missing digest.storm_servers.other (/"*"/tpl/digest."*)
	[ $rc -eq 78 ] && ok "a catalog without a digest word: exit $rc, $out" || fail "missing word: exit $rc" ;;
	*) fail "missing word: exit $rc, $out" ;; esac

# ---- started as root, the digest becomes the database's owner, so the
# files it creates (WAL, shared memory, link key) stay usable by the
# pipe agents; without a database there is nothing to do
mkdir -p "$T/own" && chmod 755 "$T/own"
fixture "VACUUM INTO '$T/own/q.db'"
sed -e "s|^database = .*|database = $T/own/q.db|" -e "s|^secret_file = .*|secret_file = $T/own/secret|" \
	"$T/ndrguard.conf" > "$T/own/ndrguard.conf"
chown -R nobody "$T/own"
"$NDRGUARD" -c "$T/own/ndrguard.conf" digest --dry-run --now >/dev/null 2>&1; rc=$?
owners=$(stat -c %U "$T/own/secret" "$T/own/q.db-shm" 2>/dev/null | sort -u)
[ $rc -eq 0 ] && [ "$owners" = nobody ] && ok "run as root, worked as the database's owner" \
	|| fail "privileges: exit $rc, owners '$owners'"
sed "s|^database = .*|database = $T/none/q.db|" "$T/ndrguard.conf" > "$T/none.conf"
out=$("$NDRGUARD" -c "$T/none.conf" digest --now 2>&1); rc=$?
[ $rc -eq 0 ] && [ ! -e "$T/none" ] && ok "no database: nothing to do ($out)" || fail "no database: exit $rc, $out"

# ---- the pipe agent stays free of libESMTP and OpenSSL
if command -v ldd >/dev/null; then
	ldd "$NDRGUARD" | grep -E 'esmtp|crypto|ssl' && fail "ndrguard links libESMTP or OpenSSL" \
		|| ok "ndrguard (the pipe agent) links neither libESMTP nor OpenSSL"
fi

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
