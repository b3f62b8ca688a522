#!/usr/bin/env python3
"""once-check.py - every message sent is held or delivered, unchanged, once

usage: once-check.py --db DB --sent DIR [--sent DIR...] --maildir DIR...
                     [--never-held RCPT...] [--dup-bound N]

Reads every *.eml under the --sent directories (the messages as they were
submitted, LF line ends, each with its own Message-ID), every row of the
quarantine table of DB, and every file in the --maildir directories (a
Maildir's new/), and checks, by Message-ID:

  - every message sent is held or delivered; none is lost;
  - no message is held twice (a retry must be recognised);
  - a held row's raw bytes are the message sent with nothing but
    Postfix's trace header fields on top, its size column is its length
    and its raw_hash is the 64-bit FNV-1a of those bytes (sql/0005): a
    half-written row would fail one of these;
  - a delivered file is likewise the message sent under trace fields;
  - nothing held or delivered was never sent;
  - no row is held for a --never-held recipient;
  - at most --dup-bound messages (default 0) were delivered twice or
    more, or delivered and held: the at-least-once window of a content
    filter killed between re-injecting a message and acknowledging it
    (the retry is re-injected again, or held if a storm began in the
    meantime).  Each one is listed.

Prints a summary line, then "figures: held=H delivered=D dups=N both=B"
(distinct Message-IDs) for the caller's own checks; each problem on a line of its
own starting with "FAIL:" (at most 10 of a kind) and then exit status 1.
Run it as the database's owner: opening a WAL database creates -shm.
"""
import argparse
import os
import re
import sqlite3
import sys

TRACE = re.compile(rb'^(Return-Path|X-Original-To|Delivered-To|Received):')


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return '%016x' % h


def message_id(data):
    head = data.split(b'\n\n', 1)[0]
    m = re.search(rb'(?im)^message-id:[ \t]*(\S+)', head)
    return m.group(1).decode('ascii', 'replace') if m else None


def same(stored, sent):
    """stored is sent with only trace header fields (maybe folded) on top"""
    if not stored.endswith(sent):
        return False
    top = stored[:len(stored) - len(sent)]
    for n, line in enumerate(top.split(b'\n')[:-1]):
        if TRACE.match(line) or (n > 0 and line[:1] in (b' ', b'\t')):
            continue
        return False
    return True


class Report:
    def __init__(self):
        self.kinds = {}

    def fail(self, kind, text):
        self.kinds.setdefault(kind, []).append(text)

    def print(self):
        for kind, texts in self.kinds.items():
            for t in texts[:10]:
                print('FAIL: %s: %s' % (kind, t))
            if len(texts) > 10:
                print('FAIL: %s: ... and %d more' % (kind, len(texts) - 10))
        return 1 if self.kinds else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--db', required=True)
    ap.add_argument('--sent', action='append', required=True)
    ap.add_argument('--maildir', action='append', default=[])
    ap.add_argument('--never-held', action='append', default=[])
    ap.add_argument('--dup-bound', type=int, default=0)
    a = ap.parse_args()
    r = Report()

    sent = {}
    for top in a.sent:
        for dirpath, _, names in os.walk(top):
            for name in names:
                if not name.endswith('.eml'):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, 'rb') as f:
                    data = f.read()
                mid = message_id(data)
                if mid is None or mid in sent:
                    r.fail('sent', '%s: no Message-ID or not unique' % path)
                sent[mid] = data

    held = {}
    db = sqlite3.connect('file:%s?mode=ro' % a.db, uri=True)
    rows = db.execute('SELECT id, recipient, state, size, raw, raw_hash'
                      ' FROM quarantine')
    nrows = 0
    for rid, rcpt, state, size, raw, raw_hash in rows:
        nrows += 1
        raw = bytes(raw)
        where = 'row %d (%s, %s)' % (rid, rcpt, state)
        if size != len(raw):
            r.fail('held size', '%s: size %d, %d bytes stored'
                   % (where, size, len(raw)))
        if raw_hash != fnv1a64(raw):
            r.fail('held hash', '%s: raw_hash %s, bytes hash to %s'
                   % (where, raw_hash, fnv1a64(raw)))
        if rcpt in a.never_held:
            r.fail('held', '%s: mail to %s must never be held' % (where, rcpt))
        mid = message_id(raw)
        if mid not in sent:
            r.fail('held unknown', '%s: Message-ID %s was never sent'
                   % (where, mid))
            continue
        if not same(raw, sent[mid]):
            r.fail('held bytes', '%s: not the %d bytes sent as %s'
                   % (where, len(sent[mid]), mid))
        held.setdefault(mid, []).append(rid)
    db.close()

    delivered = {}
    files = 0
    for md in a.maildir:
        for name in sorted(os.listdir(md)) if os.path.isdir(md) else []:
            path = os.path.join(md, name)
            files += 1
            with open(path, 'rb') as f:
                data = f.read()
            mid = message_id(data)
            if mid not in sent:
                r.fail('delivered unknown', '%s: Message-ID %s was never sent'
                       % (path, mid))
                continue
            if not same(data, sent[mid]):
                r.fail('delivered bytes', '%s: not the bytes sent as %s'
                       % (path, mid))
            delivered.setdefault(mid, []).append(path)

    for mid, ids in held.items():
        if len(ids) > 1:
            r.fail('held twice', '%s in rows %s' % (mid, ids))
    lost = [mid for mid in sent if mid not in held and mid not in delivered]
    for mid in lost:
        r.fail('lost', '%s was neither held nor delivered' % mid)
    # Passed on, killed before the 250, retried: the copy already
    # re-injected stays, and the retry is passed on again or, if a storm
    # began meanwhile, held.
    dups = sorted(mid for mid, p in delivered.items() if len(p) > 1)
    both = sorted(mid for mid in delivered if mid in held)
    for mid in dups:
        print('delivered %d times: %s (%s)' % (len(delivered[mid]), mid,
              ' '.join(os.path.basename(p) for p in delivered[mid])))
    for mid in both:
        print('delivered and held: %s (%s, row %d)'
              % (mid, os.path.basename(delivered[mid][0]), held[mid][0]))
    if len(dups) + len(both) > a.dup_bound:
        r.fail('passed on twice', '%d delivered twice and %d delivered and'
               ' held, at most %d may be'
               % (len(dups), len(both), a.dup_bound))
    print('sent %d: held %d (%d rows), delivered %d (%d files),'
          ' lost %d, delivered more than once %d, delivered and held %d'
          ' (bound %d together)'
          % (len(sent), len(held), nrows, len(delivered), files, len(lost),
             len(dups), len(both), a.dup_bound))
    print('figures: held=%d delivered=%d dups=%d both=%d'
          % (len(held), len(delivered), len(dups), len(both)))
    sys.exit(r.print())


if __name__ == '__main__':
    main()
