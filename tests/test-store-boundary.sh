#!/bin/bash
# test-store-boundary.sh - only the store backends know the store's
# insides: callers go through store.h's store_*() functions, never the
# backend's table (st->v->...) nor store-private.h, and no file outside
# lib/store/store-sqlite*.c speaks SQLite (sqlite3.h, sqlite3_config) or
# builds a file name beside the database (the digest's lock file)
set -u
: "${top_srcdir:?}"
cd "$top_srcdir" || exit 99
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

sources=$(ls cli/*.c daemon/*.c web/*.c lib/*/*.c fuzz/*.c 2>/dev/null |
	grep -v '^lib/store/')
[ -n "$sources" ] || { echo "no sources found"; exit 99; }
hits=$(grep -n -e '->v->' $sources)
[ -z "$hits" ] || fail "the backend's table called from outside: $hits"
hits=$(grep -n 'store-private\.h\|store-sqlite-private\.h' $sources)
[ -z "$hits" ] || fail "a backend's header included from outside: $hits"
hits=$(grep -n 'sqlite3' $sources)
[ -z "$hits" ] || fail "SQLite outside its backend: $hits"
hits=$(grep -n 'digest-lock' $sources)
[ -z "$hits" ] || fail "the digest lock's file named outside the store: $hits"
grep -q 'struct store_vfuncs' lib/store/store.h &&
	fail "struct store_vfuncs is public (lib/store/store.h)"
[ "$fails" -eq 0 ] && echo "ok: callers use store.h only"
exit $((fails > 0))
