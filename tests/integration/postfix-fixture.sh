# postfix-fixture.sh - a private Postfix instance wired to ndrguard deliver
#
# SYNOPSIS
#	. "$top_srcdir/tests/integration/postfix-fixture.sh"
#	pf_setup [STORM_THRESHOLD]
#	pf_start
#	pf_send FILE SENDER RECIPIENT
#	pf_wait_idle SECONDS
#
# DESCRIPTION
#	Sourced by the test-pipe-*.sh scripts.  pf_setup builds a Postfix
#	instance of its own under a short temporary directory $D: own
#	config_directory ($D/etc), queue_directory ($D/spool) and
#	data_directory ($D/data), an smtpd on 127.0.0.1 only, and final
#	delivery with virtual(8) into Maildirs $D/mail/alice/ and
#	$D/mail/bob/ (addresses alice@ and bob@example.test).  Nothing of the
#	system's Postfix is touched and no port but loopback is opened.
#
#	The instance is written by tools/postfix-instance.sh, which takes
#	the ndrguard part of main.cf, master.cf and the null_sender access
#	table from doc/postfix/ with the @PLACEHOLDERS@ substituted, so the
#	documented configuration is exactly what the tests run.
#
#	The fixture removes itself at exit (set PF_KEEP=1 to keep $D for a
#	post-mortem).  pf_fail prints the tail of the maillog.
#
# ENVIRONMENT
#	NDRGUARD	the ndrguard binary (set by make check)
#	top_srcdir	the source tree (set by make check)
#	PF_KEEP		keep $D after the test
#	PF_INSTANCE_ARGS	more tools/postfix-instance.sh options (-s, -M)
#
# DIAGNOSTICS
#	Exit 77 (skip) when Postfix or swaks is not installed or when not
#	run as root; exit 1 with the maillog tail when an expectation fails.

PF_SKIP=77
PF_USER=nobody
PF_DOMAIN=example.test

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${NDRGUARD:=$top_srcdir/cli/ndrguard}"
PATH=$PATH:/usr/sbin:/sbin
export PATH

# pf_log - progress line on stdout (ends up in the test's .log file)
pf_log()
{
	printf '%s: %s\n' "${0##*/}" "$*"
}

# pf_skip - give up without a verdict
pf_skip()
{
	pf_log "SKIP: $*"
	exit $PF_SKIP
}

# pf_fail - report a failed expectation with the evidence, then exit 1
pf_fail()
{
	pf_log "FAIL: $*"
	if [ -n "${D:-}" ] && [ -f "$D/maillog" ]; then
		echo "--- last 40 maillog lines ($D/maillog) ---"
		tail -n 40 "$D/maillog"
		echo "--- end of maillog ---"
	fi
	exit 1
}

# pf_require - skip unless everything the fixture needs is here
pf_require()
{
	command -v postfix >/dev/null 2>&1 || pf_skip "postfix is not installed"
	command -v swaks >/dev/null 2>&1 || pf_skip "swaks is not installed"
	[ "$(id -u)" = 0 ] || pf_skip "needs root (Postfix runs pipe(8) as $PF_USER)"
	id postfix >/dev/null 2>&1 || pf_skip "no postfix user"
	[ -x "$NDRGUARD" ] || pf_fail "$NDRGUARD is not built"
}

# pf_free_port - print a loopback TCP port nobody listens on
#
# The kernel picks it (bind to port 0); perl is there because swaks is.
# Another process could take it before Postfix binds it: pf_start then
# fails loudly rather than talking to the wrong server.
pf_free_port()
{
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, ReuseAddr => 0,
			LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
		print $s->sockport, "\n";'
}

# pf_setup - create the instance; $1 = storm_threshold (default 20);
# with PF_REPLY_DOMAIN set, that domain goes to ndrguard-reply
pf_setup()
{
	pf_require
	PF_THRESHOLD=${1:-20}
	# Short: unix sockets under $D/spool/private must fit in 108 bytes.
	D=$(mktemp -d /tmp/ndg.XXXXXX) || pf_fail "mktemp"
	trap pf_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	chmod 755 "$D"
	mkdir -p "$D/etc" "$D/db" "$D/bin" "$D/sent"
	chown "$PF_USER" "$D/db"
	# The pipe user must be able to run the binary wherever the tree
	# lives (a checkout under /root is not reachable for nobody).
	cp "$NDRGUARD" "$D/bin/ndrguard"
	chmod 755 "$D/bin/ndrguard"
	# the programs `ndrguard digest` and `ndrguard reply` run, beside it
	for _p in ndrguard-digest ndrguard-reply; do
		[ ! -x "${NDRGUARD%/*}/$_p" ] || install -m 755 "${NDRGUARD%/*}/$_p" "$D/bin/$_p"
	done
	PORT=$(pf_free_port)
	REPORT=$(pf_free_port)
	[ "$REPORT" != "$PORT" ] || REPORT=$(pf_free_port)

	cat > "$D/etc/ndrguard.conf" <<EOF
# ndrguard.conf written by ${0##*/}
database = $D/db/quarantine.db
reinject = smtp:127.0.0.1:$REPORT
storm_threshold = $PF_THRESHOLD
storm_window = 10m
our_relays = mx.$PF_DOMAIN 192.0.2.0/24
our_domains = $PF_DOMAIN
EOF
	chmod 644 "$D/etc/ndrguard.conf"
	pf_store_env

	sh "$top_srcdir/tools/postfix-instance.sh" -p "$PORT" -r "$REPORT" \
		-b "$D/bin/ndrguard" -c "$D/etc/ndrguard.conf" -u "$PF_USER" \
		-m "$PF_USER" -d "$PF_DOMAIN" ${PF_INSTANCE_ARGS:-} ${PF_REPLY_DOMAIN:+-y "$PF_REPLY_DOMAIN"} "$D" ||
		pf_fail "tools/postfix-instance.sh could not write the instance"
	pf_log "instance in $D, smtpd on 127.0.0.1:$PORT, re-injection on :$REPORT, threshold $PF_THRESHOLD"
}

