#!/bin/bash
# test-daemon-reload.sh - SIGHUP applies the new settings, or names those
# that need a restart
#
# ndrguardd runs with its release page, admin password A, release_mode
# = direct and a digest_time that is not due. The file then gets
# password B, release_mode = request, release_notify, a digest_time that
# is due, another digest_from, and two parameters read only at start
# (lmtp_listen, http_threads); after SIGHUP, over HTTP: B opens /admin
# and A does not, the item page asks for release and a POST records a
# request (mailed to the new release_notify, the message stays held);
# the scheduler sends alice her digest from the new digest_from at once;
# the log names lmtp_listen and http_threads and LMTP is still served on
# the old port only. A file with a bad value is then refused whole.
# Last, ndrguard-web takes a new admin password on SIGHUP as well.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root (daemon_user)"; exit 77; }

T=$(mktemp -d /tmp/ndrg-reload.XXXXXX) && chmod 755 "$T"
SINKPID= DPID= WEBPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null && wait "$WEBPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
WAIT=$((${NDRGUARD_TEST_WAIT:-5} * 20))	# rounds of 0.1 s

SPORT=$(free_port) LPORT=$(free_port) LPORT2=$(free_port) HPORT=$(free_port)
mkdir -p "$T/sink" "$T/db" && chmod 777 "$T/sink" && chown nobody "$T/db"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 & SINKPID=$!
wait_port "$SPORT"

HASH_A=$(echo 'password A' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }
HASH_B=$(echo 'password B' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }

