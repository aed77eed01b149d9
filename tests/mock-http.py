#!/usr/bin/env python3
# mock-http.py: an HTTP server on 127.0.0.1 that plays a wiki misbehaving in ways a real test wiki
# cannot be made to: lagged replicas, overload, rate limits, read-only mode, hangs, a proxy's page.
# Usage: mock-http.py PORTFILE [CERT KEY]: listens on a free loopback port, writes it to PORTFILE,
# serves until killed; with CERT and KEY (PEM files) it speaks HTTPS. The first path component picks the misbehaviour, e.g. http://127.0.0.1:P/maxlag/api.php:
#   503          HTTP 503 with Retry-After: 7
#   maxlag       HTTP 200, the API's maxlag error, Retry-After: 5 (what MediaWiki sends)
#   ratelimited  HTTP 200, the API's ratelimited error
#   readonly     HTTP 200, the API's readonly error
#   slow         waits 5 s before answering (past a 1 s timeout)
#   html         HTTP 200 with an HTML page, not the API's JSON
#   moved        HTTP 301 to https://wiki.example.org/w/api.php
#   endless      logs in, then answers every other query with the same continuation, for ever
#   manykeys     logs in, then answers a continuation of 40 names
#   huge         logs in, then answers a 33 MB reply
# Every request is appended to PORTFILE.log: "METHOD PATH BODY<tab>User-Agent<tab>Accept-Encoding".
# Invariant: it binds 127.0.0.1 only, and never answers as a working wiki would (the last three
# answer a login as one would, only to reach their misbehaviour).
import http.server
import json
import os
import ssl
import sys
import time
import urllib.parse


def api_error(code, text):
    return json.dumps({"errors": [{"code": code, "text": text, "module": "main"}],
                       "docref": "mock"}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype="application/json; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("ascii", "replace") if n else ""
        with open(self.server.logpath, "a") as f:
            f.write("%s %s %s\t%s\t%s\n" % (self.command, self.path, body,
                    self.headers.get("User-Agent"), self.headers.get("Accept-Encoding")))
        mode = self.path.split("/")[1] if self.path.count("/") > 1 else ""
        if mode in ("endless", "manykeys", "huge"):
            return self.hostile(mode, body)
        if mode == "503":
            self.reply(503, b"<html>Service Unavailable</html>", "text/html", [("Retry-After", "7")])
        elif mode == "maxlag":
            self.reply(200, api_error("maxlag", "Waiting for 10.0.0.2: 7 seconds lagged."),
                       headers=[("Retry-After", "5"), ("X-Database-Lag", "7 seconds lagged")])
        elif mode == "ratelimited":
            self.reply(200, api_error("ratelimited", "As an anti-abuse measure, you are limited "
                                      "from performing this action too many times."))
        elif mode == "readonly":
            self.reply(200, api_error("readonly", "The wiki is currently in read-only mode."))
        elif mode == "slow":
            time.sleep(5)
            self.reply(200, b"{}")
        elif mode == "html":
            self.reply(200, b"<html><body>Please log in to the proxy</body></html>", "text/html")
        elif mode == "moved":
            self.reply(301, b"", "text/html", [("Location", "https://wiki.example.org/w/api.php")])
        else:
            self.reply(404, b"no such mode", "text/plain")

    def hostile(self, mode, body):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "multipart/form-data" not in (self.headers.get("Content-Type") or ""):
            q.update(urllib.parse.parse_qs(body))
        get = lambda k: (q.get(k) or [""])[0]
        if get("meta") == "tokens":
            out = {"batchcomplete": True, "query": {"tokens": {
                "logintoken": "l+\\", "csrftoken": "c+\\", "watchtoken": "w+\\"}}}
        elif get("action") == "login":
            out = {"login": {"result": "Success", "lguserid": 1, "lgusername": "Peerd"}}
        elif get("meta") == "userinfo" and not get("list") and not get("prop"):
            out = {"batchcomplete": True, "query": {"userinfo": {
                "id": 1, "name": "Peerd", "groups": ["bot", "sysop"],
                "rights": ["edit", "bot", "delete", "undelete", "move", "upload"]}}}
        elif mode == "endless":
            out = {"continue": {"rccontinue": "20261207000000|1", "cmcontinue": "page|1",
                                "continue": "-||"},
                   "query": {"recentchanges": [], "categorymembers": []}}
        elif mode == "manykeys":
            out = {"continue": dict(("k%dcontinue" % i, "x") for i in range(40)),
                   "query": {"recentchanges": [], "categorymembers": []}}
        else:
            self.reply(200, b'{"query":{"x":"' + b"a" * (33 << 20) + b'"}}')
            return
        self.reply(200, json.dumps(out).encode())

    do_GET = handle_any
    do_POST = handle_any


def main():
    if len(sys.argv) not in (2, 4):
        sys.stderr.write("usage: mock-http.py PORTFILE [CERT KEY]\n")
        sys.exit(64)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    srv.logpath = sys.argv[1] + ".log"
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