# pf_banner - true when our smtpd (not some other) answers with its 220
pf_banner()
{
	swaks --server "127.0.0.1:$PORT" --quit-after CONNECT --timeout 2 \
		</dev/null 2>&1 | grep -q "<-  220 mx\.$PF_DOMAIN "
}

# pf_start - run master in the foreground of a background job, wait for 220
pf_start()
{
	postfix -c "$D/etc" check >"$D/check.out" 2>&1 ||
		{ cat "$D/check.out"; pf_fail "postfix check"; }
	postfix -c "$D/etc" start-fg >"$D/master.out" 2>&1 &
	PF_PID=$!
	_i=0
	until pf_banner; do
		_i=$(( _i + 1 ))
		if [ $_i -gt 150 ] || ! kill -0 "$PF_PID" 2>/dev/null; then
			cat "$D/master.out"
			pf_fail "smtpd on 127.0.0.1:$PORT did not come up"
		fi
		sleep 0.1
	done
}

# pf_stop - stop the instance and reap master
pf_stop()
{
	if [ -n "${PF_PID:-}" ]; then
		postfix -c "$D/etc" stop >/dev/null 2>&1 || kill "$PF_PID" 2>/dev/null
		wait "$PF_PID" 2>/dev/null
		PF_PID=
	fi
}

# pf_cleanup - EXIT trap: stop Postfix, remove $D unless PF_KEEP is set
pf_cleanup()
{
	_rc=$?
	pf_stop
	if [ -n "${D:-}" ] && [ -d "$D" ]; then
		if [ -n "${PF_KEEP:-}" ]; then
			pf_log "kept $D"
		else
			rm -rf "$D"
		fi
	fi
	exit $_rc
}

# pf_send - submit FILE over SMTP with envelope SENDER ('' = <>) to RCPT
#
# swaks turns LF into CRLF and dot-stuffs, but ends DATA with CRLF.CRLF
# after the text, so a final line end in the file would arrive as one extra
# empty line: hand it the file without that last LF.
pf_send()
{
	head -c -1 "$1" > "$D/send.tmp"
	swaks --server "127.0.0.1:$PORT" --silent 2 --timeout 20 \
		--helo client.remote.test -f "${2:-<>}" -t "$3" \
		--data "@$D/send.tmp" </dev/null ||
		pf_fail "swaks could not send $1 to $3"
}

# pf_queue_files - number of messages Postfix still holds in any queue
pf_queue_files()
{
	find "$D/spool/maildrop" "$D/spool/incoming" "$D/spool/active" \
		"$D/spool/deferred" "$D/spool/hold" -type f 2>/dev/null | wc -l
}

# pf_wait_idle - wait until every queue is empty; fail after $1 seconds
pf_wait_idle()
{
	_deadline=$(( $(date +%s) + $1 ))
	_quiet=0
	# Empty twice in a row, 0.2 s apart: a pickup could be in flight.
	while [ $_quiet -lt 2 ]; do
		if [ "$(pf_queue_files)" -eq 0 ]; then
			_quiet=$(( _quiet + 1 ))
		else
			_quiet=0
		fi
		[ "$(date +%s)" -le "$_deadline" ] ||
			pf_fail "queue not empty after $1 s: $(pf_queue_files) left"
		sleep 0.2
	done
}

# pf_wait_log - wait until PATTERN (grep -E) occurs COUNT times in the maillog
pf_wait_log()
{
	_deadline=$(( $(date +%s) + $3 ))
	until [ "$(grep -cE "$1" "$D/maillog" 2>/dev/null)" -ge "$2" ]; do
		[ "$(date +%s)" -le "$_deadline" ] ||
			pf_fail "after $3 s fewer than $2 maillog lines match '$1'"
		sleep 0.2
	done
}

# pf_maildir - print the new/ directory of USER's Maildir
pf_maildir()
{
	echo "$D/mail/$1/new"
}

# pf_delivered - number of messages in USER's Maildir new/
pf_delivered()
{
	if [ -d "$D/mail/$1/new" ]; then
		find "$D/mail/$1/new" -type f | wc -l
	else
		echo 0
	fi
}

