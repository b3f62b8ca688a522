#!/bin/sh
# demo-links.sh - the release links in alice's newest digest (tools/run.sh demo)
#
# SYNOPSIS
#	tools/demo-links.sh [MAILBOX_DIR]
#
# DESCRIPTION
#	Decodes the newest message in the demo's alice Maildir (the digest is
#	quoted-printable) and prints the links it carries, one a line, for a
#	browser or curl.
set -eu
DEMO=${NDRGUARD_DEMO:-/var/tmp/ndrguard-demo}
dir=${1:-$DEMO/postfix/mail/alice/new}
f=$(ls -t "$dir"/* 2>/dev/null | head -n 1)
[ -n "$f" ] || { echo "demo-links.sh: no mail in $dir" >&2; exit 1; }
python3 - "$f" <<'PY'
import email, email.policy, re, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
body = msg.get_body(('plain',))
text = body.get_content() if body is not None else ''
for link in dict.fromkeys(re.findall(r'https?://\S+', text)):
    print(link)
PY
