#!/usr/bin/env bats
# ws-scan -f, the initial sync of a group, at size: 120 pages made on alpha
# while nobody watched are copied to empty beta and gamma with their
# histories by the scan itself, in bulk (about one API request a revision
# and a peer), and verified, so no job is left; a progress line on a
# terminal, none in a pipe; nothing is copied or queued twice; what is not
# simply new (a page a peer has too, a page a job names) is left to its
# job, and ws-peerd does the rest.

load helper
load bed
load sync

# three batches of 50 pages, the last one short; bench/scale measures the
# initial sync of thousands, beside git-remote-mediawiki
N=120

setup_file() {
	sync_setup_file 3
	# ws-peerd's own first scan is over before a test edits anything
	wait_for 20 test -s "$WIKISYNC_SPOOL/scan/alpha" -a -s "$WIKISYNC_SPOOL/scan/beta" \
	    -a -s "$WIKISYNC_SPOOL/scan/gamma"
}
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

# pages: "TITLE<TAB>TEXT<TAB>SUMMARY" of the first revision of each page;
# pages 2: the second revision of every 30th page
pages() {
	local i
	for i in $(seq 1 "$N"); do
		if [ "${1:-1}" -eq 1 ]; then
			printf 'Full %s\tFull page %s. [[Category:Synced]]\tmade %s\n' "$i" "$i" "$i"
		elif [ $((i % 30)) -eq 0 ]; then
			printf 'Full %s\tFull page %s, again. [[Category:Synced]]\tagain %s\n' "$i" "$i" "$i"
		fi
	done
}

# bulk_edit WIKI: the edits on stdin (as pages prints them), as the editor,
# one session, a few at a time: ws-testbed edit takes a process each
bulk_edit() {
	python3 -c '
import http.cookiejar, json, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor

api, login, pw = sys.argv[1:4]
web = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

def call(**kw):
    kw.update(format="json", formatversion="2")
    data = urllib.parse.urlencode(kw).encode()
    return json.load(web.open(api, data, timeout=120))

t = call(action="query", meta="tokens", type="login")["query"]["tokens"]
r = call(action="login", lgname=login, lgpassword=pw, lgtoken=t["logintoken"])
assert r["login"]["result"] == "Success", r
csrf = call(action="query", meta="tokens")["query"]["tokens"]["csrftoken"]

def edit(line):
    title, text, summary = line.rstrip("\n").split("\t")
    for attempt in range(5):
        r = call(**{"action": "edit", "title": title, "text": text,
                    "summary": summary, "assert": "user", "token": csrf})
        if r.get("edit", {}).get("result") == "Success":
            return
    sys.exit("bulk_edit: %s: %s" % (title, r))

with ThreadPoolExecutor(4) as pool:
    list(pool.map(edit, sys.stdin))
' "$(api_of "$1")" "$WS_EDITOR_LOGIN" "$(cat "$BED/$1/editor.pass")"
}

api_of() { local v=WS_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_API; echo "${!v}"; }

# texts WIKI: "TITLE<TAB>TEXT" of each page whose title starts with "Full "
texts() {
	python3 -c '
import json, sys, urllib.parse, urllib.request
q = dict(action="query", format="json", formatversion="2",
         generator="allpages", gapprefix="Full ", gaplimit="50",
         prop="revisions", rvprop="content", rvslots="main")
while True:
    r = json.load(urllib.request.urlopen(sys.argv[1] + "?" + urllib.parse.urlencode(q), timeout=120))
    for p in r.get("query", {}).get("pages", []):
        print("%s\t%s" % (p["title"], p["revisions"][0]["slots"]["main"]["content"]))
    if "continue" not in r:
        break
    q.update(r["continue"])
' "$(api_of "$1")" | sort
}

# drain STALL: until the queue is idle, as long as it shrinks at least once
# every STALL seconds; how fast is a benchmark's business, not a test's (a
# sanitizer build here runs at half the speed of a plain one)
drain() {
	local stall=$1 left last=-1 since
	since=$(date +%s)
	while ! idle; do
		left=$(ws-queue ls -a | wc -l)
		if [ "$left" -ne "$last" ]; then
			last=$left
			since=$(date +%s)
		elif [ $(( $(date +%s) - since )) -ge "$stall" ]; then
			echo "# no progress in $stall s, $left jobs left" >&3
			return 1
		fi
		sleep 1
	done
}

# want: what texts should print once every page is synced
want() {
	{ pages 1; pages 2; } | awk -F '\t' '{ t[$1] = $2 } END { for (k in t) print k "\t" t[k] }' | sort
}

# made WIKI TITLE: the page is there
made() { [ -n "$(bed_text "$1" "$2")" ]; }

