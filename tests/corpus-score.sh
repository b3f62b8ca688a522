#!/bin/sh
# corpus-score.sh - `make check` wrapper for corpus-score.py: score
# `ndrguard inspect` on ../shared/corpus and fail below the floors.
# The floors are what the engine reached, rounded down, so a change that
# loses accuracy fails the build; raise them as the engine improves.
# Exit 77 (skip) when the corpus or python3 is missing.
corpus="${NDRGUARD_CORPUS:-${top_srcdir:-.}/../shared/corpus}"
[ -f "$corpus/expected.tsv" ] || { echo "no corpus at $corpus"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
exec python3 "${top_srcdir:-.}/tests/corpus-score.py" \
	--ndrguard "${NDRGUARD:-cli/ndrguard}" --corpus "$corpus" --families \
	--floor detect=99.5 --floor fp=100 --floor rcpt=98 --floor status=99 \
	--floor reason=92 --floor vbounce=98.5 --floor variant=100
