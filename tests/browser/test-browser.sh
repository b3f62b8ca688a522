#!/bin/bash
# test-browser.sh - from the digest in the mail to the mailbox, in Chromium
#
# A storm is held (ndrguard deliver, storm_threshold = 1); `ndrguard
# digest --now` mails alice her digest through smtp-sink; the Release link
# is taken from that mail as received and opened in headless Chromium
# (Debian's chromium, driven by playwright-core from npm), where Release
# is clicked with JavaScript off. The message must then arrive in the
# sink for alice, byte for byte as held. Screenshots at 375 and 1280 px
# are kept in tests/browser/artifacts/ (or $NDRGUARD_ARTIFACTS).
#
# Skips (77) without chromium, node/npm, or when playwright-core cannot
# be installed.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=$top_builddir/web/ndrguard-web
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
CHROMIUM=/usr/lib/chromium/chromium
[ -x "$CHROMIUM" ] || CHROMIUM=$(command -v chromium || true)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
[ -n "$CHROMIUM" ] || { echo "chromium not installed (Debian package chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
[ -x "$top_builddir/cli/ndrguard-digest" ] || { echo "ndrguard-digest not built"; exit 77; }

DEPS=$top_builddir/tests/browser/deps
if [ ! -d "$DEPS/node_modules/playwright-core" ]; then
	mkdir -p "$DEPS"
	npm install --prefix "$DEPS" --no-save --no-audit --no-fund \
		playwright-core@1.65.1 >/dev/null 2>&1 \
		|| { echo "could not install playwright-core from npm"; exit 77; }
fi
ART=${NDRGUARD_ARTIFACTS:-$top_builddir/tests/browser/artifacts}
mkdir -p "$ART"

T=$(mktemp -d /tmp/ndrg-browser.XXXXXX) && chmod 755 "$T"
SINKPID= WEBPID=
cleanup() {
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SPORT=$(free_port)
HPORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:"$SPORT" 64 &
SINKPID=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$SPORT") 2>/dev/null && break; sleep 0.1; done

cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = smtp:127.0.0.1:$SPORT
digest_relay = smtp:127.0.0.1:$SPORT
digest_templates = $top_srcdir/templates
storm_threshold = 1
secret_file = $T/secret
http_listen = inet:127.0.0.1:$HPORT
base_url = http://127.0.0.1:$HPORT
http_rate_limit = 0
digest_max_items = 5
EOF
bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 8 "$T/ndr" alice@example.test "B$$" >/dev/null
sed -i 's/^Subject: Cheap watches 0008.*/Subject: <script>alert("x")<\/script> Quarterly report/' "$T/ndr/ndr-0008.eml"
n=0
for m in "$T"/ndr/*.eml; do
	n=$((n + 1))
	"$NDRGUARD" -c "$T/ndrguard.conf" deliver -f '' -q "B$n" -- alice@example.test < "$m" || fail "deliver $m"
done
"$WEB" -c "$T/ndrguard.conf" > "$T/web.out" 2> "$T/web.log" &
WEBPID=$!
for _ in $(seq 50); do grep -q '^listening' "$T/web.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^listening' "$T/web.out" || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }

# the digest, as received
"$NDRGUARD" -c "$T/ndrguard.conf" digest --now >/dev/null || fail "digest"
sleep 0.3
dig=$(find "$T/sink" -type f | head -1)
[ -n "$dig" ] && ok "digest received" || { fail "no digest in the sink"; exit 1; }
cp "$dig" "$ART/digest.eml"
python3 - "$dig" > "$T/links" <<'PY' || fail "could not read the digest"
import email, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
text = ''
for part in msg.walk():
    if part.get_content_type() == 'text/plain':
        text += part.get_payload(decode=True).decode('utf-8')
items = re.findall(r'Release: (\S+/item/\d+\?t=\S+)', text)
mailbox = re.findall(r'full list: (\S+/mailbox\?m=\S+)', text)
print(items[0]); print(items[1]); print(mailbox[0])
PY
rm -f "$dig"
ITEM=$(sed -n 1p "$T/links"); OTHER=$(sed -n 2p "$T/links"); MAILBOX=$(sed -n 3p "$T/links")
ID=${ITEM#*/item/}; ID=${ID%%\?*}
[ -n "$ID" ] && ok "release link for item $ID taken from the digest" || { fail "no release link"; exit 1; }

out=$(cd "$DEPS" && NODE_PATH="$DEPS/node_modules" timeout 120 node "$top_srcdir/tests/browser/release.js" \
	"$CHROMIUM" "$ITEM" "$OTHER" "$MAILBOX" "$ART" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] && ok "clicked Release in Chromium, no console errors, fits 375 px" || fail "browser run (exit $rc)"

sleep 0.3
[ "$(item_state "$ID")" = released ] \
	&& ok "item $ID released" || fail "item $ID not released"
got=$(find "$T/sink" -type f)
[ "$(echo "$got" | grep -c .)" = 1 ] && ok "one message arrived" || fail "sink holds: $got"
if [ -n "$got" ]; then
	grep -q '^X-Rcpt-Args: <alice@example.test>' "$got" && ok "in alice's mailbox" || fail "wrong recipient"
	item_raw "$ID" > "$T/held"
	sed '1,/^Received: from/d' "$got" | sed -e '1,2{/^	/d}' -e '${/^$/d}' | tr -d '\r' > "$T/arrived"
	cmp -s "$T/held" "$T/arrived" && ok "byte for byte as held" || fail "the arrived copy differs"
fi
for s in item-375 released-375 mailbox-375 item-1280-es mailbox-1280-es; do
	[ -s "$ART/$s.png" ] || fail "no screenshot $s.png"
done
ls "$ART"

[ $fails -eq 0 ] || { echo "$fails failures"; tail -20 "$T/web.log"; exit 1; }
exit 0
