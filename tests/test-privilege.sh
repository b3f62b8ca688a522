#!/bin/bash
# test-privilege.sh - least privilege: refusals and file modes
#
# ndrguardd, ndrguard-web, ndrguard deliver and the postmaster's verbs
# refuse to run on a config file, database (or its -wal/-shm), database
# directory, secret_file or secret directory that every user may change,
# and on a key that other users may read: each is tried in turn, and the
# error must name the file and the chmod that fixes it, with exit 78
# (deliver: 75 and a 4.3.5 text, so that Postfix defers). Then, under
# umask 000, what ndrguard creates must still be tight: database, -wal,
# -shm and key 0600, pid file 0644, unix listeners 0666. ndrguardd started
# as root must run as daemon_user after binding (/proc/PID/status) and
# still take mail over LMTP; a config made world-writable is refused on
# SIGHUP while the running one stays. ndrguard-web started as root must
# bind a port below 1024, then run as daemon_user, with the key and the
# database it creates daemon_user's (and a key made by --link as well);
# on a quarantine root owns it stays root and says so.
#
# NDRGUARD_TEST_WAIT (seconds, default 5) is how long a process may take
# to start listening; raise it under valgrind.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}" "${top_builddir:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (drops to daemon_user)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
WEB=$top_builddir/web/ndrguard-web
CLIENT="python3 $top_srcdir/tests/lmtp-client.py"
WAIT=${NDRGUARD_TEST_WAIT:-5}
RUNAS=nobody
RUNUID=$(id -u $RUNAS) RUNGID=$(id -g $RUNAS)

T=$(mktemp -d /tmp/ndrg-priv.XXXXXX) && chmod 755 "$T"
DPID= WPID=
cleanup()
{
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	local tries=$((WAIT * 20))
	for _ in $(seq $tries); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
mode() { stat -c %a "$1"; }
owner() { stat -c %U "$1"; }

LPORT=$(free_port) HPORT=$(free_port)
mkdir -p "$T/db" "$T/run" && chown $RUNAS "$T/db"
write_conf()
{
	cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:9
storm_threshold = 1
busy_timeout = 5s
daemon_user = $RUNAS
pid_file = $T/run/nd.pid
http_listen = inet:127.0.0.1:$HPORT
metrics_listen = unix:$T/run/metrics.sock
base_url = http://127.0.0.1:$HPORT
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:9
EOF
	chmod 644 "$T/nd.conf"
}
write_conf
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 3 "$T/ndr" alice@example.test "P$$" >/dev/null

# --- 1. files ndrguard creates, whatever the umask ---------------------
(umask 000; "$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log") &
DPID=$!
wait_port $LPORT || { cat "$T/nd.log"; echo "ndrguardd did not come up"; exit 99; }
wait_port $HPORT || fail "release page not listening"

# the database is opened after the drop: once a message is held, the
# process is past it (the listeners were bound before it)
got=$(printf '%s\n' '<' '> LHLO c' '<' '> MAIL FROM:<>' '<' '> RCPT TO:<alice@example.test>' '<' \
	'> DATA' '<' "data $T/ndr/ndr-0001.eml" '<' '> QUIT' '<' | $CLIENT 127.0.0.1:$LPORT)
echo "$got" | grep -q '^250 2.0.0 <alice@example.test> held in quarantine' &&
	ok "serves LMTP after dropping privileges" || fail "LMTP after the drop: $got"

# the daemon process is the child of the umask subshell: its pid file
# says which (written just before the drop)
pid=$(cat "$T/run/nd.pid" 2>/dev/null)
[ -n "$pid" ] && [ -d "/proc/$pid" ] || { fail "no live pid in pid_file ($pid)"; pid=$(pgrep -P $DPID | head -1); }
status_ids() { awk -v k="$2:" '$1 == k { print $2, $3, $4, $5 }' "/proc/$1/status"; }
want_uid="$RUNUID $RUNUID $RUNUID $RUNUID" want_gid="$RUNGID $RUNGID $RUNGID $RUNGID"
got_uid=$(status_ids "$pid" Uid) got_gid=$(status_ids "$pid" Gid)
[ "$got_uid" = "$want_uid" ] && ok "runs as $RUNAS: Uid $got_uid" ||
	fail "Uid (real, effective, saved, fs): got '$got_uid', want '$want_uid'"
[ "$got_gid" = "$want_gid" ] && ok "runs as group $RUNGID: Gid $got_gid" ||
	fail "Gid: got '$got_gid', want '$want_gid'"
groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$pid/status")
case " $groups " in *" 0 "*) fail "still in group 0: Groups:$groups";; *) ok "not in root's groups (Groups:$groups)";; esac

