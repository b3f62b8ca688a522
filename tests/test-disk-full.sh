#!/bin/bash
# test-disk-full.sh - a full disk defers deliveries, corrupts nothing, and
# everything goes through once there is space again
#
# The quarantine lives on a 1 MB tmpfs. A storm is delivered with
# `ndrguard deliver` until the file system is full: every message is
# either held (exit 0) or deferred with exit 75 and a 4.x.x diagnostic
# naming the cause. The database passes PRAGMA integrity_check (SQLite). Then the
# file system grows, the deferred messages are retried as Postfix would,
# and every message is held exactly once.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "needs root to mount a tmpfs"; exit 77; }

T=$(mktemp -d /tmp/ndrg-full.XXXXXX) && chmod 755 "$T"
mkdir -p "$T/db"
cleanup() { umount "$T/db" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
mount -t tmpfs -o size=1m,mode=755 tmpfs "$T/db" || { echo "cannot mount a tmpfs here"; exit 77; }
. "$top_srcdir/tests/lib.sh"
NDRG_CONF=$T/nd.conf

cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
busy_timeout = 2s
EOF
N=400
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$T/ndr" alice@example.test "F$$" >/dev/null
deliver() { "$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q "$1" -- alice@example.test < "$2"; }

: > "$T/deferred"
held=0 other=0
for m in "$T"/ndr/*.eml; do
	id=Q${m##*-}; id=${id%.eml}
	out=$(deliver "$id" "$m"); rc=$?
	case $rc in
	0) held=$((held + 1)) ;;
	75) echo "$id $m" >> "$T/deferred"; echo "$out" > "$T/last-defer" ;;
	*) other=$((other + 1)); echo "unexpected exit $rc: $out" ;;
	esac
done
deferred=$(wc -l < "$T/deferred")
echo "held $held, deferred $deferred, other $other"
[ "$other" -eq 0 ] && ok "only exit 0 or 75" || fail "$other other exits"
[ "$deferred" -gt 0 ] && ok "a full disk defers ($deferred of $N)" || fail "the disk never filled: raise N"
grep -qE '^4\.[0-9]\.[0-9] .*(full|disk)' "$T/last-defer" && ok "says why: $(cat "$T/last-defer")" \
	|| fail "diagnostic: $(cat "$T/last-defer" 2>/dev/null)"
sqlite_check "$T/db/q.db" 'PRAGMA integrity_check' ok "integrity_check ok while full"
[ "$(list_count)" = "$held" ] \
	&& ok "exactly the acknowledged ones are held" || fail "$(list_count) held, $held acknowledged"

# space again: Postfix's retries go through, none twice
mount -o remount,size=8m "$T/db"
while read -r id m; do
	deliver "$id" "$m" >/dev/null || fail "retry of $id"
done < "$T/deferred"
# and one acknowledged message retried (a lost exit status): not twice
deliver Q0001 "$T/ndr/ndr-0001.eml" >/dev/null || fail "retry of an acknowledged one"
[ "$(list_count)" = $N ] \
	&& ok "all $N held once after the retries" || fail "$(list_count) held"
[ "$(list_field queue_id | sort -u | wc -l)" -eq $N ] || fail "duplicates"
sqlite_check "$T/db/q.db" 'PRAGMA integrity_check' ok "integrity_check ok after"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
