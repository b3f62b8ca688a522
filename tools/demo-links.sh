#!/bin/sh
# demo-links.sh - the release links in alice's newest digest (tools/run.sh demo)
#
# SYNOPSIS
#	tools/demo-links.sh [MAILBOX_DIR]
#
# DESCRIPTION
#	Decodes the newest digest in the demo's alice Maildir (the message
#	with ndrguard's X-Ndrguard: digest header: bounces released or
#	passed on arrive there too) and prints the links it carries, one a
#	line, for a browser or curl. Digests are quoted-printable.
set -eu
DEMO=${NDRGUARD_DEMO:-/var/tmp/ndrguard-demo}
dir=${1:-$DEMO/postfix/mail/alice/new}
f=
for m in $(ls -t "$dir"/* 2>/dev/null); do
	# the header block only: a digest quoted in a bounce does not count
	if sed '/^\r\{0,1\}$/q' "$m" | grep -qi '^X-Ndrguard: *digest'; then
		f=$m
		break
	fi
done
[ -n "$f" ] || { echo "demo-links.sh: no digest in $dir (ndrguard digest --now --mailbox alice@example.test)" >&2; exit 1; }
python3 - "$f" <<'PY'
import email, email.policy, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
body = msg.get_body(('plain',))
text = body.get_content() if body is not None else ''
for link in dict.fromkeys(re.findall(r'https?://\S+', text)):
    print(link)
PY
