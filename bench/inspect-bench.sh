#!/bin/sh
# inspect-bench.sh - throughput of `ndrguard inspect` against Sisimai and
# flufl.bounce on the same messages, in the same run, on one core.
#
#   bench/inspect-bench.sh [NDRGUARD] [ROUNDS]
#
# Every tool reads every .eml of the corpus (../shared/corpus, or
# $NDRGUARD_CORPUS) ROUNDS times in one process (start-up included once
# per round), pinned to CPU 0 with taskset. Prints messages/s and MB/s
# per tool and the ratio to Sisimai, as a Markdown table (the form kept
# in bench/results/inspect.md).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ndrguard=${1:-$top/cli/ndrguard}
rounds=${2:-5}
corpus=${NDRGUARD_CORPUS:-$top/../shared/corpus}
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 77; }
list=$(mktemp)
trap 'rm -f "$list" "$list.err"' EXIT
find "$corpus" -name '*.eml' | sort > "$list"
count=$(wc -l < "$list")
bytes=$(xargs cat < "$list" | wc -c)
pin="taskset -c 0"
command -v taskset >/dev/null 2>&1 || pin=""
py=/usr/bin/python3

# bench_run NAME COMMAND... - best wall time of $rounds runs, in seconds
bench_run() {
	name=$1
	shift
	best=""
	i=0
	while [ $i -lt "$rounds" ]; do
		t0=$(date +%s.%N)
		$pin "$@" > /dev/null 2>"$list.err" ||
			{ echo "$name failed:" >&2; tail -3 "$list.err" >&2; }
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
		fi
		i=$((i + 1))
	done
	echo "$name $best"
}

xargs cat < "$list" > /dev/null	# warm the page cache
{
	bench_run ndrguard sh -c "xargs '$ndrguard' inspect --json < '$list'"
	bench_run sisimai perl -MSisimai -e '
		open my $l, "<", $ARGV[0] or die "$ARGV[0]: $!";
		while (my $f = <$l>) {
			chomp $f;
			open my $fh, "<", $f or next;
			my $t = do { local $/; <$fh> };
			my $r = Sisimai->make(\$t);
		}' "$list"
	bench_run flufl.bounce $py -c '
import email, sys
import flufl.bounce
for f in open(sys.argv[1]).read().split("\n"):
    if f:
        with open(f, "rb") as fp:
            m = email.message_from_binary_file(fp)
        try:
            flufl.bounce.scan_message(m)
        except Exception:
            pass    # it trips on some messages; time the rest' "$list"
} | awk -v n="$count" -v b="$bytes" '
	{ name[NR] = $1; t[NR] = $2; if ($1 == "sisimai") s = $2 }
	END {
		printf "%d messages, %.1f MB, best of rounds, one core\n\n", n, b / 1e6
		printf "| tool | seconds | messages/s | MB/s | vs Sisimai |\n"
		printf "|---|---:|---:|---:|---:|\n"
		for (i = 1; i <= NR; i++)
			printf "| %s | %.3f | %.0f | %.2f | %.1fx |\n", name[i], t[i],
				n / t[i], b / 1e6 / t[i], s / t[i]
	}'
