# tests/pg-fixture.sh - a private PostgreSQL server for one test; sourced
#
#	pg_fixture_find		sets PG_BIN to the newest
#				/usr/lib/postgresql/*/bin that has initdb and
#				pg_ctl; returns 1 when there is none
#	pg_fixture_start DIR	initdb a cluster in DIR/pg (owned by the
#				nobody user when we are root: the server
#				refuses to run as root), listening only on a
#				unix socket in DIR/pg-sock, no TCP; a
#				database "ndrguard" owned by the superuser
#				"ndrguard". Sets PG_URI (a libpq URI for it).
#				Returns 1, saying why, when it cannot start
#	pg_fixture_restart	stop it (fast) and start it again, same data
#	pg_fixture_stop		stop it (the test's EXIT trap should call it)
#
# Never the system's cluster: nothing here reads /etc/postgresql or
# touches a port. Trust authentication on the private socket only, whose
# directory nobody else can enter.
pg_fixture_find()
{
	PG_BIN=
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && PG_BIN=$d
	done
	[ -n "$PG_BIN" ]
}

# pg_fixture_as - run a server program as the cluster's owner
pg_fixture_as()
{
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$PG_FIXTURE_USER" -- "$@"
	else
		"$@"
	fi
}

pg_fixture_start()
{
	PG_FIXTURE_DIR=$1
	PG_FIXTURE_USER=${PG_FIXTURE_USER:-nobody}
	pg_fixture_find || { echo "PostgreSQL not found (/usr/lib/postgresql/*/bin)"; return 1; }
	mkdir -p "$PG_FIXTURE_DIR/pg" "$PG_FIXTURE_DIR/pg-sock" "$PG_FIXTURE_DIR/pg-log" || return 1
	chmod 700 "$PG_FIXTURE_DIR/pg" "$PG_FIXTURE_DIR/pg-sock"
	if [ "$(id -u)" = 0 ]; then
		# the server's user must reach the directory, no one else
		chmod 711 "$PG_FIXTURE_DIR"
		chown "$PG_FIXTURE_USER" "$PG_FIXTURE_DIR/pg" "$PG_FIXTURE_DIR/pg-sock" "$PG_FIXTURE_DIR/pg-log"
	fi
	pg_fixture_as "$PG_BIN/initdb" -D "$PG_FIXTURE_DIR/pg" -U ndrguard \
		--auth=trust -E UTF8 --no-locale >"$PG_FIXTURE_DIR/initdb.log" 2>&1 || {
		echo "initdb failed:"; tail -5 "$PG_FIXTURE_DIR/initdb.log"; return 1; }
	cat >>"$PG_FIXTURE_DIR/pg/postgresql.conf" <<EOC
listen_addresses = ''
unix_socket_directories = '$PG_FIXTURE_DIR/pg-sock'
unix_socket_permissions = 0777
fsync = on
max_connections = 100
EOC
	pg_fixture_up || return 1
	[ "$(id -u)" = 0 ] && chmod 711 "$PG_FIXTURE_DIR/pg-sock"
	PG_URI="postgresql://ndrguard@/ndrguard?host=$PG_FIXTURE_DIR/pg-sock"
	export PG_URI
	"$PG_BIN/createdb" -h "$PG_FIXTURE_DIR/pg-sock" -U ndrguard ndrguard || {
		echo "createdb failed"; return 1; }
}

# pg_fixture_up - start the cluster and wait until it takes connections
pg_fixture_up()
{
	pg_fixture_as "$PG_BIN/pg_ctl" -D "$PG_FIXTURE_DIR/pg" -w -t 60 \
		-l "$PG_FIXTURE_DIR/pg-log/server.log" start >/dev/null || {
		echo "pg_ctl start failed:"; tail -5 "$PG_FIXTURE_DIR/pg-log/server.log"; return 1; }
}

pg_fixture_restart()
{
	pg_fixture_as "$PG_BIN/pg_ctl" -D "$PG_FIXTURE_DIR/pg" -m fast -w \
		stop >/dev/null && pg_fixture_up
}

pg_fixture_stop()
{
	[ -n "${PG_FIXTURE_DIR:-}" ] && [ -f "$PG_FIXTURE_DIR/pg/postmaster.pid" ] &&
		pg_fixture_as "$PG_BIN/pg_ctl" -D "$PG_FIXTURE_DIR/pg" -m immediate \
			-w stop >/dev/null 2>&1
	return 0
}
