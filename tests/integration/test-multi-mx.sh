#!/bin/bash
# test-multi-mx.sh - two MX hosts, one quarantine and one storm meter
#
# DESCRIPTION
#	Two private Postfix instances ("mx a" and "mx b"), each handing
#	null-sender mail over LMTP to its own ndrguardd; both daemons use
#	one database: a private PostgreSQL server (tests/pg-fixture.sh) when
#	this build has the PostgreSQL backend, else one SQLite file both
#	open (two hosts' worth of writers on one machine).
#	NDRGUARD_TEST_BACKEND=sqlite|pgsql forces one.
#
#	1. A storm to alice split over both hosts at once is one storm:
#	   storm_threshold - 1 delivered in total, the rest held, and each
#	   host's `ndrguard list` shows the same quarantine.
#	2. bob's ordinary mail and his few bounces are delivered.
#	3. `ndrguard digest --now` run on both hosts at the same moment
#	   sends alice one digest.
#	4. An item host a held is released through host b's page while
#	   host a's CLI releases it too: one copy arrives.
#	5. A second flood, during which host a's ndrguardd is killed -9 and
#	   restarted (and, on PostgreSQL, the server restarted): every
#	   message sent is delivered or held exactly once.
. "${top_srcdir:-.}/tests/integration/lmtp-fixture.sh"
. "$top_srcdir/tests/pg-fixture.sh"

THRESHOLD=40
N=300
ALICE=alice@$PF_DOMAIN
BOB=bob@$PF_DOMAIN
WEB=${top_builddir:-$top_srcdir}/web/ndrguard-web
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || pf_skip "smtp-sink is not installed (Debian package postfix)"
[ -x "$WEB" ] || pf_fail "$WEB is not built"
command -v curl >/dev/null 2>&1 || pf_skip "curl is not installed"

MX_VARS="D PORT REPORT LMTP_PORT PF_PID LF_PID"
S= SINKPID= WEBPID=

# mx_save HOST / mx_use HOST - keep and bring back the fixture's state
# of one instance (its functions work on the current one)
mx_save() { for _v in $MX_VARS; do eval "MX_${1}_$_v=\${$_v:-}"; done; }
mx_use() { for _v in $MX_VARS; do eval "$_v=\${MX_${1}_$_v:-}"; done; pf_store_env; }

# mx_cleanup - EXIT trap: both hosts, the page, the sink, the database
mx_cleanup()
{
	_mrc=$?
	trap - EXIT
	for _h in a b; do
		mx_use $_h
		[ -n "$LF_PID" ] && kill "$LF_PID" 2>/dev/null && wait "$LF_PID" 2>/dev/null
		if [ $_mrc -ne 0 ] && [ -f "$D/ndrguardd.log" ]; then
			echo "--- mx $_h: last 15 ndrguardd log lines ---"
			tail -n 15 "$D/ndrguardd.log"
		fi
		pf_stop
		[ -n "$D" ] && [ -z "${PF_KEEP:-}" ] && rm -rf "$D"
	done
	for _p in $WEBPID $SINKPID; do kill "$_p" 2>/dev/null; done
	pg_fixture_stop
	[ -n "$S" ] && [ -z "${PF_KEEP:-}" ] && rm -rf "$S"
	exit $_mrc
}

# mx_backend - pgsql when this build and machine can, else sqlite
mx_backend()
{
	case ${NDRGUARD_TEST_BACKEND:-} in
	sqlite|pgsql) echo "$NDRGUARD_TEST_BACKEND"; return ;;
	esac
	# a build without the backend carries only its refusal
	if pg_fixture_find && ! grep -aq "built without PostgreSQL" "$NDRGUARD"; then
		echo pgsql
	else
		echo sqlite
	fi
}

# mx_setconf KEY VALUE - set one line of the current host's ndrguard.conf
mx_setconf()
{
	sed -i "/^$1 *=/d" "$D/etc/ndrguard.conf"
	echo "$1 = $2" >> "$D/etc/ndrguard.conf"
}

# mx_host NAME - one MX host: Postfix, its ndrguardd, the shared store
mx_host()
{
	MX_WEB_PORT=
	lf_setup $THRESHOLD
	trap mx_cleanup EXIT
	mx_setconf database "$DATABASE"
	mx_setconf secret_file "$S/secret"
	mx_setconf digest_relay "smtp:127.0.0.1:$SINK_PORT"
	mx_setconf digest_from "postmaster@$PF_DOMAIN"
	mx_setconf base_url "http://ndrguard.test"
	mx_setconf http_rate_limit 0
	mx_setconf busy_timeout 10s
	pf_start
	lf_start_daemon
	mx_save "$1"
	pf_log "mx $1: smtpd :$PORT, ndrguardd :$LMTP_PORT, dir $D"
}

