#!/bin/bash
# test-crash-deliver.sh - kill -9 of ndrguard deliver processes mid-flood
#
# DESCRIPTION
#	A private Postfix hands null-sender mail to `ndrguard deliver` through
#	pipe(8) (doc/postfix/pipe-*.cf, one recipient per run).  3,000
#	messages arrive over SMTP on four connections at once:
#	  - backscatter NDRs to alice: a storm, held from the THRESHOLD-th on;
#	  - NDRs and null-sender notices to bob, fewer than THRESHOLD: passed
#	    on (re-injected, delivered to bob's Maildir);
#	  - ordinary mail to bob, which never runs ndrguard.
#	Meanwhile a loop picks a random running `ndrguard deliver` of this
#	instance every few milliseconds and kills it with SIGKILL: some
#	before they read the message, some in the middle of the SQLite
#	commit, some after it.  pipe(8) reports "Command died with signal 9"
#	and Postfix defers the message; the instance retries within seconds
#	(queue_run_delay 2s, backoff 2s-4s, written by
#	tools/postfix-instance.sh).  A kill has landed when pipe(8) logged
#	that deferral (a kill may also hit an agent that had already
#	finished its work).  How many land depends on how fast the machine
#	runs agents and the killer, so the loop does not stop at a count of
#	attempts: it keeps killing as agents appear until WANT_KILLS kills
#	have landed, or the flood is delivered and the queue is empty (each
#	landed kill puts a message back in the queue, so the loop goes on
#	while there is something to kill).  It requires MIN_KILLS landed
#	kills, few enough that a loaded machine reaches them, and says how
#	many landed.
#	  - the maillog shows a deferral for a signal 9, nothing bounced;
#	  - every message is in the quarantine or a Maildir, none lost,
#	    none held twice, each held row byte for byte the message sent
#	    (size and raw_hash agree with its bytes), nothing to bob held
#	    (tests/integration/once-check.py);
#	  - alice has at most THRESHOLD - 1 distinct messages delivered (an
#	    agent killed after its arrival was counted but before it passed
#	    the message on leaves it to be held on the retry);
#	  - PRAGMA integrity_check says ok.
#
#	As with ndrguardd (test-crash-lmtp.sh), what is passed on is at
#	least once: an agent killed after the re-injection listener took the
#	copy but before it exited 0 is retried and re-injects again (or, if
#	the storm began meanwhile, holds it).  Each kill can do that to its
#	one message at most, so the test lists such messages and fails only
#	when there are more than kills.
#
# ENVIRONMENT
#	NDRGUARD_TEST_SCALE	percent of the full size (default 100, i.e.
#				3,000 messages); for slow builds only
. "${top_srcdir:-.}/tests/integration/postfix-fixture.sh"

SCALE=${NDRGUARD_TEST_SCALE:-100}
N=$(( 3000 * SCALE / 100 ))
WANT_KILLS=48	# landed kills the loop aims for
MIN_KILLS=5	# landed kills required: each deferral is one message killed
		# at some stage and retried; five cover kills before, in
		# and after the commit often enough, and every stage is
		# checked by the accounting below whatever the number
THRESHOLD=250
NBOB=$(( N * 5 / 100 ))		# NDRs to bob, passed on
NNOTICE=$(( N * 2 / 100 ))	# null-sender notices to bob, passed on
NORD=$(( N * 3 / 100 ))		# ordinary mail to bob, no filter
NALICE=$(( N - NBOB - NNOTICE - NORD ))
ALICE=alice@$PF_DOMAIN
BOB=bob@$PF_DOMAIN
GEN=$top_srcdir/tests/integration/gen-mail.sh

command -v python3 >/dev/null 2>&1 || pf_skip "python3 is not installed"
pf_setup $THRESHOLD
pf_start

pf_flood d

# agent_pids - the running `ndrguard deliver` processes of this instance
# (the binary is the instance's own copy, so no other ndrguard matches)
agent_pids()
{
	pgrep -f "^$D/bin/ndrguard -c $D/etc/ndrguard.conf deliver "
}

# kill_one - SIGKILL one random agent; true when one was there to kill
kill_one()
{
	_pid=$(agent_pids | shuf -n 1)
	[ -n "$_pid" ] || return 1
	# it may have exited (and its pid been reused) since pgrep saw it
	grep -qF "$D/bin/ndrguard" "/proc/$_pid/cmdline" 2>/dev/null || return 1
	kill -KILL "$_pid" 2>/dev/null
}

# landed - kills pipe(8) has reported so far ("Command died with signal 9")
landed()
{
	grep -cE "postfix/pipe\[[0-9]+\]: .*relay=ndrguard, .*status=deferred \(Command died with signal 9" "$D/maillog"
}

