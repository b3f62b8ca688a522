#!/bin/bash
# test-digest-browser.sh - the HTML digest in headless Chromium, phone and desktop
#
# Builds a digest with the hardest content it can get (a 300-character
# subject without a space, a long MTA name, markup in a subject, Spanish
# and English) with `ndrguard digest --dry-run`, then renders its HTML
# part in headless Chromium at 375 px (a phone) and 1280 px (a desktop).
# A probe page shows the digest in a frame exactly that wide and writes
# the digest's scroll width into its own title (the digest itself has no
# script); the test fails when the digest is wider than its frame, i.e.
# when the reader would have to scroll sideways. Screenshots are kept in
# $top_builddir/tests/browser/artifacts/ (digest-LANG-WIDTH.png).
set -u
: "${NDRGUARD:?}" "${top_srcdir:?}" "${top_builddir:?}"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium not installed (Debian package chromium)"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not installed"; exit 77; }

T=$(mktemp -d /tmp/ndrg-browser.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
ART=$top_builddir/tests/browser/artifacts
mkdir -p "$ART"
. "$top_srcdir/tests/lib.sh"

cat > "$T/ndrguard.conf" <<CONF
database = $T/q.db
reinject = smtp:127.0.0.1:9
storm_threshold = 1
our_relays = mail.example.test
our_domains = example.test
digest_from = quarantine@example.test
base_url = https://q.example.test
secret_file = $T/secret
digest_templates = $top_srcdir/templates
CONF
ng() { "$NDRGUARD" -c "$T/ndrguard.conf" "$@"; }
for who in alice bob; do
	bash "$top_srcdir/tests/integration/gen-mail.sh" ndr 4 "$T/gen-$who" "$who@example.test" "$who" >/dev/null
	i=0
	for m in "$T/gen-$who"/*.eml; do
		i=$((i + 1))
		ng deliver -f '' -q "$who$i" -- "$who@example.test" < "$m" >/dev/null || fail "deliver $m"
	done
done
long=$(printf 'W%.0s' $(seq 300))
sqlite3 "$T/q.db" "
UPDATE quarantine SET orig_subject = '$long' WHERE queue_id IN ('alice1', 'bob1');
UPDATE quarantine SET orig_subject = '<b>bold</b> <table><tr><td>' || orig_subject
	WHERE queue_id IN ('alice2', 'bob2');
UPDATE quarantine SET reporting_mta = 'a-very-long-host-name-without-any-break.' ||
	'mail-exchanger.some-isp-with-a-long-name.example.net' WHERE queue_id IN ('alice3', 'bob3');
UPDATE quarantine SET verdict = 'unknown' WHERE queue_id IN ('alice4', 'bob4');
INSERT INTO mailbox_pref (mailbox, digest, lang, changed) VALUES ('bob@example.test', 'daily', 'es', 0);"

ng digest --dry-run --now > "$T/digests.mbox" 2>/dev/null || fail "dry run"
python3 - "$T" <<'PY' || fail "no HTML parts"
import mailbox, sys
t = sys.argv[1]
n = 0
for m in mailbox.mbox(t + "/digests.mbox"):
    lang = m["Content-Language"]
    for p in m.walk():
        if p.get_content_type() == "text/html":
            html = p.get_payload(decode=True).decode("utf-8")
            open("%s/%s.html" % (t, lang), "w").write(html)
            n += 1
sys.exit(0 if n == 2 else 1)
PY

chrome() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --hide-scrollbars \
		--user-data-dir="$T/profile" "$@" 2>/dev/null
}
# the probe: the digest in a frame exactly W px wide (headless windows
# are never narrower than 500 px), measured from outside the digest
probe() { # probe LANG WIDTH
	cat > "$T/probe-$1-$2.html" <<HTML
<!DOCTYPE html><html><head><title>probe</title></head><body style="margin:0">
<iframe id="f" src="$1.html" style="width:$2px;height:900px;border:0"></iframe>
<script>
document.getElementById("f").onload = function () {
	var w = this.contentWindow, d = w.document.documentElement;
	document.title = "W=" + d.scrollWidth + "," + w.innerWidth;
};
</script></body></html>
HTML
}
for lang in en es; do
	for w in 375 1280; do
		probe $lang $w
		dom=$(chrome --window-size=$((w + 40)),1000 --allow-file-access-from-files \
			--dump-dom "file://$T/probe-$lang-$w.html")
		sw=$(echo "$dom" | sed -n 's/.*<title>W=\([0-9]*\),\([0-9]*\)<\/title>.*/\1 \2/p')
		set -- $sw
		if [ $# -ne 2 ]; then
			fail "$lang at $w px: no measurement"
		elif [ "$1" -le "$2" ]; then
			ok "$lang at $w px: page $1 px wide in a $2 px window, no sideways scrolling"
		else
			fail "$lang at $w px: page $1 px wide in a $2 px window"
		fi
		chrome --window-size=$w,1400 --screenshot="$ART/digest-$lang-$w.png" \
			"file://$T/$lang.html" >/dev/null
		[ -s "$ART/digest-$lang-$w.png" ] && ok "screenshot $ART/digest-$lang-$w.png" \
			|| fail "no screenshot at $w px"
	done
done
[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
exit 0
