#!/usr/bin/env python3
"""chaos.py: many editors on a test bed's wikis at once, ws-peerd killed
and a wiki stopped meanwhile; then checks that nothing saved was lost.

On a bed made by `ws-testbed up -n N` (its env loaded), with one group
over every wiki and category Synced, it:

  1. makes PAGES pages on the first wiki and waits until every wiki
     has them and the queue is empty;
  2. runs one editor per wiki, each making EDITS edits in about SECONDS
     seconds the way a browser saves: read the page, insert one line no
     one else has at a random place, save with basetimestamp and
     starttimestamp, and after an edit conflict read and redo;
  3. meanwhile SIGKILLs ws-peerd (the whole process group) KILLS times,
     once more while ws-verify runs (a verify cut short) for each
     -V, stops one wiki for OUTAGE seconds, and moves a page MOVES times
     (-M), each time on a wiki that has followed the moves before, to a
     new title, with or without a redirect; the editors find a page by
     its newest title, following redirects, else by an older one, and
     save where they found it, as a reader of the wiki would; and
     deletes a page DELETES times (-D), each on a wiki that has it, and
     restores it there 0.5 to 3 s later (editors wait while it is gone);
  4. with every wiki up and ws-peerd running, waits until every page has
     one text on every wiki and the queue is empty.

Then it checks what must always hold: every saved line is in every
wiki's page, every wiki holds the same text, no job is held.  A lost
line is traced: the revision that dropped it, with its user and summary.

Everything random comes from the seed: which page, where a line goes,
the pauses, when ws-peerd dies, which wiki stops and when.  The wikis'
and the loop's timing still varies from run to run.

usage: chaos.py [-s seed] [-p pages] [-n edits] [-t seconds] [-k kills]
                [-V verify-cuts] [-o outage] [-M moves] [-D deletes]
                [-T timeout] BED
Prints "key value" lines: seed, wikis, saved (edits), lost (saved lines
missing from a wiki), converged (seconds from the last saved edit, or
the end of the last fault if later, to one text everywhere and an empty
queue), requests (the sync's API requests per saved edit), boxes
(conflict boxes in the final texts), held, editconflicts (the editors'),
moves (made), deletes (each deletion made and restored), strays (saved
lines found under an old title of their page on every wiki, not under its
newest: an edit form loaded before a move and saved after it revives the
old title, which MediaWiki allows, and the sync keeps it as a page).
Exit 0 when every invariant held, 1 when one did not, 2 on trouble with
the bed.
"""
import argparse
import http.cookiejar
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CATEGORY = "[[Category:Synced]]"
BOX = 'class="wikisync-conflict"'


def env(name):
    v = os.environ.get(name)
    if v is None:
        sys.exit("chaos.py: %s not set: load the bed's env first" % name)
    return v


class Down(Exception):
    """The wiki did not answer."""


