#!/bin/bash
# test-owner-actions.sh - what a mailbox owner does besides releasing
#
# Through the real programs only: `ndrguard deliver` fills the quarantine
# (storm_threshold = 1) for alice (two storms: the first ended by a short
# storm_cooldown, a second begun after it) and bob; ndrguard-web serves
# the item pages; smtp-sink stands for the re-injection listener.
# Covers deleting one item (with, without and with a forged anti-forgery
# field, and a second time), deleting all held in one storm (the other
# storm and the other mailbox untouched), an allow rule for the reporting
# domain added on the page that lets the next bounce from there through
# during the storm, and `ndrguard allow add` refusing bad values.
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
WEB=${NDRGUARD_WEB:-$top_builddir/web/ndrguard-web}
SINK=$(command -v smtp-sink || echo /usr/sbin/smtp-sink)
[ -x "$SINK" ] || { echo "smtp-sink not installed (Debian package postfix)"; exit 77; }
command -v curl >/dev/null || { echo "curl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-owner.XXXXXX) && chmod 755 "$T"
SINKPID= WEBPID=
cleanup() {
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	[ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$top_srcdir/tests/lib.sh"
expect() { if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: got $3, want $2"; fi; }

SPORT=$(free_port)
mkdir -p "$T/sink" && chmod 777 "$T/sink"
"$SINK" -4 -u nobody -d "$T/sink/%H%M%S." 127.0.0.1:$SPORT 64 &
SINKPID=$!
wait_port "$SPORT"
# sunk TEXT - how many messages in the sink hold TEXT
sunk() { grep -l -F -- "$1" "$T"/sink/* 2>/dev/null | wc -l; }
# sunk_wait TEXT - sunk TEXT once it is 1 (smtp-sink may still be writing
# when the client has its reply), waiting at most NDRGUARD_TEST_WAIT s
sunk_wait() {
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 10))); do
		[ "$(sunk "$1")" -ge 1 ] && break
		sleep 0.1
	done
	sunk "$1"
}

BASE_URL=http://ndrguard.test
cat > "$T/long.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:$SPORT
storm_threshold = 1
storm_cooldown = 1h
busy_timeout = 5s
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
base_url = $BASE_URL
http_rate_limit = 0
digest_templates = $top_srcdir/templates
log = file:$T/ndrguard.log
CONF
sed 's/^storm_cooldown = .*/storm_cooldown = 1s\nstorm_window = 1s/' "$T/long.conf" > "$T/short.conf"
NDRG_CONF=$T/long.conf

gen() { bash "$top_srcdir/tests/integration/gen-mail.sh" ndr "$1" "$T/$2" "$3" "O$$$2" >/dev/null; }
n=0
# deliver CONF RCPT FILE - one bounce through the pipe agent
deliver() {
	n=$((n + 1))
	"$NDRGUARD" -c "$1" deliver -f '' -q "OQ$n" -- "$2" < "$3" || fail "deliver $3 to $2"
}
gen 3 a1 alice@example.test	# alice's first storm
gen 6 a2 alice@example.test	# alice's second storm, and the rule's bounces
gen 2 b bob@example.test
for m in "$T"/a1/*.eml; do deliver "$T/long.conf" alice@example.test "$m"; done
for m in "$T"/b/*.eml; do deliver "$T/long.conf" bob@example.test "$m"; done
# the first storm is over (to short.conf) once a window and a cooldown
# of calm passed after its last bounce: two whole seconds
sleep 3.2
deliver "$T/short.conf" alice@example.test "$T/a2/ndr-0001.eml"
for i in 2 3; do deliver "$T/long.conf" alice@example.test "$T/a2/ndr-000$i.eml"; done
held=$(held_count)
[ "$held" = 8 ] || { echo "expected 8 held, got $held"; list_json; exit 99; }
S1=$(list_field id recipient=alice@example.test | head -3)
S2=$(list_field id recipient=alice@example.test | tail -3)
B=$(list_field id recipient=bob@example.test)
expect "storms: alice's two and bob's" 3 "$(ndrg storms --json | grep -c '"id"')"

WEBOUT=$T/web.out
"$WEB" -c "$T/long.conf" -f > "$WEBOUT" 2>> "$T/web.log" &
WEBPID=$!
URL=
for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 10))); do
	URL=$(sed -n 's/^listening on //p' "$WEBOUT")
	[ -n "$URL" ] && break
	sleep 0.1
done
[ -n "$URL" ] || { echo "ndrguard-web did not start"; cat "$T/web.log"; exit 99; }

# link ID - the item page's path and query
link() { local l; l=$("$WEB" -c "$T/long.conf" --link item "$1") || return 1; echo "${l#"$BASE_URL"}"; }
# get PATH [curl args] - the body to $T/body, prints the status
get() { local p=$1; shift; curl -s -o "$T/body" -w '%{http_code}' "$@" "$URL$p"; }
post() { local p=$1; shift; get "$p" -H 'Content-Type: application/x-www-form-urlencoded' "$@"; }
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$T/body" | head -1; }
has() { grep -q -- "$1" "$T/body"; }
# forge TEXT - TEXT with one character changed
forge() { local u=$1 n=$((${#1} / 2)) c; c=${u:$n:1}; [ "$c" = A ] && c=B || c=A; echo "${u:0:$n}$c${u:$((n + 1))}"; }

# --- (a) delete one item ----------------------------------------------
# the second of the first storm (the first, from isp.test, is for (c))
D=$(echo "$S1" | sed -n 2p)
IT=$(link "$D")
expect "item page" 200 "$(get "$IT")"
has 'name="do" value="delete"' && ok "the page offers Delete" || fail "no Delete button"
CSRF=$(csrf_of)
[ -n "$CSRF" ] || fail "no anti-forgery field on the item page"
expect "delete without the anti-forgery field" 403 "$(post "$IT" --data 'do=delete')"
expect "delete with a forged anti-forgery field" 403 \
	"$(post "$IT" --data-urlencode "csrf=$(forge "$CSRF")" --data 'do=delete')"
expect "still held after the refused deletes" held "$(item_state "$D")"
expect "delete" 200 "$(post "$IT" --data-urlencode "csrf=$CSRF" --data 'do=delete')"
has 'Deleted: the message is gone' && ok "the answer says deleted" || fail "the answer does not say deleted"
expect "list --json after delete" deleted "$(item_state "$D")"
expect "item page after delete" 200 "$(get "$IT")"
grep -q '<title>Deleted - ' "$T/body" && ok "the page is headed Deleted" || fail "page not headed Deleted"
has 'name="do" value="release"' && fail "a deleted item still offers Release" || ok "no Release button once deleted"
expect "a second delete" 200 "$(post "$IT" --data-urlencode "csrf=$CSRF" --data 'do=delete')"
has 'Already deleted' && ok "the second delete says already deleted" || fail "second delete: $(grep -o 'class="note[^<]*' "$T/body")"
expect "the deleted item stays deleted" deleted "$(item_state "$D")"
expect "the delete's audit line" 1 "$(ndrg log --json | grep -c "\"id\":$D,\"action\":\"deleted\",\"actor\":\"web:")"
expect "a delete re-injects nothing" 0 "$(find "$T/sink" -type f | wc -l)"

# --- (b) delete all held in a storm -----------------------------------
X=$(echo "$S2" | head -1)
IT=$(link "$X")
get "$IT" >/dev/null
has 'value="delete_storm"' && ok "the page offers delete all in the storm" || fail "no storm delete button"
CSRF=$(csrf_of)
expect "delete the storm, forged field" 403 \
	"$(post "$IT" --data-urlencode "csrf=$(forge "$CSRF")" --data 'do=delete_storm')"
expect "nothing deleted by the forged storm delete" 7 "$(held_count)"
expect "delete the storm" 200 "$(post "$IT" --data-urlencode "csrf=$CSRF" --data 'do=delete_storm')"
has 'Deleted from this storm: 3' && ok "the answer says 3 deleted" || fail "storm delete: $(grep -o 'class="note[^<]*' "$T/body")"
for i in $S2; do expect "storm item $i" deleted "$(item_state "$i")"; done
for i in $(echo "$S1" | sed -n "1p;3p"); do expect "the first storm's item $i" held "$(item_state "$i")"; done
for i in $B; do expect "bob's item $i" held "$(item_state "$i")"; done

# --- (c) always deliver bounces from this reporting domain ------------
# ndr-0001 and ndr-0004 come from smtp-in.isp.test: domain isp.test
R=$(list_field id recipient=alice@example.test state=held reporting_mta=smtp-in.isp.test | head -1)
[ -n "$R" ] || { echo "no held item from smtp-in.isp.test"; list_json; exit 99; }
IT=$(link "$R")
get "$IT" >/dev/null
has 'Always deliver bounces from isp.test' && ok "the page offers the domain rule" || fail "no domain rule button"
has 'Mail delivery system of smtp-in.isp.test' && ok "the sender is named in words" || fail "sender not in words"
CSRF=$(csrf_of)
expect "rule, forged field" 403 "$(post "$IT" --data-urlencode "csrf=$(forge "$CSRF")" --data 'do=allow_domain')"
rules=$(ndrg allow list) || fail "allow list failed"
echo "$rules" | grep -q 'isp.test' && fail "a forged POST added a rule" || ok "no rule from the forged POST"
expect "add the domain rule" 200 "$(post "$IT" --data-urlencode "csrf=$CSRF" --data 'do=allow_domain')"
has 'Rule saved' && ok "the answer says the rule is saved" || fail "rule: $(grep -o 'class="note[^<]*' "$T/body")"
expect "allow list shows it" 1 "$(ndrg allow list | grep -c '^[0-9]\+ \+alice@example.test \+domain \+isp.test ')"
expect "the same rule again" 200 "$(post "$IT" --data-urlencode "csrf=$CSRF" --data 'do=allow_domain')"
has 'You have that rule already' && ok "a second add says it is there" || fail "second add"
expect "still one rule" 1 "$(ndrg allow list | grep -c 'isp.test')"
expect "rule added, the item itself still held" held "$(item_state "$R")"

before=$(list_count recipient=alice@example.test)
deliver "$T/long.conf" alice@example.test "$T/a2/ndr-0004.eml"
expect "the bounce from isp.test is not held" "$before" "$(list_count recipient=alice@example.test)"
expect "the bounce from isp.test reached the re-injection hop" 1 "$(sunk_wait "<ndr.O$$a2.0004@smtp-in.isp.test>")"
grep -q ": OQ$n: .*alice@example.test.*owner rule" "$T/ndrguard.log" \
	&& ok "its log line names the owner rule" || fail "log: $(grep ": OQ$n: " "$T/ndrguard.log")"
# the storm goes on for everything else: mx1.far-away.test is still held
deliver "$T/long.conf" alice@example.test "$T/a2/ndr-0006.eml"
expect "a bounce from elsewhere is still held" 1 \
	"$(held_count queue_id=OQ$n)"
expect "the sink holds only the allowed bounce" 1 "$(find "$T/sink" -type f | wc -l)"
# bob has no rule: the same bounce to bob is held
deliver "$T/long.conf" bob@example.test "$T/a2/ndr-0004.eml"
expect "bob's bounce from isp.test is held" 1 "$(held_count queue_id=OQ$n)"

# --- (d) ndrguard allow add refuses bad values ------------------------
# allow_bad WHAT EXPECTED-TEXT ARGS... - exit 64, the text on stderr
allow_bad() {
	local what=$1 text=$2 rc; shift 2
	ndrg allow add "$@" > "$T/out" 2> "$T/err"; rc=$?
	expect "allow add $what: exit" 64 "$rc"
	grep -q -- "$text" "$T/err" && ok "allow add $what: says why" || fail "allow add $what: $(cat "$T/err")"
}
long=$(printf 'a%.0s' $(seq 300)).test
allow_bad "bad..domain" "not a domain name" alice@example.test domain bad..domain
allow_bad "a 300-byte name" "not a domain name" alice@example.test domain "$long"
allow_bad "a 64-byte label" "not a domain name" alice@example.test domain "$(printf 'b%.0s' $(seq 64)).test"
allow_bad "a bad recipient" "not a mail address" alice@example.test recipient 'no at sign'
allow_bad "a 300-byte recipient" "not a mail address" alice@example.test recipient "x@$long"
allow_bad "a bad kind" "domain or recipient" alice@example.test sender isp.test
allow_bad "no mailbox" "not a mailbox" nobody domain isp.test
expect "no rule from the refused adds" 1 "$(ndrg allow list | tail -n +2 | wc -l)"
ndrg allow add alice@example.test recipient User7@Example.NET > "$T/out" 2>&1 \
	&& ok "allow add a recipient rule" || fail "allow add recipient: $(cat "$T/out")"
ndrg allow list | grep -q 'recipient \+user7@example.net' && ok "kept lower-cased" || fail "allow list: $(ndrg allow list)"
RID=$(ndrg allow list | awk '$3 == "recipient" { print $1 }')
ndrg allow remove "$RID" | grep -q 'removed' && ok "allow remove" || fail "allow remove"
ndrg allow remove "$RID" | grep -q 'not there' && ok "a second remove says not there" || fail "second remove"
expect "allow list after remove" 1 "$(ndrg allow list | tail -n +2 | wc -l)"

grep -q 'AddressSanitizer\|runtime error' "$T/web.log" && fail "sanitizer: $(cat "$T/web.log")"
[ "$fails" = 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
