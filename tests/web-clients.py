#!/usr/bin/env python3
"""web-clients.py - hostile and honest HTTP clients for test-web-limits.sh

Each mode prints what the clients saw as "key value" lines, for the shell
test to assert on. Sources are loopback addresses given as FIRST-LAST
(127.0.1.1-8: 127.0.1.1 to 127.0.1.8); every socket binds its source.

  slowloris HOST PORT SOURCES PER HONEST
      PER connections from each source trickle a request's headers a byte
      at a time; meanwhile HONEST asks for /. Prints "honest STATUS",
      "attack_open N" (attack connections still open after the honest
      answer) and "attack_accepted N".
  guess HOST PORT SOURCES TRIES USER:WRONG HONEST ADMIN_SOURCE USER:RIGHT
      ADMIN_SOURCE signs in (200); then each source guesses TRIES times,
      all at once, while HONEST asks for / again and again; then
      ADMIN_SOURCE's credentials are tried again. Prints the counts per
      status ("guess 401 N"), "honest_ok N", "honest_bad N", "admin_before
      STATUS", "admin_after STATUS".
  hold HOST PORT SOURCE XFF N OTHER_XFF
      N POSTs from SOURCE, each saying X-Forwarded-For: XFF, send their
      headers and part of the body and wait; then a GET / from SOURCE with
      OTHER_XFF. Prints "held STATUS" for each answer the N got in time
      ("held none" for those still waiting) and "other STATUS".
  noread HOST PORT SOURCES PER PATH PID HONEST
      PER connections from each source ask for PATH with a tiny receive
      buffer and read no more than the status line; RSS of PID is sampled
      while they wait; HONEST fetches PATH whole meanwhile; then each
      attacker waits 8 s (the test's http_timeout is 3 s) and reads what
      is left. Prints "rss_kb N" (the
      most seen), "status STATUS N" counts, "honest STATUS BYTES",
      "closed N" (the server ended them), "open N" (it did not).
"""
import socket
import sys
import threading
import time


def sources(spec):
    first, _, last = spec.partition('-')
    head, _, low = first.rpartition('.')
    return ['%s.%d' % (head, i) for i in range(int(low), int(last or low) + 1)]


