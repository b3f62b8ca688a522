#!/bin/sh
# test-outbound.sh - the outbound index and our DKIM signature through Postfix
#
# DESCRIPTION
#	A private Postfix with ndrguard-milter on a submission-like port.
#	Bob sends three messages there (Message-IDs of his laptop's, not of
#	our domains): `ndrguard outbound find` finds each. Then alice is
#	in a storm (storm_threshold 3, four forged NDRs: two pass, two are
#	held), and during it:
#	- a bounce quoting only the headers of one of Bob's messages (its
#	  Message-ID in another case) reaches alice: "outbound index";
#	- a bounce quoting an original of ours that was never recorded,
#	  signed with our DKIM key (generated here with openssl genpkey),
#	  its body cut off, reaches alice: "our DKIM signature";
#	- the same with a changed Subject is held as forged, and so is one
#	  to bob, who is in no storm: held from its first message.
#	Last, the milter's store is unwritable: Bob's mail still flows
#	through Postfix, each failure is one line in the milter's log, and
#	nothing is recorded.
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

: "${NDRGUARD_MILTER:=${top_builddir:-$top_srcdir}/milter/ndrguard-milter}"
[ -x "$NDRGUARD_MILTER" ] || pf_fail "$NDRGUARD_MILTER is not built"
command -v openssl >/dev/null 2>&1 || pf_skip "openssl is not installed"

SUB=$(pf_free_port)
# the socket's path is known once $D is: pf_setup substitutes it late
PF_INSTANCE_ARGS="-s $SUB -M unix:@D@/milter.sock"
pf_setup 3
MILT=unix:$D/milter.sock
sed -i "s|@D@|$D|g" "$D/etc/main.cf" "$D/etc/master.cf"
ALICE=alice@$PF_DOMAIN BOB=bob@$PF_DOMAIN
TAG=ob$$

mkdir -p "$D/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$D/keys/priv.pem" 2>/dev/null || pf_fail "openssl genpkey"
openssl pkey -in "$D/keys/priv.pem" -pubout -out "$D/keys/sel1.pem" ||
	pf_fail "openssl pkey -pubout"
chmod 644 "$D/keys/sel1.pem"
cat >> "$D/etc/ndrguard.conf" <<EOF2
milter_listen = $MILT
daemon_user = $PF_USER
dkim_keys = sel1=$D/keys/sel1.pem
EOF2

# milter_start CONF - run the milter in the foreground of a job
milter_start()
{
	"$NDRGUARD_MILTER" -c "$1" -f >>"$D/milter.log" 2>&1 &
	MILTER_PID=$!
	_i=0
	until grep -q 'listening on' "$D/milter.log" 2>/dev/null; do
		_i=$(( _i + 1 ))
		[ $_i -le 200 ] && kill -0 "$MILTER_PID" 2>/dev/null || {
			cat "$D/milter.log"; pf_fail "the milter did not come up"; }
		sleep 0.05
	done
}
milter_stop()
{
	[ -z "${MILTER_PID:-}" ] || { kill "$MILTER_PID"; wait "$MILTER_PID"; }
	MILTER_PID=
}
trap 'milter_stop; pf_cleanup' EXIT

# submit N - Bob's message N on the submission port
submit()
{
	cat > "$D/out-$1.eml" <<EOF2
From: Bob <$BOB>
To: $BOB
Subject: outbound $1
Date: Thu, 03 Dec 2026 10:00:0$1 +0000
Message-ID: <out-$1.$TAG@laptop.local>

Hello $1.
EOF2
	head -c -1 "$D/out-$1.eml" > "$D/send.tmp"
	swaks --server "127.0.0.1:$SUB" --silent 2 --timeout 20 \
		--helo laptop.local -f "$BOB" -t "$BOB" --data "@$D/send.tmp" \
		</dev/null || pf_fail "swaks could not submit message $1"
}

# found ID - is ID in the index? (ndrguard outbound find, as the pipe user)
found()
{
	runuser -u "$PF_USER" -- "$NDRGUARD" -c "$D/etc/ndrguard.conf" \
		outbound find --json "$1"
}

# bounce FILE RCPT HEADERS-FILE - an RFC 3464 NDR returning only headers
bounce()
{
	{
		cat <<EOF2
From: MAILER-DAEMON@mx.remote.test
To: $2
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-$(basename "$1" .eml).$TAG@mx.remote.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B$TAG"

--B$TAG
Content-Type: text/plain

Your message could not be delivered to x@remote.test.

--B$TAG
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.remote.test

Final-Recipient: rfc822; x@remote.test
Action: failed
Status: 5.1.1

--B$TAG
Content-Type: text/rfc822-headers

EOF2
		sed '/^$/q' "$3"
		echo "--B$TAG--"
	} > "$1"
}

