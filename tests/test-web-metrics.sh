#!/bin/bash
# test-web-metrics.sh - /metrics and the admin statistics page over real HTTP
#
# Part 1: `ndrguard deliver` (storm_threshold = 1) holds bounces for
# alice, bob and amp&co; arrival times, a release, an ended storm and two
# digests are set with sqlite3 (fixture writes); ndrguard-web serves the
# quarantine, and the expected figures come from ndrguard list/stats.
# /metrics is parsed (every sample under HELP and TYPE lines, counters
# named _total) and its figures compared with what was sent; who may
# read it on the public port: the admin only, never a client for being on
# loopback (a reverse proxy on this host makes every visitor local). /admin/stats
# needs the admin's credentials, and each of its SVG graphs parses as
# XML with the expected bars, storms and mailboxes, texts escaped.
#
# Part 2: ndrguardd with LMTP and the release page: messages sent over
# LMTP (held, passed on into smtp-sink, too big) show up in its
# connection and decision counters. Without an admin, /metrics is not
# served on http_listen at all; with metrics_listen it is served there,
# to any client, and nothing else is.
set -u
: "${NDRGUARD:?}" "${NDRGUARDD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed (fixture writes)"; exit 77; }

T=$(mktemp -d /tmp/ndrg-metrics.XXXXXX) && chmod 755 "$T"
SINKPID= WEBPID= DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SPORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 &
SINKPID=$!
wait_port "$SPORT"

HASH=$(echo 'stats pass' | "$WEB" --hash-password) || { echo "hash failed"; exit 99; }
cat > "$T/web.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
busy_timeout = 5s
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
base_url = http://ndrguard.test
http_rate_limit = 0
digest_templates = $top_srcdir/templates
admin_user = pm
admin_password_hash = $HASH
EOF

