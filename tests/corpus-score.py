#!/usr/bin/env python3
"""corpus-score.py - measure `ndrguard inspect` against the shared corpus

Runs `ndrguard inspect --json` over every file listed in expected.tsv and
prints, overall, per expected kind and per MTA family (source_mta):

  detect   NDRs (bounce + delay) recognised as ndr_failed/ndr_delayed
  kind     expected kind given exactly (bounce -> ndr_failed, ...)
  fp       notbounce messages taken for anything but not_bounce
  rcpt     exact bounced-recipient list (in order, case-insensitive),
           on rows that name one
  status   status list equal, on rows whose status_in_msg is yes; on
           rows with Sisimai's pseudo codes (status_in_msg = no) we must
           not invent one: matched when we give no status, or a code
           that is literally in the message (in its raw bytes, or in a
           part once its quoted-printable or base64 is undone)
  reason   our reason equals the first expected reason
  vbounce  SpamAssassin VBounce cases, run with the row's our_relays:
           yes -> verdict backscatter, no -> verdict not backscatter.
           A `yes` row without our_relays (VBounce's "is a bounce" test
           with nothing whitelisted) is met by a kind that can be
           backscatter at all
  variant  CRLF/CR copies give the same JSON (apart from "file") as the
           LF original, where the original is in the corpus

Exit status: 0 when every figure is at or above its floor (--floor
NAME=PERCENT, repeatable), 1 below a floor, 77 without a corpus.
"""
import argparse
import collections
import email
import json
import os
import subprocess
import sys

KIND_MAP = {
    "bounce": "ndr_failed", "delay": "ndr_delayed", "delivered": "dsn_success",
    "autoreply": "autoreply", "challenge": "challenge", "virus": "av_notice",
    "feedback": "feedback_arf", "mdn": "mdn", "notbounce": "not_bounce",
}


