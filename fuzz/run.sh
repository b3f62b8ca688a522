#!/bin/sh
# run.sh - build the libFuzzer targets with clang (+ASan, UBSan) and run
# each for a while, seeded from fuzz/seeds/TARGET and, for the message
# parser, from the corpus when it is there.
#
#   sh fuzz/run.sh [SECONDS [TARGET...]]
#	SECONDS	per target, default 60 (0: build only)
#	TARGET	classify lmtp config template token web (default: all)
#
# Prints one line per target (executions, coverage, result) and last
# "fuzz: N passed, N failed, 0 skipped". Exits 1 when a target crashed,
# leaked or timed out: the reproducer (crash-*, leak-*, timeout-*) stays
# in $FUZZ_WORKDIR/TARGET/, and the line names it. Replay one with
#	$FUZZ_WORKDIR/fuzz-TARGET FILE
# Work directory: $FUZZ_WORKDIR, default ${TMPDIR:-/tmp}/ndrguard-fuzz;
# objects are rebuilt when a source or header is newer.
# Extra libFuzzer options for every target: $FUZZ_OPTIONS (e.g. -jobs=1).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-classify lmtp config template token web}
out=${FUZZ_WORKDIR:-${TMPDIR:-/tmp}/ndrguard-fuzz}
corpus=${NDRGUARD_CORPUS:-$top/../shared/corpus}
CC=${FUZZ_CC:-clang}
mkdir -p "$out/obj"
[ -f "$out/autoconfig.h" ] || echo '#define _GNU_SOURCE 1' > "$out/autoconfig.h"
[ -f "$out/migrations.c" ] || (cd "$top" && sh build-aux/sql2c.sh "$out/migrations.c" \
	sql/[0-9][0-9][0-9][0-9]-*.sql)

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# one -I per lib/ folder, as the build has them
LIBINC=$(for d in "$top"/lib/*/; do printf ' -I%s' "${d%/}"; done)
CFLAGS="-g -O1 $SAN -I$out$LIBINC -I$top/daemon -I$top/web -DFUZZ_TOP=\"$top\""

# the newest header: an object older than it is rebuilt
newest_h=$(ls -t "$top"/lib/*/*.h "$top"/daemon/*.h "$top"/web/*.h | head -n 1)

# obj SOURCE... - compile each (relative to $top) once into $out/obj
obj()
{
	objs=
	for src; do
		o=$out/obj/$(echo "$src" | tr / _).o
		case " $objs " in *" $o "*) continue ;; esac
		case $src in
		/*) path=$src ;;
		*) path=$top/$src ;;
		esac
		if [ ! -f "$o" ] || [ "$path" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
			$CC $CFLAGS -fsanitize=fuzzer-no-link -c -o "$o" "$path" \
				|| return 1
		fi
		objs="$objs $o"
	done
}

BASE="lib/util/strbuf.c lib/util/xalloc.c"
RECOG="lib/mail/mime.c lib/mail/dsn.c lib/util/json.c
	lib/classify/relays.c lib/classify/classify.c
	lib/classify/classify-text.c lib/classify/classify-original.c
	lib/classify/classify-verdict.c lib/classify/format-registry.c
	lib/classify/format-arf.c lib/classify/format-mdn.c
	lib/classify/format-ses.c lib/classify/format-dsn.c
	lib/classify/format-text.c lib/classify/format-other.c
	lib/classify/classify-own.c lib/classify/reason.c
	lib/classify/reason-phrases.c"
CONF="lib/config/config.c lib/config/settings.c lib/util/endpoint.c
	lib/mail/reinject.c lib/classify/relays.c"
STORE="lib/store/store.c lib/store/store-sqlite.c lib/store/store-sqlite-util.c
	lib/store/store-sqlite-stats.c lib/store/store-sqlite-release.c
	lib/store/store-sqlite-audit.c lib/store/store-sqlite-vfs.c
	lib/store/store-ops.c lib/store/store-pgsql-none.c
	lib/store/store-location.c lib/store/store-sqlite-digest.c
	lib/store/store-sqlite-allow.c
	lib/deliver/storm.c $out/migrations.c"
WEB="web/web-server.c web/web-pages.c web/web-owner.c web/web-admin.c web/web-admission.c
	web/web-csrf.c web/web-html.c web/web-lang.c web/web-login.c
	web/web-metrics.c web/web-notice.c web/web-request.c web/web-stats.c
	web/web-thread.c lib/util/catalog.c lib/release/release.c
	lib/util/metrics.c lib/util/log.c lib/release/token.c lib/release/secret-file.c
	lib/release/links.c
	lib/mail/reporter.c"

# build TARGET - $out/fuzz-TARGET
build()
{
	libs=
	case $1 in
	classify) srcs="$BASE $RECOG"; libs=-ljansson ;;
	lmtp) srcs="$BASE lib/config/config.c lib/config/settings.c
		lib/util/endpoint.c lib/mail/reinject.c lib/classify/relays.c
		daemon/server-conn.c
		daemon/lmtp-session.c daemon/lmtp-commands.c
		daemon/lmtp-deliver.c lib/store/store-location.c"
		libs=-lpthread ;;
	config) srcs="$BASE $CONF lib/store/store-location.c" ;;
	template) srcs="$BASE lib/digest/template.c lib/util/catalog.c" ;;
	token) srcs="$BASE lib/release/token.c lib/release/secret-file.c lib/release/links.c"
		libs=-lcrypto ;;
	web) srcs="$BASE $RECOG $CONF $STORE $WEB"
		libs="-lmicrohttpd -lsqlite3 -ljansson -lcrypto -lpthread" ;;
	*) echo "run.sh: no target $1" >&2; return 1 ;;
	esac
	obj $srcs || return 1
	tobjs=$objs
	obj fuzz/fuzz-$1.c || return 1
	$CC $CFLAGS -fsanitize=fuzzer -o "$out/fuzz-$1" $tobjs $objs $libs
}

# seed TARGET DIR - fill DIR with the target's seeds
seed()
{
	mkdir -p "$2"
	if [ -d "$top/fuzz/seeds/$1" ]; then
		cp "$top/fuzz/seeds/$1"/* "$2/" 2>/dev/null || :
	fi
	case $1 in
	classify)
		if [ -d "$corpus" ]; then
			find "$corpus" -name '*.eml' -size -64k \
				-exec cp {} "$2/" \; 2>/dev/null || :
		fi ;;
	template)
		for f in "$top"/templates/digest.* "$top"/templates/*/*; do
			cp "$f" "$2/$(basename "$(dirname "$f")")-$(basename "$f")"
		done ;;
	config)
		cp "$top/doc/ndrguard.conf.sample" "$2/"
		# the parameter names as settings.c has them today
		{ cat "$top/fuzz/config.dict"
		  sed -n 's/^[[:space:]]*{ \("[a-z_]*"\),.*/\1/p' \
			"$top/lib/config/settings.c"; } > "$out/config.dict" ;;
	esac
}

