#!/usr/bin/env python3
"""slow-smtp.py - an SMTP receiver that keeps what it got and can be held

usage: slow-smtp.py PORT DIR

Listens on 127.0.0.1:PORT. Every message whose final "." arrives is
saved as DIR/msg-N.eml (the data as sent, dot-stuffing undone, an
X-Envelope line of MAIL FROM / RCPT TO on top) before any reply, as a
real MTA queues it before saying 250. DIR/events gets one line per
step, for the tests to wait on:

    data N       DATA received on connection N (before the 354)
    dot N FILE   final "." received on connection N, saved as FILE
    closed N     connection N closed by the client

While DIR/hold-data exists the 354 to DATA is not sent; while
DIR/hold-dot exists the answer to the final "." is not sent (the message
is saved already). Each hold lasts at most 120 s, so a test that dies
cannot leave it hanging.
"""
import os
import socket
import sys
import threading
import time

HOLD_MAX = 120
lock = threading.Lock()
counter = {"conn": 0, "msg": 0}


def event(d, text):
    with lock:
        with open(os.path.join(d, "events"), "a") as f:
            f.write(text + "\n")
            f.flush()


def hold(d, name):
    path = os.path.join(d, name)
    for _ in range(HOLD_MAX * 20):
        if not os.path.exists(path):
            return
        time.sleep(0.05)


def save(d, envelope, lines):
    with lock:
        counter["msg"] += 1
        n = counter["msg"]
    name = os.path.join(d, "msg-%d.eml" % n)
    with open(name + ".tmp", "wb") as f:
        f.write(b"X-Envelope: " + envelope + b"\r\n")
        f.write(b"".join(lines))
    os.rename(name + ".tmp", name)
    return name, n


def session(conn, d, cid):
    f = conn.makefile("rb")
    out = conn.makefile("wb")

    def say(text):
        out.write(text.encode() + b"\r\n")
        out.flush()

    say("220 slow-smtp ESMTP")
    envelope = b""
    try:
        while True:
            line = f.readline()
            if not line:
                break
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                say("250-slow-smtp\r\n250 8BITMIME")
            elif cmd.startswith(b"MAIL"):
                envelope = line.strip()
                say("250 2.1.0 Ok")
            elif cmd.startswith(b"RCPT"):
                envelope += b" " + line.strip()
                say("250 2.1.5 Ok")
            elif cmd == b"DATA":
                event(d, "data %d" % cid)
                hold(d, "hold-data")
                say("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                ended = False
                while True:
                    l = f.readline()
                    if not l:
                        break
                    if l in (b".\r\n", b".\n"):
                        ended = True
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    lines.append(l)
                if not ended:
                    break
                name, n = save(d, envelope, lines)
                event(d, "dot %d %s" % (cid, name))
                hold(d, "hold-dot")
                say("250 2.0.0 Ok: queued as SLOW%d" % n)
            elif cmd == b"RSET":
                say("250 2.0.0 Ok")
            elif cmd == b"QUIT":
                say("221 2.0.0 Bye")
                break
            else:
                say("502 5.5.2 Error: command not recognized")
    except (OSError, ValueError):
        pass
    event(d, "closed %d" % cid)
    conn.close()


def main():
    port, d = int(sys.argv[1]), sys.argv[2]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        with lock:
            counter["conn"] += 1
            cid = counter["conn"]
        threading.Thread(target=session, args=(conn, d, cid),
                         daemon=True).start()


if __name__ == "__main__":
    main()