for f in q.db q.db-wal q.db-shm; do
	if [ ! -e "$T/db/$f" ]; then fail "$f was not created"; continue; fi
	m=$(mode "$T/db/$f") o=$(owner "$T/db/$f")
	[ "$m" = 600 ] && [ "$o" = $RUNAS ] && ok "$f: mode 600, owner $o (umask 000)" ||
		fail "$f: mode $m owner $o, want 600 $RUNAS"
done
m=$(mode "$T/db/secret") o=$(owner "$T/db/secret")
[ "$m" = 600 ] && [ "$o" = $RUNAS ] && ok "secret_file: mode 600, owner $o" ||
	fail "secret_file: mode $m owner $o, want 600 $RUNAS"
m=$(mode "$T/run/nd.pid") o=$(owner "$T/run/nd.pid")
[ "$m" = 644 ] && [ "$o" = root ] && ok "pid file: mode 644, owner root" ||
	fail "pid file: mode $m owner $o, want 644 root"
if [ -S "$T/run/metrics.sock" ]; then
	m=$(mode "$T/run/metrics.sock")
	[ "$m" = 666 ] && ok "unix listener: mode 666 (its directory guards it)" || fail "metrics socket mode $m, want 666"
	# connecting needs write permission: the unprivileged user can
	runuser -u $RUNAS -- curl -s --unix-socket "$T/run/metrics.sock" http://x/metrics |
		grep -q '^ndrguard_' && ok "$RUNAS reads /metrics over the unix socket" ||
		fail "/metrics over the unix socket"
else
	fail "metrics_listen socket not created"
fi

# SIGHUP with a world-writable config: refused, the running one stays
chmod 666 "$T/nd.conf"
kill -HUP "$pid"; sleep 0.5
grep -q "reload: config file $T/nd.conf: mode 0666 .*chmod o-w" "$T/nd.log" &&
	ok "SIGHUP: world-writable config refused" || fail "SIGHUP: no refusal in the log: $(tail -2 "$T/nd.log")"
got=$(printf '%s\n' '<' '> QUIT' '<' | $CLIENT 127.0.0.1:$LPORT)
echo "$got" | head -1 | grep -q '^220 ' && ok "still serving after the refused reload" || fail "not serving: $got"
chmod 644 "$T/nd.conf"
kill "$DPID" "$pid" 2>/dev/null; wait "$DPID" 2>/dev/null
for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
DPID=

# the pipe agent and ndrguard-web create the same modes
mkdir -p "$T/pipe" && chown $RUNAS "$T/pipe"
sed -e "s|^database = .*|database = $T/pipe/q.db|" -e "s|^secret_file = .*|secret_file = $T/pipe/secret|" \
	"$T/nd.conf" > "$T/pipe.conf"
chmod 644 "$T/pipe.conf"
(umask 000; runuser -u $RUNAS -- "$NDRGUARD" -c "$T/pipe.conf" deliver -f '' -q PRIV1 -- alice@example.test \
	< "$T/ndr/ndr-0002.eml") > "$T/pipe.out" 2>&1 || fail "deliver as $RUNAS: $(cat "$T/pipe.out")"
for f in q.db q.db-wal q.db-shm; do
	m=$(mode "$T/pipe/$f" 2>/dev/null)
	[ "$m" = 600 ] && ok "deliver: $f mode 600 (umask 000)" || fail "deliver: $f mode '$m', want 600"
done
(umask 000; runuser -u $RUNAS -- "$WEB" -c "$T/pipe.conf" --link mailbox alice@example.test) >/dev/null 2>"$T/web.err" ||
	fail "ndrguard-web --link: $(cat "$T/web.err")"
m=$(mode "$T/pipe/secret" 2>/dev/null)
[ "$m" = 600 ] && ok "ndrguard-web: new secret_file mode 600 (umask 000)" || fail "ndrguard-web: secret mode '$m', want 600"

