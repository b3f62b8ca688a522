#!/bin/bash
# test-catalog.sh - every language folder has every message key
#
# The keys a catalog must hold: those the release page names (the
# "web.*" table of web/web-lang.c), those the digest's markup names
# ({{>key}}, and key.one and key.other for {{>key n}}, in
# templates/digest.*), and those of every other catalog, so that no language is
# a partial copy. Lists each missing key per catalog and fails on any.
# Then the page itself is started on a copy with one key taken out of
# German: it must refuse to start and name that key.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
T=$(mktemp -d /tmp/ndrg-catalog.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
. "$top_srcdir/tests/lib.sh"

TPL=$top_srcdir/templates
keys() { sed -n 's/^\([A-Za-z0-9_.-]*\)[ \t]*=.*/\1/p' "$1"; }

{
	sed -n 's/^\t\[W_[A-Z_]*\] = "\(web\.[a-z_]*\)",$/\1/p' \
		"$top_srcdir/web/web-lang.c"
	# the digest's markup: {{>key}}, and {{>key n}} needs key.one
	# and key.other
	cat "$TPL"/*.html "$TPL"/*.txt "$TPL"/*.subject 2>/dev/null |
		grep -o '{{>[A-Za-z0-9_.-]*\( [A-Za-z0-9_.-]*\)\?}}' |
		sed -e 's/{{>\([^ }]*\)}}/\1/' -e 's/{{>\([^ ]*\) .*}}/\1.one\n\1.other/'
	for m in "$TPL"/*/messages; do keys "$m"; done
} | sort -u > "$T/needed"
[ "$(grep -c '^web\.' "$T/needed")" -ge 100 ] ||
	fail "found only $(grep -c '^web\.' "$T/needed") web.* keys in web-lang.c"
# the digest's markup names its words (and plurals) from every catalog
[ "$(grep -c '^digest\.' "$T/needed")" -ge 30 ] &&
	grep -qx 'digest.storm_held.one' "$T/needed" &&
	grep -qx 'digest.storm_held.other' "$T/needed" ||
	fail "found only $(grep -c '^digest\.' "$T/needed") digest.* keys in templates/digest.*"

langs=0
bad=0
for m in "$TPL"/*/messages; do
	langs=$((langs + 1))
	keys "$m" | sort -u > "$T/have"
	missing=$(comm -23 "$T/needed" "$T/have" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		echo "FAIL: $m lacks: $missing" >&2
		bad=1
	fi
	dups=$(keys "$m" | sort | uniq -d | tr '\n' ' ')
	[ -z "$dups" ] || { echo "FAIL: $m repeats: $dups" >&2; bad=1; }
done
[ "$langs" -ge 3 ] || fail "only $langs catalogs under $TPL"
[ "$bad" = 0 ] || exit 1
[ "$fails" = 0 ] || exit 1
ok "$langs catalogs hold all $(wc -l < "$T/needed") keys"

# the page refuses a catalog with a key missing, and says which
cp -r "$TPL" "$T/tpl"
grep -v '^web.release =' "$TPL/de/messages" > "$T/tpl/de/messages"
cat > "$T/conf" <<CONF
database = $T/q.db
secret_file = $T/secret
http_listen = inet:127.0.0.1:0
base_url = http://127.0.0.1:1
digest_templates = $T/tpl
CONF
timeout 30 "$top_builddir/web/ndrguard-web" -f -c "$T/conf" > "$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "ndrguard-web started (exit $rc)"
grep -q 'de/messages: missing web.release$' "$T/out" ||
	fail "no clear error: $(cat "$T/out")"
[ "$fails" = 0 ] && ok "a catalog without web.release is refused by name"
exit $((fails > 0))
