#!/usr/bin/env python3
"""digest-check.py - check one digest as the relay received it

usage: digest-check.py FILE [--mailbox ADDR] [--lang en|es|de] [--total N]
                            [--listed N] [--more N] [--legit N]
                            [--first-verdict-heading TEXT] [--base URL]
                            [--contains TEXT]... [--html-contains TEXT]...
                            [--not-contains TEXT]... [--from HEADER]
                            [--storm "HELD SERVERS"]...

Prints one "ok: ..." or "FAIL: ..." line per check and exits 1 on any
failure. FILE is what smtp-sink wrote (its own trace headers on top),
or raw message bytes (then --crlf checks that every line ends in CRLF).
"""
import argparse
import email
import email.policy
import re
import sys

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--mailbox")
    ap.add_argument("--lang")
    ap.add_argument("--total", type=int)
    ap.add_argument("--listed", type=int)
    ap.add_argument("--more", type=int)
    ap.add_argument("--legit", type=int)
    ap.add_argument("--base", default="https://q.example.test")
    ap.add_argument("--first-heading")
    ap.add_argument("--first-item", help="the id listed first")
    ap.add_argument("--contains", action="append", default=[])
    ap.add_argument("--html-contains", action="append", default=[])
    ap.add_argument("--not-contains", action="append", default=[])
    ap.add_argument("--crlf", action="store_true")
    ap.add_argument("--max-size", type=int)
    ap.add_argument("--from", dest="from_",
                    help="the From header, decoded (display name <addr>)")
    ap.add_argument("--storm", action="append", default=[],
                    help='"HELD SERVERS": a storm line with these counts')
    a = ap.parse_args()

    raw = open(a.file, "rb").read()
    if a.crlf:
        bare = re.search(rb"(?<!\r)\n", raw) is not None
        check(not bare, "every line ends in CRLF (no bare LF)")
        check(all(len(l) <= 998 for l in raw.split(b"\r\n")),
              "no line longer than 998 bytes")
    if a.max_size:
        check(len(raw) <= a.max_size,
              "size %d <= %d bytes" % (len(raw), a.max_size))
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    for h in ("Date", "Message-ID", "From", "To", "Subject"):
        check(len(msg.get_all(h) or []) == 1, "exactly one %s header" % h)
    check(msg["Auto-Submitted"] == "auto-generated",
          "Auto-Submitted: auto-generated")
    check(msg["Precedence"] == "bulk", "Precedence: bulk")
    check(msg["Bcc"] is None and msg["Cc"] is None,
          "no Bcc or Cc header came from the data")
    lu = msg["List-Unsubscribe"] or ""
    check(re.fullmatch(re.escape("<" + a.base + "/unsubscribe?m=") +
                       r"[^>\s]+&t=[A-Za-z0-9_-]+>", lu) is not None,
          "List-Unsubscribe is the one-click link: " + lu[:60])
    check(msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click",
          "List-Unsubscribe-Post (RFC 8058)")
    check(re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["Message-ID"] or "")
          is not None, "Message-ID has the <left@right> form")
    if a.mailbox:
        check(msg["To"] == a.mailbox, "To: " + a.mailbox)
    if a.lang:
        check(msg["Content-Language"] == a.lang, "Content-Language: " + a.lang)
    if a.from_:
        check(str(msg["From"]) == a.from_, "From: %s (got %s)" % (a.from_, msg["From"]))
        raw_from = re.search(rb"^From: (.*(?:\r\n[ \t].*)*)", raw, re.M)
        check(raw_from is not None and all(b < 0x80 for b in raw_from.group(1)),
              "the From header is ASCII on the wire (RFC 2047)")
    check(msg.get_content_type() == "multipart/alternative",
          "multipart/alternative")
    parts = [p for p in msg.iter_parts()]
    types = [p.get_content_type() for p in parts]
    check(types == ["text/plain", "text/html"],
          "text/plain then text/html: %s" % types)
    if types != ["text/plain", "text/html"]:
        return
    for p in parts:
        check(p.get_content_charset() == "utf-8", p.get_content_type() +
              " is utf-8")
        check(p["Content-Transfer-Encoding"] == "quoted-printable",
              p.get_content_type() + " is quoted-printable")
    text = parts[0].get_content()
    html = parts[1].get_content()
    subject = str(msg["Subject"])
    print("subject: " + subject)

    item_re = re.escape(a.base) + r"/item/(\d+)\?t=([A-Za-z0-9_-]+)"
    text_items = re.findall(item_re, text)
    html_items = re.findall(item_re, html)
    if a.listed is not None:
        check(len(text_items) == a.listed,
              "text lists %d release links (want %d)" % (len(text_items),
                                                          a.listed))
        check(len(html_items) == a.listed,
              "HTML lists %d release links (want %d)" % (len(html_items),
                                                         a.listed))
    check(text_items == html_items, "both parts list the same items")
    if a.first_item:
        check(bool(text_items) and text_items[0][0] == a.first_item,
              "item %s is listed first" % a.first_item)
    if a.total is not None:
        check(re.search(r"\b%d\b" % a.total, subject) is not None,
              "subject counts %d" % a.total)
        check(re.search(r"\b%d\b" % a.total, text) is not None,
              "text counts %d" % a.total)
    if a.legit:
        check(re.search(r"\(%d " % a.legit, subject) is not None,
              "subject says %d may be real" % a.legit)
    # the full list, whatever the count
    mbox_link = a.base + "/mailbox?m="
    check(mbox_link in text and mbox_link in html,
          "both parts link the full list")
    more_re = r"\b(\d+) (more|más|weitere)\."
    if a.more is not None:
        if a.more > 0:
            m = re.search(more_re, text)
            check(m is not None and m.group(1) == str(a.more)
                  and re.search(more_re, html) is not None,
                  "and %d more, in both parts" % a.more)
        else:
            check(re.search(more_re, text) is None, "no 'and N more'")
    for st in a.storm:
        held, servers = st.split()
        words = {"en": (r"%s bounces? held, from %s reporting servers?"),
                 "es": (r"%s rebotes? retenidos?, de %s servidor(es)? informantes?"),
                 "de": (r"%s Meldungen? zurückgehalten, von %s meldenden Servern?")}
        pat = words.get(a.lang or "en") % (held, servers)
        check(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d [A-Z+-][A-Za-z0-9+-]*\b.*" + pat, text)
              is not None and re.search(pat, html) is not None,
              "a storm line in both parts: began, ended, %s held, %s servers"
              % (held, servers))
    words = {
        "en": ("Held bounces for", "Quarantine digest for", "Release",
               "See the full list"),
        "es": ("Avisos de rebote retenidos para",
               "Resumen de la cuarentena de", "Recuperar",
               "Ver la lista completa"),
        "de": ("Zurückgehaltene Meldungen für", "Quarantäne-Übersicht für",
               "Freigeben", "Die vollständige Liste ansehen"),
    }
    if a.lang in words:
        subj, title, release, full = words[a.lang]
        check(subject.startswith(subj) and "[" not in subject,
              "%s subject, no product tag: %s" % (a.lang, subject))
        check(title in text and title in html and full in text and full in html,
              "%s words in both parts: %r, %r" % (a.lang, title, full))
        check(release in html, "%s release button: %r" % (a.lang, release))
        other = [w[1] for l, w in words.items() if l != a.lang]
        check(not any(o in text or o in html for o in other),
              "no other language's words")
        check("{{" not in text and "{{" not in html and "digest." not in text,
              "every word found in the catalog")
    if a.first_heading:
        first = min((text.find(h) for h in
                     ("look at them first", "mírelos primero",
                      "sehen Sie sie zuerst an", "check these", "revíselos",
                      "bitte prüfen", "you can ignore these",
                      "puede ignorarlos", "Sie können sie ignorieren")
                     if text.find(h) >= 0), default=-1)
        check(first >= 0 and text.find(a.first_heading) == first,
              "first section: " + a.first_heading)
    for s in a.contains:
        check(s in text, "text contains %r" % s)
    for s in a.html_contains:
        check(s in html, "HTML contains %r" % s)
    for s in a.not_contains:
        check(s not in html and s not in text, "neither part contains %r" % s)
    # what the HTML must never have
    low = html.lower()
    check("<script" not in low, "no <script> in the HTML")
    check("<img" not in low and "<link" not in low and "url(" not in low,
          "no remote images or style sheets")
    check(re.search(r"\son[a-z]+\s*=", low) is None, "no event handlers")
    check('name="viewport"' in html and "max-width:" in html,
          "viewport and a max-width for phones")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
