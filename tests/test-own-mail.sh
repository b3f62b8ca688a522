#!/bin/bash
# test-own-mail.sh - ndrguard never holds its own digests
#
# A real digest (held bounces, `ndrguard digest` into Postfix's
# smtp-sink) from postmaster@, the address that made the text heuristics
# read it as a bounce listing failed recipients: `inspect --json` calls it
# not_bounce, and `deliver` with the null sender passes it on while a
# storm holds everything else for the mailbox. A bounce that merely
# returns a digest's headers inside its report is still a bounce. And
# tools/demo-links.sh finds the digest among newer mail.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-own.XXXXXX) && chmod 755 "$T"
SINKPID=
cleanup() { [ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

PORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:"$PORT" 64 &
SINKPID=$!
wait_port "$PORT"
cat > "$T/ndrguard.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:$PORT
storm_threshold = 1
storm_window = 10m
our_relays = mail.example.test
our_domains = example.test
digest_relay = smtp:127.0.0.1:$PORT
digest_from = postmaster@example.test
base_url = https://q.example.test
secret_file = $T/secret
digest_templates = $top_srcdir/templates
CONF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
held() { ng list --json | grep -c '"id"'; }
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 3 "$T/gen" alice@example.test own >/dev/null
for m in "$T/gen"/*.eml; do
	ng deliver -f '' -q "Q$(basename "$m" .eml | tr -dc 0-9)" -- alice@example.test < "$m" \
		|| fail "deliver $m"
done
[ "$(held)" = 3 ] && ok "3 bounces held" || fail "held: $(held)"
ng digest --now --mailbox alice@example.test > /dev/null || fail "digest"
D=
for _ in $(seq 50); do
	D=$(grep -l "^X-Rcpt-Args: <alice@example.test>" "$T"/sink/* 2>/dev/null | head -n 1)
	[ -n "$D" ] && break
	sleep 0.1
done
[ -n "$D" ] || { fail "no digest reached the sink"; echo "own-mail: 0 passed, $fails failed"; exit 1; }
# as it arrives in a mailbox: from its Date header on
sed -n '/^Date:/,$p' "$D" > "$T/digest.eml"
grep -q '^X-Ndrguard: digest' "$T/digest.eml" && ok "the digest carries X-Ndrguard" || fail "no X-Ndrguard header"

J=$(ng inspect --json "$T/digest.eml")
kind=$(echo "$J" | field kind)
[ "$kind" = not_bounce ] && ok "inspect: the digest is not_bounce" || fail "inspect: digest is $kind"
echo "$J" | field evidence | grep -q "own digest" && ok "inspect: evidence names ndrguard's digest" \
	|| fail "evidence: $(echo "$J" | field evidence)"
[ "$(echo "$J" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["recipients"]))')" = 0 ] \
	&& ok "inspect: no failed recipients read from the digest" || fail "recipients listed"

# a digest from before the header: known by its Message-ID
grep -v '^X-Ndrguard:' "$T/digest.eml" > "$T/old.eml"
kind=$(ng inspect --json "$T/old.eml" | field kind)
[ "$kind" = not_bounce ] && ok "inspect: an older digest (no header) is not_bounce" || fail "older digest is $kind"

# deliver, with the null sender, while alice's storm holds every bounce
ng deliver -f '' -q DIGEST1 -- alice@example.test < "$T/digest.eml"
rc=$?
[ $rc = 0 ] && ok "deliver: exit 0" || fail "deliver: exit $rc"
[ "$(held)" = 3 ] && ok "deliver: the digest was passed on, not held" || fail "held after the digest: $(held)"
n=0
for _ in $(seq 50); do
	n=$(grep -l "own digest\|^Subject: Held bounces for" "$T"/sink/* 2>/dev/null | wc -l)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
[ "$n" -ge 2 ] && ok "deliver: the digest reached the next hop" || fail "the digest was not re-injected"

# the marker counts on top only: a bounce returning a digest's headers
B=$(ls "$T/gen"/*.eml | head -n 1)
sed 's/^\(Message-ID: <spam\..*\)$/\1\nX-Ndrguard: digest\nAuto-Submitted: auto-generated/' "$B" > "$T/ret.eml"
grep -c '^X-Ndrguard' "$T/ret.eml" | grep -qv '^0$' || fail "test setup: no header added"
kind=$(ng inspect --json "$T/ret.eml" | field kind)
[ "$kind" = ndr_failed ] && ok "inspect: a bounce returning a digest's headers is a bounce" \
	|| fail "returned digest headers: $kind"


# tools/demo-links.sh: the links of the newest digest, though a bounce
# passed on to alice arrived after it
mkdir -p "$T/maildir/new"
cp "$T/digest.eml" "$T/maildir/new/1.digest"
touch -d '1 minute ago' "$T/maildir/new/1.digest"
cp "$B" "$T/maildir/new/2.bounce"
sh "$top_srcdir/tools/demo-links.sh" "$T/maildir/new" > "$T/links" 2>&1
grep -q '^https://q.example.test/item/[0-9]*?t=' "$T/links" \
	&& ok "demo-links.sh: the digest's release links, not the newest mail's" \
	|| fail "demo-links.sh: $(head -n 3 "$T/links")"

echo "own-mail: $fails failed"
[ $fails -eq 0 ]
