#!/bin/bash
# test-daemon-digest.sh - ndrguardd sends the daily digest by itself
#
# Messages held by `ndrguard deliver` an hour ago, digest_time set to the
# current minute: ndrguardd's scheduler sends alice one digest through a
# real SMTP server (smtp-sink) on its first pass, logs it, and does not
# send it again on a restart the same day.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root (daemon_user)"; exit 77; }

T=$(mktemp -d /tmp/ndrg-dd.XXXXXX) && chmod 755 "$T"
SINKPID= DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

PORT=$(free_port) LPORT=$(free_port)
mkdir -p "$T/sink" "$T/db" && chmod 777 "$T/sink" && chown nobody "$T/db"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$PORT 64 & SINKPID=$!

cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
http_listen =
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 1
daemon_user = nobody
pid_file =
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:$PORT
digest_from = Quarantine Desk <postmaster@example.test>
digest_time = $(date +%H:%M)
EOF

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 3 "$T/ndr" alice@example.test "D$$" >/dev/null
for m in "$T"/ndr/*.eml; do
	runuser -u nobody -- "$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q "Q${m##*-}" -- alice@example.test < "$m" \
		|| fail "deliver $m"
done
# a fixture write: held an hour ago, before the digest_time of this minute
sqlite_fixture "$T/db/q.db" "UPDATE quarantine SET arrived = arrived - 3600"

start_daemon() {
	"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/daemon.log" & DPID=$!
}
stop_daemon() { kill "$DPID"; wait "$DPID"; DPID=; }

start_daemon
for _ in $(seq 100); do [ -n "$(ls "$T/sink")" ] && break; sleep 0.1; done
sleep 0.5
n=$(ls "$T/sink" | wc -l)
[ "$n" -eq 1 ] && ok "one digest sent on the first pass" || fail "$n digests in the sink"
f="$T/sink/$(ls "$T/sink" | head -1)"
if [ -f "$f" ]; then
	grep -q '^X-Rcpt-Args: <alice@example.test>' "$f" && ok "to alice" || fail "recipient: $(grep X-Rcpt "$f")"
	grep -q '^Auto-Submitted: auto-generated' "$f" && ok "Auto-Submitted" || fail "no Auto-Submitted"
	grep -qi '^Subject: .*3' "$f" && ok "subject counts 3" || fail "subject: $(grep -i '^Subject' "$f")"
	grep -q '^From: Quarantine Desk <postmaster@example.test>' "$f" && ok "From with its display name" \
		|| fail "from: $(grep '^From:' "$f")"
	grep -q '^X-Mail-Args: <postmaster@example.test>' "$f" && ok "envelope: the bare address" \
		|| fail "envelope: $(grep '^X-Mail-Args' "$f")"
	grep -q '^Subject: Held bounces for alice@example.test: 3' "$f" && ok "a plain subject, no product tag" \
		|| fail "subject: $(grep '^Subject' "$f")"
fi
grep -q 'digest: to=<alice@example.test>, items=3, status=sent' "$T/daemon.log" \
	&& ok "one log line for the digest" || fail "log: $(cat "$T/daemon.log")"
stop_daemon

# a restart the same day sends nothing again
rm -f "$T/sink"/*
start_daemon
sleep 2
stop_daemon
[ -z "$(ls "$T/sink")" ] && ok "no second digest after a restart" || fail "sent again after a restart"

[ $fails -eq 0 ] || { cat "$T/daemon.log"; echo "$fails failures"; exit 1; }
exit 0
