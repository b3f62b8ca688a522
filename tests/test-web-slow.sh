#!/bin/bash
# test-web-slow.sh - http_request_timeout: a request must arrive whole in time
#
# http_timeout only limits pauses: a client that trickles its request a
# byte at a time, each byte well within it, used to keep its connection
# for as long as it liked (slowloris). With http_timeout = 2s and
# http_request_timeout = 3s, a request line and headers trickled a byte
# every 0.5 s, and a body trickled after prompt headers, must be closed
# unanswered about 3 s after they began; a normal request, a 12 kB POST
# sent in pieces over 2 s, and three requests on one kept-alive
# connection spread over 3.5 s must all be answered.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
# NDRGUARD_WEB: another ndrguard-web (tools/test-valgrind.sh's wrapper)
WEB=${NDRGUARD_WEB:-$top_builddir/web/ndrguard-web}
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-webslow.XXXXXX) && chmod 755 "$T"
WEBPID=
cleanup() {
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

cat > "$T/web.conf" <<EOF
database = $T/q.db
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
base_url = http://ndrguard.test
http_threads = 2
http_rate_limit = 0
http_timeout = 2s
http_request_timeout = 3s
digest_templates = $top_srcdir/templates
EOF
"$WEB" -c "$T/web.conf" -f > "$T/out" 2> "$T/web.log" &
WEBPID=$!
for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 10))); do
	URL=$(sed -n 's/^listening on //p' "$T/out"); [ -n "$URL" ] && break; sleep 0.1
done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }
hostport=${URL#http://}

# slow.py MODE: what a client saw - "answered SECONDS STATUS-LINE..." or
# "closed SECONDS" (the server ended the connection without an answer)
cat > "$T/slow.py" <<'EOF'
import select, socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((host, port))
t0 = time.monotonic()
got = b""

def wait(seconds):
    """read what comes in seconds; False once the server closed"""
    global got
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return True
        if select.select([s], [], [], left)[0]:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return False
            got += data
            if b"\r\n\r\n" in got:
                return True

def send(data):
    try:
        s.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False

def outcome():
    t = time.monotonic() - t0
    if got:
        return "answered %.1f %s" % (t, got.split(b"\r\n")[0].decode())
    return "closed %.1f" % t

def trickle(data, pause):
    for i in range(len(data)):
        if not send(data[i:i + 1]) or not wait(pause) or got:
            break
    wait(10)

req = b"GET / HTTP/1.1\r\nHost: ndrguard.test\r\nUser-Agent: trickle/1.0\r\nAccept: */*\r\n\r\n"
if mode == "trickle":
    trickle(req, 0.5)
    print(outcome())
elif mode == "trickle-body":
    send(b"POST /settings HTTP/1.1\r\nHost: ndrguard.test\r\n"
         b"Content-Type: application/x-www-form-urlencoded\r\n"
         b"Content-Length: 60\r\n\r\n")
    trickle(b"m=a%40example.test&t=x&" + b"x" * 37, 0.5)
    print(outcome())
elif mode == "slow-post":
    body = b"m=a%40example.test&t=forged&pad=" + b"p" * 12000
    send(b"POST /settings HTTP/1.1\r\nHost: ndrguard.test\r\n"
         b"Content-Type: application/x-www-form-urlencoded\r\n"
         b"Content-Length: %d\r\n\r\n" % len(body))
    for i in range(0, len(body), 2500):
        wait(0.4)
        send(body[i:i + 2500])
    wait(10)
    print(outcome())
elif mode == "keep-alive":
    lines = []
    for i in range(3):
        if i:
            time.sleep(1.75)
        got = b""
        if not send(req) or not wait(10):
            got = b""
        lines.append(outcome())
        # the whole answer: the page is small, one more read takes it
        s.setblocking(False)
        try:
            while s.recv(65536):
                pass
        except BlockingIOError:
            pass
        s.setblocking(True)
    print("; ".join(lines))
EOF
slow() { python3 "$T/slow.py" "$1" "${hostport%:*}" "${hostport#*:}"; }
# within LOW HIGH SECONDS - is SECONDS in [LOW, HIGH]?
within() { python3 -c "import sys; sys.exit(0 if $1 <= $3 <= $2 else 1)"; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/")
[ "$code" = 200 ] && ok "a normal request: 200" || fail "a normal request: got $code, want 200"

# the request line and headers, 85 bytes, a byte every 0.5 s: 42 s if let be
read -r what secs rest <<< "$(slow trickle)"
if [ "$what" = closed ] && within 2.5 5 "$secs"; then
	ok "trickled request closed unanswered after $secs s (http_request_timeout 3s)"
else
	fail "trickled request: $what after $secs s $rest, want closed unanswered after about 3 s"
fi
grep -q "http: 127.0.0.1: request not complete after 3s (http_request_timeout), connection closed" "$T/web.log" &&
	ok "the cut is logged with the client's address" || fail "no log line for the cut: $(tail -3 "$T/web.log")"

# prompt headers, then the body a byte every 0.5 s
read -r what secs rest <<< "$(slow trickle-body)"
if [ "$what" = closed ] && within 2.5 5 "$secs"; then
	ok "trickled body closed unanswered after $secs s"
else
	fail "trickled body: $what after $secs s $rest, want closed unanswered after about 3 s"
fi

# slow but whole within the deadline: answered (403: the token is forged)
read -r what secs rest <<< "$(slow slow-post)"
if [ "$what" = answered ] && within 1.5 3 "$secs" && [ "$rest" = "HTTP/1.1 403 Forbidden" ]; then
	ok "12 kB POST sent over $secs s: answered ($rest)"
else
	fail "slow POST: $what after $secs s '$rest', want answered (403) after 1.5 to 3 s"
fi

# the deadline is per request: a kept-alive connection lives longer
got=$(slow keep-alive)
n=$(grep -o "answered [0-9.]* HTTP/1.1 200 OK" <<< "$got" | wc -l)
[ "$n" = 3 ] && ok "three requests on one connection over 3.5 s: $got" ||
	fail "kept-alive connection: $got, want three 200 answers"

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/")
[ "$code" = 200 ] && ok "still serving: 200" || fail "after the slow clients: got $code, want 200"

kill -TERM "$WEBPID"; wait "$WEBPID"; rc=$?; WEBPID=
[ $rc -eq 0 ] && ok "stopped cleanly" || fail "ndrguard-web exited $rc"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