class Wiki:
    """One wiki's API as the editor, with a count of the requests made."""

    def __init__(self, name):
        self.name = name
        u = name.upper()
        self.api = env("WS_%s_API" % u)
        self.url = env("WS_%s_URL" % u)
        self.login = env("WS_EDITOR_LOGIN")
        self.password = env("WS_%s_EDITOR_PASS" % u)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar))
        self.requests = 0
        self.token = None
        self.lock = threading.Lock()

    def call(self, **params):
        params.update(format="json", formatversion="2")
        data = urllib.parse.urlencode(params).encode()
        with self.lock:
            self.requests += 1
        try:
            with self.opener.open(self.api, data, timeout=60) as r:
                return json.load(r)
        except (urllib.error.URLError, ConnectionError, TimeoutError,
                json.JSONDecodeError) as e:
            raise Down("%s: %s" % (self.name, e))

    def log_in(self):
        r = self.call(action="query", meta="tokens", type="login")
        lt = r["query"]["tokens"]["logintoken"]
        r = self.call(action="login", lgname=self.login,
                      lgpassword=self.password, lgtoken=lt)
        if r.get("login", {}).get("result") != "Success":
            sys.exit("chaos.py: %s: login failed: %s" % (self.name, r))
        r = self.call(action="query", meta="tokens", type="csrf")
        self.token = r["query"]["tokens"]["csrftoken"]

    def read(self, title, follow=False):
        """(text, revision, now) of the page; text None if none.  The
        revision is its (id, timestamp).  With follow, a redirect leads
        to its target, and the title read is the 4th item."""
        r = self.call(action="query", prop="revisions", titles=title,
                      rvprop="content|timestamp|ids", rvslots="main",
                      curtimestamp="1", **({"redirects": "1"} if follow
                                            else {}))
        p = r["query"]["pages"][0]
        if p.get("missing") or p.get("invalid"):
            return None, None, r["curtimestamp"], title
        rev = p["revisions"][0]
        return (rev["slots"]["main"]["content"],
                (rev["revid"], rev["timestamp"]), r["curtimestamp"],
                p["title"])

    def find(self, page):
        """(text, revision, now, title) of a page by its newest title
        that this wiki has, following redirects; text None if none."""
        for t in reversed(page.names):
            got = self.read(t, follow=True)
            if got[0] is not None and not got[0].startswith("#REDIRECT"):
                return got
        return None, None, None, page.names[-1]

    def delete(self, title, undo=False):
        return self.call(**{"action": "undelete" if undo else "delete",
                            "title": title, "reason": "chaos",
                            "assert": "user", "token": self.token})

    def move(self, frm, to, redirect):
        p = {"action": "move", "from": frm, "to": to, "reason": "chaos",
             "movetalk": "1", "assert": "user", "token": self.token}
        if not redirect:
            p["noredirect"] = "1"
        return self.call(**p)

    def edit(self, title, text, summary, base=None, start=None):
        """The API's reply to one edit, saved as the edit form saves it:
        the revision loaded (editRevId), its timestamp (wpEdittime) and
        when the form was loaded (wpStarttime)."""
        p = {"action": "edit", "title": title, "text": text,
             "summary": summary, "assert": "user", "token": self.token}
        if base:
            p.update(baserevid=base[0], basetimestamp=base[1],
                     starttimestamp=start)
        else:
            p.update(createonly="1")
        return self.call(**p)

    def history(self, title):
        """Every revision of the page, oldest first, with its text."""
        out, cont = [], {}
        while True:
            r = self.call(action="query", prop="revisions", titles=title,
                          rvprop="ids|user|comment|content", rvslots="main",
                          rvlimit="50", rvdir="newer", **cont)
            p = r["query"]["pages"][0]
            out += p.get("revisions", [])
            if "continue" not in r:
                return out
            cont = r["continue"]


class Loop:
    """ws-peerd, as the test helpers run it: its own process group."""

    def __init__(self, bed):
        self.bed = bed
        self.pid = None

    def start(self):
        log = open(os.path.join(self.bed, "peerd.log"), "a")
        # WS_PEERD_WORKERS: its -j (bench/chaos -j)
        jobs = os.environ.get("WS_PEERD_WORKERS")
        argv = ["ws-peerd"] + (["-j", jobs] if jobs else [])
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.pid = p.pid
        with open(os.path.join(self.bed, "peerd.pid"), "w") as f:
            f.write("%d\n" % p.pid)
        self.proc = p

    def kill(self):
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        while group_alive(self.pid):
            time.sleep(0.02)
        self.pid = None

    def running(self, applet):
        """Is APPLET (say ws-verify) running in the loop's group now?"""
        if self.pid is None:
            return False
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[2]) == self.pid and cmd and \
                    os.path.basename(cmd[0].decode()) == applet:
                return True
        return False


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def testbed(*args):
    subprocess.run(["ws-testbed"] + list(args), check=True,
                   stdout=subprocess.DEVNULL)


