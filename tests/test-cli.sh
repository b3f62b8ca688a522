#!/bin/bash
# test-cli.sh - the postmaster's verbs against a real quarantine database
#
# list, show, release, delete and purge on messages held by a real
# `ndrguard deliver`, with releases re-injected into a real SMTP server
# (smtp-sink) and compared byte for byte.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-cli.XXXXXX) && chmod 755 "$T"
SINKPID=
cleanup() { [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
expect_rc() { # expect_rc WANT WHAT -- command...
	want=$1 what=$2; shift 3
	"$@" > "$T/out" 2> "$T/err"; rc=$?
	[ $rc -eq "$want" ] && ok "$what: exit $rc" || { fail "$what: exit $rc, expected $want"; cat "$T/out" "$T/err"; }
}

PORT=$((25000 + $$ % 5000))
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$PORT 64 & SINKPID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 1
quarantine_days = 14
EOF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }

# before anything was held
expect_rc 66 "list without a database" -- ng list
grep -q "no database at $T/q.db" "$T/err" && ok "says where it looked" || fail "no-database message: $(cat "$T/err")"

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 5 "$T/ndr" alice@example.test "C$$" >/dev/null
i=0
for m in "$T"/ndr/*.eml; do
	i=$((i + 1))
	ng deliver -f '' -q "Q$i" -- alice@example.test < "$m" || fail "deliver $i"
done
ng deliver -f '' -q Q9 -- bob@example.test < "$T/ndr/ndr-0001.eml" || fail "deliver bob"

# list
expect_rc 0 "list" -- ng list
[ "$(wc -l < "$T/out")" -eq 7 ] && ok "list shows 6 held under a header" || fail "list: $(cat "$T/out")"
sed -n 2p "$T/out" | grep -q 'bob@example.test' && ok "newest first" || fail "order: $(sed -n 2p "$T/out")"
expect_rc 0 "list --mailbox --json" -- ng list --mailbox ALICE@example.test --json
python3 - "$T/out" <<'PY' && ok "JSON lines parse, 5 for alice, fields present" || fail "list --json"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 5, rows
for r in rows:
    assert r["recipient"] == "alice@example.test" and r["state"] == "held"
    assert r["kind"] == "ndr_failed" and r["sender"] == "" and r["size"] > 0
    assert r["arrived"].endswith("Z")
PY
expect_rc 64 "list --state bogus" -- ng list --state bogus
expect_rc 64 "list --since nonsense" -- ng list --since yesterdayish
expect_rc 0 "list --since 1h" -- ng list --since 1h
[ "$(wc -l < "$T/out")" -eq 7 ] || fail "--since 1h: $(wc -l < "$T/out") rows"

# stats and storms
expect_rc 0 "stats" -- ng stats
grep -q '^storms: 2 active, 0 past$' "$T/out" && ok "stats: two storms" || fail "stats: $(cat "$T/out")"
grep -qE '^  alice@example.test +5$' "$T/out" && ok "stats: alice most targeted" || fail "stats top: $(cat "$T/out")"
expect_rc 0 "stats --json" -- ng stats --json
python3 - "$T/out" <<'PY' && ok "stats JSON parses and counts 6 held" || fail "stats --json: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["storms_active"] == 2 and d["storms_past"] == 0, d
assert sum(k["count"] for k in d["kinds"] if k["state"] == "held") == 6, d
assert d["mailboxes"][0] == {"name": "alice@example.test", "count": 5}, d
assert d["domains"] == [{"name": "example.test", "count": 6}], d
PY
expect_rc 0 "storms --json" -- ng storms --json
python3 - "$T/out" <<'PY' && ok "storms: bob's newest, both active" || fail "storms: $(cat "$T/out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["mailbox"] for r in rows] == ["bob@example.test", "alice@example.test"], rows
assert all(r["ended"] is None for r in rows) and rows[1]["held"] == 5, rows
PY
expect_rc 64 "stats --top 0" -- ng stats --top 0

# show
id=$(list_field id queue_id=Q3)
expect_rc 0 "show" -- ng show "$id"
grep -q '^queue_id: *Q3$' "$T/out" && grep -q '^sender: *<>$' "$T/out" && ok "show has the envelope" || fail "show: $(cat "$T/out")"
expect_rc 0 "show --raw" -- ng show --raw "$id"
cmp -s "$T/out" "$T/ndr/ndr-0003.eml" && ok "show --raw is the exact message" || fail "show --raw differs"
expect_rc 66 "show of an unknown id" -- ng show 99999
expect_rc 64 "show of a non-number" -- ng show 12abc
expect_rc 64 "show of a negative id" -- ng show -- -5

# release
NDRGUARD_LOG_STDERR=1 expect_rc 0 "release" -- ng release "$id"
sleep 0.3
f=$(ls "$T/sink" | head -1)
if [ -n "$f" ]; then
	sed '1,/^Received: from/d' "$T/sink/$f" | sed -e '1,2{/^	/d}' -e '${/^$/d}' > "$T/got"
	cmp -s "$T/got" "$T/ndr/ndr-0003.eml" && ok "released message arrived byte for byte" || fail "released copy differs"
	grep -q '^X-Rcpt-Args: <alice@example.test>' "$T/sink/$f" && grep -q '^X-Mail-Args: <>' "$T/sink/$f" \
		&& ok "original envelope kept" || fail "envelope changed"
else
	fail "nothing reached the sink"
fi
[ "$(item_state "$id")" = released ] && ok "state released" || fail "state: $(item_state "$id")"
grep -q "id=$id: released by cli:" "$T/err" && [ "$(store_total audit released)" = 1 ] &&
	ok "audited, the log names the releaser" || fail "audit: $(store_total audit released) $(cat "$T/err")"
expect_rc 66 "second release" -- ng release "$id"
grep -q 'not held any more' "$T/err" || fail "second release message: $(cat "$T/err")"
[ "$(ls "$T/sink" | wc -l)" -eq 1 ] && ok "second release re-injected nothing" || fail "second release re-injected"

# release while the next hop is down: stays held
id2=$(list_field id queue_id=Q4)
kill "$SINKPID"; wait "$SINKPID" 2>/dev/null; SINKPID=
expect_rc 75 "release with the next hop down" -- ng release "$id2"
[ "$(item_state "$id2")" = held ] && ok "still held" || fail "state changed without delivery"

# delete
expect_rc 0 "delete" -- ng delete "$id2"
[ "$(item_state "$id2")" = deleted ] && ok "state deleted" || fail "delete"
expect_rc 66 "delete of an unknown id among good ones" -- ng delete 424242
expect_rc 64 "release without ids" -- ng release

# purge: two messages made 20 days old expire, the others stay
# (a fixture write: the store has no clock of its own to turn back)
sqlite_fixture "$T/q.db" "UPDATE quarantine SET arrived = arrived - 20*86400 WHERE queue_id IN ('Q1','Q2')"
expect_rc 0 "purge" -- ng purge
grep -q 'expired 2 messages older than 14 days' "$T/out" && ok "purge says 2 expired" || fail "purge: $(cat "$T/out")"
nraw=0
for e in $(list_field id state=expired); do nraw=$((nraw + $(item_raw "$e" | wc -c))); done
[ "$(list_count state=expired)" = 2 ] && [ $nraw -eq 0 ] && ok "expired bytes dropped" || fail "expire: $nraw bytes left"
[ "$(store_total audit expired)" = 2 ] && ok "expiry audited" || fail "expiry audit: $(store_total audit expired)"
[ "$(held_count)" = 2 ] && ok "younger ones still held" || fail "held after purge: $(held_count)"
expect_rc 0 "purge again" -- ng purge
grep -q 'expired 0 messages' "$T/out" || fail "second purge: $(cat "$T/out")"
sqlite_check "$T/q.db" 'PRAGMA integrity_check' ok "integrity_check ok"
sqlite_check "$T/q.db" 'PRAGMA auto_vacuum' 2 "incremental auto_vacuum"

for v in deliver inspect config list show release delete purge stats storms log digest; do
	out=$(ng $v --help </dev/null 2>&1); rc=$?
	[ $rc -eq 0 ] && case $out in *"usage: ndrguard"*"$v"*) true;; *) false;; esac \
		|| fail "$v --help: exit $rc: $out"
done
ok "--help on every verb"
expect_rc 64 "unknown verb" -- ng frobnicate
[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