def connect(host, port, source, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((source, 0))
    s.settimeout(20)
    s.connect((host, port))
    return s


def status_of(data):
    line = data.split(b'\r\n', 1)[0].split()
    return line[1].decode() if len(line) > 1 else 'none'


def read_head(s, limit=20):
    """read until the end of the headers, or until closed; the bytes"""
    got = b''
    s.settimeout(limit)
    try:
        while b'\r\n\r\n' not in got:
            data = s.recv(4096)
            if not data:
                break
            got += data
    except (socket.timeout, ConnectionError):
        pass
    return got


def read_all(s, limit=20, ended=None):
    """read until closed; ended[0] is set when the end (or a reset) came"""
    got = b''
    s.settimeout(limit)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
    except socket.timeout:
        return got
    except ConnectionError:
        pass
    if ended is not None:
        ended[0] = True
    return got


def get(host, port, source, path='/', headers=b'', limit=20):
    """one GET on a fresh connection; (status, whole answer)"""
    try:
        s = connect(host, port, source)
        s.sendall(b'GET %s HTTP/1.1\r\nHost: ndrguard.test\r\n'
                  b'Connection: close\r\n%s\r\n' % (path.encode(), headers))
        got = read_all(s, limit)
        s.close()
    except OSError:
        return 'refused', b''
    return status_of(got), got


def is_open(s):
    """has the server not closed s (nothing to read, no EOF)?"""
    s.setblocking(False)
    try:
        data = s.recv(4096)
        return bool(data) and b'HTTP/' not in data
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def slowloris(host, port, srcs, per, honest):
    req = b'GET / HTTP/1.1\r\nHost: ndrguard.test\r\nUser-Agent: slow\r\n'
    conns = []
    for src in sources(srcs):
        for _ in range(int(per)):
            try:
                s = connect(host, port, src)
                s.sendall(req[:1])
                conns.append(s)
            except OSError:
                pass
    # one more byte on each, as a trickling client does; then the
    # server has seen every connection and refused those over a limit
    time.sleep(0.5)
    for i, s in enumerate(conns):
        try:
            s.sendall(req[1:2])
        except OSError:
            pass
    time.sleep(0.5)
    accepted = sum(1 for s in conns if is_open(s))
    status, _ = get(host, port, honest)
    print('honest', status)
    for i, s in enumerate(conns):
        try:
            s.sendall(req[2:3])
        except OSError:
            pass
    print('attack_open', sum(1 for s in conns if is_open(s)))
    print('attack_accepted', accepted)


def basic(cred):
    import base64
    return b'Authorization: Basic %s\r\n' % base64.b64encode(cred.encode())


def guess(host, port, srcs, tries, wrong, honest, admin_src, right):
    counts = {}
    lock = threading.Lock()
    done = threading.Event()
    status, _ = get(host, port, admin_src, '/admin', basic(right))
    print('admin_before', status)

    def guesser(src):
        for _ in range(int(tries)):
            st, _ = get(host, port, src, '/admin', basic(wrong), 60)
            with lock:
                counts[st] = counts.get(st, 0) + 1

    threads = [threading.Thread(target=guesser, args=(src,))
               for src in sources(srcs)]
    for t in threads:
        t.start()
    ok = bad = 0
    for _ in range(200):
        st, _ = get(host, port, honest, '/', b'', 60)
        if st == '200':
            ok += 1
        else:
            bad += 1
        if not any(t.is_alive() for t in threads) or ok >= 20:
            break
    for t in threads:
        t.join()
    status, _ = get(host, port, admin_src, '/admin', basic(right))
    for st in sorted(counts):
        print('guess', st, counts[st])
    print('honest_ok', ok)
    print('honest_bad', bad)
    print('admin_after', status)


def hold(host, port, src, xff, n, other):
    conns = []
    for _ in range(int(n)):
        s = connect(host, port, src)
        s.sendall(b'POST /settings HTTP/1.1\r\nHost: ndrguard.test\r\n'
                  b'X-Forwarded-For: %s\r\nContent-Type: application/'
                  b'x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n'
                  b'm=a' % xff.encode())
        conns.append(s)
        time.sleep(0.2)
    time.sleep(0.5)
    for s in conns:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            data = None
        except OSError:
            data = b''
        print('held', 'none' if data is None else status_of(data))
    status, _ = get(host, port, src, '/',
                    b'X-Forwarded-For: %s\r\n' % other.encode())
    print('other', status)


def rss_kb(pid):
    with open('/proc/%s/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def noread(host, port, srcs, per, path, pid, honest):
    conns, counts = [], {}
    for src in sources(srcs):
        for _ in range(int(per)):
            s = connect(host, port, src, rcvbuf=4096)
            s.sendall(b'GET %s HTTP/1.1\r\nHost: ndrguard.test\r\n\r\n'
                      % path.encode())
            conns.append(s)
    peak = 0
    answers = []
    for s in conns:
        head = read_head(s)
        st = status_of(head)
        counts[st] = counts.get(st, 0) + 1
        answers.append((s, st))
        peak = max(peak, rss_kb(pid))
    for _ in range(10):
        peak = max(peak, rss_kb(pid))
        time.sleep(0.1)
    status, whole = get(host, port, honest, path)
    peak = max(peak, rss_kb(pid))
    print('rss_kb', peak)
    for st in sorted(counts):
        print('status', st, counts[st])
    print('honest', status, len(whole))
    closed = still = 0
    # past the server's http_timeout (3 s in the test) it gives up on
    # clients that read nothing; reading now drains what the kernel
    # holds, then the end comes
    time.sleep(8)
    for s, st in answers:
        ended = [False]
        read_all(s, 30, ended)
        if ended[0]:
            closed += 1
        else:
            still += 1
    print('closed', closed)
    print('open', still)


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:]
    {'slowloris': slowloris, 'guess': guess, 'hold': hold,
     'noread': noread}[mode](host, port, *args)


if __name__ == '__main__':
    main()
