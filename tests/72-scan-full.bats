#!/usr/bin/env bats
# ws-scan -f, the initial sync of a group, at size: 300 pages made on alpha
# while nobody watched them reach empty beta and gamma with their
# histories; a progress line on a terminal, none in a pipe; nothing is
# queued twice.

load helper
load bed
load sync

N=300

setup_file() {
	sync_setup_file 3
	# the editor makes hundreds of edits a minute here
	for w in alpha beta gamma; do
		echo "\$wgRateLimits['edit'] = [ 'user' => [ 100000, 60 ], 'newbie' => [ 100000, 60 ] ];" \
		    >>"$BED/$w/LocalSettings.php"
	done
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

@test "ws-scan -f in a pipe: a job for each of 300 pages made on alpha while nobody watched, no progress line" {
	peerd_stop
	t0=$(date +%s)
	pages 1 | bulk_edit alpha
	pages 2 | bulk_edit alpha
	echo "# $N pages and $((N / 30)) edits made in $(( $(date +%s) - t0 )) s" >&3
	texts alpha | diff - <(want)
	run --separate-stderr ws-scan -f
	assert_status 0
	[[ "$output" == "test: $N jobs, "*" pages watched" ]]
	[ -z "$stderr" ]
	[ "$(ws-queue ls | wc -l)" -eq "$N" ]
}

@test "ws-scan -f on a terminal: the progress line, and nothing queued twice" {
	run script -qc "ws-scan -f" /dev/null
	assert_status 0
	[[ "$output" == *"ws-scan: alpha: 50/$N pages, "*"/s, "*" s left"* ]]
	[[ "$output" == *"ws-scan: alpha: $N/$N pages, "*"/s, "*" s left"* ]]
	[[ "$output" == *"test: 0 jobs, $N pages watched"* ]]
	run sh -c 'ws-queue ls | cut -f 3,4 | sort -u | wc -l'
	[ "$output" -eq "$N" ]
	[ "$(ws-queue ls | wc -l)" -eq "$N" ]
}

@test "then ws-peerd brings all 300 to beta and gamma, with their histories" {
	t0=$(date +%s)
	peerd_start
	drain 60
	echo "# $N jobs done in $(( $(date +%s) - t0 )) s" >&3
	texts beta | diff - <(want)
	texts gamma | diff - <(want)
	for w in beta gamma; do
		for i in 30 150 300; do
			run history "$w" "Full $i"
			[ "${#lines[@]}" -eq 2 ]
			[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made $i	"* ]]
			[[ "${lines[1]}" == "Peerd	from alpha r"*" by Editor: again $i	"* ]]
		done
		run history "$w" "Full 7"
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made 7	"* ]]
	done
}
