#!/bin/sh
# postfix-instance.sh - write a private Postfix instance wired to ndrguard deliver
#
# SYNOPSIS
#	tools/postfix-instance.sh -p PORT -r REINJECT_PORT -b NDRGUARD
#		-c NDRGUARD_CONF -u PIPE_USER -m MAILBOX_USER [-d DOMAIN]
#		[-l LMTP_PORT] [-s SUBMISSION_PORT -M MILTER] [-y REPLY_DOMAIN] DIR
#
# DESCRIPTION
#	Creates DIR/etc (main.cf, master.cf, null_sender), DIR/spool,
#	DIR/data and DIR/mail for a Postfix instance that shares nothing
#	with the system's one but the binaries: an smtpd on 127.0.0.1:PORT
#	only, final delivery by virtual(8) into Maildirs DIR/mail/alice/
#	and DIR/mail/bob/ (alice@DOMAIN, bob@DOMAIN; default example.test)
#	owned by MAILBOX_USER, and, for the null sender only, the ndrguard
#	pipe(8) transport running NDRGUARD -c NDRGUARD_CONF as PIPE_USER
#	with a re-injection smtpd on 127.0.0.1:REINJECT_PORT.
#
#	With -l, the null sender goes over LMTP to ndrguardd on
#	127.0.0.1:LMTP_PORT instead (doc/postfix/lmtp-*); the pipe(8)
#	transport is still defined, so switching back is one line of
#	DIR/etc/null_sender.
#
#	With -s and -M, a submission-like smtpd on 127.0.0.1:SUBMISSION_PORT
#	passes outbound mail to ndrguard-milter at MILTER (its milter_listen
#	in Postfix's form: unix:/path or inet:HOST:PORT)
#	(doc/postfix/milter-*); the milter itself is not started here.
#
#	The ndrguard lines come from doc/postfix/*.cf and doc/postfix/
#	null_sender with their @PLACEHOLDERS@ filled in: the demo
#	(tools/run.sh) and the integration tests run what the docs show.
#
#	With -y, mail to REPLY_DOMAIN goes to the ndrguard-reply pipe(8)
#	transport (release by reply: doc/postfix/reply-*).
#
#	Start it with "postfix -c DIR/etc start" (or start-fg), stop it
#	with "postfix -c DIR/etc stop".  Existing queue and mail are kept.
#	Keep DIR short: unix sockets under DIR/spool/private must fit in
#	108 bytes.
#
# DIAGNOSTICS
#	Exit 64 on a usage error, 1 when a file cannot be written.
set -eu

usage()
{
	echo "usage: postfix-instance.sh -p PORT -r REINJECT_PORT -b NDRGUARD -c CONF -u PIPE_USER -m MAILBOX_USER [-d DOMAIN] [-l LMTP_PORT] DIR" >&2
	exit 64
}

srcdir=$(cd "$(dirname "$0")/.." && pwd)
docs=$srcdir/doc/postfix
port='' reinject_port='' ndrguard='' conf='' pipe_user='' mbox_user='' domain=example.test
lmtp_port='' submission_port='' milter_port='' reply_domain=''
while getopts p:r:b:c:u:m:d:l:s:M:y: opt; do
	case $opt in
	p) port=$OPTARG ;;
	r) reinject_port=$OPTARG ;;
	b) ndrguard=$OPTARG ;;
	c) conf=$OPTARG ;;
	u) pipe_user=$OPTARG ;;
	m) mbox_user=$OPTARG ;;
	d) domain=$OPTARG ;;
	l) lmtp_port=$OPTARG ;;
	s) submission_port=$OPTARG ;;
	M) milter_port=$OPTARG ;;
	y) reply_domain=$OPTARG ;;
	*) usage ;;
	esac
done
shift $(( OPTIND - 1 ))
[ $# -eq 1 ] || usage
for v in "$port" "$reinject_port" "$ndrguard" "$conf" "$pipe_user" "$mbox_user"; do
	[ -n "$v" ] || usage
done
dir=$1
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
mbox_uid=$(id -u "$mbox_user")
mbox_gid=$(id -g "$mbox_user")

# subst - a doc snippet with its placeholders filled in
subst()
{
	sed -e "s|@NDRGUARD@|$ndrguard|g" \
	    -e "s|@NDRGUARD_CONF@|$conf|g" \
	    -e "s|@NDRGUARD_USER@|$pipe_user|g" \
	    -e "s|@POSTFIX_CONFIG_DIR@|$dir/etc|g" \
	    -e "s|@REINJECT_PORT@|$reinject_port|g" \
	    -e "s|@LMTP_PORT@|$lmtp_port|g" \
	    -e "s|@SUBMISSION@|127.0.0.1:$submission_port|g" \
	    -e "s|@MILTER@|$milter_port|g" \
	    -e "s|@REPLY_DOMAIN@|$reply_domain|g" "$1"
}

mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/mail"
chmod 755 "$dir" "$dir/etc"
chown postfix "$dir/data"
chown "$mbox_uid:$mbox_gid" "$dir/mail"

cat > "$dir/etc/main.cf" <<EOF
# Private Postfix instance written by tools/postfix-instance.sh.
# Everything lives under $dir; only 127.0.0.1 is listened on.
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = mx.$domain
mydomain = $domain
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
append_dot_mydomain = no
in_flow_delay = 0
delay_warning_time = 0
# retry deferred mail within seconds, not minutes
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s

# final delivery: Maildirs under $dir/mail owned by $mbox_user
virtual_mailbox_domains = $domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = inline:{ alice@$domain=alice/, bob@$domain=bob/ }
virtual_uid_maps = static:$mbox_uid
virtual_gid_maps = static:$mbox_gid

EOF
path=pipe
[ -z "$lmtp_port" ] || path=lmtp
{
	echo "# --- doc/postfix/$path-main.cf ---"
	subst "$docs/$path-main.cf"
	if [ -n "$milter_port" ]; then
		echo "# --- doc/postfix/milter-main.cf ---"
		subst "$docs/milter-main.cf"
	fi
	if [ -n "$reply_domain" ]; then
		echo "# --- doc/postfix/reply-main.cf ---"
		subst "$docs/reply-main.cf"
	fi
} >> "$dir/etc/main.cf"

cat > "$dir/etc/master.cf" <<EOF
# Private Postfix instance written by tools/postfix-instance.sh.
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
virtual    unix  - n n -  - virtual
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
{
	echo "# --- doc/postfix/pipe-master.cf ---"
	subst "$docs/pipe-master.cf"
	if [ -n "$lmtp_port" ]; then
		echo "# --- doc/postfix/lmtp-master.cf ---"
		subst "$docs/lmtp-master.cf"
	fi
	if [ -n "$submission_port" ]; then
		echo "# --- doc/postfix/milter-master.cf ---"
		subst "$docs/milter-master.cf"
	fi
	echo "# --- doc/postfix/reinject-master.cf ---"
	subst "$docs/reinject-master.cf"
	if [ -n "$reply_domain" ]; then
		echo "# --- doc/postfix/reply-master.cf ---"
		subst "$docs/reply-master.cf"
	fi
} >> "$dir/etc/master.cf"
[ -z "$reply_domain" ] ||
	subst "$docs/reply_transport" > "$dir/etc/reply_transport"
if [ -n "$lmtp_port" ]; then
	subst "$docs/lmtp-null_sender" > "$dir/etc/null_sender"
else
	subst "$docs/null_sender" > "$dir/etc/null_sender"
fi