# --- the quarantine ----------------------------------------------------
gen() { bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$1" "$T/$2" "$3" "M$$$2" >/dev/null; }
gen 5 a alice@example.test
gen 3 b bob@example.test
gen 2 c 'amp&co@example.test'
n=0
for d in a b c; do
	case $d in a) r=alice;; b) r=bob;; c) r='amp&co';; esac
	for m in "$T/$d"/*.eml; do
		n=$((n + 1))
		"$NDRGUARD" -c "$T/web.conf" deliver -f '' -q "M$n" -- "$r@example.test" < "$m" \
			|| fail "deliver $m"
	done
done
NDRG_CONF=$T/web.conf
# fixture writes: arrivals and storms older than the clock can make them,
# digests without a relay
fixture() { sqlite_fixture "$T/q.db" "$1"; }
[ "$(list_count)" = 10 ] || { echo "expected 10 held"; exit 99; }
NOW=$(date +%s)
# bob's bounces came 5 hours ago and his storm ended a day ago; amp&co's
# three days ago (outside the 48 hours); one of alice's is released
fixture "UPDATE quarantine SET arrived = $NOW - 5 * 3600 WHERE recipient = 'bob@example.test'"
fixture "UPDATE quarantine SET arrived = $NOW - 3 * 86400 WHERE recipient = 'amp&co@example.test'"
fixture "UPDATE storm SET started = $NOW - 5 * 3600, ended = $NOW - 86400 WHERE mailbox = 'bob@example.test'"
fixture "UPDATE storm SET started = $NOW - 3 * 86400 WHERE mailbox = 'amp&co@example.test'"
A1=$(list_field id recipient=alice@example.test | head -1)
"$NDRGUARD" -c "$T/web.conf" release "$A1" >/dev/null 2>&1 || fail "ndrguard release $A1"
[ "$(item_state "$A1")" = released ] || fail "release did not happen"
fixture "INSERT INTO digest (mailbox, message_id, created, sent, state, item_count, attempts)
     VALUES ('alice@example.test', '<d1@t>', $NOW, $NOW, 'sent', 4, 1),
            ('bob@example.test', '<d2@t>', $NOW, NULL, 'pending', 3, 2)"

"$WEB" -c "$T/web.conf" > "$T/out" 2> "$T/web.log" &
WEBPID=$!
for _ in $(seq 50); do URL=$(sed -n 's/^listening on //p' "$T/out"); [ -n "$URL" ] && break; sleep 0.1; done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }
get() { local p=$1; shift; curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p"; }

# check_metrics FILE WANT... - parse the exposition, compare samples;
# WANT is 'name{labels} value' (labels as printed) or '!name' (absent)
check_metrics() {
	python3 - "$@" <<'PY'
import re, sys
text = open(sys.argv[1], encoding='utf-8').read()
helps, types, samples, bad = {}, {}, {}, []
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+)$')
for line in text.split('\n'):
    if not line:
        continue
    if line.startswith('# HELP '):
        name, _, h = line[7:].partition(' ')
        helps[name] = h
    elif line.startswith('# TYPE '):
        name, _, t = line[7:].partition(' ')
        if name not in helps:
            bad.append('TYPE before HELP: ' + name)
        types[name] = t
    else:
        m = sample.match(line)
        if not m:
            bad.append('bad line: ' + line)
            continue
        name = m.group(1)
        if name not in types or name not in helps:
            bad.append('no HELP/TYPE for ' + name)
        elif types[name] == 'counter' and not name.endswith('_total'):
            bad.append('counter without _total: ' + name)
        elif types[name] not in ('counter', 'gauge'):
            bad.append('type %s of %s' % (types[name], name))
        samples[name + (m.group(2) or '')] = float(m.group(3))
for want in sys.argv[2:]:
    if want.startswith('!'):
        if any(k.split('{')[0] == want[1:] for k in samples):
            bad.append('present: ' + want[1:])
        continue
    key, _, value = want.rpartition(' ')
    if key not in samples:
        bad.append('missing: ' + key)
    elif samples[key] != float(value):
        bad.append('%s = %g, want %s' % (key, samples[key], value))
for b in bad:
    print(b)
print('%d samples' % len(samples))
sys.exit(1 if bad else 0)
PY
}

# --- /metrics -------------------------------------------------------
expect "/metrics from loopback, no credentials" 401 "$(get /metrics)"
grep -q 'ndrguard_' "$T/body" && fail "the 401 carries figures" || ok "the 401 carries no figures"
expect "/metrics, admin credentials" 200 "$(get /metrics -u 'pm:stats pass')"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/hdr" && ok "Prometheus text format" \
	|| fail "content type: $(grep -i '^Content-Type' "$T/hdr")"
KIND=$(list_field kind | head -1)
DBSIZE=$(store_total database bytes)
if check_metrics "$T/body" \
	"ndrguard_messages{kind=\"$KIND\",state=\"held\"} 9" \
	"ndrguard_messages{kind=\"$KIND\",state=\"released\"} 1" \
	"ndrguard_quarantined_total 10" "ndrguard_released_total 1" \
	"ndrguard_expired_total 0" "ndrguard_deleted_total 0" \
	"ndrguard_storms_active 2" "ndrguard_storms_total 3" \
	"ndrguard_digests_sent_total 1" "ndrguard_digests_pending 1" \
	"ndrguard_digest_send_failures_total 3" \
	"ndrguard_database_size_bytes $DBSIZE" \
	'!ndrguard_lmtp_connections_total' > "$T/check"; then
	ok "metrics parsed and match what was sent ($(tail -1 "$T/check"))"
else
	fail "metrics: $(tr '\n' ';' < "$T/check")"; cat "$T/body"
fi
ndrg delete $((A1 + 1)) >/dev/null || fail "ndrguard delete $((A1 + 1))"
get /metrics -u 'pm:stats pass' >/dev/null
check_metrics "$T/body" "ndrguard_deleted_total 1" "ndrguard_messages{kind=\"$KIND\",state=\"held\"} 8" > "$T/check" \
	&& ok "each scrape reads the database again" || fail "second scrape: $(tr '\n' ';' < "$T/check")"
expect "/metrics through a proxy, no credentials" 401 "$(get /metrics -H 'X-Forwarded-For: 192.0.2.7')"
grep -qi '^WWW-Authenticate: Basic' "$T/hdr" && ok "with a Basic challenge" || fail "no challenge"
expect "/metrics through a proxy (Forwarded)" 401 "$(get /metrics -H 'Forwarded: for=192.0.2.7')"
expect "/metrics through a proxy, wrong password" 401 "$(get /metrics -H 'X-Real-IP: 192.0.2.7' -u pm:wrong)"
expect "/metrics through a proxy, admin credentials" 200 "$(get /metrics -H 'X-Forwarded-For: 192.0.2.7' -u 'pm:stats pass')"
grep -q '^ndrguard_quarantined_total 10$' "$T/body" && ok "the same figures" || fail "figures with credentials"
expect "POST /metrics" 405 "$(get /metrics -u 'pm:stats pass' -H 'Content-Type: application/x-www-form-urlencoded' -d x=1)"

# --- /admin/stats ----------------------------------------------------
expect "stats page without credentials" 401 "$(get /admin/stats)"
grep -qi '^WWW-Authenticate: Basic' "$T/hdr" && ok "stats: Basic challenge" || fail "stats: no challenge"
grep -q 'amp&' "$T/body" && fail "401 page reveals data" || ok "401 page reveals nothing"
expect "stats page, wrong password" 401 "$(get /admin/stats -u pm:nope)"
expect "stats page, wrong user" 401 "$(get /admin/stats -u 'root:stats pass')"
expect "stats page" 200 "$(get /admin/stats -u 'pm:stats pass')"
grep -qi "^Content-Security-Policy: default-src 'none'; style-src 'sha256-" "$T/hdr" \
	&& ok "the same strict CSP" || fail "CSP: $(grep -i '^Content-Security' "$T/hdr")"
ext=$(grep -io '<script\|<link\|<img\|<use\|href="[a-z]*:[^"]*\|https\?://[^" ]*' "$T/body" | grep -v '^http://www.w3.org/2000/svg$')
[ -z "$ext" ] && grep -q '<svg' "$T/body" && ok "no script, no external resource" || fail "external: $ext"
cp "$T/body" "$T/stats.html"

# expected figures from ndrguard list and storms, bucketed the same way
NOW=$(date +%s)
list_json > "$T/items.json" && ndrg storms --json > "$T/storms.json" || fail "list or storms"
figures=$(python3 - "$T/items.json" "$T/storms.json" "$NOW" <<'PY'
import calendar, json, sys, time
def epoch(t):
    return calendar.timegm(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ"))
items = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
storms = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
now = int(sys.argv[3])
out = []
for step, n in ((3600, 47), (86400, 29)):
    t0 = (now // step - n) * step
    inside = [(epoch(r["arrived"]), r["state"]) for r in items if epoch(r["arrived"]) >= t0]
    out += [len({((a - t0) // step, s) for a, s in inside}), len(inside)]
out.append(sum(1 for s in storms if s["ended"] is None or epoch(s["ended"]) >= now - 7 * 86400))
print(*out)
PY
)
read -r HSEGS HSUM DSEGS DSUM STORMS <<< "$figures"
if python3 - "$T/stats.html" "$HSEGS" "$HSUM" "$DSEGS" "$DSUM" "$STORMS" > "$T/check" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
html = open(sys.argv[1], encoding='utf-8').read()
hsegs, hsum, dsegs, dsum, storms = map(int, sys.argv[2:7])
NS = '{http://www.w3.org/2000/svg}'
svgs = {}
for raw in re.findall(r'<svg\b.*?</svg>', html, re.S):
    root = ET.fromstring(raw)          # raises unless well-formed
    svgs[root.get('id')] = root
bad = []
if sorted(svgs) != ['daily', 'hourly', 'storms', 'top']:
    bad.append('graphs: %s' % sorted(svgs))
def rects(svg, cls):
    return [r for r in svgs[svg].iter(NS + 'rect') if r.get('class') == cls] if svg in svgs else []
for svg, segs, total in (('hourly', hsegs, hsum), ('daily', dsegs, dsum)):
    rs = rects(svg, 'seg')
    got = sum(int(r.get('data-count')) for r in rs)
    if len(rs) != segs or got != total:
        bad.append('%s: %d segments of %d, want %d of %d' % (svg, len(rs), got, segs, total))
    for r in rs:
        if r.find(NS + 'title') is None or float(r.get('height')) <= 0:
            bad.append('%s: segment without title or height' % svg)
            break
print('hourly %d, daily %d segments' % (len(rects('hourly', 'seg')), len(rects('daily', 'seg'))))
st = rects('storms', 'storm')
if len(st) != storms:
    bad.append('storms: %d, want %d' % (len(st), storms))
active = [r for r in st if r.get('fill') == '#dc2626']
if len(active) != 2:
    bad.append('active storms drawn: %d' % len(active))
labels = [t.text for t in svgs.get('storms', ET.Element('x')).iter(NS + 'text')]
if 'amp&co@example.test' not in labels:
    bad.append('storm label of amp&co missing: %s' % labels)
top = rects('top', 'top')
got = [(r.find(NS + 'title').text) for r in top]
want = ['alice@example.test: 5', 'bob@example.test: 3', 'amp&co@example.test: 2']
if got != want:
    bad.append('top: %s' % got)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
then ok "every SVG well-formed, bars as in the database: $(head -1 "$T/check")"
else fail "stats SVG: $(tr '\n' ';' < "$T/check")"; fi
grep -q 'amp&amp;co@example.test' "$T/stats.html" && ! grep -q 'amp&co' "$T/stats.html" \
	&& ok "mailbox escaped in the page" || fail "mailbox not escaped"
expect "stats page in Spanish" 200 "$(get /admin/stats -u 'pm:stats pass' -H 'Accept-Language: es')"
grep -q 'Estadísticas' "$T/body" && grep -q 'retenido' "$T/body" && ok "graphs in Spanish" || fail "not in Spanish"
expect "admin page" 200 "$(get /admin -u 'pm:stats pass')"
grep -q 'href="/admin/stats"' "$T/body" && ok "the admin page links to the statistics" || fail "no link to /admin/stats"
expect "POST stats page" 405 "$(get /admin/stats -u 'pm:stats pass' -H 'Content-Type: application/x-www-form-urlencoded' -d x=1)"

# an empty quarantine still draws four well-formed graphs
fixture "DELETE FROM digest; DELETE FROM audit; DELETE FROM quarantine; DELETE FROM storm"
expect "stats page, empty quarantine" 200 "$(get /admin/stats -u 'pm:stats pass')"
python3 -c '
import re, sys, xml.etree.ElementTree as ET
s = [ET.fromstring(x) for x in re.findall(r"<svg\b.*?</svg>", open(sys.argv[1], encoding="utf-8").read(), re.S)]
sys.exit(0 if len(s) == 4 and not any(r.get("class") in ("seg", "storm", "top") for x in s for r in x.iter()) else 1)
' "$T/body" && ok "empty graphs well-formed, no bars" || fail "empty graphs"
get /metrics -u 'pm:stats pass' >/dev/null
check_metrics "$T/body" "ndrguard_quarantined_total 0" "ndrguard_storms_active 0" > "$T/check" \
	&& ok "metrics of an empty quarantine" || fail "empty metrics: $(tr '\n' ';' < "$T/check")"
kill "$WEBPID"; wait "$WEBPID" 2>/dev/null; WEBPID=

# --- ndrguardd: LMTP counters -------------------------------------------
LPORT=$(free_port) HPORT=$(free_port)
mkdir -p "$T/db" && chown nobody "$T/db"
cat > "$T/nd.conf" <<EOF
database = $T/db/q.db
lmtp_listen = inet:127.0.0.1:$LPORT
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
busy_timeout = 5s
message_size_limit = 20k
daemon_user = nobody
pid_file =
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
secret_file = $T/db/secret
digest_templates = $top_srcdir/templates
digest_relay = smtp:127.0.0.1:9
EOF
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" & DPID=$!
wait_port "$LPORT"; wait_port "$HPORT"
URL=http://127.0.0.1:$HPORT
# no admin, no metrics_listen: nobody reads the metrics on the public port
expect "ndrguardd /metrics from loopback, no admin" 404 "$(get /metrics)"
grep -q 'ndrguard_' "$T/body" && fail "the 404 carries figures" || ok "the 404 carries no figures"
expect "ndrguardd /metrics through a proxy, no admin" 404 "$(get /metrics -H 'X-Forwarded-For: 192.0.2.7')"
expect "ndrguardd /admin/stats, no admin" 404 "$(get /admin/stats)"
gen 2 d carol@example.test
bash "$top_srcdir/tests/integration/gen-mail.sh" ordinary "$T/ordinary.eml" dave@example.test "M$$" >/dev/null
head -c 30000 /dev/zero | tr '\0' x | fold -w 70 > "$T/big.txt"
{ printf 'From: a@example.org\nTo: erin@example.test\nSubject: big\n\n'; cat "$T/big.txt"; } > "$T/big.eml"
CLIENT="python3 $top_srcdir/tests/lmtp-client.py"
lmtp() { printf '%s\n' "$@" | $CLIENT 127.0.0.1:$LPORT; }
# lmtp_traffic - two held, one passed on to two recipients, one too big to examine (passed on)
lmtp_traffic() {
	lmtp '<' '> LHLO t' '<' \
		'> MAIL FROM:<>' '<' '> RCPT TO:<carol@example.test>' '<' '> DATA' '<' "data $T/d/ndr-0001.eml" '<' \
		'> MAIL FROM:<>' '<' '> RCPT TO:<carol@example.test>' '<' '> DATA' '<' "data $T/d/ndr-0002.eml" '<' \
		'> MAIL FROM:<x@example.org>' '<' '> RCPT TO:<dave@example.test>' '<' '> RCPT TO:<frank@example.test>' '<' \
		'> DATA' '<' "data $T/ordinary.eml" '< 2' \
		'> QUIT' '<' > "$T/lmtp1"
	lmtp '<' '> LHLO t' '<' '> MAIL FROM:<a@example.org>' '<' '> RCPT TO:<erin@example.test>' '<' \
		'> DATA' '<' "data $T/big.eml" '<' '> QUIT' '<' > "$T/lmtp2"
	grep -c '^250 2.0.0 <carol@example.test> held' "$T/lmtp1" | grep -qx 2 && ok "two held over LMTP" \
		|| fail "LMTP replies: $(tr '\n' ';' < "$T/lmtp1")"
	grep -q '^250 2.0.0 <erin@example.test> passed on' "$T/lmtp2" && ok "the big one passed on unexamined" \
		|| fail "big: $(tr '\n' ';' < "$T/lmtp2")"
}
lmtp_traffic
kill "$DPID"; wait "$DPID"; rc=$?; DPID=
expect "ndrguardd stopped cleanly" 0 "$rc"

# --- metrics_listen: /metrics there alone, for anyone; counters anew ------
MPORT=$(free_port)
echo "metrics_listen = inet:127.0.0.1:$MPORT" >> "$T/nd.conf"
"$NDRGUARDD" -c "$T/nd.conf" -f 2>>"$T/nd.log" & DPID=$!
wait_port "$LPORT"; wait_port "$HPORT"; wait_port "$MPORT"
expect "/metrics on http_listen once metrics_listen is set" 404 "$(get /metrics)"
URL=http://127.0.0.1:$MPORT
expect "/metrics on metrics_listen, from a proxy, no credentials" 200 "$(get /metrics -H 'X-Forwarded-For: 192.0.2.7')"
check_metrics "$T/body" "ndrguard_lmtp_connections_total 1" "ndrguard_lmtp_messages_total 0" \
	"ndrguard_quarantined_total 2" > "$T/check" \
	&& ok "counters start again at a restart, the database's figures stay" \
	|| fail "after restart: $(tr '\n' ';' < "$T/check")"
lmtp_traffic
sleep 0.2
expect "ndrguardd /metrics" 200 "$(get /metrics)"
# three connections: wait_port's probe and the two sessions
if check_metrics "$T/body" "ndrguard_lmtp_connections_total 3" "ndrguard_lmtp_messages_total 4" \
	'ndrguard_lmtp_recipients_total{decision="held"} 2' \
	'ndrguard_lmtp_recipients_total{decision="passed"} 3' \
	'ndrguard_lmtp_recipients_total{decision="deferred"} 0' \
	'ndrguard_lmtp_recipients_total{decision="rejected"} 0' \
	"ndrguard_lmtp_connections_refused_total 0" \
	"ndrguard_quarantined_total 4" "ndrguard_storms_active 1" > "$T/check"; then
	ok "LMTP counters match what was sent ($(tail -1 "$T/check"))"
else
	fail "daemon metrics: $(tr '\n' ';' < "$T/check")"; cat "$T/body"
fi
st=$(awk '/^ndrguard_start_time_seconds /{print $2}' "$T/body")
[ -n "$st" ] && [ "$st" -le "$(date +%s)" ] && [ "$st" -gt $(( $(date +%s) - 600 )) ] \
	&& ok "start time" || fail "start time: $st"
expect "/admin/stats on metrics_listen" 404 "$(get /admin/stats)"
expect "/ on metrics_listen" 404 "$(get /)"
expect "an item link on metrics_listen" 404 "$(get /item/1?t=x)"
grep -qi "^Content-Security-Policy: default-src 'none'" "$T/hdr" && ok "metrics_listen answers carry the headers" \
	|| fail "metrics_listen headers"
kill "$DPID"; wait "$DPID"; rc=$?; DPID=
expect "ndrguardd stopped cleanly (metrics_listen)" 0 "$rc"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -n 20 "$T/web.log" "$T/nd.log"; exit 1; }
exit 0