def queue_state():
    """(jobs queued, jobs held) from ws-queue ls -a."""
    r = subprocess.run(["ws-queue", "ls", "-a"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        return None, None
    lines = [l for l in r.stdout.splitlines() if l]
    return len(lines), sum(1 for l in lines if l.startswith("hold\t"))


class Page:
    """A chaos page: every title it had, the newest last."""

    def __init__(self, title):
        self.names = [title]
        self.deletes = 0
        self.lock = threading.Lock()

    @property
    def title(self):
        return self.names[-1]


class Editor(threading.Thread):
    """One wiki's editor: EDITS browser-like edits, each adding a line."""

    def __init__(self, wiki, pages, edits, seconds, seed, index, saved):
        super().__init__(daemon=True)
        self.wiki, self.pages, self.edits = wiki, pages, edits
        self.gap = seconds / max(edits, 1)
        self.rng = random.Random("%s/%d" % (seed, index))
        self.seed, self.saved = seed, saved
        self.conflicts = 0
        self.errors = []
        self.last = 0.0

    def run(self):
        try:
            for n in range(self.edits):
                time.sleep(self.rng.uniform(0, 2 * self.gap))
                self.one(n)
        except Exception as e:  # reported by the main thread
            self.errors.append(repr(e))

    def one(self, n):
        page = self.rng.choice(self.pages)
        line = "chaos %s %s %d" % (self.seed, self.wiki.name, n)
        where = self.rng.random()
        for _ in range(200):
            try:
                text, base, start, title = self.wiki.find(page)
                if text is None:
                    # between two titles here as a move is followed
                    time.sleep(0.2)
                    continue
                lines = text.split("\n")
                at = int(where * (len(lines) + 1))
                lines.insert(at, line)
                r = self.wiki.edit(title, "\n".join(lines),
                                   "adds " + line, base, start)
            except Down:
                time.sleep(0.5)	# the wiki is stopped: wait for it
                continue
            e = r.get("error", {}).get("code")
            if e in ("editconflict", "articleexists", "missingtitle",
                     "pagedeleted"):
                self.conflicts += 1
                time.sleep(self.rng.uniform(0, 0.3))
                continue
            if e in ("assertuserfailed", "badtoken"):
                self.wiki.log_in()
                continue
            if r.get("edit", {}).get("result") != "Success":
                raise RuntimeError("%s: %s: %s" % (self.wiki.name, title, r))
            with self.wiki.lock:
                self.saved.append((line, self.wiki.name, page,
                                   r["edit"].get("newrevid")))
            self.last = time.time()
            return
        raise RuntimeError("%s: %s: not saved in 200 tries" %
                           (self.wiki.name, title))


def move_once(args, wikis, pages, rng, n, t0):
    """Move a page on a wiki that has followed its moves so far (waiting
    for one, 20 s at most); what was done, for the report."""
    page = rng.choice(pages)
    order = rng.sample(wikis, len(wikis))
    redirect = rng.random() < 0.5
    to = "%s m%d" % (page.names[0], n)
    end = time.time() + 20
    while time.time() < end:
        for w in order:
            try:
                text = w.read(page.title)[0]
                if text is None or text.startswith("#REDIRECT"):
                    continue
                with page.lock:
                    r = w.move(page.title, to, redirect)
                    if "move" in r:
                        page.names.append(to)
                        return "moved %s to %s on %s%s at %.1f s" % (
                            page.names[-2], to, w.name,
                            "" if redirect else " (no redirect)",
                            time.time() - t0)
            except Down:
                continue
        time.sleep(0.2)
    return "no wiki had %s to move at %.1f s" % (page.title,
                                                 time.time() - t0)


def delete_once(args, wikis, pages, rng, t0):
    """Delete a page on a wiki that has it and restore it there a moment
    later; what was done, for the report."""
    page = rng.choice(pages)
    order = rng.sample(wikis, len(wikis))
    pause = rng.uniform(0.5, 3)
    end = time.time() + 20
    while time.time() < end:
        for w in order:
            try:
                with page.lock:
                    text = w.read(page.title)[0]
                    if text is None or text.startswith("#REDIRECT"):
                        continue
                    r = w.delete(page.title)
                    if "delete" not in r:
                        continue
                    page.deletes += 1
                    at = time.time() - t0
                    time.sleep(pause)
                    for _ in range(100):
                        try:
                            r = w.delete(page.title, undo=True)
                            break
                        except Down:
                            time.sleep(0.5)
                    # the sync may have restored it first: an edit made
                    # elsewhere meanwhile wins over the deletion
                    if "undelete" not in r and \
                            w.read(page.title)[0] is None:
                        raise RuntimeError("%s: %s: not restored: %s" %
                                           (w.name, page.title, r))
                return "deleted %s on %s at %.1f s, restored %.1f s later" \
                    % (page.title, w.name, at, pause)
            except Down:
                continue
        time.sleep(0.2)
    return "no wiki had %s to delete at %.1f s" % (page.title,
                                                   time.time() - t0)


def chaos(args, loop, wikis, pages, rng, stop):
    """Kills, an outage and moves on a schedule drawn from the seed;
    returns what was done and when the last of it ended (time.time())."""
    events = []
    for _ in range(args.kills):
        events.append((rng.uniform(0.1, 0.9) * args.seconds, "kill", None))
    for _ in range(args.verify_cuts):
        events.append((rng.uniform(0.1, 0.9) * args.seconds, "cut", None))
    if args.outage > 0 and len(wikis) > 1:
        events.append((rng.uniform(0.1, 0.5) * args.seconds, "stop",
                       rng.choice(wikis).name))
    for i in range(args.moves):
        events.append((rng.uniform(0.1, 0.9) * args.seconds, "move", i))
    for i in range(args.deletes):
        events.append((rng.uniform(0.1, 0.9) * args.seconds, "delete", i))
    events.sort()
    t0 = time.time()
    done = []
    for at, what, arg in events:
        while time.time() - t0 < at and not stop.is_set():
            time.sleep(0.05)
        if what == "kill":
            loop.kill()
            time.sleep(rng.uniform(0, 2))
            loop.start()
            done.append("killed ws-peerd at %.1f s" % (time.time() - t0))
        elif what == "cut":
            end = time.time() + 20
            while not loop.running("ws-verify") and time.time() < end:
                time.sleep(0.002)
            cut = loop.running("ws-verify")
            loop.kill()
            time.sleep(rng.uniform(0, 1))
            loop.start()
            done.append("killed ws-peerd %s at %.1f s" %
                        ("in ws-verify" if cut else "(no verify seen)",
                         time.time() - t0))
        elif what == "move":
            done.append(move_once(args, wikis, pages, rng, arg, t0))
        elif what == "delete":
            done.append(delete_once(args, wikis, pages, rng, t0))
        elif what == "stop":
            testbed("stop", args.bed, arg)
            done.append("stopped %s at %.1f s" % (arg, time.time() - t0))
            time.sleep(args.outage)
            testbed("start", args.bed, arg)
            done.append("started %s at %.1f s" % (arg, time.time() - t0))
    return done, time.time() if events else 0


def texts(wikis, pages):
    """{title: [text on each wiki]}, for every title each page had, or
    None while a wiki is down."""
    out = {}
    try:
        for p in pages:
            for t in p.names:
                out[t] = [w.read(t)[0] for w in wikis]
    except Down:
        return None
    return out


def converged(wikis, pages):
    """The texts once the queue is empty and every wiki holds one text
    of every title (each page's newest title there); else None."""
    q, _ = queue_state()
    if q != 0:
        return None
    tx = texts(wikis, pages)
    if tx is None or any(len(set(v)) != 1 for v in tx.values()) or \
            any(tx[p.title][0] is None for p in pages):
        return None
    return tx


def api_lines(bed, wikis):
    """API requests each wiki's php -S logged so far."""
    n = 0
    for w in wikis:
        try:
            with open(os.path.join(bed, w.name, "php.log"), "rb") as f:
                n += sum(1 for l in f if b"/api.php" in l)
        except OSError:
            pass
    return n


def trace(w, title, line, revid):
    """Which revision of w dropped line, saved there in revid."""
    seen = False
    for r in w.history(title):
        has = line in r["slots"]["main"].get("content", "").split("\n")
        if r["revid"] == revid:
            seen = has
            continue
        if seen and not has:
            return "%s r%d by %s: %s" % (w.name, r["revid"], r["user"],
                                         r.get("comment", ""))
    return "%s: never seen in r%s" % (w.name, revid) if not seen else \
        "%s: still there" % w.name


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1]
                                 .split("\n")[0])
    ap.add_argument("-s", dest="seed", default="1")
    ap.add_argument("-p", dest="pages", type=int, default=5)
    ap.add_argument("-n", dest="edits", type=int, default=25)
    ap.add_argument("-t", dest="seconds", type=float, default=40)
    ap.add_argument("-k", dest="kills", type=int, default=2)
    ap.add_argument("-V", dest="verify_cuts", type=int, default=1)
    ap.add_argument("-o", dest="outage", type=float, default=20)
    ap.add_argument("-M", dest="moves", type=int, default=0)
    ap.add_argument("-D", dest="deletes", type=int, default=0)
    ap.add_argument("-T", dest="timeout", type=float, default=120)
    ap.add_argument("bed")
    args = ap.parse_args()
    rng = random.Random("%s/chaos" % args.seed)
    wikis = [Wiki(n) for n in env("WS_WIKIS").split()]
    for w in wikis:
        w.log_in()
    pages = [Page("Chaos %s page %d" % (args.seed, i + 1))
             for i in range(args.pages)]

    loop = Loop(args.bed)
    loop.start()
    try:
        return run(args, rng, wikis, pages, loop)
    finally:
        loop.kill()


