#!/bin/bash
# mta-corpus.sh - bounces written for real by other MTAs, scored.
# Exim and nullmailer are taken from Debian's packages (fetched with
# `apt-get download` into a cache and unpacked with `dpkg -x`, never
# installed: they would replace Postfix as the system MTA). Exim runs
# from the unpacked tree as an unprivileged user with a private config
# and spool in a temp dir, and sends to tests/reject-smtp.py on a
# loopback port, which refuses each recipient in one of the known ways
# (user unknown, over quota, relay denied, greylisted for ever, too big,
# content rejected after DATA); a domain under .invalid gives "host not
# found". The bounces Exim writes land in a local maildir. nullmailer's
# DSN writer (nullmailer-dsn, what nullmailer-send runs on a failure)
# is fed the same replies. Every bounce is then scored by
# corpus-score.py against what is known from how it was made: every
# one must be recognised with the right recipient; status and reason
# figures are printed (tests/corpus-notes.md records them).
# Exit 77 (skip) without python3, setpriv or the packages (no network).
. "${top_srcdir:-.}/tests/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
src="${top_srcdir:-.}"
ndrguard="${NDRGUARD:-$PWD/cli/ndrguard}"
cache="${NDRGUARD_MTA_CACHE:-$PWD/tests/mta-cache}"
pkgs="exim4-daemon-light exim4-base libidn12 nullmailer libnss-wrapper"

