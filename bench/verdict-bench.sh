#!/bin/sh
# verdict-bench.sh - the inbound verdict's cost with the outbound index
#
# SYNOPSIS
#	sh bench/verdict-bench.sh [COUNT [ROUNDS]]	(run in a built tree)
#
# DESCRIPTION
#	Builds bench/verdict-bench.c against lib/libndrguard.a and runs it
#	on a database under /var/tmp with one generated RFC 3464 bounce:
#	COUNT messages (default 2000) per way and round, ROUNDS (default 3)
#	rounds alternating the path without the index ("meter") and with
#	it ("index"). Each message is classified and metered in its own
#	durable transaction, as `ndrguard deliver` does; results go to
#	bench/results/verdict.md by hand.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-2000} rounds=${2:-3}
T=$(mktemp -d /var/tmp/verdict.XXXXXX)
trap 'rm -rf "$T"' EXIT
inc=""
for d in util config mail classify store deliver; do inc="$inc -I$top/lib/$d"; done
cc -O2 -I"$top" -I"$top/lib/store" $inc -o "$T/verdict-bench" \
	"$top/bench/verdict-bench.c" "$top/lib/libndrguard.a" \
	$(pkg-config --libs sqlite3 jansson libcrypto) -lm -lpthread
sh "$top/tests/integration/gen-mail.sh" ndr 1 "$T" alice@example.test bench
"$T/verdict-bench" "$T/q.db" "$T/ndr-0001.eml" "$count" "$rounds"
