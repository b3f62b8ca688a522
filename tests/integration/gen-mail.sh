#!/bin/sh
# gen-mail.sh - write test messages for the integration tests and benchmark
#
# SYNOPSIS
#	gen-mail.sh ndr COUNT OUTDIR [RECIPIENT [TAG]]
#	gen-mail.sh ordinary OUTFILE [RECIPIENT [TAG]]
#	gen-mail.sh notice OUTFILE [RECIPIENT [TAG]]
#
# DESCRIPTION
#	ndr writes COUNT backscatter bounces OUTDIR/ndr-0001.eml ... : RFC 3464
#	multipart/report; report-type=delivery-status messages from a remote
#	MAILER-DAEMON, each with its own Message-ID, returning the headers of
#	a spam run that forged RECIPIENT (default alice@example.test) as its
#	sender and that entered the Internet from a dial-up host, not from
#	our relays.  Reporting MTA, status and diagnostic vary over a few
#	realistic families so the storm is not COUNT copies of one text.
#
#	ordinary writes a person-to-person message to RECIPIENT.
#	notice writes a message that is sent with the null sender but is not
#	a bounce (a mailing-list style notice): no report, no bounce subject.
#
#	TAG makes Message-IDs unique across runs (default: the process id).
#	Lines end in LF; no line starts with a dot.  Output is deterministic
#	for a given TAG.
set -eu

gen_usage()
{
	echo "usage: gen-mail.sh ndr COUNT OUTDIR [RCPT [TAG]] | ordinary|notice OUTFILE [RCPT [TAG]]" >&2
	exit 64
}

# gen_date - an RFC 5322 date N minutes after a fixed instant
gen_date()
{
	_m=$(( $1 % 60 ))
	_h=$(( 8 + $1 / 60 % 12 ))
	printf 'Tue, 14 May 2024 %02d:%02d:%02d +0000' "$_h" "$_m" $(( $1 * 7 % 60 ))
}

# gen_ndr - one bounce: $1 = sequence number, $2 = recipient, $3 = tag
gen_ndr()
{
	_n=$1 _rcpt=$2 _tag=$3
	_seq=$(printf '%04d' "$_n")
	_bnd="=_ndr_${_tag}_${_seq}"
	_victim="user$(( (_n * 37) % 991 ))@$(
		case $(( _n % 4 )) in
		0) echo mail.far-away.test ;;
		1) echo customers.isp.test ;;
		2) echo shop.example.net ;;
		*) echo corp.invalid-tld.test ;;
		esac)"
	case $(( _n % 3 )) in
	0)	_mta=mx1.far-away.test
		_status=5.1.1
		_diag="smtp; 550 5.1.1 <$_victim>: Recipient address rejected: User unknown in virtual mailbox table"
		;;
	1)	_mta=smtp-in.isp.test
		_status=5.2.2
		_diag="smtp; 552 5.2.2 <$_victim>: mailbox full, quota exceeded"
		;;
	*)	_mta=gw.shop.example.net
		_status=5.7.1
		_diag="smtp; 554 5.7.1 Service unavailable; client host [198.51.100.$(( _n % 250 + 1 ))] blocked by zen.dnsbl.test"
		;;
	esac
	_ip="198.51.100.$(( _n % 250 + 1 ))"
	cat <<EOF
Date: $(gen_date "$_n")
From: MAILER-DAEMON@$_mta (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: $_rcpt
Auto-Submitted: auto-replied
Message-ID: <ndr.$_tag.$_seq@$_mta>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="$_bnd"

This is a MIME-encapsulated message.

--$_bnd
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host $_mta.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

                   The mail system

<$_victim>: host $_mta said: ${_diag#smtp; } (in reply to RCPT TO command)

--$_bnd
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; $_mta
X-Postfix-Queue-ID: Q$_seq$_tag
X-Postfix-Sender: rfc822; $_rcpt
Arrival-Date: $(gen_date "$_n")

Final-Recipient: rfc822; $_victim
Original-Recipient: rfc822;$_victim
Action: failed
Status: $_status
Remote-MTA: dns; $_mta
Diagnostic-Code: $_diag

--$_bnd
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <$_rcpt>
Received: from pc$_n.dsl.dialup.test (unknown [$_ip])
	by $_mta with ESMTP id R$_seq$_tag
	for <$_victim>; $(gen_date "$_n")
From: "Alice" <$_rcpt>
To: <$_victim>
Subject: Cheap watches $_seq, best prices this week only
Date: $(gen_date "$_n")
Message-ID: <spam.$_tag.$_seq@pc$_n.dsl.dialup.test>

--$_bnd--
EOF
}

# gen_ordinary - a person-to-person message to $1
gen_ordinary()
{
	cat <<EOF
Date: $(gen_date 3)
From: Bob Example <bob@example.net>
To: Alice <$1>
Subject: Lunch on Thursday?
Message-ID: <ordinary.$2@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hi Alice,

are we still on for lunch on Thursday? The place on the corner
has reopened -- $(printf 'caf\303\251') con leche is back on the menu.

  Indented line, trailing spaces stay:   
	and a tab-indented one.

From the office,
Bob
EOF
}

# gen_notice - a null-sender message that is not a bounce, to $1
gen_notice()
{
	cat <<EOF
Date: $(gen_date 5)
From: Library Notices <notices@library.example.net>
To: $1
Subject: Your reserved book is ready for pickup
Message-ID: <notice.$2@library.example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Dear reader,

the book you reserved ("Mail Routing for Everyone") is ready at the
front desk. It will be kept for you until Friday.

This message was sent from an address that does not accept replies.
EOF
}

[ $# -ge 2 ] || gen_usage
mode=$1
case $mode in
ndr)
	[ $# -ge 3 ] || gen_usage
	count=$2 outdir=$3 rcpt=${4:-alice@example.test} tag=${5:-$$}
	mkdir -p "$outdir"
	i=1
	while [ "$i" -le "$count" ]; do
		gen_ndr "$i" "$rcpt" "$tag" > "$outdir/ndr-$(printf '%04d' "$i").eml"
		i=$(( i + 1 ))
	done
	;;
ordinary)
	gen_ordinary "${3:-alice@example.test}" "${4:-$$}" > "$2"
	;;
notice)
	gen_notice "${3:-alice@example.test}" "${4:-$$}" > "$2"
	;;
*)
	gen_usage
	;;
esac