# mx_send HOST SENDER RCPT FILE... - submit through that host's smtpd
mx_send() { ( mx_use "$1"; shift; lf_send_many "$@" ); }

# mx_idle - both hosts' queues empty
mx_idle() { for _h in a b; do ( mx_use $_h; pf_wait_idle "$1" ); done; }

# mx_delivered USER - messages in USER's Maildirs on both hosts
mx_delivered() { echo $(( $(mx_use a; pf_delivered "$1") + $(mx_use b; pf_delivered "$1") )); }

# mx_msgids - the Message-IDs delivered on both hosts and held (one per line)
mx_msgids()
{
	for _h in a b; do
		mx_use $_h
		for _f in "$D"/mail/*/new/*; do [ -f "$_f" ] && pf_msgid "$_f"; done
	done
	mx_use a
	for _id in $(list_field id state=held); do
		item_raw "$_id" | pf_msgid /dev/stdin
	done
}

S=$(mktemp -d /tmp/ndg-mx.XXXXXX) || exit 99
trap mx_cleanup EXIT
chmod 755 "$S"
mkdir -p "$S/db" "$S/sink" && chown "$PF_USER" "$S/db" && chmod 777 "$S/sink"
BACKEND=$(mx_backend)
case $BACKEND in
pgsql)
	pg_fixture_start "$S/pgsql" || pf_fail "the private PostgreSQL server did not start"
	DATABASE=$PG_URI ;;
*)	DATABASE=$S/db/quarantine.db ;;
esac
SINK_PORT=$(pf_free_port)
"$SINK" -4 -u "$PF_USER" -d "$S/sink/%H%M%S." "127.0.0.1:$SINK_PORT" 64 & SINKPID=$!
pf_log "backend $BACKEND: $DATABASE"

mx_host a
mx_host b

# 1. one storm over two hosts
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr $N "$S/storm" "$ALICE" "mx$$" >/dev/null
set -- "$S"/storm/ndr-*.eml
half=$(( $# / 2 ))
mx_send a '' "$ALICE" "${@:1:$half}" &
sa=$!
mx_send b '' "$ALICE" "${@:$(( half + 1 ))}"
wait $sa || pf_fail "submitting through mx a failed"
mx_idle 180
got=$(mx_delivered alice)
[ "$got" -eq $(( THRESHOLD - 1 )) ] ||
	pf_fail "alice got $got messages over both hosts, expected $(( THRESHOLD - 1 )) (one meter)"
for h in a b; do
	held=$(mx_use $h; held_count recipient="$ALICE")
	[ "$held" -eq $(( N - THRESHOLD + 1 )) ] ||
		pf_fail "mx $h lists $held held for alice, expected $(( N - THRESHOLD + 1 ))"
done
pf_log "storm over two hosts: $got delivered, $(( N - THRESHOLD + 1 )) held, both hosts list them"
for h in a b; do
	(mx_use $h; grep -q "action=quarantine" "$D/ndrguardd.log") ||
		pf_fail "mx $h held nothing: the storm was not split over both hosts"
done

# 2. bob: ordinary mail and a few bounces, through mx b
mkdir -p "$S/bob"
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 5 "$S/bob" "$BOB" "mxbob$$" >/dev/null
sh "$top_srcdir/tests/integration/gen-mail.sh" ordinary "$S/bob/ordinary.eml" "$BOB" "mxbob$$" >/dev/null
mx_send b 'carol@example.net' "$BOB" "$S/bob/ordinary.eml"
mx_send b '' "$BOB" "$S"/bob/ndr-*.eml
mx_idle 60
[ "$(mx_delivered bob)" -eq 6 ] || pf_fail "bob has $(mx_delivered bob) messages, expected 6"
[ "$(mx_use b; held_count recipient="$BOB")" -eq 0 ] || pf_fail "mail to bob was held"

# 3. the digest: both hosts' runs at once, one digest for alice
dpids=
for h in a b; do
	( mx_use $h; ndrg digest --now --mailbox "$ALICE" > "$D/digest.out" 2> "$D/digest.err" ) &
	dpids="$dpids $!"
done
wait $dpids	# not a bare wait: the daemons are children too
for _ in $(seq 100); do [ -n "$(ls "$S/sink")" ] && break; sleep 0.1; done
sleep 1	# a second digest, were one coming, is at the sink by now
n=$(grep -l "^To: .*$ALICE" "$S"/sink/* 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || pf_fail "alice got $n digests from two hosts, expected 1"
for h in a b; do
	( mx_use $h; ndrg digest --now --mailbox "$ALICE" >/dev/null 2>&1 )
done
n=$(grep -l "^To: .*$ALICE" "$S"/sink/* 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || pf_fail "a second run on each host sent alice $n digests in all, expected 1"
pf_log "digest: one for alice from two hosts"

# 4. an item held by mx a, released through mx b's page and mx a's CLI at once
mx_use a
QID=$(grep -oE "ndrguard-lmtp/lmtp\[[0-9]+\]: [0-9A-Za-z]+: to=<$ALICE>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$LMTP_PORT" "$D/maillog" |
	sed -E 's/^[^ ]+ ([0-9A-Za-z]+):.*/\1/' | sort -u > "$S/a.qids"; cat "$S/a.qids")
ID=
for q in $QID; do
	ID=$(list_field id state=held queue_id="$q" | head -1)
	[ -n "$ID" ] && break
done
[ -n "$ID" ] || pf_fail "no held item carries a queue id of mx a"
MID=$(item_raw "$ID" | pf_msgid /dev/stdin)
mx_use b
mx_setconf http_listen "inet:127.0.0.1:0"
"$WEB" -f -c "$D/etc/ndrguard.conf" > "$S/web.out" 2> "$S/web.log" & WEBPID=$!
URL=
for _ in $(seq 100); do URL=$(sed -n 's/^listening on //p' "$S/web.out"); [ -n "$URL" ] && break; sleep 0.05; done
[ -n "$URL" ] || { cat "$S/web.log"; pf_fail "mx b's page did not start"; }
path=$("$WEB" -c "$D/etc/ndrguard.conf" --link item "$ID") || pf_fail "no link for item $ID"
path=${path#http://ndrguard.test}
csrf=$(curl -s "$URL$path" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
[ -n "$csrf" ] || pf_fail "mx b's page shows no release form for item $ID held by mx a"
curl -s -o "$S/page.out" -H 'Content-Type: application/x-www-form-urlencoded' \
	-d "csrf=$csrf" "$URL$path" &
cp=$!
( mx_use a; ndrg release "$ID" > "$S/cli.out" 2>&1 )
wait $cp
mx_idle 60
copies=$(for h in a b; do mx_use $h; grep -lF "Message-ID: $MID" "$D"/mail/alice/new/* 2>/dev/null; done | wc -l)
[ "$copies" -eq 1 ] || pf_fail "item $ID released through two hosts arrived $copies times, expected once"
[ "$(mx_use a; item_state "$ID")" = released ] || pf_fail "item $ID is $(mx_use a; item_state "$ID"), expected released"
pf_log "release across hosts: one copy of item $ID"

# 5. a flood with a killed daemon (and a restarted PostgreSQL server)
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 200 "$S/flood" "$ALICE" "mxf$$" >/dev/null
sh "$top_srcdir/tests/integration/gen-mail.sh" ndr 10 "$S/floodbob" "$BOB" "mxfb$$" >/dev/null
mx_use a
pat="to=<$ALICE>, relay=127\.0\.0\.1.*:$LMTP_PORT.*status=sent"
before=$(grep -cE "$pat" "$D/maillog")
set -- "$S"/flood/ndr-*.eml
mx_send a '' "$ALICE" "${@:1:100}" &
fa=$!
mx_send b '' "$ALICE" "${@:101}" &
fb=$!
mx_send b '' "$BOB" "$S"/floodbob/ndr-*.eml
mx_use a
pf_wait_log "$pat" $(( before + 20 )) 120
lf_kill_daemon
pf_log "mx a: ndrguardd killed -9 during the flood"
if [ "$BACKEND" = pgsql ]; then
	pg_fixture_restart || pf_fail "the PostgreSQL server did not restart"
	pf_log "PostgreSQL restarted during the flood"
fi
lf_start_daemon
mx_save a
wait $fa || pf_fail "submitting the flood through mx a failed"
wait $fb || pf_fail "submitting the flood through mx b failed"
# deferred deliveries come back within Postfix's 2-4 s backoff
mx_idle 300

mx_msgids | sort > "$S/seen.ids"
for f in "$S"/storm/*.eml "$S"/bob/*.eml "$S"/flood/*.eml "$S"/floodbob/*.eml; do
	pf_msgid "$f"
done | sort > "$S/sent.ids"
dups=$(uniq -d "$S/seen.ids" | wc -l)
[ "$dups" -eq 0 ] || pf_fail "$dups messages delivered or held twice, e.g. $(uniq -d "$S/seen.ids" | head -1)"
missing=$(comm -23 "$S/sent.ids" "$S/seen.ids" | wc -l)
[ "$missing" -eq 0 ] || pf_fail "$missing messages lost, e.g. $(comm -23 "$S/sent.ids" "$S/seen.ids" | head -1)"
pf_log "PASS ($BACKEND): $(wc -l < "$S/sent.ids") messages over two hosts, each delivered or held exactly once"
exit 0