# ndrguard-web as root: a port only root may bind, then daemon_user
low_port() { python3 -c '
import socket
for p in range(1000, 600, -1):
    try:
        s = socket.socket(); s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'; }
WPORT=$(low_port)
mkdir -p "$T/web" && chown $RUNAS "$T/web"
sed -e "s|^database = .*|database = $T/web/q.db|" -e "s|^secret_file = .*|secret_file = $T/web/secret|" \
	-e "s|^http_listen = .*|http_listen = inet:127.0.0.1:$WPORT|" -e "/^metrics_listen/d" \
	"$T/nd.conf" > "$T/web.conf"
chmod 644 "$T/web.conf"
"$WEB" -c "$T/web.conf" -f > "$T/web.out" 2> "$T/web.log" &
WPID=$!
if wait_port "$WPORT"; then
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WPORT/")
	[ "$code" = 200 ] && ok "ndrguard-web serves on port $WPORT (below 1024) after the drop" ||
		fail "ndrguard-web on port $WPORT: got $code, want 200"
	got_uid=$(status_ids "$WPID" Uid) got_gid=$(status_ids "$WPID" Gid)
	[ "$got_uid" = "$want_uid" ] && [ "$got_gid" = "$want_gid" ] &&
		ok "ndrguard-web runs as $RUNAS: Uid $got_uid, Gid $got_gid" ||
		fail "ndrguard-web Uid '$got_uid' Gid '$got_gid', want '$want_uid' and '$want_gid'"
	groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$WPID/status")
	case " $groups " in *" 0 "*) fail "ndrguard-web still in group 0: Groups:$groups";;
		*) ok "ndrguard-web not in root's groups (Groups:$groups)";; esac
	for f in secret q.db; do
		m=$(mode "$T/web/$f" 2>/dev/null) o=$(owner "$T/web/$f" 2>/dev/null)
		[ "$m" = 600 ] && [ "$o" = $RUNAS ] && ok "ndrguard-web as root: new $f mode 600, owner $o" ||
			fail "ndrguard-web as root: $f mode '$m' owner '$o', want 600 $RUNAS"
	done
else
	fail "ndrguard-web as root did not listen on port $WPORT: $(cat "$T/web.log")"
fi
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; WPID=
# a key made by --link as root is daemon_user's too
rm -f "$T/web/secret"
"$WEB" -c "$T/web.conf" --link mailbox alice@example.test >/dev/null 2>"$T/web.err" ||
	fail "ndrguard-web --link as root: $(cat "$T/web.err")"
o=$(owner "$T/web/secret" 2>/dev/null)
[ "$o" = $RUNAS ] && ok "ndrguard-web --link as root: new key owner $o" || fail "--link key owner '$o', want $RUNAS"
# a quarantine root owns could not be opened as daemon_user: root stays, and says so
mkdir -p "$T/rootq"
sed -e "s|$T/web/|$T/rootq/|g" -e "s|^http_listen = .*|http_listen = inet:127.0.0.1:0|" "$T/web.conf" > "$T/rootq.conf"
chmod 644 "$T/rootq.conf"
"$WEB" -c "$T/rootq.conf" -f > "$T/web.out" 2> "$T/web.log" &
WPID=$!
for _ in $(seq $((WAIT * 20))); do grep -q '^listening on' "$T/web.out" && break; sleep 0.05; done
grep -q "$T/rootq/q.db (or its directory) belongs to root: serving as root, not as $RUNAS" "$T/web.log" &&
	[ "$(status_ids "$WPID" Uid)" = "0 0 0 0" ] && ok "root's quarantine: ndrguard-web stays root and warns" ||
	fail "root's quarantine: Uid '$(status_ids "$WPID" Uid)', log: $(cat "$T/web.log")"
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; WPID=

