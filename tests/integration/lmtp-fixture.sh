# lmtp-fixture.sh - the private Postfix of postfix-fixture.sh, wired to ndrguardd
#
# SYNOPSIS
#	. "$top_srcdir/tests/integration/lmtp-fixture.sh"
#	lf_setup [STORM_THRESHOLD]
#	pf_start; lf_start_daemon
#	lf_send_many RECIPIENT FILE...
#	lf_stop_daemon
#
# DESCRIPTION
#	Builds the instance with pf_setup, then replaces its pipe(8) wiring
#	with the LMTP one from doc/postfix/lmtp-*.cf and lmtp-null_sender
#	(the re-injection listener of reinject-master.cf stays), and adds
#	to ndrguard.conf the daemon's listener on a free loopback port.
#	ndrguardd runs in the foreground as $PF_USER; its log is $D/ndrguardd.log.
#
# ENVIRONMENT
#	NDRGUARDD	the daemon binary (set by make check)
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

: "${NDRGUARDD:=$top_srcdir/daemon/ndrguardd}"
LF_PID=

# lf_cleanup - EXIT trap: the daemon, then the fixture's own cleanup
lf_cleanup()
{
	_lrc=$?
	[ -n "$LF_PID" ] && kill "$LF_PID" 2>/dev/null && wait "$LF_PID" 2>/dev/null
	if [ $_lrc -ne 0 ] && [ -f "$D/ndrguardd.log" ]; then
		echo "--- last 20 ndrguardd log lines ---"
		tail -n 20 "$D/ndrguardd.log"
	fi
	(exit $_lrc)
	pf_cleanup
}

# lf_doc - a doc snippet with its placeholders filled in
lf_doc()
{
	sed -e "s|@POSTFIX_CONFIG_DIR@|$D/etc|g" \
	    -e "s|@REINJECT_PORT@|$REPORT|g" \
	    -e "s|@LMTP_PORT@|$LMTP_PORT|g" "$top_srcdir/doc/postfix/$1"
}

# lf_setup - pf_setup, then the pipe(8) lines swapped for the LMTP ones
lf_setup()
{
	command -v python3 >/dev/null 2>&1 || pf_skip "python3 is not installed"
	[ -x "$NDRGUARDD" ] || pf_fail "$NDRGUARDD is not built"
	pf_setup "$@"
	trap lf_cleanup EXIT
	LMTP_PORT=$(pf_free_port)
	if ! grep -q '^# --- .*pipe-main.cf ---$' "$D/etc/main.cf" ||
		! grep -q '^# --- .*pipe-master.cf ---$' "$D/etc/master.cf"; then
		pf_fail "the instance has no pipe(8) section to replace"
	fi
	sed -i '/^# --- .*pipe-main.cf ---$/,$d' "$D/etc/main.cf"
	{ echo "# --- doc/postfix/lmtp-main.cf ---"; lf_doc lmtp-main.cf; } >> "$D/etc/main.cf"
	sed -i '/^# --- .*pipe-master.cf ---$/,$d' "$D/etc/master.cf"
	{
		echo "# --- doc/postfix/lmtp-master.cf ---"; lf_doc lmtp-master.cf
		echo "# --- doc/postfix/reinject-master.cf ---"; lf_doc reinject-master.cf
	} >> "$D/etc/master.cf"
	lf_doc lmtp-null_sender > "$D/etc/null_sender"
	cat >> "$D/etc/ndrguard.conf" <<EOT
lmtp_listen = inet:127.0.0.1:$LMTP_PORT
daemon_user = $PF_USER
pid_file =
http_listen =
digest_templates = $top_srcdir/templates
secret_file = $D/db/secret
digest_relay = smtp:127.0.0.1:9
EOT
	pf_log "ndrguardd on 127.0.0.1:$LMTP_PORT"
}

# lf_port_open - true when something accepts connections on $LMTP_PORT
lf_port_open()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		PeerPort => $ARGV[0], Timeout => 1) ? 0 : 1)' "$LMTP_PORT"
}

# lf_start_daemon - start ndrguardd, wait until it answers
lf_start_daemon()
{
	"$NDRGUARDD" -c "$D/etc/ndrguard.conf" -f 2>>"$D/ndrguardd.log" &
	LF_PID=$!
	for _ in $(seq 100); do
		lf_port_open && return 0
		kill -0 "$LF_PID" 2>/dev/null || break
		sleep 0.05
	done
	pf_fail "ndrguardd did not come up"
}

# lf_stop_daemon - SIGTERM, and the exit status must be 0
lf_stop_daemon()
{
	kill "$LF_PID"
	wait "$LF_PID" || pf_fail "ndrguardd exited with status $? on SIGTERM"
	LF_PID=
}

# lf_send_many SENDER RECIPIENT FILE... - submit each FILE in one SMTP
# session (smtplib dot-stuffs; it adds a line unless the text ends in
# CR LF, so the line ends are made CR LF first)
lf_send_many()
{
	python3 - "$PORT" "$@" <<'PY' || pf_fail "could not submit the messages"
import smtplib, sys
port, sender, rcpt, files = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
with smtplib.SMTP('127.0.0.1', port, 'client.remote.test', timeout=60) as s:
    for f in files:
        text = open(f, 'rb').read().replace(b'\r\n', b'\n')
        s.sendmail(sender, [rcpt], text.replace(b'\n', b'\r\n'))
PY
}

# lf_kill_daemon - kill -9 ndrguardd (no chance to finish anything), reap it
lf_kill_daemon()
{
	kill -KILL "$LF_PID" || pf_fail "ndrguardd (pid $LF_PID) was not running to be killed"
	wait "$LF_PID" 2>/dev/null
	LF_PID=
}

# lf_lmtp_limit - the process limit of the ndrguard-lmtp transport: how
# many deliveries to ndrguardd Postfix can have in flight at once
lf_lmtp_limit()
{
	awk '$1 == "ndrguard-lmtp" && $2 == "unix" { print $7 }' "$D/etc/master.cf"
}
