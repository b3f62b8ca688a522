#!/bin/sh
# run.sh - install, build and run ndrguard behind a private Postfix on loopback
#
# SYNOPSIS
#	tools/run.sh
#
# DESCRIPTION
#	On a Debian 12 machine, as root:
#	1. installs the packages (tools/deps.sh),
#	2. builds ndrguard (./autogen.sh && ./configure && make),
#	3. creates the system user "ndrguard" that Postfix runs it as,
#	4. sets up, in $NDRGUARD_DEMO (default /var/tmp/ndrguard-demo), a
#	   Postfix instance of its own (nothing in /etc/postfix is used or
#	   changed) listening on 127.0.0.1:2525 only, which hands mail with
#	   the null sender over LMTP to ndrguardd (doc/postfix/lmtp-*; the
#	   pipe(8) transport of doc/postfix-pipe.md is defined beside it),
#	   with an SQLite quarantine in $NDRGUARD_DEMO/db,
#	5. installs the man pages (man ndrguard), and sets admin credentials
#	   for /admin and /admin/stats (the password is made once and kept
#	   in $NDRGUARD_DEMO/etc/admin-password),
#	6. starts ndrguardd (LMTP on 127.0.0.1:10024, the release page on
#	   http://127.0.0.1:8480, digests through the demo Postfix) and
#	   Postfix, checks that mail flows, and prints how to use it: every
#	   command with the one binary, $NDRGUARD_DEMO/bin/ndrguard. Its
#	   decisions go to $NDRGUARD_DEMO/log/ndrguard.log (log = file:...),
#	   so no syslog daemon is needed to follow them.
#	Mailboxes alice@example.test and bob@example.test are Maildirs under
#	$NDRGUARD_DEMO/postfix/mail.
#
#	Running it again rebuilds what changed and restarts the instance;
#	queued mail, mailboxes and the quarantine are kept.
#
# ENVIRONMENT
#	NDRGUARD_DEMO	where the demo lives (keep it short: Postfix's
#			unix socket paths must fit in 108 bytes)
#	DEMO_PORT	the SMTP port (2525); DEMO_REINJECT_PORT (10026);
#	DEMO_LMTP_PORT (10024); DEMO_WEB_PORT (8480)
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
DEMO=${NDRGUARD_DEMO:-/var/tmp/ndrguard-demo}
PORT=${DEMO_PORT:-2525}
REINJECT_PORT=${DEMO_REINJECT_PORT:-10026}
LMTP_PORT=${DEMO_LMTP_PORT:-10024}
WEB_PORT=${DEMO_WEB_PORT:-8480}
PIPE_USER=ndrguard
MBOX_USER=nobody
PF=$DEMO/postfix
CONF=$DEMO/etc/ndrguard.conf
PATH=$PATH:/usr/sbin:/sbin
export PATH

say()
{
	printf '\n==> %s\n' "$*"
}

die()
{
	printf 'run.sh: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run me as root (packages, a system user, Postfix)"

say "Debian packages"
sh tools/deps.sh

say "Building"
if [ ! -x configure ]; then
	./autogen.sh
fi
if [ ! -f Makefile ]; then
	./configure
fi
make -j"$(nproc)"
[ -x cli/ndrguard ] || die "the build produced no cli/ndrguard"
[ -x daemon/ndrguardd ] || die "the build produced no daemon/ndrguardd"

say "Man pages (man ndrguard)"
install -d /usr/local/share/man/man5 /usr/local/share/man/man8
install -m 644 doc/ndrguard.8 doc/ndrguardd.8 doc/ndrguard-web.8 /usr/local/share/man/man8/
install -m 644 doc/ndrguard.conf.5 /usr/local/share/man/man5/
mandb -q /usr/local/share/man 2>/dev/null || true
man -w ndrguard

say "System user $PIPE_USER"
if id "$PIPE_USER" >/dev/null 2>&1; then
	echo "exists"
else
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "ndrguard pipe agent" "$PIPE_USER"
	echo "created"
fi

say "Private Postfix instance in $DEMO"
if [ -f "$PF/etc/main.cf" ] && postfix -c "$PF/etc" status >/dev/null 2>&1; then
	postfix -c "$PF/etc" stop
	# master takes a moment to let go of its ports
	i=0
	while postfix -c "$PF/etc" status >/dev/null 2>&1 && [ $i -lt 50 ]; do
		sleep 0.2
		i=$(( i + 1 ))
	done
fi
if [ -f "$DEMO/ndrguardd.pid" ] && kill "$(cat "$DEMO/ndrguardd.pid")" 2>/dev/null; then
	i=0
	while kill -0 "$(cat "$DEMO/ndrguardd.pid")" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.2
		i=$(( i + 1 ))
	done
fi
rm -f "$DEMO/ndrguardd.pid"
for p in $PORT $REINJECT_PORT $LMTP_PORT $WEB_PORT; do
	if perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) ? 0 : 1)' "$p"; then
		die "something already listens on 127.0.0.1:$p (set DEMO_PORT / DEMO_REINJECT_PORT)"
	fi
done

