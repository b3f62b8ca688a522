#!/bin/sh
# deliver-bench.sh - ndrguard deliver in a storm against the fork+exec floor
#
# SYNOPSIS
#	bench/deliver-bench.sh [-n MESSAGES] [-p AGENTS] [-r ROUNDS] [-d DIR]
#
# DESCRIPTION
#	Postfix's pipe(8) starts one "ndrguard deliver" per message and
#	recipient, so in a storm the agent's whole life - exec, dynamic
#	linking, reading its config, opening SQLite, classifying, one durable
#	commit - is paid per bounce.  No agent can beat fork+exec+wait of a
#	program that does nothing; this script measures both, the same way,
#	in the same run, and prints the ratio.
#
#	A storm of MESSAGES (default 2000) RFC 3464 bounces for one mailbox
#	is generated with tests/integration/gen-mail.sh.  The database is
#	set up with storm_threshold = 1 and warmed with a few bounces, so
#	the mailbox is already in a storm and every measured message is
#	classified, metered and quarantined (one SQLite commit each, WAL,
#	synchronous=FULL).  A small C driver keeps AGENTS (default 10)
#	children running, each with one message file as standard input,
#	like pipe(8) processes under a destination concurrency of 10:
#	  floor:    a static "int main(void) { return 0; }"
#	  ndrguard: ndrguard -c CONF deliver -f '' -q QUEUEID -- RECIPIENT
#	ROUNDS (default 3) alternate floor and ndrguard runs; the medians are
#	reported.  Every ndrguard run must exit 0 for every message and add
#	exactly MESSAGES held rows (fresh queue ids per round: a retried
#	queue id + recipient is never stored twice).
#
#	DIR (default a new directory under /var/tmp, on disk rather than
#	tmpfs, so commits really reach the disk) holds the database.
#
# ENVIRONMENT
#	NDRGUARD	the binary to measure (default cli/ndrguard)
#	BASELINE	another build, measured in the same rounds on a
#			database of its own (the ratio between the two is
#			the figure to compare across machines)
#
# OUTPUT
#	One line per run, then a summary and a Markdown table row for
#	bench/results/deliver.md.  Exit 1 when a run fails.
# The driver prints "messages failed seconds"; "set -- $(driver ...)" splits
# that on purpose.
# shellcheck disable=SC2046,SC2086
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
NDRGUARD=${NDRGUARD:-$top/cli/ndrguard}
BASELINE=${BASELINE:-}
N=2000
P=10
ROUNDS=3
DIR=
while getopts n:p:r:d: opt; do
	case $opt in
	n) N=$OPTARG ;;
	p) P=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	*) echo "usage: deliver-bench.sh [-n MESSAGES] [-p AGENTS] [-r ROUNDS] [-d DIR]" >&2; exit 64 ;;
	esac
done
[ -x "$NDRGUARD" ] || { echo "deliver-bench.sh: build first: no $NDRGUARD" >&2; exit 1; }
command -v gcc >/dev/null || { echo "deliver-bench.sh: needs gcc" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "deliver-bench.sh: needs sqlite3" >&2; exit 1; }

if [ -z "$DIR" ]; then
	DIR=$(mktemp -d /var/tmp/ndrguard-bench.XXXXXX)
	trap 'rm -rf "$DIR"' EXIT
fi
mkdir -p "$DIR/storm" "$DIR/warm"
RCPT=alice@example.test

# The driver: run PROG ARGS... once per file named on stdin, AGENTS at a
# time, each child with that file as standard input and output to
# /dev/null; "%q" in an argument becomes a queue id PREFIX + sequence.
# Prints "n failed seconds".
cat > "$DIR/driver.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: driver AGENTS PREFIX PROG [ARGS...] < filelist\n");
		return 64;
	}
	int agents = atoi(argv[1]);
	const char *prefix = argv[2];
	char **args = argv + 3;
	int nargs = argc - 3, qarg = -1;
	char **files = NULL, line[4096];
	size_t nfiles = 0, cap = 0;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (nfiles == cap) {
			cap = cap ? cap * 2 : 1024;
			files = realloc(files, cap * sizeof(*files));
		}
		files[nfiles++] = strdup(line);
	}
	for (int i = 0; i < nargs; i++)
		if (strcmp(args[i], "%q") == 0)
			qarg = i;
	int devnull = open("/dev/null", O_WRONLY);
	size_t next = 0, failed = 0;
	int running = 0;
	double t0 = now();

	while (next < nfiles || running > 0) {
		while (running < agents && next < nfiles) {
			char qid[64];

			snprintf(qid, sizeof(qid), "%s%06zu", prefix, next);
			pid_t pid = fork();
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				int fd = open(files[next], O_RDONLY);
				if (fd < 0 || dup2(fd, 0) < 0 || dup2(devnull, 1) < 0
				    || dup2(devnull, 2) < 0)
					_exit(71);
				if (qarg >= 0)
					args[qarg] = qid;
				execv(args[0], args);
				_exit(71);
			}
			next++;
			running++;
		}
		int status;
		if (wait(&status) > 0) {
			running--;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failed++;
		}
	}
	printf("%zu %zu %.3f\n", nfiles, failed, now() - t0);
	return 0;
}
EOF
printf 'int main(void) { return 0; }\n' > "$DIR/empty.c"
gcc -O2 -o "$DIR/driver" "$DIR/driver.c"
gcc -O2 -static -o "$DIR/empty" "$DIR/empty.c"

