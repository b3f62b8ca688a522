#!/bin/bash
# test-storm-over.sh - a storm is active only while its messages keep coming
#
# A storm's row stays open until the next message ends it, so a mailbox
# whose bounces stopped kept showing "1 active" for days. Two configs
# read one database: storm_cooldown 1h (the storm goes on) and 1s, after
# which it is over in `ndrguard stats`, `ndrguard storms`, /metrics and
# the admin statistics page.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-stormover.XXXXXX) && chmod 755 "$T"
WEBPID=
cleanup() { [ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }

HASH=$(echo 'stats pass' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }
cat > "$T/long.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
storm_cooldown = 1h
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
base_url = http://ndrguard.test
http_rate_limit = 0
digest_templates = $top_srcdir/templates
admin_user = pm
admin_password_hash = $HASH
CONF
sed 's/^storm_cooldown = .*/storm_cooldown = 1s/' "$T/long.conf" > "$T/short.conf"
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 2 "$T/gen" alice@example.test over >/dev/null
for m in "$T/gen"/*.eml; do
	"$NDRGUARD" -c "$T/long.conf" deliver -f '' -q "Q$(basename "$m" .eml | tr -dc 0-9)" \
		-- alice@example.test < "$m" || fail "deliver $m"
done
expect "cooldown 1h: stats, active" 1 "$("$NDRGUARD" -c "$T/long.conf" stats --json | json 'd["storms_active"]')"
expect "cooldown 1h: storms --active" 1 "$("$NDRGUARD" -c "$T/long.conf" storms --active --json | grep -c '"id"')"

# let the short cooldown pass: two whole seconds after the last arrival
last=$("$NDRGUARD" -c "$T/long.conf" storms --json | json 'd["last_seen"]')
sleep 2.2
expect "cooldown 1s: stats, active" 0 "$("$NDRGUARD" -c "$T/short.conf" stats --json | json 'd["storms_active"]')"
expect "cooldown 1s: stats, past" 1 "$("$NDRGUARD" -c "$T/short.conf" stats --json | json 'd["storms_past"]')"
"$NDRGUARD" -c "$T/short.conf" stats | grep -q '^storms: 0 active, 1 past' \
	&& ok "cooldown 1s: stats text says 0 active" || fail "stats: $("$NDRGUARD" -c "$T/short.conf" stats | head -n 1)"
expect "cooldown 1s: storms --active" 0 "$("$NDRGUARD" -c "$T/short.conf" storms --active --json | grep -c '"id"')"
ended=$("$NDRGUARD" -c "$T/short.conf" storms --json | json 'd["ended"]')
[ "$ended" != None ] && ok "cooldown 1s: storms lists it ended ($ended, last message $last)" \
	|| fail "storms: still no end"
"$NDRGUARD" -c "$T/short.conf" storms | grep -q ' active ' && fail "storms text still says active" \
	|| ok "cooldown 1s: storms text shows an end"

"$WEB" -c "$T/short.conf" > "$T/out" 2> "$T/web.log" &
WEBPID=$!
URL=
for _ in $(seq 50); do URL=$(sed -n 's/^listening on //p' "$T/out"); [ -n "$URL" ] && break; sleep 0.1; done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }
curl -s -u 'pm:stats pass' "$URL/metrics" > "$T/metrics"
grep -q '^ndrguard_storms_active 0$' "$T/metrics" && ok "/metrics: ndrguard_storms_active 0" \
	|| fail "/metrics: $(grep '^ndrguard_storms_active' "$T/metrics")"
curl -s -u 'pm:stats pass' "$URL/admin/stats" > "$T/stats.html"
grep -q 'alice@example.test' "$T/stats.html" || fail "the stats page shows no storm"
fill=$(grep -o '<rect class="storm"[^>]*fill="[^"]*"' "$T/stats.html" | sed 's/.*fill="//; s/"$//')
expect "/admin/stats: the storm's bar is grey, as storms that are over" '#9ca3af' "$fill"

echo "storm-over: $fails failed"
[ $fails -eq 0 ]
