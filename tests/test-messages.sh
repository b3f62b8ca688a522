#!/bin/sh
# test-messages.sh - `ndrguard inspect` on the project's own hand-written
# messages (tests/messages, one directory per kind of difficulty, the
# expectations in tests/messages/expected.tsv): every one must be read
# right - kind, recipient, status and reason. Scored by corpus-score.py,
# the same scorer as the shared corpus, with every floor at 100%.
# Exit 77 (skip) without python3.
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
src="${top_srcdir:-.}"
exec python3 "$src/tests/corpus-score.py" \
	--ndrguard "${NDRGUARD:-$PWD/cli/ndrguard}" --corpus "$src/tests/messages" \
	--families --fails \
	--floor detect=100 --floor kind=100 --floor fp=100 --floor rcpt=100 \
	--floor status=100 --floor reason=100