sh "$top/tests/integration/gen-mail.sh" ndr "$N" "$DIR/storm" "$RCPT" "bench$$"
sh "$top/tests/integration/gen-mail.sh" ndr 5 "$DIR/warm" "$RCPT" "warm$$"
ls "$DIR"/storm/ndr-*.eml > "$DIR/storm.list"
ls "$DIR"/warm/ndr-*.eml > "$DIR/warm.list"

# conf NAME - the configuration of one binary's database
conf()
{
	cat > "$DIR/$1.conf" <<EOF
# deliver-bench.sh: the mailbox is in a storm from the first bounce on
database = $DIR/$1.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
storm_window = 10m
our_relays = mx.example.test 192.0.2.0/24
our_domains = example.test
EOF
}

# held NAME - held rows in that binary's database
held()
{
	sqlite3 "$DIR/$1.db" \
		"SELECT count(*) FROM quarantine WHERE recipient='$RCPT' AND state='held'"
}

# warm NAME BINARY - create and migrate the database, start the storm
warm()
{
	conf "$1"
	set -- $("$DIR/driver" 1 W "$2" -c "$DIR/$1.conf" deliver -f '' -q %q -- "$RCPT" < "$DIR/warm.list")
	[ "$2" -eq 0 ] || { echo "deliver-bench.sh: warm-up failed ($2 of $1)" >&2; exit 1; }
}

# rate N SECONDS - messages per second, integer
rate()
{
	awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }'
}

# run LABEL ROUND PROG ARGS... - one run over the storm; its rate goes to
# $DIR/LABEL.rates
run()
{
	label=$1 round=$2
	shift 2
	set -- $("$DIR/driver" "$P" "R${round}${label}x" "$@" < "$DIR/storm.list")
	[ "$2" -eq 0 ] || { echo "$label run failed: $2 of $1 did not exit 0" >&2; exit 1; }
	r_=$(rate "$1" "$3")
	echo "$r_" >> "$DIR/$label.rates"
	printf 'round %s: %-9s %s in %s s = %s/s\n' "$round" "$label" "$1" "$3" "$r_"
}

# agent LABEL ROUND BINARY - a quarantining run; all N must be held
agent()
{
	before=$(held "$1")
	run "$1" "$2" "$3" -c "$DIR/$1.conf" deliver -f '' -q %q -- "$RCPT"
	added=$(( $(held "$1") - before ))
	[ "$added" -eq "$N" ] || { echo "$1 run held $added of $N" >&2; exit 1; }
}

warm ndrguard "$NDRGUARD"
[ -z "$BASELINE" ] || warm baseline "$BASELINE"

echo "deliver-bench: $N bounces, $P agents, $ROUNDS rounds; $(nproc) CPUs; $NDRGUARD${BASELINE:+ against $BASELINE}"
r=1
while [ $r -le "$ROUNDS" ]; do
	sync
	run floor $r "$DIR/empty"
	run config $r "$NDRGUARD" -c "$DIR/ndrguard.conf" config
	sync
	agent ndrguard $r "$NDRGUARD"
	if [ -n "$BASELINE" ]; then
		sync
		agent baseline $r "$BASELINE"
	fi
	r=$(( r + 1 ))
done

median()
{
	sort -n "$DIR/$1.rates" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# pct A B - A as a whole percentage of B
pct()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 100 * a / b }'
}
floor=$(median floor)
config=$(median config)
agent=$(median ndrguard)
echo "median: floor $floor msgs/s; config-only $config = $(pct "$config" "$floor")% of the floor (goal 90%);" \
	"ndrguard deliver $agent = $(pct "$agent" "$floor")% (goal 70%)"
if [ -n "$BASELINE" ]; then
	base=$(median baseline)
	echo "baseline deliver $base = $(pct "$base" "$floor")% of the floor; ndrguard/baseline $(awk -v a="$agent" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x"
fi
echo "| $(date -u +%Y-%m-%d) | $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?') | $N | $P | $floor | $config ($(pct "$config" "$floor")%) | $agent | $(pct "$agent" "$floor")% |"
