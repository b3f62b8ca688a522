#!/bin/bash
# test-decisions-log.sh - decisions visible without a syslog daemon
#
# `log = file:/path` and `log = stderr` carry the pipe agent's lines
# (the queue id first) where syslog would; `ndrguard log` reads the
# decisions back from the audit trail, filtered by time and mailbox.
# Also: `list` has a header row (not with --json), and a postmaster's
# usage or config error carries no SMTP status code, while deliver's
# diagnostics for Postfix keep theirs.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-declog.XXXXXX) && chmod 755 "$T"
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }

cat > "$T/file.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
log = file:$T/ndrguard.log
CONF
sed "s|^log = .*|log = stderr|" "$T/file.conf" > "$T/stderr.conf"
ng() { "$NDRGUARD" -c "$T/file.conf" "$@"; }

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 3 "$T/gen" alice@example.test dl >/dev/null
i=0
for m in "$T/gen"/*.eml; do
	i=$((i + 1))
	ng deliver -f '' -q "QA$i" -- alice@example.test < "$m" 2>/dev/null || fail "deliver $m"
done
grep -q ' ndrguard\[[0-9]*\]: QA1: .*alice@example.test' "$T/ndrguard.log" \
	&& ok "log = file: the pipe agent's line, queue id first" || fail "log file: $(cat "$T/ndrguard.log" 2>&1)"
expect "log = file: a line per message" 3 "$(grep -c ': QA[0-9]: ' "$T/ndrguard.log")"
"$NDRGUARD" -c "$T/stderr.conf" deliver -f '' -q QB1 -- bob@example.test \
	< "$T/gen/ndr-0001.eml" > /dev/null 2> "$T/err"
grep -q 'QB1: .*bob@example.test' "$T/err" && ok "log = stderr: the line on stderr" || fail "stderr: $(cat "$T/err")"
grep -q 'QB1' "$T/ndrguard.log" && fail "log = stderr still wrote the file" || true
ALICE1=$(ng list --json --mailbox alice@example.test | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ng delete "$ALICE1" > /dev/null || fail "delete $ALICE1"

# ndrguard log
ng log --json > "$T/log.json" || fail "ndrguard log --json: exit $?"
python3 - "$T/log.json" "$ALICE1" <<'PY' && ok "log --json: 4 quarantined, then the delete, with queue ids" || fail "log --json: $(cat "$T/log.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
acts = [r["action"] for r in rows]
assert acts == ["quarantined"] * 4 + ["deleted"], acts
assert [r["queue_id"] for r in rows[:4]] == ["QA1", "QA2", "QA3", "QB1"], rows
assert rows[4]["id"] == int(sys.argv[2]) and rows[4]["mailbox"] == "alice@example.test", rows[4]
assert all(r["kind"] == "ndr_failed" and r["verdict"] for r in rows), rows
PY
expect "log --mailbox BOB@example.test" 1 "$(ng log --json --mailbox BOB@example.test | grep -c '"queue_id":"QB1"')"
expect "log --since a date to come" 0 "$(ng log --json --since 2099-01-01 | wc -l)"
expect "log --since 1h" 5 "$(ng log --since 1h | wc -l)"
ng log | grep -q '^[0-9T:Z-]* quarantined .*alice@example.test queue_id=QA1 kind=ndr_failed' \
	&& ok "log: text lines" || fail "log text: $(ng log | head -n 2)"
expect "log --limit 2 keeps the newest" "QB1 QA1" "$(ng log --limit 2 | sed 's/.*queue_id=\([^ ]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"

# usage and config errors: words for a person, no status code
ng log --since whenever > /dev/null 2> "$T/err"; rc=$?
expect "log --since whenever: exit" 64 "$rc"
grep -q '^ndrguard log: --since takes' "$T/err" && ok "usage error without a status code" || fail "usage: $(cat "$T/err")"
printf 'database = %s/q.db\nbogus = 1\n' "$T" > "$T/bad.conf"
"$NDRGUARD" -c "$T/bad.conf" list > /dev/null 2> "$T/err"; rc=$?
expect "bad config, list: exit" 78 "$rc"
grep -q '^ndrguard: .*bad.conf:2: unknown parameter' "$T/err" && ok "config error without a status code" \
	|| fail "config error: $(cat "$T/err")"
"$NDRGUARD" -c "$T/bad.conf" deliver -f '' -- a@example.test < /dev/null > /dev/null 2> "$T/err"
grep -q '^4\.3\.5 ndrguard: .*bad.conf:2' "$T/err" && ok "deliver keeps its 4.3.5 for Postfix" || fail "deliver: $(cat "$T/err")"
printf 'log = file:relative.log\n' > "$T/bad.conf"
"$NDRGUARD" -c "$T/bad.conf" config > /dev/null 2> "$T/err"; rc=$?
expect "log = file:relative: exit" 78 "$rc"
grep -q 'bad.conf:1: log = file:relative.log: takes syslog, stderr or file:/absolute/path' "$T/err" \
	&& ok "log = file:relative is refused, naming the line" || fail "bad log: $(cat "$T/err")"

# list: a header row, none with --json
ng list > "$T/list"
head -n 1 "$T/list" | grep -q '^ID  *ARRIVED  *STATE  *KIND  *RECIPIENT  *SUBJECT' && ok "list: header row" \
	|| fail "list header: $(head -n 1 "$T/list")"
ng list --json | head -n 1 | python3 -c 'import json,sys; json.load(sys.stdin)' && ok "list --json: no header" \
	|| fail "list --json starts with something else"

echo "decisions-log: $fails failed"
[ $fails -eq 0 ]