mkdir -p "$DEMO/bin" "$DEMO/etc" "$DEMO/db" "$DEMO/log"
chmod 755 "$DEMO" "$DEMO/bin" "$DEMO/etc"
# A copy the pipe user can always execute, wherever the checkout is;
# `ndrguard digest` runs the ndrguard-digest beside it.
NG=$DEMO/bin/ndrguard
install -m 755 cli/ndrguard "$NG"
install -m 755 cli/ndrguard-digest "$DEMO/bin/ndrguard-digest"
install -m 755 daemon/ndrguardd "$DEMO/bin/ndrguardd"
# SQLite's WAL needs the directory writable, not only the file.
chown "$PIPE_USER:$PIPE_USER" "$DEMO/db"
chmod 750 "$DEMO/db"
# the pipe agents (user ndrguard) append to the log file too
LOG=$DEMO/log/ndrguard.log
touch "$LOG"
chown "$PIPE_USER:$PIPE_USER" "$DEMO/log" "$LOG"
chmod 755 "$DEMO/log"
chmod 644 "$LOG"
# the admin pages: a password made once, kept beside the config
ADMIN_PW_FILE=$DEMO/etc/admin-password
if [ ! -s "$ADMIN_PW_FILE" ]; then
	(umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$ADMIN_PW_FILE")
fi
ADMIN_PW=$(cat "$ADMIN_PW_FILE")
ADMIN_HASH=$(printf '%s\n' "$ADMIN_PW" | web/ndrguard-web --hash-password) \
	|| die "ndrguard-web --hash-password failed"
cat > "$CONF" <<EOF
# ndrguard.conf for the demo (tools/run.sh); see ndrguard.conf(5)
database = $DEMO/db/quarantine.db
reinject = smtp:127.0.0.1:$REINJECT_PORT
storm_threshold = 20
storm_window = 10m
our_relays = mx.example.test 192.0.2.0/24
our_domains = example.test
# ndrguardd: LMTP from the demo Postfix, the release page, the digests
lmtp_listen = inet:127.0.0.1:$LMTP_PORT
daemon_user = $PIPE_USER
pid_file = $DEMO/ndrguardd.pid
http_listen = inet:127.0.0.1:$WEB_PORT
base_url = http://127.0.0.1:$WEB_PORT
secret_file = $DEMO/db/secret
digest_relay = smtp:127.0.0.1:$PORT
digest_from = postmaster@example.test
digest_templates = $top/templates
# the decisions, without a syslog daemon (ndrguard log reads them back too)
log = file:$LOG
# /admin and /admin/stats (the password is in $ADMIN_PW_FILE)
admin_user = admin
admin_password_hash = $ADMIN_HASH
EOF
chmod 644 "$CONF"
sh tools/postfix-instance.sh -p "$PORT" -r "$REINJECT_PORT" \
	-b "$NG" -c "$CONF" -u "$PIPE_USER" -m "$MBOX_USER" \
	-d example.test -l "$LMTP_PORT" "$PF"
"$DEMO/bin/ndrguardd" -c "$CONF" || die "ndrguardd did not start (see $LOG)"
echo "ndrguardd: LMTP on 127.0.0.1:$LMTP_PORT, release page on http://127.0.0.1:$WEB_PORT"
postfix -c "$PF/etc" check
postfix -c "$PF/etc" start

banner()
{
	swaks --server "127.0.0.1:$PORT" --quit-after CONNECT --timeout 2 \
		</dev/null 2>&1 | grep -q '<-  220 mx\.example\.test '
}
i=0
until banner; do
	i=$(( i + 1 ))
	[ $i -lt 100 ] || { tail -n 20 "$PF/maillog"; die "Postfix did not answer on 127.0.0.1:$PORT"; }
	sleep 0.2
done
echo "Postfix answers on 127.0.0.1:$PORT"

say "Smoke test: a null-sender notice to bob through ndrguard"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh tests/integration/gen-mail.sh notice "$tmp/notice.eml" bob@example.test "demo$(date +%s)"
head -c -1 "$tmp/notice.eml" > "$tmp/notice.data"
before=$(find "$PF/mail/bob/new" -type f 2>/dev/null | wc -l)
swaks --server "127.0.0.1:$PORT" --silent 2 -f '<>' -t bob@example.test \
	--data "@$tmp/notice.data" </dev/null
i=0
while [ "$(find "$PF/mail/bob/new" -type f 2>/dev/null | wc -l)" -le "$before" ]; do
	i=$(( i + 1 ))
	[ $i -lt 100 ] || { tail -n 20 "$PF/maillog"; die "the notice did not reach bob's Maildir"; }
	sleep 0.2
done
grep "ndrguard" "$PF/maillog" | grep "status=sent" | tail -n 1

cat <<EOF

ndrguard is running behind a private Postfix on 127.0.0.1:$PORT: null-sender
mail goes over LMTP to ndrguardd (127.0.0.1:$LMTP_PORT), which holds storms in
$DEMO/db/quarantine.db and serves the release page on http://127.0.0.1:$WEB_PORT
Mailboxes: alice@example.test and bob@example.test.  Storm: 20 bounces within 10 minutes.

Send a bounce storm (60 RFC 3464 NDRs, null sender, to alice; 19 reach her, 41 are held):
  sh $top/tools/demo-storm.sh 60
Or one message by hand:
  swaks --server 127.0.0.1:$PORT -f '<>' -t alice@example.test --header 'Subject: Undelivered Mail Returned to Sender'
Ordinary mail (not through ndrguard):
  swaks --server 127.0.0.1:$PORT -f carol@example.net -t alice@example.test

The ndrguard command (the same binary Postfix runs):  $NG
What Postfix did:     tail -f $PF/maillog
What ndrguard did:    tail -f $LOG
                      $NG -c $CONF log
alice's mailbox:      ls $PF/mail/alice/new
The quarantine:       $NG -c $CONF list
Storms:               $NG -c $CONF stats
alice's digest now (it lands in her Maildir, with release links to the page):
  $NG -c $CONF digest --now --mailbox alice@example.test
  sh $top/tools/demo-links.sh
The admin pages:      http://127.0.0.1:$WEB_PORT/admin/stats
                      user admin, password $ADMIN_PW
Manual pages:         man ndrguard; man ndrguard.conf
Stop:   postfix -c $PF/etc stop; kill \$(cat $DEMO/ndrguardd.pid)
Start again: sh $top/tools/run.sh
EOF
