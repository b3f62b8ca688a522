#!/usr/bin/env python3
# lmtp-flood.py - LMTP clients that pipeline commands and never read
#
# SYNOPSIS
#	lmtp-flood.py HOST:PORT CLIENTS MAX_BYTES SEND_SECS WAIT_SECS
#
# DESCRIPTION
#	Opens CLIENTS connections and on each sends "LHLO flood", "NOOP" and
#	"RSET" lines over and over, without ever reading a reply, as a
#	client does that means to fill the server's memory with replies it
#	will not take. Each connection sends at most MAX_BYTES, for at most
#	SEND_SECS seconds; a connection whose socket takes nothing more
#	(the server stopped reading) just waits. Then, for at most
#	WAIT_SECS more, it watches each connection for the server's close
#	(poll for POLLRDHUP, POLLHUP or POLLERR: nothing is read, since
#	reading would be the progress that keeps a connection alive).
#
#	Prints one line: "clients=N sent=BYTES closed=C open=O", sent being
#	the total over all connections. Exit 0; 1 when a connection could
#	not be made.
import select
import socket
import sys
import time

CHUNK = b'LHLO flood\r\nNOOP\r\nRSET\r\n' * 512


def flood(socks, max_bytes, send_secs):
    """Send to every socket until each has sent max_bytes or time is up."""
    sent = {s: 0 for s in socks}
    until = time.monotonic() + send_secs
    active = list(socks)
    while active and time.monotonic() < until:
        _, writable, _ = select.select([], active, [], 0.2)
        for s in writable:
            want = min(len(CHUNK), max_bytes - sent[s])
            try:
                sent[s] += s.send(CHUNK[:want], socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                active.remove(s)	# closed by the server already
                continue
            if sent[s] >= max_bytes:
                active.remove(s)
    return sum(sent.values())


def wait_closed(socks, wait_secs):
    """How many sockets the server closed within wait_secs."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLRDHUP)
    closed = set()
    until = time.monotonic() + wait_secs
    while len(closed) < len(socks):
        left = until - time.monotonic()
        if left <= 0:
            break
        for fd, _ in poller.poll(left * 1000):
            closed.add(fd)
            poller.unregister(fd)
    return len(closed)


def main():
    if len(sys.argv) != 6:
        sys.exit('usage: lmtp-flood.py HOST:PORT CLIENTS MAX_BYTES '
                 'SEND_SECS WAIT_SECS')
    host, port = sys.argv[1].rsplit(':', 1)
    count, max_bytes = int(sys.argv[2]), int(sys.argv[3])
    send_secs, wait_secs = float(sys.argv[4]), float(sys.argv[5])
    socks = []
    try:
        for _ in range(count):
            socks.append(socket.create_connection((host, int(port)),
                                                  timeout=10))
    except OSError as e:
        print('lmtp-flood.py: connect: %s' % e, file=sys.stderr)
        return 1
    sent = flood(socks, max_bytes, send_secs)
    closed = wait_closed(socks, wait_secs)
    print('clients=%d sent=%d closed=%d open=%d'
          % (count, sent, closed, count - closed))
    sys.stdout.flush()
    for s in socks:
        s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
