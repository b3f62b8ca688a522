#!/usr/bin/env python3
"""ordinary-probe.py - ordinary mail over LMTP while a storm runs, timed

usage: ordinary-probe.py HOST:PORT TEMPLATE OUTDIR MIN STOPFILE RCPT...

Sends messages made from TEMPLATE (an ordinary message; its Message-ID
is replaced by <probe.N.PID@example.net>) over one LMTP connection, one
transaction each, to the RCPTs in turn, from bob@example.net, until at
least MIN were sent and STOPFILE exists.  Each message sent is written
to OUTDIR/probe-N.eml as sent (LF line ends).  For each one the time from
MAIL FROM to the reply after the data is measured: that is what a
sender's server waits for while the storm goes on.

Prints one line per 100 messages, then "replies: N p50 X p95 Y max Z"
(seconds) and the file OUTDIR/latency.txt with one time a line.  Exit 1
when any reply is not 2xx (printed).
"""
import os
import re
import smtplib
import sys
import time


def main():
    if len(sys.argv) < 7:
        sys.exit('usage: ordinary-probe.py HOST:PORT TEMPLATE OUTDIR MIN STOPFILE RCPT...')
    host, port = sys.argv[1].rsplit(':', 1)
    template = open(sys.argv[2], 'rb').read().replace(b'\r\n', b'\n')
    outdir, least, stopfile = sys.argv[3], int(sys.argv[4]), sys.argv[5]
    rcpts = sys.argv[6:]
    times = []
    n = 0
    lmtp = smtplib.LMTP(host, int(port), 'client.remote.test', timeout=120)
    lmtp.ehlo_or_helo_if_needed()
    while n < least or not os.path.exists(stopfile):
        n += 1
        rcpt = rcpts[n % len(rcpts)]
        text = re.sub(rb'(?im)^(message-id:).*$',
                      b'\\1 <probe.%d.%d@example.net>' % (n, os.getpid()),
                      template, count=1)
        text = re.sub(rb'(?im)^(to:).*$', b'\\1 <' + rcpt.encode() + b'>',
                      text, count=1)
        with open(os.path.join(outdir, 'probe-%d.eml' % n), 'wb') as f:
            f.write(text)
        t0 = time.monotonic()
        try:
            refused = lmtp.sendmail('bob@example.net', [rcpt],
                                    text.replace(b'\n', b'\r\n'))
        except smtplib.SMTPException as e:
            sys.exit('ordinary-probe.py: message %d to %s: %s' % (n, rcpt, e))
        times.append(time.monotonic() - t0)
        if refused:
            sys.exit('ordinary-probe.py: message %d refused: %s' % (n, refused))
        time.sleep(0.02)  # a steady trickle, not a second storm
        if n % 100 == 0:
            print('ordinary-probe.py: %d sent, last reply in %.3f s'
                  % (n, times[-1]), flush=True)
    lmtp.quit()
    with open(os.path.join(outdir, 'latency.txt'), 'w') as f:
        f.writelines('%.4f\n' % t for t in times)
    s = sorted(times)
    print('replies: %d p50 %.3f p95 %.3f max %.3f'
          % (len(s), s[len(s) // 2], s[int(len(s) * 0.95)], s[-1]))


if __name__ == '__main__':
    main()