t0=$(date +%s)
python3 "$top_srcdir/tests/integration/flood.py" "127.0.0.1:$PORT" 4 "$D/flood.list" > "$D/flood.out" 2>&1 &
FLOOD_PID=$!
KILLS=0
deadline=$(( t0 + 150 ))
n=0
while [ "$(date +%s)" -le $deadline ]; do
	kill_one && KILLS=$(( KILLS + 1 ))
	# a random pause, so that kills land at every stage of an agent's
	# run; short, since an agent lives only some milliseconds
	sleep "0.00$(( RANDOM % 10 ))"
	# the maillog is read every 20th round: it grows to thousands of lines
	n=$(( n + 1 ))
	[ $(( n % 20 )) -eq 0 ] || continue
	[ "$(landed)" -ge $WANT_KILLS ] && break
	if ! kill -0 $FLOOD_PID 2>/dev/null && [ "$(pf_queue_files)" -eq 0 ]; then
		break
	fi
done
pf_log "$KILLS ndrguard deliver processes killed with SIGKILL in $(( $(date +%s) - t0 ))s, $(landed) landed so far"
wait $FLOOD_PID || pf_fail "the flood was not accepted: $(cat "$D/flood.out")"
pf_log "submitted: $(cat "$D/flood.out")"
postqueue -c "$D/etc" -f >/dev/null 2>&1
pf_wait_idle 240
pf_log "queue empty $(( $(date +%s) - t0 ))s after the flood began"

bounced=$(grep -c 'status=bounced' "$D/maillog")
[ "$bounced" -eq 0 ] || pf_fail "$bounced deliveries bounced: $(grep 'status=bounced' "$D/maillog" | head -3)"
signalled=$(landed)
[ "$signalled" -le $KILLS ] || pf_fail "$signalled deferrals for signal 9, but only $KILLS kills"
[ "$signalled" -ge $MIN_KILLS ] ||
	pf_fail "only $signalled of $KILLS kills landed (pipe(8) deferred the message) before the flood was delivered, at least $MIN_KILLS needed"
pf_log "$signalled of the $KILLS kills landed (pipe(8) deferred the message; the others hit an agent already done), aiming for $WANT_KILLS, $MIN_KILLS required: every landed kill is a message whose agent died at some stage, and the accounting below must find each message once; e.g.:"
grep -m1 -E "status=deferred \(Command died with signal 9" "$D/maillog" | sed 's/^/  /'
# any other deferral (a lock waited for too long on a loaded machine) is
# no loss, the retry settles it: reported, not failed
other=$(grep -E "relay=ndrguard, .*status=deferred" "$D/maillog" | grep -vc "signal 9")
[ "$other" -eq 0 ] || pf_log "$other deferrals for another reason, e.g.: $(grep -E "relay=ndrguard, .*status=deferred" "$D/maillog" | grep -v "signal 9" | head -1)"
[ -z "$(postqueue -c "$D/etc" -j 2>/dev/null)" ] || pf_fail "postqueue still lists messages"

runuser -u "$PF_USER" -- python3 "$top_srcdir/tests/integration/once-check.py" \
	--db "$D/db/quarantine.db" --sent "$D/sent" \
	--maildir "$(pf_maildir alice)" --maildir "$(pf_maildir bob)" \
	--never-held "$BOB" --dup-bound $KILLS > "$D/check.out" 2>&1
rc=$?
cat "$D/check.out"
[ $rc -eq 0 ] || pf_fail "once-check.py found the problems above"

both=$(sed -n 's/^figures: .*both=\([0-9]*\).*/\1/p' "$D/check.out")
alice=$(grep -hi -m1 '^message-id:' "$(pf_maildir alice)"/* | sort -u | wc -l)
[ "$alice" -le $(( THRESHOLD - 1 )) ] && [ "$alice" -ge $(( THRESHOLD - 1 - KILLS )) ] ||
	pf_fail "alice has $alice distinct messages, expected $(( THRESHOLD - 1 )) (less at most $KILLS killed)"
[ "$(pf_held "$ALICE")" -eq $(( NALICE - alice + both )) ] ||
	pf_fail "$(pf_held "$ALICE") held for alice, expected $NALICE - $alice delivered + $both both"
ic=$(pf_integrity)
[ "$ic" = ok ] || pf_fail "integrity_check: $ic"

pf_log "PASS: $N messages, $KILLS agents killed, $(pf_held "$ALICE") held once each, $(( $(pf_delivered alice) + $(pf_delivered bob) )) delivery files, integrity ok"
exit 0
