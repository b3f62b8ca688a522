# tests/lib.sh - what the shell tests share; sourced after they set T
#
#	fail TEXT / ok TEXT	one result line; fail counts into $fails
#	free_port		a free TCP port on 127.0.0.1
#	wait_port PORT		until something listens on PORT, at most
#				NDRGUARD_TEST_WAIT seconds (default 5; raised
#				under valgrind); exit 99 (a hard error) if not
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 20))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1"; exit 99
}

# What the store holds, asked through the real programs (never the
# database file, so that the same tests pass on every store backend):
#
#	ndrg ARGS...		ndrguard with the test's config: $NDRG_CONF
#				(default $T/ndrguard.conf), run as user
#				$NDRG_USER when that is set
#	list_json [ARGS]	ndrguard list --json ARGS: one item a line
#	list_count [F=V]...	how many items have field F equal to V (every
#				F=V given; null reads as ""; F~GLOB matches
#				a shell pattern), e.g.
#				list_count state=held queue_id=NDR6
#	list_field F [G=V]...	field F of the items that match, one a line,
#				oldest first
#				(both answer "list-failed" when list fails)
#	held_count [F=V]...	list_count state=held F=V...
#	item_state ID		the state of item ID ("" when there is none)
#	item_raw ID		the held bytes of item ID (ndrguard show --raw)
#	store_total GROUP NAME	one of the totals /metrics shows, from
#				ndrguard stats --json: audit released, digest
#				sent, storm active, ... (0 when none)
ndrg()
{
	if [ -n "${NDRG_USER:-}" ]; then
		runuser -u "$NDRG_USER" -- "$NDRGUARD" -c "${NDRG_CONF:-$T/ndrguard.conf}" "$@"
	else
		"$NDRGUARD" -c "${NDRG_CONF:-$T/ndrguard.conf}" "$@"
	fi
}
list_json() { ndrg list --json "$@"; }
# lib_list_select MODE [F=V]... - read list --json on stdin; count or print
lib_list_select()
{
	python3 -c '
import fnmatch, json, re, sys
mode, conds = sys.argv[1], [re.match(r"(\w+)([=~])(.*)", a, re.S).groups() for a in sys.argv[2:]]
def text(v):
    return "" if v is None else str(v)
def match(r, k, op, v):
    return text(r.get(k)) == v if op == "=" else fnmatch.fnmatchcase(text(r.get(k)), v)
rows = [json.loads(line) for line in sys.stdin if line.strip()]
hits = [r for r in reversed(rows) if all(match(r, *c) for c in conds)]
if mode == "count":
    print(len(hits))
else:
    for r in hits:
        print(text(r.get(mode)))
' "$@"
}
# a list that fails answers "list-failed", which no expectation matches
lib_list()
{
	lib_out=$(list_json) || { echo "list-failed"; return 1; }
	printf '%s\n' "$lib_out" | lib_list_select "$@"
}
list_count() { lib_list count "$@"; }
list_field() { lib_list "$@"; }
held_count() { list_count state=held "$@"; }
item_state() { list_field state id="$1"; }
item_raw() { ndrg show --raw "$1"; }
store_total()
{
	lib_out=$(ndrg stats --json) || { echo "stats-failed"; return 1; }
	printf '%s\n' "$lib_out" | python3 -c '
import json, sys
t = json.load(sys.stdin)["totals"]
print(sum(r["count"] for r in t if [r["group"], r["name"]] == sys.argv[1:3]))
' "$1" "$2"
}

# The SQLite backend's own file, for what no program shows: not for
# asserting what the store holds (the helpers above do that).
#
#	sqlite_fixture DB SQL	a fixture write into a SQLite store, e.g.
#				arrivals made older than the clock can make
#				them; exit 77 (skip) without sqlite3
#	sqlite_check DB SQL WANT WHAT
#				a property of the SQLite file itself
#				(integrity_check, auto_vacuum): ok WHAT when
#				SQL answers WANT, passed over when DB is not
#				a SQLite file (another backend)
sqlite_fixture()
{
	command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed"; exit 77; }
	sqlite3 -batch "$1" "$2"
}
sqlite_check()
{
	if ! head -c 16 "$1" 2>/dev/null | grep -q '^SQLite format 3'; then
		echo "not SQLite, passed over: $4"
	elif ! command -v sqlite3 >/dev/null; then
		echo "no sqlite3, passed over: $4"
	else
		lib_got=$(sqlite3 -batch "$1" "$2")
		[ "$lib_got" = "$3" ] && ok "$4" || fail "$4: $lib_got"
	fi
}

# An ndrguardd under test, in $T, run as $RUNAS:
#
#	lmtp_test_setup NAME	T, a new /tmp/ndrg-NAME.XXXXXX removed at
#				exit (the daemon $DPID and sink $SINKPID
#				stopped first); RUNAS=nobody; LPORT (LMTP),
#				SPORT (the re-injection hop), HPORT (HTTP),
#				all free; $T/db owned by $RUNAS, $T/sink
#				writable by all
#	lmtp_test_conf [LINE]...  $T/nd.conf for them, the LINEs last
lmtp_test_setup()
{
	T=$(mktemp -d "/tmp/ndrg-$1.XXXXXX") && chmod 755 "$T" || exit 99
	RUNAS=nobody DPID='' SINKPID=''
	trap lmtp_test_cleanup EXIT INT TERM
	LPORT=$(free_port)
	SPORT=$(free_port)
	[ "$SPORT" != "$LPORT" ] || SPORT=$(free_port)
	HPORT=$(free_port)
	mkdir -p "$T/sink" "$T/db" && chmod 777 "$T/sink" && chown "$RUNAS" "$T/db"
}
lmtp_test_cleanup()
{
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	rm -rf "$T"
}
lmtp_test_conf()
{
	{
		cat <<CONF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:$SPORT
daemon_user = $RUNAS
pid_file = $T/db/nd.pid
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
secret_file = $T/secret
digest_templates = $top_srcdir/templates
# digests are test-digest.sh's business: here they go nowhere
digest_relay = smtp:127.0.0.1:9
CONF
		for l; do echo "$l"; done
	} > "$T/nd.conf"
}
