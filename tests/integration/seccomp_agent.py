#!/usr/bin/env python3
"""A seccomp agent (linux.seccomp.listenerPath) for the integration tests.

    seccomp_agent.py SOCKET LOG

Listens on the unix socket SOCKET, accepts one connection, receives the
container process state (JSON) and the seccomp listener (SCM_RIGHTS), writes
the state as the first line of LOG, then answers every notification with
SECCOMP_USER_NOTIF_FLAG_CONTINUE (the syscall goes on as if not filtered),
appending each notified syscall number to LOG. Ends when the filtered
processes are gone (the listener reports an error).
"""
import array
import fcntl
import os
import socket
import struct
import sys

# _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp)
NOTIF_SIZE = 80
RESP_SIZE = 24
IOCTL_RECV = (3 << 30) | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
IOCTL_SEND = (3 << 30) | (RESP_SIZE << 16) | (ord("!") << 8) | 1
FLAG_CONTINUE = 1


def main():
    path, log = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    fds = array.array("i")
    msg, anc, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    conn.close()
    with open(log, "a") as f:
        f.write(msg.decode() + "\n")
    if not fds:
        return 2
    listener = fds[0]
    while True:
        buf = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(listener, IOCTL_RECV, buf, True)
        except OSError:
            return 0
        nid, _pid, _fl, nr = struct.unpack_from("=QIIi", buf)
        with open(log, "a") as f:
            f.write("%d\n" % nr)
        resp = bytearray(struct.pack("=QqiI", nid, 0, 0, FLAG_CONTINUE))
        try:
            fcntl.ioctl(listener, IOCTL_SEND, resp, True)
        except OSError:
            pass  # the process was killed meanwhile


if __name__ == "__main__":
    sys.exit(main())
