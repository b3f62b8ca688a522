#!/bin/bash
# test-dkim-deliver.sh - our DKIM signature decides through ndrguard deliver
#
# Keys made here with openssl genpkey (RSA and Ed25519); originals signed
# by tests/integration/dkim-sign.py, quoted (headers only) in RFC 3464
# bounces whose originals name no relay of ours. storm_threshold is high:
# nothing is held for a storm, so whatever is held was held at once.
#  - a valid signature (either algorithm) passes, even with dkim_required
#  - a changed Subject is held as forged
#  - dkim_required = yes: an unsigned original is held as forged;
#    dkim_required = no: the same passes
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}"
command -v openssl >/dev/null || { echo "openssl not installed"; exit 77; }
T=$(mktemp -d /tmp/ndrg-dkim.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
fails=0

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
openssl pkey -in "$T/rsa.pem" -pubout -out "$T/rsa.pub"
openssl pkey -in "$T/ed.pem" -pubout -out "$T/ed.pub"
printf '#!/bin/sh\ncat >/dev/null\n' > "$T/sink.sh" && chmod 755 "$T/sink.sh"
conf() {
	cat > "$T/ndrguard.conf" <<EOF
database = $T/q.db
reinject = sendmail:$T/sink.sh
storm_threshold = 1000
our_relays = mx.ours.test
our_domains = ours.test
dkim_keys = r1=$T/rsa.pub, e1=$T/ed.pub
dkim_required = $1
EOF
}
# original N - an original of ours whose Message-ID is not of our domains
original() {
	printf 'From: Bob <bob@ours.test>\nTo: x@remote.test\nSubject: %s\nDate: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <%s@laptop.local>\n\nbody cut\n' "$1" "$1"
}
# bounce ID HEADERS-FILE - an NDR returning the headers
bounce() {
	cat <<EOF
From: MAILER-DAEMON@mx.remote.test
To: alice@ours.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <$1@mx.remote.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

--BB
Content-Type: text/plain

Your message could not be delivered.

--BB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.test

Final-Recipient: rfc822; x@remote.test
Action: failed
Status: 5.1.1

--BB
Content-Type: text/rfc822-headers

$(sed '/^$/q' "$2")
--BB--
EOF
}
deliver() { bounce "$1" "$2" | "$NDRGUARD" -c "$T/ndrguard.conf" deliver -f '' -q "$1" -- alice@ours.test; }
# nothing held yet: no database at all
held() { if [ -f "$T/q.db" ]; then held_count queue_id="$1"; else echo 0; fi; }
ev() { list_field evidence queue_id="$1"; }

sign() { original "$1" | python3 "$top_srcdir/tests/integration/dkim-sign.py" "$T/$2.pem" ours.test "$3" "$4" > "$T/$1.eml"; }
sign rsaok rsa r1 rsa-sha256
sign edok ed e1 ed25519-sha256
sed 's/^Subject: rsaok/Subject: rsaok!/' "$T/rsaok.eml" > "$T/tampered.eml"
sign wrongkey rsa e1 rsa-sha256
original plain > "$T/plain.eml"

conf yes
deliver RSAOK "$T/rsaok.eml" && [ "$(held RSAOK)" = 0 ] && ok "rsa-sha256 signature of ours passes" || fail "rsa-sha256 signature of ours"
deliver EDOK "$T/edok.eml" && [ "$(held EDOK)" = 0 ] && ok "ed25519-sha256 signature of ours passes" || fail "ed25519-sha256 signature of ours"
deliver TAMPER "$T/tampered.eml" && [ "$(held TAMPER)" = 1 ] &&
	[ "$(ev TAMPER)" = "forged: our DKIM signature does not verify" ] &&
	ok "a changed signed header is held at once as forged" || fail "tampered header: held $(held TAMPER), $(ev TAMPER)"
deliver WRONG "$T/wrongkey.eml" && [ "$(held WRONG)" = 1 ] &&
	ok "a signature by another key is held as forged" || fail "wrong key"
deliver PLAINREQ "$T/plain.eml" && [ "$(held PLAINREQ)" = 1 ] &&
	[ "$(ev PLAINREQ)" = "forged: no DKIM signature of ours (dkim_required)" ] &&
	ok "dkim_required: an unsigned original is held at once" || fail "dkim_required: held $(held PLAINREQ), $(ev PLAINREQ)"
conf no
deliver PLAIN "$T/plain.eml" && [ "$(held PLAIN)" = 0 ] &&
	ok "without dkim_required an unsigned original is metered, not held" || fail "dkim_required = no"
[ $fails -eq 0 ]
