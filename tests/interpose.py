#!/usr/bin/env python3
"""interpose.py: a wiki's API through a proxy that runs a command first.

usage: interpose.py PORTFILE TARGET [REGEX COMMAND]...

Listens on a free port of 127.0.0.1, writes it to PORTFILE, and forwards
every request to TARGET (http://127.0.0.1:PORT of a real wiki), as it
is, answering with the wiki's own reply.  Before forwarding the first
request whose "METHOD PATH BODY" (the body URL-decoded) matches REGEX,
it runs COMMAND with sh and waits for it: a test puts an edit, a stop or
anything else exactly between two requests of the program under test.
Each pair fires once, in the order given: a pair is looked at only once
the one before it fired, so "after X, before the next Y" is two pairs.  Every request is appended to
PORTFILE.log as "METHOD PATH BODY", and each command fired as "# ran: ".

Invariant: it binds 127.0.0.1 only and never makes up a reply; what the
program under test sees is what the wiki answered, but for one thing: the
wiki's own address in a reply (a file's URL) reads as the proxy's, as
from a wiki configured behind it, so files come through it too.  It lives no longer
than the process that started it (a bats test): when that one ends, the
proxy and any command it is running are killed, whatever the test's
outcome, so a failed test leaves nothing behind to hold the suite.
"""
import ctypes
import http.client
import os
import signal
import http.server
import re
import subprocess
import sys
import threading
import urllib.parse

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-connection", "content-length", "host"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.forward()

    def do_POST(self):
        self.forward()

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        seen = "%s %s %s" % (self.command, urllib.parse.unquote(self.path),
                             urllib.parse.unquote_plus(
                                 body.decode("utf-8", "replace")))
        srv = self.server
        with srv.lock:
            srv.log.write(seen.replace("\n", " ") + "\n")
            srv.log.flush()
            fire = None
            for i, (rx, cmd) in enumerate(srv.rules):
                if cmd is None:
                    continue
                # only the first pair not yet fired is looked at
                if rx.search(seen):
                    fire = cmd
                    srv.rules[i] = (rx, None)
                break
            if fire is not None:
                p = subprocess.Popen(["sh", "-c", fire], stdout=sys.stderr,
                                     start_new_session=True)
                RUNNING.add(p.pid)
                p.wait()
                RUNNING.discard(p.pid)
                srv.log.write("# ran: %s\n" % fire)
                srv.log.flush()
        conn = http.client.HTTPConnection(srv.target.hostname,
                                          srv.target.port, timeout=120)
        try:
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in HOP}
            hdrs["Host"] = srv.target.netloc
            conn.request(self.command, self.path, body, hdrs)
            r = conn.getresponse()
            data = r.read()
        except OSError as e:
            self.send_error(502, str(e))
            return
        finally:
            conn.close()
        ctype = r.getheader("Content-Type") or ""
        if "json" in ctype:
            data = data.replace(srv.origin, srv.me)
        self.send_response(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# the process groups of the commands running now
RUNNING = set()


def die(sig, frame):
    for pg in list(RUNNING):
        try:
            os.killpg(pg, signal.SIGKILL)
        except OSError:
            pass
    os._exit(1)


def main():
    if len(sys.argv) < 3 or len(sys.argv) % 2 == 0:
        sys.exit(__doc__.split("\n\n")[1].strip())
    # SIGTERM when the parent ends (PR_SET_PDEATHSIG), checked once after
    # in case it ended before
    parent = os.getppid()
    signal.signal(signal.SIGTERM, die)
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        die(None, None)
    portfile, target = sys.argv[1], sys.argv[2]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.target = urllib.parse.urlsplit(target)
    srv.rules = [(re.compile(sys.argv[i]), sys.argv[i + 1])
                 for i in range(3, len(sys.argv), 2)]
    srv.origin = ("%s://%s" % (srv.target.scheme, srv.target.netloc)).encode()
    srv.me = ("http://127.0.0.1:%d" % srv.server_address[1]).encode()
    srv.lock = threading.Lock()
    srv.log = open(portfile + ".log", "a")
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