# write_conf HASH MODE DIGEST_TIME DIGEST_FROM LMTP_PORT HTTP_THREADS [EXTRA]
write_conf() {
	cat > "$T/nd.conf.new" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$5
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
http_rate_limit = 0
http_threads = $6
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
daemon_user = nobody
pid_file =
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:$SPORT
digest_from = $4
digest_time = $3
release_mode = $2
release_notify = notify@example.test
admin_user = pm
admin_password_hash = $1
${7:-}
EOF
	mv "$T/nd.conf.new" "$T/nd.conf"
}
as_nobody() { runuser -u nobody -- "$@"; }
get() { local p=$1; shift; curl -s -o "$T/body" -w '%{http_code}' "$@" "http://127.0.0.1:$HPORT$p"; }
post() { local p=$1; shift; get "$p" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
has() { grep -q -- "$1" "$T/body"; }
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }
state_of() { as_nobody "$NDRGUARD" -c "$T/nd.conf" list --json | sed -n "s/^{\"id\":$1,.*\"state\":\"\([a-z]*\)\".*/\1/p"; }
# sink_to ADDR - the first message the sink got for ADDR; digest_to -
# the first digest (a released message goes to alice too)
sink_to() { grep -l "^X-Rcpt-Args: <$1>" "$T/sink"/* 2>/dev/null | head -1; }
digest_to() {
	grep -l "^X-Rcpt-Args: <$1>" "$T/sink"/* 2>/dev/null | xargs -r grep -l '^Message-ID: <digest\.' | head -1
}
wait_log() {
	for _ in $(seq "$WAIT"); do grep -q -- "$1" "$T/daemon.log" && return 0; sleep 0.1; done
	return 1
}
lmtp_greets() { timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 3 <&3" 2>/dev/null; }

# held before the daemon starts: digest_time is the minute they arrive
# in, so no digest is due (a digest lists what arrived before its time)
M0=$(date +%H:%M)
write_conf "$HASH_A" direct "$M0" postmaster@example.test "$LPORT" 4
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 2 "$T/ndr" alice@example.test "H$$" >/dev/null
for m in "$T"/ndr/*.eml; do
	as_nobody "$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q "Q${m##*-}" -- alice@example.test < "$m" \
		|| fail "deliver $m"
done
M1=$(date +%H:%M)
I1=$(as_nobody "$NDRGUARD" -c "$T/nd.conf" list --json | sed -n 's/^{"id":\([0-9]*\),.*/\1/p' | tail -1)
[ -n "$I1" ] || { echo "nothing held"; exit 99; }

"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/daemon.log" & DPID=$!
wait_port "$HPORT"
wait_port "$LPORT"
ITEM=$("$WEB" -c "$T/nd.conf" --link item "$I1")
ITEM=${ITEM#"http://127.0.0.1:$HPORT"}

expect "before: admin, password A" 200 "$(get /admin -u 'pm:password A')"
expect "before: admin, password B" 401 "$(get /admin -u 'pm:password B')"
expect "before: item page" 200 "$(get "$ITEM")"
has "Release to my mailbox" && ok "before: the button releases" || fail "before: no Release button"

# a digest_time after the messages arrived: wait for the next minute
for _ in $(seq 65); do [ "$(date +%H:%M)" != "$M1" ] && break; sleep 1; done
M2=$(date +%H:%M)
[ -z "$(digest_to alice@example.test)" ] && ok "before: no digest (not due)" || fail "digest before the reload"

write_conf "$HASH_B" request "$M2" quarantine@example.test "$LPORT2" 2
kill -HUP "$DPID"
wait_log "reload: configuration read" && ok "reload logged" || fail "no reload line"

# the release page
expect "after: admin, password B" 200 "$(get /admin -u 'pm:password B')"
expect "after: admin, password A" 401 "$(get /admin -u 'pm:password A')"
expect "after: item page" 200 "$(get "$ITEM")"
has "Ask for release" && ok "after: the button asks" || fail "after: no Ask button"
C=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/body" | head -1)
expect "after: press the button" 200 "$(post "$ITEM" -d "csrf=$C")"
has "sent to the postmaster" && ok "after: the page says a request went out" \
	|| fail "after: page says $(sed -e 's/<[^>]*>//g' "$T/body" | grep -i releas | head -2)"
expect "after: message" held "$(state_of "$I1")"
for _ in $(seq "$WAIT"); do [ -n "$(sink_to notify@example.test)" ] && break; sleep 0.1; done
[ -n "$(sink_to notify@example.test)" ] && ok "after: the new release_notify is mailed" \
	|| fail "after: no mail to release_notify"

# the scheduler: woken by the reload, with the new digest_time and from
for _ in $(seq "$WAIT"); do [ -n "$(digest_to alice@example.test)" ] && break; sleep 0.1; done
f=$(digest_to alice@example.test)
if [ -n "$f" ]; then
	ok "after: digest sent at the new digest_time"
	grep -qi '^From:.*quarantine@example.test' "$f" && ok "after: digest from the new digest_from" \
		|| fail "after: digest $(grep -i '^From:' "$f")"
else
	fail "after: no digest"
fi
grep -q 'digest: to=<alice@example.test>, items=2, status=sent' "$T/daemon.log" \
	&& ok "after: the digest is logged" || fail "after: no digest log line"

# the parameters read only at start
grep 'reload: needs a restart' "$T/daemon.log" > "$T/restart.log"
grep -q "lmtp_listen (running \"inet:127.0.0.1:$LPORT\", file \"inet:127.0.0.1:$LPORT2\")" "$T/restart.log" \
	&& ok "restart: lmtp_listen named with both values" || fail "restart: $(cat "$T/restart.log")"
grep -q 'http_threads (running "4", file "2")' "$T/restart.log" \
	&& ok "restart: http_threads named" || fail "restart: $(cat "$T/restart.log")"
grep -Eq 'admin_password_hash|release_mode|digest_time' "$T/restart.log" \
	&& fail "restart: names a parameter that applies on reload" || ok "restart: names only those"
expect "restart: LMTP on the old port" 220 "$(lmtp_greets "$LPORT")"
[ -z "$(lmtp_greets "$LPORT2")" ] && ok "restart: nothing on the new port" || fail "restart: new port answers"

# a bad file is refused whole: the running settings stay
write_conf "$HASH_A" direct "$M2" postmaster@example.test "$LPORT2" 2 'base_url = javascript:alert(1)'
kill -HUP "$DPID"
wait_log "reload: .*base_url.*keeping the running configuration" \
	&& ok "bad file: refused, naming base_url" || fail "bad file: $(tail -3 "$T/daemon.log")"
expect "bad file: admin, password B still" 200 "$(get /admin -u 'pm:password B')"
expect "bad file: admin, password A still refused" 401 "$(get /admin -u 'pm:password A')"

kill "$DPID"; wait "$DPID"; rc=$?; DPID=
expect "daemon exit status" 0 "$rc"

# ndrguard-web: SIGHUP as well
write_conf "$HASH_A" direct "$M2" postmaster@example.test "$LPORT" 4
"$WEB" -c "$T/nd.conf" -f > "$T/web.out" 2> "$T/web.log" & WEBPID=$!
wait_port "$HPORT"
expect "ndrguard-web: password A" 200 "$(get /admin -u 'pm:password A')"
write_conf "$HASH_B" direct "$M2" postmaster@example.test "$LPORT" 4
kill -HUP "$WEBPID"
for _ in $(seq "$WAIT"); do grep -q "reload: configuration read" "$T/web.log" && break; sleep 0.1; done
expect "ndrguard-web after: password B" 200 "$(get /admin -u 'pm:password B')"
expect "ndrguard-web after: password A" 401 "$(get /admin -u 'pm:password A')"

[ $fails -eq 0 ] || { cat "$T/daemon.log"; cat "$T/web.log"; echo "$fails failures"; exit 1; }
exit 0
