#!/bin/bash
# test-purge-load.sh - purge while a storm is being delivered loses nothing
#
# 20,000 held messages older than quarantine_days are expired by
# `ndrguard purge` while four `ndrguard deliver` agents hold 200 new ones
# at the same time. Afterwards: every old one is expired (its bytes gone,
# an audit line each), every new one is held, no delivery failed or was
# deferred for longer than the busy timeout, and the database is intact.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-purge.XXXXXX) && chmod 755 "$T"
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

cat > "$T/nd.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
quarantine_days = 14
busy_timeout = 30s
EOF
OLD=20000 NEW=200
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr $NEW "$T/ndr" alice@example.test "P$$" >/dev/null
# one real delivery creates and migrates the database; its row is the
# model for the old ones
"$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q SEED -- bob@example.test < "$T/ndr/ndr-0001.eml" || fail "seed"
# a fixture write: 20,000 rows older than the clock can make them
sqlite_fixture "$T/q.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $OLD)
	INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, verdict, state, state_changed, size, raw)
	SELECT 'OLD' || i, '', 'bob@example.test', arrived - 20 * 86400 - i, kind, verdict, 'held', arrived, size, raw
	FROM n, quarantine WHERE queue_id = 'SEED'" || fail "making old rows"

ls "$T"/ndr/*.eml > "$T/list"
( xargs -P4 -I{} sh -c 'f={}; id=${f##*/}; "$0" -c "$1" deliver -f "" -q "N$id" -- alice@example.test < "$f" || echo "$f $?" >> "$2"' \
	"$NDRGUARD" "$T/nd.conf" "$T/failed" < "$T/list" ) &
loadpid=$!
"$NDRGUARD" -c "$T/nd.conf" purge > "$T/purge.out" 2>&1 || fail "purge: $(cat "$T/purge.out")"
wait $loadpid
cat "$T/purge.out"

[ ! -s "$T/failed" ] && ok "all $NEW deliveries exited 0 during the purge" || fail "deliveries failed: $(head -3 "$T/failed")"
NDRG_CONF=$T/nd.conf
list_json > "$T/all.json" || fail "list"
count() { lib_list_select count "$@" < "$T/all.json"; }
# the bytes gone: the oldest, the newest and one between of the old ones
nraw=0
for e in $(lib_list_select id 'queue_id~OLD*' < "$T/all.json" | sed -n '1p;9999p;$p'); do
	nraw=$((nraw + $(item_raw "$e" | wc -c)))
done
[ "$(count 'queue_id~OLD*' state=expired)" -eq $OLD ] && [ $nraw -eq 0 ] \
	&& ok "all $OLD old messages expired" || fail "expired: $(count 'queue_id~OLD*' state=expired), $nraw bytes left"
[ "$(count 'queue_id~N*' state=held)" -eq $NEW ] \
	&& ok "all $NEW new messages held" || fail "new held: $(count 'queue_id~N*' state=held)"
[ "$(store_total audit expired)" -eq $OLD ] && ok "one audit line per expiry" || fail "audit: $(store_total audit expired)"
grep -q "expired $OLD messages" "$T/purge.out" && ok "purge reports the count" || fail "purge output"
sqlite_check "$T/q.db" 'PRAGMA integrity_check' ok "integrity_check ok"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