# The quarantine, asked through ndrguard itself (tests/lib.sh's helpers:
# list_count, list_field, item_raw), with the instance's config and as
# the pipe user, never as root: a WAL database gets -wal and -shm files
# beside it, and root-owned ones would lock ndrguard out afterwards.
. "${top_srcdir:-.}/tests/lib.sh"
pf_store_env()
{
	NDRG_CONF=$D/etc/ndrguard.conf NDRG_USER=$PF_USER
}

# pf_held - number of quarantined ('held') messages for RECIPIENT
pf_held()
{
	if [ -f "$D/db/quarantine.db" ]; then
		pf_store_env
		held_count recipient="$1"
	else
		echo 0
	fi
}

# pf_held_files DIR [F=V]... - each matching item's bytes as DIR/ID.eml
pf_held_files()
{
	local dir=$1 id
	shift
	pf_store_env
	mkdir -p "$dir" && chown "$PF_USER" "$dir"
	for id in $(list_field id "$@"); do
		[ "$id" = list-failed ] && return 1
		item_raw "$id" > "$dir/$id.eml" || return 1
	done
}

# pf_integrity - the SQLite file's integrity_check ("ok"); "ok" too on
# a store that is not a SQLite file, or without sqlite3 to ask
pf_integrity()
{
	if head -c 16 "$D/db/quarantine.db" 2>/dev/null | grep -q '^SQLite format 3' &&
	   command -v sqlite3 >/dev/null 2>&1; then
		runuser -u "$PF_USER" -- sqlite3 -batch -noheader "$D/db/quarantine.db" "PRAGMA integrity_check"
	else
		echo ok
	fi
}

# pf_same - true when FILE is SENT with only Postfix trace headers on top
#
# Delivery adds Return-Path:, X-Original-To:, Delivered-To: and Received:
# lines (a Received: may be folded) above the message as it was sent; with
# pipe(8) flag R the agent also sees a Return-Path:.  FILE must end with the
# exact bytes of SENT, and what comes before them must be such header lines
# and nothing else.
pf_same()
{
	_fs=$(wc -c < "$1")
	_ss=$(wc -c < "$2")
	[ "$_fs" -ge "$_ss" ] || return 1
	tail -c "$_ss" "$1" | cmp -s - "$2" || return 1
	head -c $(( _fs - _ss )) "$1" | awk '
		/^(Return-Path|X-Original-To|Delivered-To|Received):/ { next }
		/^[ \t]/ && NR > 1 { next }
		{ bad = 1 }
		END { exit bad }
	'
}

# pf_msgid - the Message-ID header value of FILE (first one only)
pf_msgid()
{
	awk 'tolower($0) ~ /^message-id:/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$1"
}

# pf_flood TAG - write the crash tests' flood: $NALICE NDRs to $ALICE,
# $NBOB NDRs, $NNOTICE null-sender notices and $NORD ordinary messages
# to $BOB (gen-mail.sh $GEN, under $D/sent, message ids tagged TAG), and
# $D/flood.list, one "SENDER RCPT FILE" line each ("-": the null
# sender), in a fixed shuffled order. Fails unless it lists $N.
pf_flood()
{
	_t0=$(date +%s)
	# two halves at once, under two tags: a core each
	sh "$GEN" ndr $(( NALICE / 2 )) "$D/sent/alice" "$ALICE" "${1}a$$" &
	_gen=$!
	sh "$GEN" ndr $(( NALICE - NALICE / 2 )) "$D/sent/alice2" "$ALICE" "${1}A$$"
	sh "$GEN" ndr $NBOB "$D/sent/bob" "$BOB" "${1}b$$"
	mkdir -p "$D/sent/notice" "$D/sent/ordinary"
	for _i in $(seq $NNOTICE); do
		sh "$GEN" notice "$D/sent/notice/n-$_i.eml" "$BOB" "${1}n$$.$_i"
	done
	for _i in $(seq $NORD); do
		sh "$GEN" ordinary "$D/sent/ordinary/o-$_i.eml" "$BOB" "${1}o$$.$_i"
	done
	wait $_gen || pf_fail "gen-mail.sh failed"
	{
		for f in "$D"/sent/alice/*.eml "$D"/sent/alice2/*.eml; do echo "- $ALICE $f"; done
		for f in "$D"/sent/bob/*.eml "$D"/sent/notice/*.eml; do echo "- $BOB $f"; done
		for f in "$D"/sent/ordinary/*.eml; do echo "carol@example.net $BOB $f"; done
	} > "$D/flood.unordered"
	# a fixed order: the same "random" bytes every run (plain sh: no <())
	yes | head -c 1000000 > "$D/flood.random"
	shuf --random-source="$D/flood.random" "$D/flood.unordered" > "$D/flood.list"
	[ "$(wc -l < "$D/flood.list")" -eq $N ] ||
		pf_fail "wrote $(wc -l < "$D/flood.list") messages, expected $N"
	pf_log "$N messages written in $(( $(date +%s) - _t0 ))s: $NALICE NDRs to alice, $NBOB NDRs + $NNOTICE notices + $NORD ordinary to bob"
}
