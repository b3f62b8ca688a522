# tests/lib.sh - what the shell tests share; sourced after they set T
#
#	fail TEXT / ok TEXT	one result line; fail counts into $fails
#	free_port		a free TCP port on 127.0.0.1
#	wait_port PORT		until something listens on PORT, at most
#				NDRGUARD_TEST_WAIT seconds (default 5; raised
#				under valgrind); exit 99 (a hard error) if not
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port()
{
	for _ in $(seq $((${NDRGUARD_TEST_WAIT:-5} * 20))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1"; exit 99
}
