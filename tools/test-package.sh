#!/bin/bash
# test-package.sh - build the Debian package, install it on this machine,
# use it, remove and purge it
#
# SYNOPSIS
#	tools/test-package.sh	(as root, on Debian 12)
#
# DESCRIPTION
#	Copies the tree (the files git knows, as they are now) to a scratch
#	directory, builds it with `dpkg-buildpackage -us -uc -b`, checks the
#	result with lintian (no error or warning), and installs it with
#	dpkg -i. Then: the ndrguard user and /var/lib/ndrguard exist and
#	belong together, /etc/ndrguard/ndrguard.conf is a conffile, the unit
#	is enabled but waits for /etc/ndrguard/not-configured to go, the man
#	pages are found, `ndrguard config` and `ndrguardd -t` read the
#	installed config, and the installed pipe agent, as the ndrguard
#	user, holds a bounce in the installed database and passes a notice
#	on to an smtp-sink. Last, dpkg -r keeps the config and the data,
#	dpkg -P removes what the package made (the user too, unless it was
#	there before).
#	The unit tests run in the test stage already: the build skips them
#	(DEB_BUILD_OPTIONS=nocheck) unless PACKAGE_CHECK=1.
#
# DIAGNOSTICS
#	Prints "package: N passed, N failed, N skipped" last; exit 1 when a
#	check failed.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
pass=0 fail=0 skip=0
W=$(mktemp -d /tmp/ndrguard-pkg.XXXXXX) && chmod 755 "$W"
SINKPID=
cleanup() {
	[ -n "$SINKPID" ] && kill "$SINKPID" 2>/dev/null
	dpkg -P ndrguard >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
check() { # check WHAT COMMAND... (stdin from $IN, default /dev/null)
	local what=$1
	shift
	if "$@" < "${IN:-/dev/null}" > "$W/out" 2>&1; then
		pass=$((pass + 1)); echo "ok: $what"
	else
		fail=$((fail + 1)); echo "FAIL: $what"; tail -n 30 "$W/out"
	fi
}
finish() {
	echo "package: $pass passed, $fail failed, $skip skipped"
	[ $fail -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ] || ! command -v dpkg-buildpackage >/dev/null; then
	echo "needs root and dpkg-dev (tools/deps.sh)"
	skip=1
	finish
fi
sh tools/deps.sh >/dev/null || { fail=1; finish; }
if dpkg-query -W ndrguard >/dev/null 2>&1; then
	echo "ndrguard is installed as a package already: purged first"
	dpkg -P ndrguard >/dev/null
fi
user_before=$(getent passwd ndrguard || true)

# ---- build, from a copy: the tree's own build stays as it is
mkdir "$W/src"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	{ git ls-files; git ls-files --others --exclude-standard; } | sort -u \
		| while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
		| tar -cf - -T - | tar -xf - -C "$W/src"
else
	tar --exclude=./.git -cf - . | tar -xf - -C "$W/src"
fi
opts="parallel=$(nproc 2>/dev/null || echo 2)"
[ "${PACKAGE_CHECK:-0}" = 1 ] || opts="$opts nocheck"
start=$(date +%s)
check "dpkg-buildpackage -us -uc -b" \
	sh -c "cd '$W/src' && DEB_BUILD_OPTIONS='$opts' dpkg-buildpackage -us -uc -b"
echo "build: $(( $(date +%s) - start )) s"
deb=$(ls "$W"/ndrguard_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || finish
check "lintian: no error, no warning" \
	lintian --fail-on error,warning "$W"/ndrguard_*.changes

# ---- install
check "dpkg -i" dpkg -i "$deb"
check "user ndrguard exists" getent passwd ndrguard
check "/var/lib/ndrguard is the user's, mode 750" \
	test "$(stat -c '%U:%G %a' /var/lib/ndrguard)" = "ndrguard:ndrguard 750"
check "/etc/ndrguard/ndrguard.conf is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}' ndrguard | grep -q ' /etc/ndrguard/ndrguard.conf '"
check "the unit is installed and enabled" \
	test -e /lib/systemd/system/ndrguardd.service -a \
	-L /etc/systemd/system/multi-user.target.wants/ndrguardd.service
check "the unit waits for the postmaster (not-configured mark, condition)" \
	sh -c 'test -f /etc/ndrguard/not-configured &&
	grep -q "^ConditionPathExists=!/etc/ndrguard/not-configured" \
		/lib/systemd/system/ndrguardd.service.d/configured.conf'
for p in ndrguard ndrguardd ndrguard-web ndrguard.conf; do
	check "man $p is found" man -w "$p"
done
check "ndrguard config reads /etc/ndrguard/ndrguard.conf" \
	sh -c '/usr/bin/ndrguard config | grep -qx "database = /var/lib/ndrguard/quarantine.db"'
check "ndrguardd -t accepts the installed config" /usr/sbin/ndrguardd -t

# ---- a pipe delivery from the installed files, as the ndrguard user
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -m 777 "$W/sink"
/usr/sbin/smtp-sink -4 -u nobody -d "$W/sink/%H%M%S." "127.0.0.1:$PORT" 16 &
SINKPID=$!
{ cat /etc/ndrguard/ndrguard.conf
  echo "reinject = smtp:127.0.0.1:$PORT"
  echo "storm_threshold = 1"; } > "$W/pipe.conf"
chmod 644 "$W/pipe.conf"
bash tests/integration/gen-mail.sh ndr 1 "$W/ndr" alice@example.test pkg >/dev/null
sh tests/integration/gen-mail.sh notice "$W/notice.eml" bob@example.test pkg
chmod -R a+rX "$W/ndr" "$W/notice.eml"
as_user() { runuser -u ndrguard -- /usr/bin/ndrguard -c "$W/pipe.conf" "$@"; }
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
IN=$W/ndr/ndr-0001.eml check "installed pipe agent holds a bounce (exit 0)" \
	as_user deliver -f '' -q PKG1 -- alice@example.test
as_user list --json > "$W/list.json" 2>&1
check "the bounce is in /var/lib/ndrguard/quarantine.db" grep -q '"queue_id":"PKG1"' "$W/list.json"
IN=$W/notice.eml check "installed pipe agent passes a notice on (exit 0)" \
	as_user deliver -f '' -q PKG2 -- bob@example.test
check "the notice reached the next hop" \
	sh -c "for i in \$(seq 50); do grep -qs 'RCPT TO:<bob@example.test>\|X-Rcpt-Args: <bob@example.test>' '$W'/sink/* && exit 0; sleep 0.1; done; exit 1"
kill "$SINKPID" 2>/dev/null
SINKPID=

# ---- remove, then purge
check "dpkg -r" dpkg -r ndrguard
check "dpkg -r: the programs are gone" test ! -e /usr/bin/ndrguard -a ! -e /usr/sbin/ndrguardd
check "dpkg -r: the config and the quarantine stay" \
	test -f /etc/ndrguard/ndrguard.conf -a -f /var/lib/ndrguard/quarantine.db
check "dpkg -P" dpkg -P ndrguard
check "dpkg -P: /etc/ndrguard and /var/lib/ndrguard are gone" \
	test ! -e /etc/ndrguard -a ! -e /var/lib/ndrguard
check "dpkg -P: no enabled unit left" \
	test ! -e /etc/systemd/system/multi-user.target.wants/ndrguardd.service
if [ -z "$user_before" ]; then
	check "dpkg -P: the user it created is gone" sh -c '! getent passwd ndrguard'
else
	check "dpkg -P: the user that was there before stays" getent passwd ndrguard
fi
finish
