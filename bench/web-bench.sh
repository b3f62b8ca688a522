#!/bin/bash
# web-bench.sh - the release page's item page vs nginx serving a copy of it
#
# SYNOPSIS
#	bench/web-bench.sh [BUILDDIR]
#	env: ITEMS (100000) DURATION (10) CONNECTIONS (16) ROUNDS (3)
#	     THREADS (http_threads, 1) PIN (1: servers on CPU 0, wrk on CPU 1)
#
# DESCRIPTION
#	Fills a quarantine with ITEMS held bounces (100 delivered by
#	`ndrguard deliver`, the rest copied from them in SQL, spread over
#	1,000 mailboxes), serves it with ndrguard-web, saves one item page
#	(valid token) as a static file that nginx serves with the same
#	security headers, and runs wrk against both, alternating, ROUNDS
#	times. Prints one markdown row per round and the medians of each
#	column: requests/s, p50 and p99 latency, and ndrguard's share of
#	nginx's rate in the same round.
#
#	PIN=1 (the default) puts both servers on CPU 0 (one thread, one
#	nginx worker) and wrk on CPU 1, so the load generator does not take
#	the servers' CPU; PIN=0 THREADS=2 lets all three share both cores.
#
#	Needs wrk and nginx (Debian packages wrk, nginx-light); both run on
#	this machine with wrk, so the ratio is the number to compare.
set -eu
B=$(cd "${1:-.}" && pwd)
S=$(cd "$(dirname "$0")/.." && pwd)
ITEMS=${ITEMS:-100000} DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-16}
ROUNDS=${ROUNDS:-3} THREADS=${THREADS:-1} PIN=${PIN:-1}
if [ "$PIN" = 1 ]; then
	SRV="taskset -c 0" LOAD="taskset -c 1" WORKERS=1 WRKTHREADS=1
else
	SRV= LOAD= WORKERS=2 WRKTHREADS=2
fi
for p in wrk nginx sqlite3 curl; do
	command -v "$p" >/dev/null || { echo "web-bench: $p not installed" >&2; exit 1; }
done
[ -x "$B/web/ndrguard-web" ] || { echo "web-bench: build first ($B/web/ndrguard-web)" >&2; exit 1; }

T=$(mktemp -d /var/tmp/ndrg-webbench.XXXXXX) && chmod 755 "$T"
WEBPID= NGXPID=
cleanup() {
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	[ -n "$NGXPID" ] && kill "$NGXPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HPORT=$(free_port) NPORT=$(free_port)

cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
secret_file = $T/secret
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
http_threads = $THREADS
http_rate_limit = 0
http_client_connections = 0
http_max_connections = 1024
EOF
bash "$S/tests/integration/gen-mail.sh" ndr 100 "$T/ndr" bench@example.test WB >/dev/null
n=0
for m in "$T"/ndr/*.eml; do
	n=$((n + 1))
	"$B/cli/ndrguard" -c "$T/ndrguard.conf" deliver -f '' -q "WB$n" -- bench@example.test < "$m"
done
sqlite3 "$T/q.db" <<EOF
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ITEMS - 100)
INSERT INTO quarantine (queue_id, sender, recipient, arrived, kind, status,
	reason, reporting_mta, verdict, evidence, orig_subject, orig_from,
	orig_message_id, storm_id, state, state_changed, size, raw)
SELECT NULL, q.sender, 'user' || (n.i % 1000) || '@example.test',
	q.arrived - n.i, q.kind, q.status, q.reason, q.reporting_mta, q.verdict,
	q.evidence, q.orig_subject, q.orig_from, q.orig_message_id, q.storm_id,
	'held', q.state_changed, q.size, q.raw
FROM n JOIN quarantine q ON q.id = 1 + n.i % 100;
EOF
held=$(sqlite3 "$T/q.db" "SELECT count(*) FROM quarantine WHERE state = 'held'")
ID=$((held / 2))

$SRV "$B/web/ndrguard-web" -c "$T/ndrguard.conf" > "$T/web.out" 2> "$T/web.log" &
WEBPID=$!
for _ in $(seq 50); do grep -q listening "$T/web.out" 2>/dev/null && break; sleep 0.1; done
LINK=$("$B/web/ndrguard-web" -c "$T/ndrguard.conf" --link item "$ID")
mkdir -p "$T/www"
curl -sf -D "$T/headers" -o "$T/www/item.html" "$LINK"
chmod 644 "$T/www/item.html"
CSP=$(sed -n 's/^Content-Security-Policy: \(.*\)\r$/\1/p' "$T/headers")

mkdir -p "$T/nginx"
cat > "$T/nginx.conf" <<EOF
worker_processes $WORKERS;
pid $T/nginx.pid;
error_log $T/nginx/error.log;
daemon off;
events { worker_connections 2048; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server {
		listen 127.0.0.1:$NPORT;
		root $T/www;
		location / {
			default_type "text/html; charset=utf-8";
			add_header Content-Security-Policy "$CSP";
			add_header X-Frame-Options DENY;
			add_header Referrer-Policy no-referrer;
			add_header X-Content-Type-Options nosniff;
			add_header Cache-Control no-store;
		}
	}
}
EOF
$SRV nginx -c "$T/nginx.conf" &
NGXPID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$NPORT/item.html" && break; sleep 0.1; done

# run URL - "requests/s p50_ms p99_ms"
run() {
	$LOAD wrk -t"$WRKTHREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$T/wrk.out"
	awk '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END { if (bad) print "non-2xx " bad > "/dev/stderr"; printf "%d %.2f %.2f\n", rps, p50, p99 }' "$T/wrk.out"
}
echo "item page: $(wc -c < "$T/www/item.html") bytes; $held held items; item $ID; wrk -t$WRKTHREADS -c$CONNECTIONS ${DURATION}s; http_threads $THREADS; nginx workers $WORKERS; pinned: $PIN"
echo
echo "| round | ndrguard req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
: > "$T/rows"
for r in $(seq "$ROUNDS"); do
	read -r nr n50 n99 <<< "$(run "$LINK")"
	read -r xr x50 x99 <<< "$(run "http://127.0.0.1:$NPORT/item.html")"
	ratio=$(awk -v a="$nr" -v b="$xr" 'BEGIN { printf "%.0f%%", 100 * a / b }')
	echo "| $r | $nr | $n50 | $n99 | $xr | $x50 | $x99 | $ratio |"
	echo "$nr $n50 $n99 $xr $x50 $x99 ${ratio%\%}" >> "$T/rows"
done
med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m() { awk -v c="$1" '{ print $c }' "$T/rows" | med; }
nr=$(m 1) xr=$(m 4)
echo "| median | $nr | $(m 2) | $(m 3) | $xr | $(m 5) | $(m 6) | $(m 7)% |"
grep -c . "$T/web.log" >/dev/null && tail -3 "$T/web.log" >&2 || :
