#!/bin/bash
# test-deliver-fsync.sh - a quarantined message costs the pipe agent one
# durable commit, not four
#
# Postfix starts one "ndrguard deliver" per bounce, so in a storm what
# each process syncs is paid hundreds of times a second. Sixty bounces
# are quarantined one process after another under strace, and the test
# counts the fdatasync/fsync calls: at least one per message (the commit
# must reach the disk before exit 0) and, averaged, at most 1.5 (the WAL
# checkpoint that truncates it now and then, and the WAL header written
# after it, are shared by every commit in between). No agent may sync
# the directory: the WAL is kept, so its directory entry is durable
# already. Each message must be held (ndrguard list --json).
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
command -v strace >/dev/null || { echo "strace not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-fsync.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

N=60
RCPT=alice@example.test
cat > "$T/ndrguard.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
storm_window = 10m
CONF
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $((N + 2)) "$T/mail" "$RCPT" fs$$ >/dev/null
set -- "$T"/mail/ndr-*.eml
deliver() { "$NDRGUARD" -c "$T/ndrguard.conf" deliver -f '' -q "$1" -- "$RCPT" < "$2"; }
# two to create the database and start the storm (threshold 1: both held)
deliver WARM1 "$1" && deliver WARM2 "$2" || { echo "warm-up delivery failed"; exit 99; }
shift 2

i=0
for f in "$@"; do
	i=$((i + 1))
	# LeakSanitizer cannot run under ptrace: leaks are the other tests' job
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=fdatasync,fsync,openat -o "$T/trace.$i" \
		"$NDRGUARD" -c "$T/ndrguard.conf" deliver -f '' -q "FS$i" -- "$RCPT" < "$f"
	rc=$?
	[ $rc -eq 0 ] || fail "message $i: exit $rc"
done

# per process: file syncs, and syncs of a directory (opened O_DIRECTORY
# or as the database's folder, then synced)
python3 - "$T" "$N" > "$T/counts" <<'PY'
import re, sys, glob
t, n = sys.argv[1], int(sys.argv[2])
syncs = dirsyncs = 0
fewest = 99
for path in glob.glob(t + "/trace.*"):
    fds = {}
    mine = 0
    for line in open(path):
        m = re.search(r'openat\(AT_FDCWD, "([^"]*)",.*\) = (\d+)', line)
        if m:
            fds[m.group(2)] = m.group(1)
            continue
        m = re.search(r'f(?:data)?sync\((\d+)\)', line)
        if m:
            mine += 1
            if fds.get(m.group(1)) == t:
                dirsyncs += 1
    syncs += mine
    fewest = min(fewest, mine)
print(syncs, dirsyncs, fewest)
PY
read -r syncs dirsyncs fewest < "$T/counts"
echo "$N messages: $syncs file syncs ($(awk -v s="$syncs" -v n="$N" 'BEGIN { printf "%.2f", s / n }') per message), fewest in one process $fewest, directory syncs $dirsyncs"
[ "$fewest" -ge 1 ] && ok "every agent synced before exit 0" \
	|| fail "an agent exited 0 without a sync"
[ "$syncs" -le $((N * 3 / 2)) ] && ok "at most 1.5 syncs per message on average" \
	|| fail "$syncs syncs for $N messages"
[ "$dirsyncs" -eq 0 ] && ok "no directory sync" || fail "$dirsyncs directory syncs"

held=$("$NDRGUARD" -c "$T/ndrguard.conf" list --json | python3 -c '
import json, sys
print(sum(1 for l in sys.stdin if l.strip() and json.loads(l).get("state") == "held"))')
[ "$held" -eq $((N + 2)) ] && ok "all $N held (and the two of the warm-up)" \
	|| fail "held $held, expected $((N + 2))"

[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