# --- 2. refusals ---------------------------------------------------------
# expect_refused WHAT FILE FIX - every program refuses, naming FILE and FIX
expect_refused()
{
	local what=$1 file=$2 fix=$3 rc out
	"$NDRGUARDD" -c "$T/nd.conf" -t >"$T/out" 2>&1; rc=$?
	if [ $rc -eq 78 ] && grep -qF "$file" "$T/out" && grep -qF "(fix: chmod $fix $file)" "$T/out"; then
		ok "$what: ndrguardd -t exit 78: $(cat "$T/out")"
	else fail "$what: ndrguardd -t exit $rc, want 78 naming $file and chmod $fix: $(cat "$T/out")"; fi
	"$NDRGUARDD" -c "$T/nd.conf" -f >"$T/out" 2>&1; rc=$?
	[ $rc -eq 78 ] && grep -qF "$file" "$T/out" && ! wait_port_once $LPORT &&
		ok "$what: ndrguardd does not start (78)" || fail "$what: ndrguardd exit $rc: $(cat "$T/out")"
	"$WEB" -c "$T/nd.conf" >"$T/out" 2>&1; rc=$?
	[ $rc -eq 78 ] && grep -qF "$file" "$T/out" && grep -qF "chmod $fix" "$T/out" &&
		ok "$what: ndrguard-web exit 78" || fail "$what: ndrguard-web exit $rc: $(cat "$T/out")"
	"$NDRGUARD" -c "$T/nd.conf" deliver -f '' -q PRIV2 -- alice@example.test \
		< "$T/ndr/ndr-0003.eml" >"$T/out" 2>"$T/err"; rc=$?
	out=$(head -1 "$T/out")
	if [ $rc -eq 75 ] && [ "${out#4.3.5 }" != "$out" ] && echo "$out" | grep -qF "$file"; then
		ok "$what: deliver tempfails 75 with '4.3.5 ...$file...'"
	else fail "$what: deliver exit $rc, stdout '$out', want 75 and 4.3.5 naming $file"; fi
	for verb in list purge stats; do
		"$NDRGUARD" -c "$T/nd.conf" $verb >"$T/out" 2>&1; rc=$?
		[ $rc -eq 78 ] && grep -qF "ndrguard $verb: " "$T/out" && grep -qF "$file" "$T/out" ||
			fail "$what: ndrguard $verb exit $rc: $(cat "$T/out")"
	done
	ok "$what: ndrguard list, purge, stats exit 78"
}
wait_port_once() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# the good state first: the same commands run
"$NDRGUARDD" -c "$T/nd.conf" -t >/dev/null 2>&1 && ok "good modes: ndrguardd -t passes" || fail "good modes refused"
"$NDRGUARD" -c "$T/nd.conf" list >/dev/null 2>&1 && ok "good modes: ndrguard list runs" || fail "good modes: list refused"

chmod o+w "$T/nd.conf"
expect_refused "config file o+w" "$T/nd.conf" o-w
"$NDRGUARD" -c "$T/nd.conf" inspect "$T/ndr/ndr-0001.eml" >/dev/null 2>&1 &&
	ok "inspect still runs (reads no stored data)" || fail "inspect refused"
chmod o-w "$T/nd.conf"

chmod 606 "$T/db/q.db"
expect_refused "database o+w" "$T/db/q.db" o-w
chmod 600 "$T/db/q.db"

chmod 606 "$T/db/q.db-wal"
expect_refused "database -wal o+w" "$T/db/q.db-wal" o-w
chmod 600 "$T/db/q.db-wal"

chmod 777 "$T/db"
expect_refused "database directory o+w" "$T/db" o-w
chmod 1777 "$T/db"
expect_refused "database directory o+w, sticky" "$T/db" o-w
chmod 755 "$T/db"

# the key in a directory of its own, so that its directory is checked
# apart from the database's
mkdir -p "$T/key" && cp -p "$T/db/secret" "$T/key/secret"
sed -i "s|^secret_file = .*|secret_file = $T/key/secret|" "$T/nd.conf"
chmod 602 "$T/key/secret"
expect_refused "secret_file o+w" "$T/key/secret" 600
chmod 604 "$T/key/secret"
expect_refused "secret_file o+r" "$T/key/secret" 600
chmod 620 "$T/key/secret"
expect_refused "secret_file g+w" "$T/key/secret" 600
chmod 600 "$T/key/secret"
chmod 777 "$T/key"
expect_refused "secret_file directory o+w" "$T/key" o-w
chmod 755 "$T/key"
# a missing key in a world-writable directory: refused before it is made
rm -f "$T/key/secret"; chmod 777 "$T/key"
"$WEB" -c "$T/nd.conf" --link mailbox a@example.test >"$T/out" 2>&1; rc=$?
[ $rc -eq 78 ] && [ ! -e "$T/key/secret" ] && ok "no key created in a world-writable directory" ||
	fail "ndrguard-web exit $rc, key exists: $([ -e "$T/key/secret" ] && echo yes || echo no)"
chmod 755 "$T/key"

"$NDRGUARDD" -c "$T/nd.conf" -t >/dev/null 2>&1 && ok "all fixed: ndrguardd -t passes again" ||
	fail "still refused after the fixes"

echo "$fails failures"
[ $fails -eq 0 ]
