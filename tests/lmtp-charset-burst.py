#!/usr/bin/env python3
# lmtp-charset-burst.py - a burst of bounces in hard charsets over LMTP
#
# SYNOPSIS
#	lmtp-charset-burst.py HOST:PORT CONNECTIONS MESSAGES RECIPIENT TAG
#
# DESCRIPTION
#	CONNECTIONS connections at once each deliver MESSAGES bounces
#	(multipart/report from MAILER-DAEMON, null sender) to RECIPIENT, one
#	transaction after another. Each bounce's Subject, text part and
#	returned headers are in one of ISO-2022-JP, GB18030, UTF-7, EUC-KR,
#	BIG5, SHIFT_JIS, KOI8-R or ISO-8859-7, so that classifying it opens
#	charset converters (eight: more than a thread keeps). TAG makes the
#	Message-IDs unique.
#
#	Prints "N delivered" (the transactions answered 250 for RECIPIENT);
#	exit 0 when every one was, 1 otherwise.
import base64
import socket
import sys
import threading

CHARSETS = [('ISO-2022-JP', 'iso2022_jp', '配信できませんでした'),
            ('GB18030', 'gb18030', '邮件无法投递'),
            ('UTF-7', 'utf_7', 'Unzustellbar: Rückläufer'),
            ('EUC-KR', 'euc_kr', '배달 실패'),
            ('BIG5', 'big5', '無法投遞'),
            ('SHIFT_JIS', 'shift_jis', '配信不能'),
            ('KOI8-R', 'koi8_r', 'Не доставлено'),
            ('ISO-8859-7', 'iso8859_7', 'Αδύνατη παράδοση')]


def word(charset, codec, text):
    """An RFC 2047 encoded-word."""
    return '=?%s?B?%s?=' % (charset, base64.b64encode(
        text.encode(codec)).decode('ascii'))


def bounce(rcpt, tag, n):
    """One bounce, LF line ends, as bytes."""
    charset, codec, text = CHARSETS[n % len(CHARSETS)]
    bnd = 'bnd-%s-%d' % (tag, n)
    body = ('%s\n%s <user%d@far-away.test>\n' % (text, text, n)).encode(codec)
    head = ('From: MAILER-DAEMON@mx.far-away.test\n'
            'To: %s\n'
            'Subject: %s\n'
            'Message-ID: <%s.%d@mx.far-away.test>\n'
            'MIME-Version: 1.0\n'
            'Content-Type: multipart/report; report-type=delivery-status;'
            ' boundary="%s"\n\n'
            % (rcpt, word(charset, codec, 'Undelivered: ' + text), tag, n,
               bnd))
    parts = [head.encode('ascii'),
             ('--%s\nContent-Type: text/plain; charset=%s\n'
              'Content-Transfer-Encoding: 8bit\n\n' % (bnd, charset)
              ).encode('ascii'), body,
             ('\n--%s\nContent-Type: message/delivery-status\n\n'
              'Reporting-MTA: dns; mx.far-away.test\n\n'
              'Final-Recipient: rfc822; user%d@far-away.test\n'
              'Action: failed\nStatus: 5.1.1\n'
              'Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n'
              '--%s\nContent-Type: text/rfc822-headers\n\n'
              'From: %s\nTo: user%d@far-away.test\nSubject: %s\n'
              'Message-ID: <spam.%s.%d@dialup.example.net>\n'
              'Received: from dialup-%d.example.net ([198.51.100.%d])\n'
              '\n--%s--\n'
              % (bnd, n, bnd, rcpt, n, word(charset, codec, text), tag, n,
                 n, n % 250 + 1, bnd)).encode('ascii')]
    return b''.join(parts)


def stuffed(msg):
    """msg as LMTP DATA: CR LF line ends, dots stuffed, end marker."""
    out = []
    for line in msg.rstrip(b'\n').split(b'\n'):
        out.append((b'.' if line.startswith(b'.') else b'') + line + b'\r\n')
    return b''.join(out) + b'.\r\n'


def reply(f):
    """One whole reply's last line."""
    while True:
        line = f.readline()
        if not line or len(line) < 4 or line[3:4] != b'-':
            return line


def session(addr, first, count, rcpt, tag, done):
    try:
        with socket.create_connection(addr, timeout=60) as sock:
            f = sock.makefile('rb')
            reply(f)
            sock.sendall(b'LHLO burst\r\n')
            reply(f)
            for n in range(first, first + count):
                sock.sendall(b'MAIL FROM:<>\r\nRCPT TO:<%s>\r\nDATA\r\n'
                             % rcpt.encode())
                for _ in range(3):
                    reply(f)
                sock.sendall(stuffed(bounce(rcpt, tag, n)))
                if reply(f).startswith(b'250 '):
                    done.append(n)
            sock.sendall(b'QUIT\r\n')
            reply(f)
    except OSError as e:
        print('lmtp-charset-burst.py: %s' % e, file=sys.stderr)


def main():
    if len(sys.argv) != 6:
        sys.exit('usage: lmtp-charset-burst.py HOST:PORT CONNECTIONS '
                 'MESSAGES RECIPIENT TAG')
    host, port = sys.argv[1].rsplit(':', 1)
    conns, count = int(sys.argv[2]), int(sys.argv[3])
    done = []
    threads = [threading.Thread(target=session,
                                args=((host, int(port)), i * count, count,
                                      sys.argv[4], sys.argv[5], done))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('%d delivered' % len(done))
    return 0 if len(done) == conns * count else 1


if __name__ == '__main__':
    sys.exit(main())
