#!/bin/sh
# sisimai-bench.sh - `ndrguard inspect` against Sisimai (Debian's
# libsisimai-perl) over the same messages, side by side in one run.
#
#   bench/sisimai-bench.sh [NDRGUARD] [ROUNDS] [PASSES]
#
# Each round runs ndrguard, then Sisimai, each in one process reading
# every .eml of the corpus (../shared/corpus, or $NDRGUARD_CORPUS)
# PASSES times, pinned to CPU 0 with taskset; the rounds alternate the
# two tools so that a change in the machine's load falls on both. Prints
# per round and for the best and the median round messages/s of each
# and the ratio, as Markdown (the form kept in bench/results/sisimai.md).
# ndrguard gets --json, so it formats all it finds; Sisimai's
# Sisimai->make() builds its data objects without dumping them.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
ndrguard=${1:-$top/cli/ndrguard}
rounds=${2:-7}
passes=${3:-10}
corpus=${NDRGUARD_CORPUS:-$top/../shared/corpus}
[ -x /usr/bin/time ] || { echo "no /usr/bin/time (package time)" >&2; exit 77; }
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 77; }
perl -MSisimai -e 1 2>/dev/null ||
	{ echo "no Sisimai (apt-get install libsisimai-perl)" >&2; exit 77; }
list=$(mktemp)
trap 'rm -f "$list" "$list.all" "$list.err" "$list.time" "$list.times"' EXIT
find "$corpus" -name '*.eml' | sort > "$list"
i=0
: > "$list.all"
while [ $i -lt "$passes" ]; do cat "$list" >> "$list.all"; i=$((i + 1)); done
count=$(wc -l < "$list.all")
pin="taskset -c 0"
command -v taskset >/dev/null 2>&1 || pin=""

# bench_time COMMAND... - "wall cpu": seconds of one run of COMMAND,
# elapsed and on the CPU (user + system; what a loaded machine changes
# less)
bench_time() {
	/usr/bin/time -f "%e %U %S" -o "$list.time" $pin "$@" \
		> /dev/null 2>"$list.err" ||
		{ echo "$1 failed:" >&2; tail -3 "$list.err" >&2; exit 1; }
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$list.time"
}
# bench_ndrguard - one pass of ndrguard inspect over the list
bench_ndrguard() { bench_time sh -c "xargs '$ndrguard' inspect --json < '$list.all'"; }
# bench_sisimai - one pass of Sisimai over the list
bench_sisimai() {
	bench_time perl -MSisimai -e '
		open my $l, "<", $ARGV[0] or die "$ARGV[0]: $!";
		while (my $f = <$l>) {
			chomp $f;
			open my $fh, "<", $f or next;
			my $t = do { local $/; <$fh> };
			my $r = Sisimai->make(\$t);
		}' "$list.all"
}

xargs cat < "$list" > /dev/null	# warm the page cache
echo "$count messages per round ($passes passes over $(wc -l < "$list") files), one core"
echo
echo "| round | ndrguard s (cpu) | sisimai s (cpu) | ndrguard msg/s | sisimai msg/s | ratio (cpu ratio) |"
echo "|---:|---:|---:|---:|---:|---:|"
: > "$list.times"
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then
		n=$(bench_ndrguard); s=$(bench_sisimai)
	else
		s=$(bench_sisimai); n=$(bench_ndrguard)
	fi
	echo "$n $s" >> "$list.times"
	echo "$r $n $s" | awk -v c="$count" '{
		printf "| %d | %.3f (%.3f) | %.3f (%.3f) | %.0f | %.0f | %.1fx (%.1fx) |\n",
			$1, $2, $3, $4, $5, c / $2, c / $4, $4 / $2, $5 / $3 }'
	r=$((r + 1))
done
echo
# bench_pick COLUMN - best and median of a column of $list.times
bench_pick() {
	sort -n -k"$1" "$list.times" | awk -v k="$1" -v m=$(( (rounds + 1) / 2 )) '
		NR == 1 { b = $k } NR == m { md = $k } END { print b, md }'
}
set -- $(bench_pick 1) $(bench_pick 3) $(bench_pick 2) $(bench_pick 4)
awk -v c="$count" -v nb="$1" -v nm="$2" -v sb="$3" -v sm="$4" \
    -v ncb="$5" -v ncm="$6" -v scb="$7" -v scm="$8" 'BEGIN {
	printf "| of the rounds | ndrguard msg/s | sisimai msg/s | ratio | cpu ratio |\n"
	printf "|---|---:|---:|---:|---:|\n"
	printf "| best | %.0f | %.0f | %.1fx | %.1fx |\n", c / nb, c / sb, sb / nb, scb / ncb
	printf "| median | %.0f | %.0f | %.1fx | %.1fx |\n", c / nm, c / sm, sm / nm, scm / ncm }'
