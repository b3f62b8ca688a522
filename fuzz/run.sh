#!/bin/sh
# run.sh - build fuzz-classify with clang/libFuzzer (+ASan, UBSan) and run
# it for a while, seeded from the corpus when it is there.
#   fuzz/run.sh [SECONDS]      default 60; CI uses a short run
# Crashes, leaks and timeouts are left as crash-*/leak-*/timeout-* files
# in the work directory ($FUZZ_WORKDIR, default /tmp/ndrguard-fuzz).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
out=${FUZZ_WORKDIR:-${TMPDIR:-/tmp}/ndrguard-fuzz}
corpus=${NDRGUARD_CORPUS:-$top/../shared/corpus}
mkdir -p "$out/seeds" "$out/found"
[ -f "$out/autoconfig.h" ] || echo '#define _GNU_SOURCE 1' > "$out/autoconfig.h"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I "$out" -I "$top/lib" -o "$out/fuzz-classify" \
	"$top/fuzz/fuzz-classify.c" \
	"$top"/lib/mime.c "$top"/lib/dsn.c "$top"/lib/json.c "$top"/lib/relays.c \
	"$top"/lib/classify*.c "$top"/lib/reason*.c \
	"$top"/lib/strbuf.c "$top"/lib/xalloc.c
if [ -d "$corpus" ]; then
	find "$corpus" -name '*.eml' -size -64k -exec cp {} "$out/seeds/" \; 2>/dev/null || :
fi
cd "$out"
exec ./fuzz-classify -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 found seeds
