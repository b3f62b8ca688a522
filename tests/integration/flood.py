#!/usr/bin/env python3
"""flood.py - submit many messages over SMTP on several connections at once

usage: flood.py HOST:PORT SESSIONS LIST

LIST has one message a line: SENDER RECIPIENT FILE, SENDER "-" for the
null sender.  The messages are shared out over SESSIONS connections that
run in parallel, each sending in the order of the list.  A message's line
ends are made CR LF (smtplib dot-stuffs, and adds a line end unless the
text ends in one), so what Postfix stores is the file with LF line ends.

Every message must be accepted: the first refusal or error is printed
with the file's name and the exit status is 1.  The client never retries,
so a message it reports sent was queued exactly once.  On success one line
is printed: messages, sessions, seconds.
"""
import smtplib
import sys
import threading
import time


def session(host, port, items, errors):
    path = '(connecting)'
    try:
        with smtplib.SMTP(host, port, 'client.remote.test', timeout=120) as s:
            for sender, rcpt, path in items:
                with open(path, 'rb') as f:
                    text = f.read().replace(b'\r\n', b'\n')
                s.sendmail('' if sender == '-' else sender, [rcpt],
                           text.replace(b'\n', b'\r\n'))
    except (OSError, smtplib.SMTPException) as e:
        errors.append('%s: %s' % (path, e))


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: flood.py HOST:PORT SESSIONS LIST')
    host, port = sys.argv[1].rsplit(':', 1)
    sessions = int(sys.argv[2])
    with open(sys.argv[3]) as f:
        items = [line.split() for line in f if line.strip()]
    shares = [items[i::sessions] for i in range(sessions)]
    errors = []
    t0 = time.time()
    threads = [threading.Thread(target=session,
                                args=(host, int(port), share, errors))
               for share in shares if share]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for e in errors:
            print('flood.py: not accepted: ' + e, file=sys.stderr)
        sys.exit(1)
    print('%d messages, %d sessions, %.1f s'
          % (len(items), len(threads), time.time() - t0))


if __name__ == '__main__':
    main()