# per-target limits: inputs are sessions, files, requests
opts()
{
	case $1 in
	classify) echo "-max_len=65536" ;;
	lmtp) echo "-max_len=16384 -dict=$top/fuzz/lmtp.dict" ;;
	config) echo "-max_len=8192 -dict=$out/config.dict" ;;
	template) echo "-max_len=8192 -dict=$top/fuzz/template.dict" ;;
	token) echo "-max_len=512" ;;
	web) echo "-max_len=8192 -dict=$top/fuzz/http.dict" ;;
	esac
}

passed=0
failed=0
for t in $targets; do
	if ! build "$t"; then
		echo "fuzz-$t: FAILED (does not build)"
		failed=$((failed + 1))
		continue
	fi
	[ "$secs" -gt 0 ] || continue
	dir=$out/$t
	mkdir -p "$dir/corpus" "$dir/found"
	seed "$t" "$dir/seeds"
	log=$dir/fuzz.log
	# reproducers of an earlier run are kept, apart from this run's
	for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
		[ -f "$f" ] && mkdir -p "$dir/old" && mv "$f" "$dir/old/"
	done
	rc=0
	(cd "$dir" && "$out/fuzz-$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" $(opts "$t") \
		$FUZZ_OPTIONS corpus seeds) > "$log" 2>&1 || rc=$?
	# the last status line: "#N DONE cov: C ft: F corp: K/S ..."
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
	artifact=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* \
		"$dir"/oom-* 2>/dev/null | head -n 1 || :)
	if [ $rc -eq 0 ] && [ -z "$artifact" ]; then
		result=ok
		passed=$((passed + 1))
	else
		result="FAILED (exit $rc) ${artifact:-see $log}"
		failed=$((failed + 1))
		grep -E 'ERROR|SUMMARY|runtime error|abort' "$log" | head -n 5 >&2 || :
	fi
	echo "fuzz-$t: ${secs}s, ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?} ft ${ft:-?}, corpus ${corp:-?}: $result"
done
echo "fuzz: $passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