milter_start "$D/etc/ndrguard.conf"
pf_start
for n in 1 2 3; do submit $n; done
pf_wait_idle 60
pf_wait_log "to=<$BOB>, relay=virtual, .*status=sent" 3 20
# the milter writes its records in groups, just after it accepted them
for n in 1 2 3; do
	_i=0
	until found "<out-$n.$TAG@laptop.local>" | grep -q '"found":true'; do
		_i=$(( _i + 1 ))
		[ $_i -le 100 ] || pf_fail "message $n is not in the outbound index"
		sleep 0.1
	done
done
found "<never-sent.$TAG@laptop.local>" >/dev/null &&
	pf_fail "a Message-ID never sent is found"
pf_log "3 submitted messages recorded"

# alice's storm: 4 forged NDRs, threshold 3
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 4 "$D/sent" "$ALICE" "$TAG"
for f in "$D"/sent/ndr-*.eml; do pf_send "$f" '' "$ALICE"; done
pf_wait_idle 60
[ "$(pf_held "$ALICE")" -eq 2 ] || pf_fail "expected alice's storm to hold 2"

# a real bounce of message 2: its headers only, the domain in capitals
sed 's/@laptop\.local>/@LAPTOP.Local>/' "$D/out-2.eml" > "$D/orig-2.eml"
bounce "$D/b-index.eml" "$ALICE" "$D/orig-2.eml"
# an original of ours signed with our key, never recorded, body cut off
cat > "$D/orig-dkim.eml" <<EOF2
From: Bob <$BOB>
To: x@remote.test
Subject: signed $TAG
Date: Thu, 03 Dec 2026 11:00:00 +0000
Message-ID: <signed.$TAG@laptop.local>

This body is not returned.
EOF2
python3 "$top_srcdir/tests/integration/dkim-sign.py" "$D/keys/priv.pem" \
	"$PF_DOMAIN" sel1 rsa-sha256 < "$D/orig-dkim.eml" > "$D/signed.eml" ||
	pf_fail "cannot sign"
bounce "$D/b-dkim.eml" "$ALICE" "$D/signed.eml"
sed "s/^Subject: signed/Subject: forged/" "$D/signed.eml" > "$D/forged.eml"
bounce "$D/b-forged.eml" "$ALICE" "$D/forged.eml"
bounce "$D/b-forged-bob.eml" "$BOB" "$D/forged.eml"
for f in b-index b-dkim b-forged; do pf_send "$D/$f.eml" '' "$ALICE"; done
pf_send "$D/b-forged-bob.eml" '' "$BOB"
pf_wait_idle 60
pf_wait_log "to=<$BOB>, relay=ndrguard,.* status=sent" 1 20

grep -l "bounce-b-index.$TAG" "$(pf_maildir alice)"/* >/dev/null 2>&1 ||
	pf_fail "the bounce of a recorded message was not delivered to alice"
grep -l "bounce-b-dkim.$TAG" "$(pf_maildir alice)"/* >/dev/null 2>&1 ||
	pf_fail "the bounce of a message with our DKIM signature was not delivered"
[ "$(pf_held "$ALICE")" -eq 3 ] ||
	pf_fail "expected 3 held for alice, found $(pf_held "$ALICE")"
pf_store_env
[ "$(held_count recipient="$ALICE" evidence~'forged: our DKIM*')" -eq 1 ] ||
	pf_fail "the forged signature is not held as forged"
[ "$(held_count recipient="$BOB" evidence~'forged: our DKIM*')" -eq 1 ] ||
	pf_fail "a forged bounce outside a storm is not held at once"
[ "$(pf_delivered bob)" -eq 3 ] || pf_fail "bob got a forged bounce"
pf_log "index and DKIM bounces delivered during the storm, forged ones held"

# the milter's store unwritable: mail still flows, the failure logged
milter_stop
: > "$D/milter.log"
mkdir -p "$D/ro" && chmod 555 "$D/ro"
sed "s|^database = .*|database = $D/ro/quarantine.db|" "$D/etc/ndrguard.conf" \
	> "$D/etc/milter-down.conf"
chmod 644 "$D/etc/milter-down.conf"
milter_start "$D/etc/milter-down.conf"
submit 4
submit 5
pf_wait_idle 60
pf_wait_log "to=<$BOB>, relay=virtual, .*status=sent" 5 20
_i=0
until [ "$(grep -c 'outbound index: .*accepted unrecorded' "$D/milter.log")" -ge 2 ]; do
	_i=$(( _i + 1 ))
	[ $_i -le 100 ] || { cat "$D/milter.log"; pf_fail "expected 2 failure lines in the milter's log"; }
	sleep 0.1
done
[ "$(grep -c 'outbound index: .*accepted unrecorded' "$D/milter.log")" -eq 2 ] || {
	cat "$D/milter.log"; pf_fail "expected exactly 2 failure lines"; }
found "<out-4.$TAG@laptop.local>" >/dev/null &&
	pf_fail "a message recorded in a store that was down"
grep -E 'milter|reject|defer' "$D/maillog" | grep -v 'status=sent' | grep -qi 'ndrguard-milter\|milter' &&
	pf_fail "Postfix complained about the milter"
pf_log "store down: 2 messages sent unrecorded, 2 lines logged"
exit 0
