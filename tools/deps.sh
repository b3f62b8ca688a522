#!/bin/sh
# deps.sh - install the Debian 12 packages ndrguard is built, run and tested with
#
# SYNOPSIS
#	tools/deps.sh
#
# DESCRIPTION
#	Installs, as root and without questions, whatever of the list below
#	is missing; when nothing is, it does not touch the network at all.
#	Postfix is preseeded with "No configuration": the package then
#	writes no /etc/postfix/main.cf and starts nothing, and ndrguard's
#	demo and tests run private instances with their own config dirs.
#
#	Why each package is there:
#	  build-essential	C compiler, make, libc headers (and libc.a for
#				the benchmark's static fork+exec floor)
#	  autoconf automake	./autogen.sh
#	  pkg-config		configure finds each library through it
#	  libsqlite3-dev	the quarantine store (libsqlite3.a is linked
#				into the per-message pipe agent)
#	  libjansson-dev	Amazon SES JSON notifications (libjansson.a,
#				linked in for the same reason)
#	  sqlite3		looking into the quarantine; the tests' fixture
#				writes and integrity checks
#	  check			unit test framework (prints its own totals)
#	  libmicrohttpd-dev	the release page's HTTP server in ndrguardd
#	  libesmtp-dev		sending the daily digest over SMTP
#	  libssl-dev		OpenSSL for the daemon (release-link tokens, TLS)
#				and the pipe agent (our DKIM signature, checked)
#	  libmilter-dev		ndrguard-milter, the outbound Message-ID index
#	  postfix		the MTA ndrguard plugs into; its smtp-source and
#				smtp-sink load generators
#	  swaks			sending test mail over SMTP
#	  curl			the release-page tests speak HTTP with it
#	  python3		test helpers: an LMTP client, parsing received
#				digests, the corpus scorer
#	  libpq-dev		the PostgreSQL store backend (database =
#				postgresql://...), several MX hosts sharing one
#				quarantine and storm meter
#	  postgresql		initdb and pg_ctl for the tests' private
#				servers (tests/pg-fixture.sh); the system's
#				cluster is never used
#	  clang			libFuzzer: CI's short run of every fuzz target
#	  valgrind		CI runs the daemon's integration tests under
#				memcheck (tools/test-valgrind.sh)
#	  debhelper lintian	CI builds the Debian package (debian/) and
#				checks it (tools/test-package.sh)
#	  libsisimai-perl time	bench/sisimai-bench.sh: the bounce parser
#				inspect is measured against, and the CPU
#				time of each run
#
# DIAGNOSTICS
#	Exits non-zero when a package is missing and we are not root, or
#	when apt-get fails.
set -eu

PACKAGES="build-essential autoconf automake pkg-config libsqlite3-dev sqlite3
libjansson-dev check libmicrohttpd-dev libesmtp-dev libssl-dev libmilter-dev
postfix swaks"
# the release page's browser test (tests/browser) runs headless Chromium
# (and the digest's HTML is checked at 375 and 1280 px in it)
PACKAGES="$PACKAGES chromium"
PACKAGES="$PACKAGES curl python3"
# CI's short fuzz runs (fuzz/run.sh: libFuzzer) and its memcheck stage
PACKAGES="$PACKAGES clang valgrind"
# the shared store of several MX hosts, and its tests' private servers
PACKAGES="$PACKAGES libpq-dev postgresql"
# CI's package stage: dpkg-buildpackage with debhelper, then lintian
PACKAGES="$PACKAGES debhelper lintian"
# the speed benchmark against Sisimai (bench/sisimai-bench.sh)
PACKAGES="$PACKAGES libsisimai-perl time"

missing=
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps.sh: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing$missing; run me as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost.test" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the list is intended
apt-get install -y -q --no-install-recommends $missing
