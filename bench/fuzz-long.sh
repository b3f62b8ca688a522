#!/bin/sh
# fuzz-long.sh - the long fuzzing run: every libFuzzer target of fuzz/
# for MINUTES each (default 4), one at a time, one process each, so the
# figures can be compared between runs on a shared two-core machine.
#
#   sh bench/fuzz-long.sh [MINUTES [TARGET...]]
#
# Prints a Markdown table (target, executions, exec/s, cov, ft, corpus
# entries and bytes, crashes) for bench/results/fuzz.md, then the
# command, date and commit. Work directory: $FUZZ_WORKDIR (default
# ${TMPDIR:-/tmp}/ndrguard-fuzz-long): the corpus each target grew stays
# there, so a second run starts where the first stopped; the full
# libFuzzer output is TARGET/fuzz.log, reproducers TARGET/crash-* etc.
# Exits 1 when a target found something.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-4}
secs=$(awk "BEGIN { print int($minutes * 60) }")
[ $# -gt 0 ] && shift
targets=${*:-classify lmtp config template token web}
FUZZ_WORKDIR=${FUZZ_WORKDIR:-${TMPDIR:-/tmp}/ndrguard-fuzz-long}
export FUZZ_WORKDIR

failed=0
echo "| target | seconds | executions | exec/s | cov | ft | corpus | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for t in $targets; do
	rc=0
	mkdir -p "$FUZZ_WORKDIR"
	sh "$top/fuzz/run.sh" $secs "$t" > "$FUZZ_WORKDIR/$t.out" \
		2>&1 || rc=$?
	line=$(grep "^fuzz-$t:" "$FUZZ_WORKDIR/$t.out" || :)
	log=$FUZZ_WORKDIR/$t/fuzz.log
	last=$(grep -aE '^#[0-9]+' "$log" | tail -n 1)
	execs=$(grep -a '^stat::number_of_executed_units' "$log" | awk '{print $2}')
	rate=$(grep -a '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
	found=$(ls "$FUZZ_WORKDIR/$t" | grep -cE '^(crash|leak|timeout|oom)-' || :)
	if [ $rc -ne 0 ]; then
		failed=1
		found="$found: $(echo "$line" | sed 's/.*FAILED/FAILED/')"
	fi
	echo "| $t | $secs | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $found |"
done
echo
echo "Command: \`sh bench/fuzz-long.sh $minutes\` ($(clang --version | head -n 1)," \
	"$(nproc) cores)"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Commit: $(cd "$top" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
exit $failed
