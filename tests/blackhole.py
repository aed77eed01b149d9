#!/usr/bin/env python3
"""blackhole.py: a TCP port on 127.0.0.1 that drops every new connection.

usage: blackhole.py PORTFILE

Listens on a free loopback port with a backlog of one and never accepts;
it fills that backlog itself, so the kernel drops the SYN of every later
connect(), which hangs until the caller's own timeout, as a wiki whose
host drops packets would.  Writes the port to PORTFILE, then sleeps until
killed, or until its parent (a bats test) ends.

Invariant: it binds 127.0.0.1 only and sends nothing.
"""
import ctypes
import os
import signal
import socket
import sys
import time


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1].strip())
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(0)
    port = lsn.getsockname()[1]
    # the accept queue full: a connection or two of its own, never accepted
    held = []
    for _ in range(3):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(c)
    time.sleep(0.2)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
