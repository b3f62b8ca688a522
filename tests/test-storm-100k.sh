#!/bin/bash
# test-storm-100k.sh - 100,000 NDRs to one mailbox, ordinary mail meanwhile
#
# DESCRIPTION
#	ndrguardd takes over LMTP, from Postfix's smtp-source -L on ten
#	connections, 100,000 backscatter NDRs to alice (storm_threshold 20),
#	while ordinary-probe.py sends ordinary mail to bob and carol on
#	one more connection, one message every 20 ms, for as long as the
#	storm lasts.  What ndrguardd passes on goes to a real SMTP server
#	(smtp-sink -d, one file per message) standing for Postfix's
#	re-injection listener.  Then:
#	  - the storm is held: 100,000 - 19 rows for alice, the first 19
#	    passed on;
#	  - every ordinary message reached the re-injection server, with its
#	    bytes, and none is held;
#	  - ordinary mail's reply times during the storm (MAIL FROM to the
#	    reply after the data) are printed, and the slowest must stay
#	    under MAX_REPLY seconds: a generous bound (this is not a
#	    benchmark), meant to catch ordinary mail queued behind the storm;
#	  - `ndrguard digest --now` sends alice one digest to a second
#	    smtp-sink.  It states the total held (99,981), lists at most
#	    digest_max_items (50) messages ("and N more"), names the storm
#	    ("N bounces since ... (still going on)") and its size stays
#	    under DIGEST_BOUND, derived from the settings below;
#	  - PRAGMA integrity_check says ok.
#
#	The digest's size bound.  A digest has a fixed part (headers, the
#	summary: totals, storms, top three MTAs and subjects, each cut to
#	100 and 80 characters) and one entry per listed message in each of
#	its two parts, text and HTML.  An entry holds a time, the reporting
#	MTA (cut to 100 characters), the subject (cut to 120), the recipient
#	(at most 254), the reason and a release link (base_url + a token, well
#	under 300): under 1 KiB as text, and the HTML entry, with its
#	markup and escaping at most tripling that, under 3 KiB; with base64
#	or quoted-printable transfer encoding (4/3, 3x worst case) an entry
#	stays under 12 KiB, the fixed part under 16 KiB.  So with
#	digest_max_items = 50:  DIGEST_BOUND = 16 KiB + 50 x 12 KiB = 616 KiB,
#	whatever the number held.  Were every held message listed, 100,000
#	entries would need megabytes, so the bound is one that can fail.
#
# ENVIRONMENT
#	NDRGUARD_TEST_SCALE	percent of the full size (default 100, i.e.
#				100,000 NDRs); for slow builds only
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}"
PATH=$PATH:/usr/sbin:/sbin
for p in smtp-source smtp-sink python3; do
	command -v $p >/dev/null 2>&1 || { echo "SKIP: $p is not installed"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (daemon_user)"; exit 77; }

SCALE=${NDRGUARD_TEST_SCALE:-100}
N=$(( 100000 * SCALE / 100 ))
THRESHOLD=20
MAX_ITEMS=50
DIGEST_BOUND=$(( 16 * 1024 + MAX_ITEMS * 12 * 1024 ))
MAX_REPLY=10
ALICE=alice@example.test

T=$(mktemp -d /tmp/ndrg-100k.XXXXXX) && chmod 755 "$T"
DPID='' PIDS=''
cleanup()
{
	rc=$?
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ $rc -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "--- last 20 ndrguardd log lines ---"; tail -n 20 "$T/daemon.log"
	fi
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
. "$top_srcdir/tests/lib.sh"	# the store helpers; the rest is redefined here
log() { printf '%s: %s\n' "${0##*/}" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	fail "nothing listens on port $1"
}
NDRG_CONF=$T/nd.conf NDRG_USER=nobody

LPORT=$(free_port) RPORT=$(free_port) DPORT=$(free_port)
mkdir -p "$T/db" "$T/reinject" "$T/digest" "$T/probe"
chown nobody "$T/db" "$T/reinject" "$T/digest"
smtp-sink -4 -u nobody -d "$T/reinject/%H%M%S." "127.0.0.1:$RPORT" 256 & PIDS="$PIDS $!"
smtp-sink -4 -u nobody -d "$T/digest/%H%M%S." "127.0.0.1:$DPORT" 16 & PIDS="$PIDS $!"
wait_port "$RPORT"; wait_port "$DPORT"

# digest_time is this minute: storm mail arrives after it, so the daemon's
# scheduler finds nothing due today and the digest below is the only one
cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:$RPORT
storm_threshold = $THRESHOLD
storm_window = 10m
our_relays = mx.example.test 192.0.2.0/24
our_domains = example.test
daemon_user = nobody
pid_file =
http_listen =
base_url = https://quarantine.example.test
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:$DPORT
digest_from = postmaster@example.test
digest_time = $(date +%H:%M)
digest_max_items = $MAX_ITEMS
EOF

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 1 "$T/gen" "$ALICE" "s100k$$"
bash "$top_srcdir/tests/integration/gen-mail.sh" ordinary "$T/ordinary.eml" bob@example.test "p$$"

"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/daemon.log" & DPID=$!
wait_port "$LPORT"

python3 "$top_srcdir/tests/integration/ordinary-probe.py" "127.0.0.1:$LPORT" \
	"$T/ordinary.eml" "$T/probe" 50 "$T/storm.done" \
	bob@example.test carol@example.test > "$T/probe.out" 2>&1 &
PROBE=$!
t0=$(date +%s.%N)
smtp-source -4 -L -s 10 -m "$N" -f '' -t "$ALICE" \
	-F "$T/gen/ndr-0001.eml" "127.0.0.1:$LPORT" || fail "smtp-source failed"
t1=$(date +%s.%N)
touch "$T/storm.done"
wait $PROBE || fail "ordinary mail during the storm: $(cat "$T/probe.out")"
storm_s=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
log "storm of $N NDRs taken in ${storm_s}s ($(echo "$N $storm_s" | awk '{ printf "%.0f", $1 / $2 }') msg/s), peak RSS $(awk '/^VmHWM/ { print $2, $3 }' "/proc/$DPID/status")"
cat "$T/probe.out"
kill "$DPID"; wait "$DPID" || fail "ndrguardd exited with status $? on SIGTERM"
DPID=

# the storm is held
list_json > "$T/held.json" || fail "ndrguard list failed"
held=$(lib_list_select count recipient="$ALICE" state=held < "$T/held.json")
[ "$held" -eq $(( N - THRESHOLD + 1 )) ] ||
	fail "$held held for alice, expected $(( N - THRESHOLD + 1 ))"
passed=$(grep -l "^X-Rcpt-Args: <$ALICE>" "$T"/reinject/* 2>/dev/null | wc -l)
[ "$passed" -eq $(( THRESHOLD - 1 )) ] ||
	fail "$passed NDRs to alice passed on, expected $(( THRESHOLD - 1 ))"
log "alice: $held held, $passed passed on"

# ordinary mail: all passed on, unchanged, none held
nprobe=$(wc -l < "$T/probe/latency.txt")
[ "$(lib_list_select count < "$T/held.json")" -eq "$(lib_list_select count recipient="$ALICE" < "$T/held.json")" ] ||
	fail "ordinary mail was held"
python3 - "$T/probe" "$T/reinject" <<'PY' || fail "ordinary mail did not reach the re-injection server unchanged"
import os, re, sys
probe, sink = sys.argv[1], sys.argv[2]
sent = {}
for name in os.listdir(probe):
    if name.endswith('.eml'):
        data = open(os.path.join(probe, name), 'rb').read()
        sent[re.search(rb'(?im)^message-id:\s*(\S+)', data).group(1)] = data
seen = {}
for name in os.listdir(sink):
    data = open(os.path.join(sink, name), 'rb').read().replace(b'\r\n', b'\n')
    m = re.search(rb'(?im)^message-id:\s*(<probe\.\S+)', data)
    if m is None:
        continue
    mid = m.group(1)
    seen[mid] = seen.get(mid, 0) + 1
    if mid in sent and sent[mid] not in data:
        print('changed on the way: %s' % mid.decode())
        sys.exit(1)
lost = [m for m in sent if m not in seen]
twice = [m for m, n in seen.items() if n > 1]
print('ordinary: %d sent, %d passed on, %d lost, %d twice'
      % (len(sent), len(seen), len(lost), len(twice)))
sys.exit(1 if lost or twice or len(seen) != len(sent) else 0)
PY
max=$(sort -g "$T/probe/latency.txt" | tail -1)
awk -v max="$max" -v bound=$MAX_REPLY 'BEGIN { exit !(max < bound) }' ||
	fail "an ordinary message waited ${max}s for its reply during the storm, bound ${MAX_REPLY}s"
log "ordinary mail: $nprobe messages during the storm, slowest reply ${max}s (bound ${MAX_REPLY}s)"

# one digest for alice: the total, at most MAX_ITEMS listed, bounded size
t0=$(date +%s.%N)
runuser -u nobody -- env NDRGUARD_LOG_STDERR=1 "$NDRGUARD" -c "$T/nd.conf" digest --now \
	--mailbox "$ALICE" > "$T/digest.out" 2>&1 || { cat "$T/digest.out"; fail "ndrguard digest failed"; }
digest_s=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
sleep 0.5
n=$(grep -l "^X-Rcpt-Args: <$ALICE>" "$T"/digest/* 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || fail "$n digests for alice in the sink, expected 1 ($(cat "$T/digest.out"))"
f=$(grep -l "^X-Rcpt-Args: <$ALICE>" "$T"/digest/*)
size=$(wc -c < "$f")
python3 - "$f" "$held" "$MAX_ITEMS" <<'PY' > "$T/digest.check" || { cat "$T/digest.check"; fail "the digest does not summarise the storm"; }
import email, email.policy, re, sys
path, held, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = open(path, 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
subject = str(msg['Subject'])
text = msg.get_body(('plain',)).get_content()
html = msg.get_body(('html',))
total = re.sub(r'[ ,.\u00a0]', '', subject)
ok = True
if str(held) not in total:
    print('the subject does not state %d: %s' % (held, subject)); ok = False
if not re.search(r'\b%s\b' % held, re.sub(r'(?<=\d)[ ,.](?=\d{3})', '', text)):
    print('the text does not state %d' % held); ok = False
listed = len(re.findall(r'(?m)^\s*Release: ', text))
more = re.search(r'and (\d+) more', re.sub(r'(?<=\d)[ ,.](?=\d{3})', '', text))
if not 0 < listed <= limit:
    print('%d messages listed, expected 1 to %d' % (listed, limit)); ok = False
if more is None or int(more.group(1)) != held - listed:
    print('no "and %d more" (found %s)' % (held - listed, more and more.group(0))); ok = False
if html is None:
    print('no HTML part'); ok = False
# the storm line: one storm, still going on, counting them all
storm = re.search(r'(?m)^- From .*\(still going on\): (\d+) bounces? held, '
                  r'from \d+ reporting servers?$', text)
if storm is None or abs(int(storm.group(1)) - held) > 1:
    print('no storm line counting %d: %s' % (held, storm and storm.group(0))); ok = False
if 'may be real' in subject:
    print('backscatter reported as possibly real: %s' % subject); ok = False
print('digest: subject "%s", %d listed, "%s", "%s", html %s'
      % (subject, listed, more and more.group(0), storm and storm.group(0),
         'yes' if html is not None else 'no'))
sys.exit(0 if ok else 1)
PY
cat "$T/digest.check"
[ "$size" -le $DIGEST_BOUND ] || fail "the digest is $size bytes, bound $DIGEST_BOUND"
log "digest for $held held: $size bytes (bound $DIGEST_BOUND), built and sent in ${digest_s}s"

sqlite_check "$T/db/q.db" "PRAGMA integrity_check" ok "integrity_check"	# fail exits
log "PASS: $N NDRs, $held held, $nprobe ordinary messages passed on during the storm, digest $size bytes"
exit 0