# mta_fetch: the packages' .debs in $cache, unpacked under $cache/root.
mta_fetch()
{
	[ -f "$cache/root/.unpacked" ] && return 0
	mkdir -p "$cache" || return 1
	(cd "$cache" && apt-get download $pkgs) >"$cache/download.log" 2>&1 ||
		return 1
	for deb in "$cache"/*.deb; do
		dpkg -x "$deb" "$cache/root" || return 1
	done
	# no setuid copy: it runs as the caller, and LD_PRELOAD must work
	chmod u-s "$cache/root/usr/sbin/exim4"
	touch "$cache/root/.unpacked"
}
mta_fetch || { echo "cannot fetch $pkgs (see $cache/download.log)"; exit 77; }
lib="$cache/root/usr/lib/x86_64-linux-gnu"
exim="$cache/root/usr/sbin/exim4"
[ -x "$exim" ] && [ -f "$lib/libnss_wrapper.so" ] || { echo "unpacked tree incomplete"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/mta-corpus.XXXXXX")
sink_pid=
trap '[ -n "$sink_pid" ] && kill $sink_pid 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/spool" "$T/mail" "$T/corpus/exim" "$T/corpus/nullmailer"

# Exim refuses to run as root with -C; as root the MTA runs as nobody.
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 || { echo "no setpriv"; exit 77; }
	uid=65534 gid=65534
	chown -R $uid:$gid "$T/spool" "$T/mail"
	chmod 755 "$T"
	as_mta() { setpriv --reuid=$uid --regid=$gid --clear-groups "$@"; }
else
	uid=$(id -u) gid=$(id -g)
	as_mta() { "$@"; }
fi
# the binary looks its compiled-in user up: a private passwd names it
printf 'mta:x:%s:%s::%s:/bin/sh\nDebian-exim:x:%s:%s::%s:/bin/sh\n' \
	$uid $gid "$T" $uid $gid "$T" >"$T/passwd"
printf 'mta:x:%s:\nDebian-exim:x:%s:\n' $gid $gid >"$T/group"
mta_env="LD_LIBRARY_PATH=$lib LD_PRELOAD=$lib/libnss_wrapper.so NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group"

port=$(free_port)
python3 "$src/tests/reject-smtp.py" "$port" &
sink_pid=$!
wait_port "$port"

cat >"$T/exim.conf" <<CONF
exim_path = $exim
keep_environment = LD_LIBRARY_PATH : LD_PRELOAD : NSS_WRAPPER_PASSWD : NSS_WRAPPER_GROUP
primary_hostname = mx.local.test
qualify_domain = local.test
domainlist local_domains = local.test
spool_directory = $T/spool
log_file_path = $T/spool/log-%s
exim_user = mta
exim_group = mta
never_users =
trusted_users = mta
host_lookup =
rfc1413_hosts =
delay_warning = 1s
begin routers
local:
  driver = accept
  domains = +local_domains
  transport = maildir
remote:
  driver = manualroute
  domains = remote.test
  route_list = * 127.0.0.1::$port byname
  transport = smtp
  self = send
nohost:
  driver = dnslookup
  domains = *.invalid
  transport = smtp
begin transports
maildir:
  driver = appendfile
  directory = $T/mail
  maildir_format
  user = mta
smtp:
  driver = smtp
  allow_localhost
begin retry
* * F,3s,1s
CONF

# exim_send RCPT: one message to RCPT, delivered in the foreground.
exim_send()
{
	printf 'From: Sender <sender@local.test>\nTo: <%s>\nSubject: report for %s\nMessage-ID: <%s.%s@local.test>\n\nThe figures you asked for.\n' \
		"$1" "$1" "${1%@*}" "$$" |
		as_mta env $mta_env "$exim" -C "$T/exim.conf" -odi \
			-f sender@local.test "$1" 2>>"$T/exim.err"
}
# exim_queue: one forced queue run.
exim_queue() { as_mta env $mta_env "$exim" -C "$T/exim.conf" -qff 2>>"$T/exim.err"; }
# bounces_for ADDR: the delivered bounces that name ADDR.
bounces_for() { grep -l -F "$1" "$T"/mail/new/* 2>/dev/null; }

# name  recipient  kind  status  reason  (Sisimai's reason names)
cat >"$T/cases" <<'CASES'
userunknown	unknown-1@remote.test	bounce	5.1.1	userunknown
mailboxfull	full-2@remote.test	bounce	5.2.2	mailboxfull
relaydenied	relay-3@remote.test	bounce	5.7.1	norelaying
mesgtoobig	big-4@remote.test	bounce	5.3.4	mesgtoobig
afterdata	content-5@remote.test	bounce	5.6.0	contenterror
hostunknown	nobody@nohost.invalid	bounce	-	hostunknown
CASES
while IFS='	' read -r name rcpt kind status reason; do
	exim_send "$rcpt" || fail "exim took no message for $rcpt"
done <"$T/cases"
while IFS='	' read -r name rcpt kind status reason; do
	f=$(bounces_for "$rcpt" | head -1)
	[ -n "$f" ] && cp "$f" "$T/corpus/exim/$name.eml"
done <"$T/cases"
exim_send grey-6@remote.test || fail "exim took no message for grey-6"
# greylisted for ever: a delay warning after 1 s, a bounce once the
# retry rule's 3 s are over; bounded, each run is a real attempt
for _ in $(seq 20); do
	sleep 1
	exim_queue
	grey=$(bounces_for grey-6@remote.test)
	[ -n "$grey" ] && [ -n "$(grep -L '^Action: delayed' $grey)" ] && break
done
if [ -n "$grey" ]; then
	f=$(grep -l '^Action: delayed' $grey | head -1)
	[ -n "$f" ] && cp "$f" "$T/corpus/exim/delayed.eml"
	f=$(grep -L '^Action: delayed' $grey | head -1)
	[ -n "$f" ] && cp "$f" "$T/corpus/exim/expired.eml"
fi
printf 'delayed\tgrey-6@remote.test\tdelay\t4.7.1\tblocked\nexpired\tgrey-6@remote.test\tbounce\t4.7.1\texpired\n' >>"$T/cases"

# nm_dsn NAME RCPT REPLY STATUS [OPTION]: nullmailer-dsn's report on a
# queue file for RCPT refused with REPLY, as nullmailer-send has it made
nm_dsn()
{
	printf 'sender@local.test\n%s\n\nFrom: sender@local.test\nTo: <%s>\nSubject: report\nMessage-ID: <nm.%s@local.test>\n\nThe figures.\n' "$2" "$2" "$$" >"$T/nq"
	env LD_LIBRARY_PATH="$lib" "$cache/root/usr/bin/nullmailer-dsn" \
		--remote=127.0.0.1 --diagnostic-code="smtp; $3" $5 "$4" <"$T/nq" |
		sed '1,/^$/d' >"$T/corpus/nullmailer/$1.eml"
}
python3 - "$port" "$T/nmreplies" <<'PY'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
rcpts = ["unknown-1@remote.test", "full-2@remote.test", "relay-3@remote.test",
         "grey-6@remote.test"]
with socket.create_connection(("127.0.0.1", port)) as s, open(out, "w") as o:
    f = s.makefile("rb")
    def cmd(line):
        if line:
            s.sendall(line.encode() + b"\r\n")
        reply = f.readline().decode().rstrip("\r\n")
        while reply[3:4] == "-":
            reply = f.readline().decode().rstrip("\r\n")
        return reply
    cmd(None); cmd("EHLO t"); cmd("MAIL FROM:<sender@local.test>")
    for r in rcpts:
        o.write(r + "\t" + cmd("RCPT TO:<%s>" % r) + "\n")
    cmd("QUIT")
PY
reply_of() { grep -F "$1" "$T/nmreplies" | cut -f2; }
nm_dsn userunknown unknown-1@remote.test "$(reply_of unknown-1)" 5.1.1
nm_dsn mailboxfull full-2@remote.test "$(reply_of full-2)" 5.2.2
nm_dsn relaydenied relay-3@remote.test "$(reply_of relay-3)" 5.7.1
nm_dsn delayed grey-6@remote.test "$(reply_of grey-6)" 4.7.1 \
	"--retry-until=$(($(date +%s) + 86400))"
nm_dsn hostunknown nobody@nohost.invalid "550 5.1.2 Host or domain name not found" 5.1.2

# expected.tsv: every file that exists; a missing bounce is a failure
{
	printf 'file\tkind\tbounced_recipient\tstatus\treason\tsource_mta\tstatus_in_msg\tbackscatter_expect\tour_relays\n'
	for mta in exim nullmailer; do
		while IFS='	' read -r name rcpt kind status reason; do
			f="$mta/$name.eml"
			if [ -f "$T/corpus/$mta/$name.eml" ]; then
				[ "$status" = - ] && status=
				printf '%s\t%s\t%s\t%s\t%s\t%s-%s\t%s\t\t\n' "$f" "$kind" \
					"$rcpt" "$status" "$reason" "$mta" "$name" \
					"$([ -n "$status" ] && echo yes || echo no)"
			fi
		done <"$T/cases"
	done
} >"$T/corpus/expected.tsv"
# exim: every case; nullmailer: the ones it is fed above
for name in $(cut -f1 "$T/cases"); do
	[ -f "$T/corpus/exim/$name.eml" ] || fail "exim wrote no bounce for $name"
done
ls "$T"/corpus/*/*.eml
[ -n "${NDRGUARD_MTA_KEEP:-}" ] && rm -rf "$NDRGUARD_MTA_KEEP" && cp -r "$T/corpus" "$NDRGUARD_MTA_KEEP"
python3 "$src/tests/corpus-score.py" --ndrguard "$ndrguard" \
	--corpus "$T/corpus" --families --fails \
	--floor detect=100 --floor kind=100 --floor rcpt=100 || fail "a bounce misread (above)"
[ "$fails" = 0 ]
