#!/usr/bin/env python3
"""reject-smtp.py - an SMTP receiver that refuses mail the way remote
servers do, chosen by the recipient's local part, so that a real MTA
in front of it writes the bounce it writes for each kind of failure.

usage: reject-smtp.py PORT

Listens on 127.0.0.1:PORT. By the local part's first word (before "-"
or "."):
    unknown   RCPT  550 5.1.1 user unknown
    full      RCPT  552 5.2.2 mailbox full (over quota)
    relay     RCPT  554 5.7.1 relay access denied
    grey      RCPT  451 4.7.1 greylisted (for ever: the MTA must expire it)
    big       DATA  552 5.3.4 message too big (after the final ".")
    content   DATA  554 5.6.0 content rejected (after the final ".")
Anything else is accepted and dropped. Stops after 600 s of no
connection, so a test that dies cannot leave it behind.
"""
import socket
import sys
import threading

IDLE_MAX = 600

RCPT_REPLIES = {
    "unknown": "550 5.1.1 <{a}>: Recipient address rejected: "
               "User unknown in local recipient table",
    "full": "552 5.2.2 <{a}>: Recipient address rejected: "
            "Mailbox full, user is over quota",
    "relay": "554 5.7.1 <{a}>: Relay access denied",
    "grey": "451 4.7.1 <{a}>: Recipient address rejected: "
            "Greylisted, please try again later",
}
DATA_REPLIES = {
    "big": "552 5.3.4 Message size exceeds fixed maximum message size",
    "content": "554 5.6.0 Message content rejected: malformed MIME structure",
}


def rule_of(addr):
    """The first word of the local part of ADDR."""
    local = addr.strip("<> ").split("@")[0].lower()
    for sep in "-.+":
        local = local.split(sep)[0]
    return local


def session(conn):
    """Talk SMTP on CONN until QUIT or the peer goes away."""
    f = conn.makefile("rb")

    def say(text):
        conn.sendall(text.encode() + b"\r\n")

    say("220 reject.test ESMTP")
    data_reply = None
    rcpts = 0
    for raw in f:
        line = raw.decode("latin-1").rstrip("\r\n")
        verb = line[:4].upper()
        if verb in ("EHLO", "HELO"):
            say("250-reject.test\r\n250-SIZE 100000000\r\n250 8BITMIME"
                if verb == "EHLO" else "250 reject.test")
        elif verb == "MAIL":
            data_reply, rcpts = None, 0
            say("250 2.1.0 Ok")
        elif verb == "RCPT":
            addr = line.split(":", 1)[1].split()[0] if ":" in line else ""
            rule = rule_of(addr)
            if rule in RCPT_REPLIES:
                say(RCPT_REPLIES[rule].format(a=addr.strip("<>")))
                continue
            data_reply = DATA_REPLIES.get(rule, data_reply)
            rcpts += 1
            say("250 2.1.5 Ok")
        elif verb == "DATA":
            if not rcpts:
                say("554 5.5.1 No valid recipients")
                continue
            say("354 End data with <CR><LF>.<CR><LF>")
            for body in f:
                if body.rstrip(b"\r\n") == b".":
                    break
            say(data_reply or "250 2.0.0 Ok: queued")
        elif verb == "RSET":
            data_reply, rcpts = None, 0
            say("250 2.0.0 Ok")
        elif verb == "QUIT":
            say("221 2.0.0 Bye")
            break
        else:
            say("250 2.0.0 Ok")
    conn.close()


def main():
    """Listen on loopback and serve each connection in a thread."""
    port = int(sys.argv[1])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    srv.settimeout(IDLE_MAX)
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return
        threading.Thread(target=session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
