#!/usr/bin/env python3
# lmtp-client.py - a scriptable LMTP/SMTP client for the protocol tests
#
# SYNOPSIS
#	lmtp-client.py HOST:PORT < SCRIPT
#
# DESCRIPTION
#	Reads a script on stdin, one step per line, and prints every reply
#	line the server sends, as it was sent (without CR LF):
#
#	> TEXT		send TEXT and CR LF (nothing else waits)
#	< [N]		read N replies (default 1); a multi-line reply is one
#	file PATH	send the bytes of PATH exactly as they are
#	data PATH	send PATH as message data: LF line ends become CR LF,
#			lines starting with "." get one more, then "." CR LF
#	bytes PYTHON	send a Python bytes literal, e.g. bytes b'a\r\n.\r\n'
#	sleep SECS	wait
#	close		close abruptly (no QUIT), then stop
#	drain		read until the server closes, printing what comes
#
#	Exit 0, or 2 when the server closed while a reply was expected
#	("EOF" is printed then).
import ast
import socket
import sys
import time


def read_reply(f):
    """One whole reply: lines until one without '-' after the code."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines, False
        text = line.decode('latin-1').rstrip('\r\n')
        lines.append(text)
        if len(text) < 4 or text[3] != '-':
            return lines, True


def stuff(path):
    """PATH's lines as SMTP DATA (RFC 5321 4.5.2), end marker included."""
    with open(path, 'rb') as msg:
        text = msg.read()
    if text.endswith(b'\n'):
        text = text[:-1]
    out = []
    for line in text.split(b'\n'):
        if line.endswith(b'\r'):
            line = line[:-1]
        out.append((b'.' if line.startswith(b'.') else b'') + line + b'\r\n')
    return b''.join(out) + b'.\r\n'


def main():
    host, port = sys.argv[1].rsplit(':', 1)
    sock = socket.create_connection((host, int(port)), timeout=60)
    f = sock.makefile('rb')
    for raw in sys.stdin:
        step = raw.rstrip('\n')
        if step.startswith('> '):
            sock.sendall(step[2:].encode('latin-1') + b'\r\n')
        elif step.startswith('<'):
            count = int(step[1:].strip() or '1')
            for _ in range(count):
                lines, ok = read_reply(f)
                for line in lines:
                    print(line)
                if not ok:
                    print('EOF')
                    sys.stdout.flush()
                    return 2
        elif step.startswith('file '):
            with open(step[5:], 'rb') as msg:
                sock.sendall(msg.read())
        elif step.startswith('data '):
            sock.sendall(stuff(step[5:]))
        elif step.startswith('bytes '):
            sock.sendall(ast.literal_eval(step[6:]))
        elif step.startswith('sleep '):
            time.sleep(float(step[6:]))
        elif step == 'close':
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b'\x01\x00\x00\x00\x00\x00\x00\x00')
            sock.close()
            return 0
        elif step == 'drain':
            while True:
                lines, ok = read_reply(f)
                for line in lines:
                    print(line)
                if not ok:
                    print('EOF')
                    break
        elif step and not step.startswith('#'):
            print('bad step: ' + step, file=sys.stderr)
            return 64
        sys.stdout.flush()
    sock.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
