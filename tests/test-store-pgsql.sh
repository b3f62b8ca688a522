#!/bin/bash
# test-store-pgsql.sh - the store suite (tests/unit/test-store-suite)
# again, on a private PostgreSQL server (tests/pg-fixture.sh)
#
# Skipped (77), saying why, only where PostgreSQL cannot be found or
# this build has no PostgreSQL backend; a server that is found but does
# not start is a hard error.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/pg-fixture.sh"

pg_fixture_find || { echo "SKIP: the PostgreSQL half of the store suite: PostgreSQL not found"; exit 77; }
command -v psql >/dev/null || { echo "SKIP: the PostgreSQL half: psql not found"; exit 77; }
T=$(mktemp -d /tmp/ndrg-pgsuite.XXXXXX)
trap 'pg_fixture_stop; rm -rf "$T"' EXIT INT TERM
pg_fixture_start "$T" || exit 99
NDRGUARD_TEST_STORE=$PG_URI "$top_builddir/tests/unit/test-store-suite" 2>&1 | tee "$T/suite.log"
status=${PIPESTATUS[0]}
if grep -q "built without PostgreSQL" "$T/suite.log"; then
	echo "SKIP: the PostgreSQL half of the store suite: this build has no PostgreSQL backend"
	exit 77
fi
exit "$status"
