#!/bin/bash
# test-config-check.sh - `ndrguardd -t` refuses what the daemon cannot use
#
# For each bad value in the table, `ndrguardd -t` exits 78 with a message
# naming the parameter, and starting the daemon fails with exit 78 and
# the very same message (one check for both: daemon_config_load()).
# `ndrguard config` refuses the file as well. The good values pass -t,
# and the daemon starts with them.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}" "${top_builddir:?}"

T=$(mktemp -d /tmp/ndrg-check.XXXXXX) && chmod 755 "$T"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

LPORT=$(free_port) HPORT=$(free_port)
USER_OK=nobody
[ "$(id -u)" = 0 ] || USER_OK=$(id -un)
mkdir -p "$T/db" && chown "$USER_OK" "$T/db"
HASH=$(echo 'a password' | "$top_builddir/web/ndrguard-web" --hash-password) || { echo "hash failed"; exit 99; }
# the same hash with 5 iterations: well formed, but the page refuses it
WEAK=$(echo "$HASH" | sed 's/^pbkdf2-sha256\$[0-9]*\$/pbkdf2-sha256$5$/')
SALT=$(echo "$HASH" | cut -d'$' -f3)
printf 'abc' > "$T/shortkey" && chmod 600 "$T/shortkey"

base_conf() {
	cat <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
reinject = smtp:127.0.0.1:25
daemon_user = $USER_OK
pid_file =
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
EOF
}

# NAME<TAB>LINES: the message must name NAME; LINES (\n between lines)
# are appended to the good config, so they override it
BAD=$(cat <<EOF
digest_from	digest_from = Quarantine <q@example.test
digest_from	digest_from = Quarantine <"q"@example.test>
digest_from	digest_from = "q"@example.test
digest_from	digest_from = q@
digest_from	digest_from = a@b@example.test
digest_from	digest_from = q@example..test
release_notify	release_notify = Postmaster <pm@example.test>
release_notify	release_notify = pm@example.test, other@example.test
admin_password_hash	admin_user = pm\nadmin_password_hash = $WEAK
admin_password_hash	admin_user = pm\nadmin_password_hash = pbkdf2-sha256\$99999999999\$$SALT\$AAAA
admin_password_hash	admin_user = pm\nadmin_password_hash = pbkdf2-sha256\$210000\$!!!!\$AAAA
admin_password_hash	admin_user = pm\nadmin_password_hash = pbkdf2-sha256\$210000\$$SALT\$AAAA
admin_password_hash	admin_user = pm\nadmin_password_hash = a password
admin_password_hash	admin_user = pm
admin_user	admin_password_hash = $HASH
admin_user	admin_user = p:m\nadmin_password_hash = $HASH
base_url	base_url = javascript:alert(1)
base_url	base_url = http://q.example.test/"><script>alert(1)</script>
base_url	base_url = http://q.example.test/'onmouseover='x
base_url	base_url = ftp://q.example.test
base_url	base_url = http://
base_url	base_url = http://me@q.example.test
base_url	base_url = http://q.example.test/?a=1
base_url	base_url = http://q.example.test/a b
base_url	base_url =
reinject	reinject = smtp:127.0.0.1:99999
reinject	reinject = sendmail:$T/no-such-sendmail
digest_relay	digest_relay = smtp:127.0.0.1:0
lmtp_listen	lmtp_listen = inet:127.0.0.1:70000
http_listen	http_listen = inet:127.0.0.1:$LPORT
metrics_listen	http_listen =\nmetrics_listen = inet:127.0.0.1:$HPORT
digest_time	digest_time = 24:00
digest_time	digest_time = 7:00
digest_templates	digest_templates = $T/nowhere
digest_templates	digest_templates = templates
digest_locale	digest_locale = fr
database	database = q.db
pid_file	pid_file = run/ndrguardd.pid
secret_file	secret_file = $T/shortkey
EOF
)
[ "$(id -u)" = 0 ] && BAD="$BAD
daemon_user	daemon_user = no-such-user-ndrguard"

GOOD=$(cat <<EOF
digest_from = postmaster
digest_from = quarantine@example.test
release_notify =
release_notify = postmaster
base_url = https://q.example.test/quarantine/
base_url = http://[::1]:8480
admin_user = pm\nadmin_password_hash = $HASH
reinject = sendmail:/bin/true
metrics_listen = inet:127.0.0.1:0\nhttp_listen = inet:127.0.0.1:0
digest_time = 23:59
EOF
)

# daemon_start CONF - the daemon's exit status, or "started" if it
# listened; its stderr in $T/start.err
daemon_start() {
	"$NDRGUARDD" -c "$1" -f 2> "$T/start.err" & DPID=$!
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 40))); do
		kill -0 "$DPID" 2>/dev/null || break
		(exec 3<>"/dev/tcp/127.0.0.1/$LPORT") 2>/dev/null && break
		sleep 0.05
	done
	if kill -0 "$DPID" 2>/dev/null; then
		kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
		echo started
		return
	fi
	wait "$DPID"; echo $?; DPID=
}

n=0
while IFS=$'\t' read -r name lines; do
	n=$((n + 1))
	conf=$T/bad$n.conf
	{ base_conf; printf '%b\n' "$lines"; } > "$conf"
	what="$name: $(printf '%b' "$lines" | tail -1)"
	"$NDRGUARDD" -c "$conf" -t > "$T/t.out" 2> "$T/t.err"; rc=$?
	if [ $rc -eq 78 ] && grep -q -- "$name" "$T/t.err"; then
		ok "-t refuses $what"
	else
		fail "-t: $what: exit $rc: $(cat "$T/t.out" "$T/t.err")"
	fi
	rc=$(daemon_start "$conf")
	if [ "$rc" = 78 ] && cmp -s "$T/t.err" "$T/start.err"; then
		ok "start refuses it the same way"
	else
		fail "start: $what: $rc: $(head -3 "$T/start.err")"
	fi
	case $name in
	digest_templates|digest_locale|reinject|secret_file|daemon_user) ;;	# the daemon's own checks
	*)	"$NDRGUARD" -c "$conf" config > /dev/null 2> "$T/c.err"; rc=$?
		[ $rc -eq 78 ] && grep -q -- "$name" "$T/c.err" && ok "ndrguard config refuses it too" \
			|| fail "ndrguard config: $what: exit $rc: $(cat "$T/c.err")";;
	esac
done <<< "$BAD"

while IFS= read -r lines; do
	n=$((n + 1))
	conf=$T/good$n.conf
	{ base_conf; printf '%b\n' "$lines"; } > "$conf"
	what=$(printf '%b' "$lines" | tr '\n' ' ')
	out=$("$NDRGUARDD" -c "$conf" -t 2>&1); rc=$?
	[ $rc -eq 0 ] && ok "-t passes $what" || fail "-t: $what: exit $rc: $out"
done <<< "$GOOD"

rc=$(daemon_start "$T/good$n.conf")
[ "$rc" = started ] && ok "the daemon starts with a good file" || fail "good file: $rc: $(cat "$T/start.err")"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
