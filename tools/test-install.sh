#!/bin/sh
# test-install.sh - the packaging checks: make distcheck, and make install
# into a DESTDIR with the files a postmaster expects where they belong
#
# SYNOPSIS
#	tools/test-install.sh	(after tools/test.sh has configured the tree)
#
# DIAGNOSTICS
#	Prints "install: N passed, N failed, N skipped" last; exit 1 when a
#	check failed.
set -u
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
check() { # check WHAT COMMAND...
	what=$1; shift
	if "$@" >/tmp/ndrguard-install.$$ 2>&1; then
		pass=$((pass + 1)); echo "ok: $what"
	else
		fail=$((fail + 1)); echo "FAIL: $what"; tail -n 30 /tmp/ndrguard-install.$$
	fi
	rm -f /tmp/ndrguard-install.$$
}

check "make distcheck" make -j"$(nproc 2>/dev/null || echo 2)" distcheck
rm -f ndrguard-*.tar.gz
dest=$(mktemp -d /tmp/ndrguard-dest.XXXXXX)
check "make install DESTDIR" make install DESTDIR="$dest"
for f in bin/ndrguard sbin/ndrguardd libexec/ndrguard/ndrguard-digest \
	etc/ndrguard/ndrguard.conf share/man/man8/ndrguard.8 \
	share/man/man8/ndrguardd.8 share/man/man5/ndrguard.conf.5 \
	share/ndrguard/templates/digest.html \
	share/ndrguard/templates/de/messages \
	share/ndrguard/sql/0001-quarantine.sql \
	lib/systemd/system/ndrguardd.service; do
	check "installed $f" test -e "$dest/usr/local/$f"
done
check "installed ndrguard reads its installed config" \
	"$dest/usr/local/bin/ndrguard" -c "$dest/usr/local/etc/ndrguard/ndrguard.conf" config -n
# the sample config with a user every machine has (ndrguard is made by
# tools/run.sh or the postmaster, not by make install), and the staged
# templates: -t loads them, and under DESTDIR they are not at the prefix
{ cat "$dest/usr/local/etc/ndrguard/ndrguard.conf"; echo "daemon_user = nobody"
  echo "digest_templates = $dest/usr/local/share/ndrguard/templates"; } > "$dest/t.conf"
check "installed ndrguardd accepts its installed config" \
	"$dest/usr/local/sbin/ndrguardd" -t -c "$dest/t.conf"
rm -rf "$dest"
echo "install: $pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