# apicalls: the API requests every wiki of the bed has served so far
apicalls() { cat "$BED"/*/php.log | grep -c ']: \(GET\|POST\) /api.php' || true; }

@test "ws-scan -f in a pipe: 120 pages made on alpha while nobody watched are copied to beta and gamma, about one request a revision and a peer, no job left, no progress line" {
	peerd_stop
	t0=$(date +%s)
	pages 1 | bulk_edit alpha
	pages 2 | bulk_edit alpha
	echo "# $N pages and $((N / 30)) edits made in $(( $(date +%s) - t0 )) s" >&3
	texts alpha | diff - <(want)
	calls=$(apicalls)
	t0=$(date +%s)
	run --separate-stderr ws-scan -f
	assert_status 0
	[[ "$output" == "test: $N pages copied, 0 jobs, "*" pages watched" ]]
	[ -z "$stderr" ]
	[ "$(ws-queue ls -a | wc -l)" -eq 0 ]
	texts beta | diff - <(want)
	texts gamma | diff - <(want)
	# the edits (one a revision and a peer), and the reads, watches and
	# verification shared by 50 pages a request: with two peers and the
	# scan's own reads of three wikis, under 1.3 a revision and a peer
	revs=$((N + N / 30))
	calls=$(( $(apicalls) - calls ))
	echo "# copied in $(( $(date +%s) - t0 )) s, $calls API requests for $revs revisions onto 2 peers" >&3
	[ "$calls" -lt $((revs * 2 * 13 / 10)) ]
	# every base set, as ws-verify sets them: the next scan finds nothing
	for w in alpha beta gamma; do
		run ws-store get "$w" "Full 30"
		assert_status 0
	done
}

@test "ws-scan -f on a terminal: the progress line, and nothing copied or queued twice" {
	run script -qc "ws-scan -f" /dev/null
	assert_status 0
	[[ "$output" == *"ws-scan: alpha: 50/$N pages, "*"/s, "*" s left"* ]]
	[[ "$output" == *"ws-scan: alpha: $N/$N pages, "*"/s, "*" s left"* ]]
	[[ "$output" == *"test: 0 jobs, $((3 * N)) pages watched"* ]]
	[ "$(ws-queue ls -a | wc -l)" -eq 0 ]
}

@test "the copies carry alpha's histories, and an edit on gamma then reaches alpha and beta (the copy watched it)" {
	peerd_start
	for w in beta gamma; do
		for i in 30 90 120; do
			run history "$w" "Full $i"
			[ "${#lines[@]}" -eq 2 ]
			[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made $i	"* ]]
			[[ "${lines[1]}" == "Peerd	from alpha r"*" by Editor: again $i	"* ]]
		done
		run history "$w" "Full 7"
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made 7	"* ]]
	done
	edit gamma "Full 90" "Full page 90, from gamma. [[Category:Synced]]" >/dev/null
	wait_for 10 has_text alpha "Full 90" "Full page 90, from gamma. [[Category:Synced]]"
	wait_for 10 has_text beta "Full 90" "Full page 90, from gamma. [[Category:Synced]]"
	wait_for 10 idle
}

@test "ws-scan -f leaves to its job a page a peer has too and never copies a page a job names; ws-peerd then merges, nothing lost" {
	peerd_stop
	edit alpha "Both 1" "A line from alpha. [[Category:Synced]]" >/dev/null
	edit beta "Both 1" "A line from beta. [[Category:Synced]]" >/dev/null
	edit alpha "Queued 1" "Queued on alpha. [[Category:Synced]]" >/dev/null
	edit alpha "Fresh 1" "Fresh on alpha. [[Category:Synced]]" >/dev/null
	ws-queue add alpha "Queued 1" >/dev/null
	run --separate-stderr ws-scan -f
	assert_status 0
	# Fresh 1 copied; Both 1 a job on alpha and one on beta; Queued 1 its own
	[[ "$output" == "test: 1 page copied, 2 jobs, "*" pages watched" ]]
	has_text gamma "Fresh 1" "Fresh on alpha. [[Category:Synced]]"
	[ -z "$(bed_text gamma "Queued 1")" ]
	[ "$(ws-queue ls | wc -l)" -eq 3 ]
	peerd_start
	wait_for 20 idle
	for w in alpha beta gamma; do
		has_text "$w" "Queued 1" "Queued on alpha. [[Category:Synced]]"
		has_text "$w" "Fresh 1" "Fresh on alpha. [[Category:Synced]]"
		run bed_text "$w" "Both 1"
		[[ "$output" == *"A line from alpha."* ]]
		[[ "$output" == *"A line from beta."* ]]
	done
	[ "$(bed_text alpha "Both 1")" = "$(bed_text gamma "Both 1")" ]
	[ "$(bed_text beta "Both 1")" = "$(bed_text gamma "Both 1")" ]
}

@test "ws-scan -f killed as it copies: its jobs return to the queue at once, and ws-peerd finishes every page, each revision once" {
	peerd_stop
	for i in $(seq 1 60); do
		printf 'Crash %s\tCrash page %s. [[Category:Synced]]\tmade %s\n' "$i" "$i" "$i"
	done | bulk_edit alpha
	ws-scan -f >/dev/null 2>&1 3>&- &
	pid=$!
	# killed once the first batch's jobs are taken and a copy is made
	wait_for 30 made beta "Crash 1"
	kill -KILL "$pid"
	wait "$pid" || true
	run ws-queue stats
	[[ "$output" == *"running "[1-9]* ]]
	# their worker gone, the jobs go back without waiting for the lease
	ws-queue recover
	run ws-queue stats
	[[ "$output" == *"running 0"* ]]
	[[ "$output" == *"due "[1-9]* ]]
	peerd_start
	t0=$SECONDS
	wait_for 60 idle
	echo "# drained in $((SECONDS - t0)) s" >&3
	[ "$(ws-queue ls -a | wc -l)" -eq 0 ]
	for i in $(seq 1 60); do
		for w in beta gamma; do
			run history "$w" "Crash $i"
			[ "${#lines[@]}" -eq 1 ]
			[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made $i	"* ]]
		done
	done
}