def run_inspect(ndrguard, corpus, files, relays=None):
    """one inspect run over files; returns {file: result}"""
    out = {}
    chunk = 200
    for i in range(0, len(files), chunk):
        cmd = [ndrguard, "inspect", "--json"]
        if relays:
            cmd += ["--our-relays", relays]
        cmd += files[i:i + chunk]
        proc = subprocess.run(cmd, cwd=corpus, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        if proc.returncode not in (0,):
            sys.stderr.write(proc.stderr.decode(errors="replace"))
            raise SystemExit("inspect failed with status %d" % proc.returncode)
        for line in proc.stdout.decode("utf-8").splitlines():
            obj = json.loads(line)
            out[obj["file"]] = obj
    return out


def decoded_text(raw):
    """the message's parts with their transfer encoding undone (a code
    split by a quoted-printable soft line break, or in base64, is in the
    message all the same)"""
    out = []
    try:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        msg = email.message_from_bytes(raw)
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append(payload)
    except Exception:
        pass
    return b"\n".join(out)


def split(v):
    return [x.strip() for x in v.split(",")] if v else []


class Tally:
    def __init__(self):
        self.n = collections.Counter()
        self.ok = collections.Counter()

    def add(self, metric, ok):
        self.n[metric] += 1
        self.ok[metric] += bool(ok)

    def pct(self, metric):
        if self.n[metric] == 0:
            return None
        return 100.0 * self.ok[metric] / self.n[metric]

    def cell(self, metric):
        if self.n[metric] == 0:
            return "-"
        return "%d/%d" % (self.ok[metric], self.n[metric])


METRICS = ["detect", "kind", "fp", "rcpt", "status", "reason", "vbounce",
           "variant"]


def score_row(row, res, raw_path, t, fails):
    kind = row["kind"]
    ours = res["kind"]
    f = row["file"]
    if kind in ("bounce", "delay"):
        ok = ours in ("ndr_failed", "ndr_delayed")
        t.add("detect", ok)
        if not ok:
            fails.append(("detect", f, kind, ours))
    if kind == "notbounce":
        t.add("fp", ours == "not_bounce")
        if ours != "not_bounce":
            fails.append(("fp", f, kind, ours))
    ok = KIND_MAP.get(kind) == ours
    t.add("kind", ok)
    if not ok:
        fails.append(("kind", f, kind, ours))
    rcpts = [r["address"] or "" for r in res["recipients"]]
    if row["bounced_recipient"] and kind not in ("notbounce", "feedback"):
        want = [a.lower() for a in split(row["bounced_recipient"])]
        got = [a.lower() for a in rcpts]
        t.add("rcpt", want == got)
        if want != got:
            fails.append(("rcpt", f, ",".join(want), ",".join(got)))
    if row["status"] and kind in ("bounce", "delay", "delivered"):
        want = split(row["status"])
        inmsg = split(row["status_in_msg"])
        got = [r["status"] or "" for r in res["recipients"]]
        if all(x == "no" for x in inmsg):
            with open(raw_path, "rb") as fp:
                raw = fp.read()
            ok = all(s == "" or s.encode() in raw or
                     s.encode() in decoded_text(raw) for s in got)
        else:
            ok = want == got[:len(want)] and len(got) == len(want)
        t.add("status", ok)
        if not ok:
            fails.append(("status", f, ",".join(want), ",".join(got)))
    if row["reason"] and kind in ("bounce", "delay", "delivered"):
        want = split(row["reason"])[0]
        ok = res["reason"] == want
        t.add("reason", ok)
        if not ok:
            fails.append(("reason", f, want, res["reason"]))


def score_vbounce(row, res, t, fails):
    want = row["backscatter_expect"]
    if want == "yes" and not row["our_relays"]:
        ok = res["kind"] not in ("not_bounce", "feedback_arf", "mdn")
    elif want == "yes":
        ok = res["verdict"] == "backscatter"
    else:
        ok = res["verdict"] != "backscatter"
    t.add("vbounce", ok)
    if not ok:
        fails.append(("vbounce", row["file"], want, res["verdict"]))


def variant_base(path, names):
    """variants/dos/sisimai-dos-x.eml -> bounce/sisimai-x.eml, if present"""
    base = os.path.basename(path)
    for tag in ("-dos-", "-mac-"):
        base = base.replace(tag, "-", 1) if tag in base else base
    for d in ("bounce", "autoreply", "feedback", "notbounce"):
        if "%s/%s" % (d, base) in names:
            return "%s/%s" % (d, base)
    return None


def strip_file(obj):
    return {k: v for k, v in obj.items() if k != "file"}


def print_table(title, groups, out):
    out.write("\n%-28s %s\n" % (title, " ".join("%9s" % m for m in METRICS)))
    for name in sorted(groups):
        t = groups[name]
        out.write("%-28s %s\n" % (name[:28], " ".join(
            "%9s" % t.cell(m) for m in METRICS)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ndrguard", default=os.environ.get("NDRGUARD", "ndrguard"))
    ap.add_argument("--corpus", default=os.environ.get("NDRGUARD_CORPUS"))
    ap.add_argument("--floor", action="append", default=[])
    ap.add_argument("--fails", action="store_true", help="list every miss")
    ap.add_argument("--families", action="store_true",
                    help="print the per-MTA-family table")
    args = ap.parse_args()
    corpus = args.corpus
    if not corpus or not os.path.isfile(os.path.join(corpus, "expected.tsv")):
        print("corpus not found; skipping")
        return 77
    with open(os.path.join(corpus, "expected.tsv"), encoding="utf-8") as fp:
        lines = fp.read().splitlines()
    head = lines[0].split("\t")
    rows = [dict(zip(head, l.split("\t"))) for l in lines[1:] if l]
    files = [r["file"] for r in rows]
    names = set(files)
    results = run_inspect(args.ndrguard, corpus, files)
    by_relays = collections.defaultdict(list)
    for r in rows:
        if r["backscatter_expect"] and r["our_relays"]:
            by_relays[r["our_relays"]].append(r["file"])
    vb_results = {}
    for relays, fl in by_relays.items():
        res = run_inspect(args.ndrguard, corpus, fl, relays)
        for f in fl:
            vb_results[(f, relays)] = res[f]

    total = Tally()
    per_kind = collections.defaultdict(Tally)
    per_family = collections.defaultdict(Tally)
    fails = []
    for r in rows:
        res = results[r["file"]]
        for t in (total, per_kind[r["kind"]], per_family[r["source_mta"]]):
            score_row(r, res, os.path.join(corpus, r["file"]), t,
                      fails if t is total else [])
        if r["backscatter_expect"]:
            vres = vb_results.get((r["file"], r["our_relays"]), res)
            for t in (total, per_kind[r["kind"]]):
                score_vbounce(r, vres, t, fails if t is total else [])
        if r["file"].startswith("variants/"):
            base = variant_base(r["file"], names)
            if base is not None:
                ok = strip_file(res) == strip_file(results[base])
                for t in (total, per_kind[r["kind"]]):
                    t.add("variant", ok)
                if not ok:
                    fails.append(("variant", r["file"], base, "differs"))

    out = sys.stdout
    out.write("ndrguard inspect on %s (%d messages)\n" % (corpus, len(rows)))
    print_table("per expected kind", per_kind, out)
    if args.families:
        print_table("per MTA family", per_family, out)
    out.write("\n%-28s %s\n" % ("TOTAL", " ".join(
        "%9s" % total.cell(m) for m in METRICS)))
    out.write("%-28s %s\n" % ("", " ".join(
        "%8.1f%%" % total.pct(m) if total.pct(m) is not None else "%9s" % "-"
        for m in METRICS)))
    if args.fails:
        for fl in sorted(fails):
            out.write("MISS %-8s %s  want=%s got=%s\n" % fl)
    status = 0
    for fl in args.floor:
        name, _, val = fl.partition("=")
        pct = total.pct(name)
        if pct is not None and pct + 1e-9 < float(val):
            out.write("FAIL: %s %.1f%% is below the floor %s%%\n" % (name, pct, val))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
