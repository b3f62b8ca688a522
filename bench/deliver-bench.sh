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

cat > "$DIR/ndrguard.conf" <<EOF
# deliver-bench.sh: the mailbox is in a storm from the first bounce on
database = $DIR/quarantine.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
storm_window = 10m
our_relays = mx.example.test 192.0.2.0/24
our_domains = example.test
EOF

held()
{
	sqlite3 "$DIR/quarantine.db" \
		"SELECT count(*) FROM quarantine WHERE recipient='$RCPT' AND state='held'"
}

# Warm-up: create and migrate the database, start the storm.
out=$("$DIR/driver" 1 W "$NDRGUARD" -c "$DIR/ndrguard.conf" deliver -f '' -q %q -- "$RCPT" < "$DIR/warm.list")
set -- $out
[ "$2" -eq 0 ] || { echo "deliver-bench.sh: warm-up failed ($2 of $1); try: $NDRGUARD -c $DIR/ndrguard.conf deliver -f '' -q X -- $RCPT < $DIR/warm/ndr-0001.eml" >&2; exit 1; }

# rate N SECONDS - messages per second, integer
rate()
{
	awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n / s }'
}

echo "deliver-bench: $N bounces, $P agents, $ROUNDS rounds; $(nproc) CPUs; $NDRGUARD"
: > "$DIR/floor.rates"
: > "$DIR/agent.rates"
r=1
while [ $r -le "$ROUNDS" ]; do
	set -- $("$DIR/driver" "$P" F "$DIR/empty" < "$DIR/storm.list")
	[ "$2" -eq 0 ] || { echo "floor run failed: $2 of $1" >&2; exit 1; }
	fr=$(rate "$1" "$3")
	echo "$fr" >> "$DIR/floor.rates"
	echo "round $r: floor    $1 in $3 s = $fr/s"

	before=$(held)
	set -- $("$DIR/driver" "$P" "R${r}x" "$NDRGUARD" -c "$DIR/ndrguard.conf" \
		deliver -f '' -q %q -- "$RCPT" < "$DIR/storm.list")
	[ "$2" -eq 0 ] || { echo "ndrguard run failed: $2 of $1 did not exit 0" >&2; exit 1; }
	added=$(( $(held) - before ))
	[ "$added" -eq "$N" ] || { echo "ndrguard run held $added of $N" >&2; exit 1; }
	ar=$(rate "$1" "$3")
	echo "$ar" >> "$DIR/agent.rates"
	echo "round $r: ndrguard $1 in $3 s = $ar/s (all held)"
	r=$(( r + 1 ))
done

median()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
floor=$(median "$DIR/floor.rates")
agent=$(median "$DIR/agent.rates")
pct=$(awk -v a="$agent" -v f="$floor" 'BEGIN { printf "%.0f", 100 * a / f }')
verdict=$(awk -v p="$pct" 'BEGIN { print (p >= 70 ? "meets" : "misses") }')
echo "median: floor $floor msgs/s, ndrguard deliver $agent msgs/s = $pct% of the floor ($verdict the 70% goal)"
echo "| $(date -u +%Y-%m-%d) | $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?') | $N | $P | $floor | $agent | $pct% |"