def run(args, rng, wikis, pages, loop):
    # 1. the pages, on every wiki, before the editors start
    for p in pages:
        t = p.title
        testbed("watch", args.bed, wikis[0].name, t)
        r = wikis[0].edit(t, "= %s =\nfirst\nsecond\nthird\n%s" %
                          (t, CATEGORY), "made for the chaos run")
        if r.get("edit", {}).get("result") != "Success":
            print("chaos.py: %s: %s" % (t, r), file=sys.stderr)
            return 2
    end = time.time() + args.timeout
    while converged(wikis, pages) is None:
        if time.time() > end:
            print("chaos.py: the pages did not reach every wiki",
                  file=sys.stderr)
            return 2
        time.sleep(0.2)

    # 2. and 3. the editors, and the kills and the outage meanwhile
    before = api_lines(args.bed, wikis)
    ours = sum(w.requests for w in wikis)
    saved = []
    eds = [Editor(w, pages, args.edits, args.seconds, args.seed, i, saved)
           for i, w in enumerate(wikis)]
    stop = threading.Event()
    for e in eds:
        e.start()
    events, calm = chaos(args, loop, wikis, pages, rng, stop)
    for e in eds:
        e.join()
    errors = [m for e in eds for m in e.errors]
    if loop.pid is None:
        loop.start()
    # from the last saved edit, or the end of the last fault if later
    last = max([e.last for e in eds] + [calm])

    # 4. until every page is one text everywhere and the queue is empty
    end = time.time() + args.timeout
    while (tx := converged(wikis, pages)) is None and time.time() < end:
        time.sleep(0.1)
    took = time.time() - last
    if tx is None:
        tx = texts(wikis, pages) or {}
    sync = api_lines(args.bed, wikis) - before - \
        (sum(w.requests for w in wikis) - ours)

    # a line is where its page is now, or, a stray, under a title the
    # page had: an edit form loaded before a move and saved after it
    # makes the old title a page again (MediaWiki's doing), synced as
    # one of its own
    lost, strays = [], set()
    none = [None] * len(wikis)
    for line, wname, page, revid in saved:
        title = page.title
        for i, w in enumerate(wikis):
            if line in (tx.get(title, none)[i] or "").split("\n"):
                continue
            if any(line in (tx.get(t, none)[i] or "").split("\n")
                   for t in page.names[:-1]):
                strays.add(line)
                continue
            lost.append((line, wname, title, revid, w))
    queued, held = queue_state()
    boxes = sum((v[0] or "").count(BOX) for v in tx.values())
    print("seed %s" % args.seed)
    print("wikis %d" % len(wikis))
    print("saved %d" % len(saved))
    print("lost %d" % len(set(l[0] for l in lost)))
    print("converged %s" % ("%.1f" % took if queued == 0 and tx and all(
        len(set(v)) == 1 for v in tx.values()) else "no"))
    print("requests %.1f" % (sync / max(len(saved), 1)))
    print("boxes %d" % boxes)
    print("held %s" % held)
    print("moves %d" % sum(len(p.names) - 1 for p in pages))
    print("deletes %d" % sum(p.deletes for p in pages))
    print("strays %d" % len(strays))
    print("editconflicts %d" % sum(e.conflicts for e in eds))
    for m in events:
        print("# " + m, file=sys.stderr)
    bad = False
    for m in errors:
        print("editor: " + m, file=sys.stderr)
        bad = True
    for line, wname, title, revid, w in lost:
        how = trace(w, title, line, revid) if w.name == wname else \
            trace_peer(w, title, line)
        print("lost: %r (saved on %s r%s, %s) missing on %s: %s"
              % (line, wname, revid, title, w.name, how), file=sys.stderr)
        bad = True
    for t, v in tx.items():
        if len(set(v)) != 1:
            print("differs: %s: %s" % (t, ", ".join(
                "%s %d bytes" % (w.name, len(x or ""))
                for w, x in zip(wikis, v))), file=sys.stderr)
            bad = True
    if queued != 0 or held != 0:
        print("queue: %s jobs left, %s held" % (queued, held),
              file=sys.stderr)
        bad = True
    if len(tx) != sum(len(p.names) for p in pages):
        bad = True
    return 1 if bad else 0


def trace_peer(w, title, line):
    """The revision of w that last had line, and the one after it."""
    prev = None
    for r in w.history(title):
        has = line in r["slots"]["main"].get("content", "").split("\n")
        if prev is not None and prev and not has:
            return "%s r%d by %s: %s" % (w.name, r["revid"], r["user"],
                                         r.get("comment", ""))
        prev = has
    return "%s: never had it" % w.name


if __name__ == "__main__":
    sys.exit(main())
