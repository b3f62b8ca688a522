#!/bin/sh
# demo-web.sh - the release page for the demo started by tools/run.sh
#
# SYNOPSIS
#	tools/demo-web.sh [MAILBOX]
#	tools/demo-web.sh stop
#
# DESCRIPTION
#	Starts ndrguard-web on the demo's quarantine (127.0.0.1:$DEMO_WEB_PORT,
#	default 8480), then mails MAILBOX (default alice@example.test) her
#	digest through the demo Postfix, so the storm sent by
#	tools/demo-storm.sh can be followed from the digest in her Maildir to
#	the page, and released from there. Prints the page's address, where
#	the digest landed, and the links it carries. The key (secret_file) and
#	the page's own config live in $NDRGUARD_DEMO/web.
#
#	"stop" stops the page.
#
# ENVIRONMENT
#	NDRGUARD_DEMO, DEMO_PORT as for tools/run.sh; DEMO_WEB_PORT (8480).
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
DEMO=${NDRGUARD_DEMO:-/var/tmp/ndrguard-demo}
PORT=${DEMO_PORT:-2525}
WEB_PORT=${DEMO_WEB_PORT:-8480}
MAILBOX=${1:-alice@example.test}
W=$DEMO/web

if [ "$MAILBOX" = stop ]; then
	[ -f "$W/pid" ] && kill "$(cat "$W/pid")" 2>/dev/null && echo "release page stopped"
	rm -f "$W/pid"
	exit 0
fi
[ -f "$DEMO/etc/ndrguard.conf" ] || { echo "demo-web.sh: no demo in $DEMO; run tools/run.sh first" >&2; exit 1; }
[ -x "$top/web/ndrguard-web" ] || { echo "demo-web.sh: build first (tools/run.sh)" >&2; exit 1; }

# the demo's config, with the page's own settings in place of any there
mkdir -p "$W"
grep -v -E '^[[:space:]]*(http_listen|base_url|secret_file|digest_relay|digest_templates)[[:space:]]*=' \
	"$DEMO/etc/ndrguard.conf" > "$W/ndrguard.conf"
cat >> "$W/ndrguard.conf" <<EOF
# added by tools/demo-web.sh
http_listen = inet:127.0.0.1:$WEB_PORT
base_url = http://127.0.0.1:$WEB_PORT
secret_file = $W/secret
digest_relay = smtp:127.0.0.1:$PORT
digest_templates = $top/templates
EOF

if [ -f "$W/pid" ] && kill -0 "$(cat "$W/pid")" 2>/dev/null; then
	kill "$(cat "$W/pid")"
	sleep 0.5
fi
"$top/web/ndrguard-web" -c "$W/ndrguard.conf" > "$W/out" 2> "$W/log" &
echo $! > "$W/pid"
i=0
until grep -q '^listening' "$W/out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "demo-web.sh: the page did not start:" >&2; cat "$W/log" >&2; exit 1; }
	sleep 0.1
done
echo "Release page: http://127.0.0.1:$WEB_PORT/  (log: $W/log; stop: tools/demo-web.sh stop)"

# the digest, through the demo Postfix into the mailbox
user=${MAILBOX%@*}
maildir=$DEMO/postfix/mail/$user/Maildir/new
if "$top/cli/ndrguard" -c "$W/ndrguard.conf" digest --now --mailbox "$MAILBOX"; then
	sleep 2
	latest=$(ls -t "$maildir" 2>/dev/null | head -n 1)
	if [ -n "$latest" ]; then
		echo "The digest for $MAILBOX: $maildir/$latest"
	fi
fi
echo "Links for $MAILBOX (as in the digest):"
echo "  all held:  $("$top/web/ndrguard-web" -c "$W/ndrguard.conf" --link mailbox "$MAILBOX")"
echo "  settings:  $("$top/web/ndrguard-web" -c "$W/ndrguard.conf" --link settings "$MAILBOX")"
id=$("$top/cli/ndrguard" -c "$W/ndrguard.conf" list 2>/dev/null | awk -v m="$MAILBOX" '$0 ~ m && /held/ { print $1; exit }')
if [ -n "$id" ]; then
	echo "  item $id:  $("$top/web/ndrguard-web" -c "$W/ndrguard.conf" --link item "$id")"
fi
