#!/usr/bin/env python3
"""A --console-socket receiver for the integration tests.

    console.py SOCKET [--send TEXT] [--out FILE] [--timeout SECONDS]
               [--expect TEXT] [--resize ROWS,COLS]

Listens on the unix socket SOCKET, accepts one connection, receives the pty
master through SCM_RIGHTS, optionally resizes the terminal (TIOCSWINSZ on the
master) and writes TEXT to it (\\n and \\r escapes are expanded) -- at once,
or with --expect once the output has shown that text -- then copies everything read from the master to FILE (or
stdout) until the other side closes the terminal (EIO) or the timeout.
Exit status: 0 when a terminal was received, 2 when none came, 3 on timeout.
"""
import argparse
import array
import errno
import fcntl
import os
import struct
import termios
import select
import socket
import sys
import time


def recv_fd(conn):
    fds = array.array("i")
    msg, anc, _flags, _addr = conn.recvmsg(16, socket.CMSG_SPACE(fds.itemsize * 4))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return fds[0] if fds else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--send", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--expect", default=None)
    ap.add_argument("--resize", default=None)
    a = ap.parse_args()

    deadline = time.monotonic() + a.timeout
    try:
        os.unlink(a.socket)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.socket)
    srv.listen(1)
    srv.settimeout(a.timeout)
    out = open(a.out, "wb") if a.out else sys.stdout.buffer
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        print("console.py: no connection", file=sys.stderr)
        return 2
    master = recv_fd(conn)
    conn.close()
    srv.close()
    if master < 0:
        print("console.py: no fd received", file=sys.stderr)
        return 2
    def act():
        if a.resize is not None:
            rows, cols = (int(x) for x in a.resize.split(","))
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if a.send is not None:
            text = a.send.replace("\\n", "\n").replace("\\r", "\r")
            os.write(master, text.encode())

    pending = a.expect.encode() if a.expect is not None else None
    if pending is None:
        act()
    seen = b""
    status = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            status = 3
            break
        r, _, _ = select.select([master], [], [], left)
        if not r:
            continue
        try:
            data = os.read(master, 4096)
        except OSError as e:
            if e.errno == errno.EIO:  # the last slave fd closed: the process is gone
                break
            raise
        if not data:
            break
        out.write(data)
        out.flush()
        if pending is not None:
            seen += data
            if pending in seen:
                pending = None
                act()
    os.close(master)
    return status


if __name__ == "__main__":
    sys.exit(main())
