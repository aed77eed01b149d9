# sync.bash: helpers for the sync tests on the real bed (load after bed).
#
# ws-peerd runs in the background for the whole file, started by
# peerd_start and stopped by peerd_stop; edits go through MediaWiki's API
# as the editor, mail through Exim into ws-recv, as in production.

# ws-peerd leads its own process group, so a stop is a crash of the whole
# loop: SIGKILL to it and to whatever applet it was running.  A start
# stops the loop that runs, if one does: one loop, whose pid is known.
peerd_start() {
	peerd_stop
	# in a subshell: not a job of this shell, which would report its death
	(setsid sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec ws-peerd' \
	    sh "$BED/peerd.pid" >>"$BED/peerd.log" 2>&1 &)
	wait_for 5 test -s "$BED/peerd.pid"
}

peerd_stop() {
	local pid
	[ -f "$BED/peerd.pid" ] || return 0
	pid=$(cat "$BED/peerd.pid")
	# a loop a test stopped itself (TERM) is gone already
	kill -KILL -- "-$pid" 2>/dev/null || :
	while pgrep -g "$pid" >/dev/null; do sleep 0.05; done
	rm -f "$BED/peerd.pid"
}

# edit WIKI TITLE TEXT [SUMMARY]: an edit by the editor; prints the revid
edit() { ws-testbed edit "$BED" "$@"; }
# watch WIKI TITLE: the sync user watches the page (new pages mail then)
watch() { ws-testbed watch "$BED" "$@"; }

# wait_for SECONDS CMD...: until CMD succeeds, polling every 50 ms.
# SECONDS is what a plain build on an idle machine needs, times
# $WS_WAIT_SCALE (default 4): a test that passes goes on the moment CMD
# does, so only a failure waits the longer, and a sanitizer build or a
# busy machine fails what does not happen, not what happens slowly.
wait_for() {
	local end=$(( $(date +%s%N) + $1 * ${WS_WAIT_SCALE:-4} * 1000000000 ))
	shift
	until "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# wiki_is WIKI up|down: as ws-status has it
wiki_is() { ws-status -t | grep -q "^wiki	$1	$2	"; }

# has_text WIKI TITLE TEXT: the page's current text is TEXT
has_text() { [ "$(bed_text "$1" "$2")" = "$3" ]; }

# conflicted WIKI TITLE: the page is in the conflict category
conflicted() { [[ "$(bed_text "$1" "$2")" == *"[[Category:WikiSync conflicts]]"* ]]; }

# idle: nothing due or running in the queue
idle() {
	local s
	s=$(ws-queue stats) || return 1
	[[ "$s" == *"due 0"*"running 0"* ]]
}

# revs WIKI TITLE FIELD...: the revisions' FIELDs (rvprop names), one line
# per revision, tab-separated, oldest first
revs() {
	local w=$1 t=$2 props
	shift 2
	props=$(IFS='|'; echo "$*")
	ws-testbed api "$BED" "$w" action=query prop=revisions titles="$t" \
	    rvlimit=max rvdir=newer rvprop="$props" |
	python3 -c '
import json, sys
p = json.load(sys.stdin)["query"]["pages"][0]
for r in p.get("revisions", []):
    print("\t".join(str(r.get(f, "")) for f in sys.argv[1:]))' "$@"
}

# history WIKI TITLE: "user<TAB>comment<TAB>sha1" per revision, oldest first
history() { revs "$1" "$2" user comment sha1; }

# The file's bed and loop: setup_file() { sync_setup_file N [UP-OPTION...]; }
# and so on.
sync_setup_file() {
	bed_up "${1:-2}" "${@:2}"
	peerd_start
}

sync_teardown_file() {
	peerd_stop
	# the loop's log only when a test of the file failed, as TAP comments
	if [ -e "$BED/.failed" ] && [ -s "$BED/peerd.log" ]; then
		{ echo "==== peerd.log"; tail -n 30 "$BED/peerd.log"; } | sed 's/^/# /' >&3
	fi
	bed_down
}

# loop_bed_hooks: the file's hooks for three wikis and the loop, which a
# test may stop: the next test gets it back
loop_bed_hooks() {
	setup_file() { sync_setup_file 3; }
	teardown_file() { sync_teardown_file; }
	setup() {
		common_setup
		bed_setup
	}
	teardown() {
		bed_teardown
		# a test that failed with its proxy in the config: the
		# next test's loop talks to the wikis themselves
		unposed
		[ -f "$BED/peerd.pid" ] || peerd_start
	}
}

# last_log WIKI TYPE TITLE: "USER<TAB>REASON" of the title's newest entry
# of that log type there, and "<TAB>TARGET" for a move
last_log() {
	ws-testbed api "$BED" "$1" action=query list=logevents letype="$2" \
	    letitle="$3" lelimit=1 leprop='user|comment|details' |
	python3 -c 'import json, sys
e = json.load(sys.stdin)["query"]["logevents"]
t = e[0].get("params", {}).get("target_title") if e else None
print("%s\t%s%s" % (e[0]["user"], e[0]["comment"], "\t" + t if t else "") if e else "")'
}

# log_count WIKI TYPE ACTION TITLE: how many entries of that action there
log_count() {
	ws-testbed api "$BED" "$1" action=query list=logevents letype="$2" letitle="$4" |
	    grep -o "\"action\":\"$3\"" | wc -l
}

# --- one mechanism a test: the loop stopped, ws-push and ws-verify by hand

# synced TITLE TEXT: TITLE holds TEXT on all three wikis, bases moved;
# the loop is stopped after
synced() {
	watch alpha "$1"
	edit alpha "$1" "$2" >/dev/null
	wait_for 3 has_text beta "$1" "$2"
	wait_for 3 has_text gamma "$1" "$2"
	wait_for 5 idle
	peerd_stop
}

# jobof WIKI TITLE: the id of the queued job a mail from WIKI made
jobof() {
	ws-queue ls | awk -F'\t' -v w="$1" -v t="$2" \
	    '$3 == w && $4 == t { print $2; exit }'
}
has_job() { [ -n "$(jobof "$1" "$2")" ]; }

# held: how many jobs are held
held() { ws-queue ls -a | awk -F'\t' '$1 == "hold"' | wc -l; }
held_one() { [ "$(held)" -eq 1 ]; }

# base WIKI TITLE: "SHA1 REVID GEN", the pointer as the store keeps it
base() {
	local key
	key=$(printf '%s' "$2" | md5sum | cut -d' ' -f1)
	head -n 1 "$WIKISYNC_SPOOL/store/cur/$1/$key"
}

# drained: the loop ran every job left, and the three wikis agree
drained() {
	peerd_start
	wait_for 10 idle
	[ "$(bed_text alpha "$1")" = "$(bed_text beta "$1")" ]
	[ "$(bed_text alpha "$1")" = "$(bed_text gamma "$1")" ]
}

# push_verify JOB: ws-push and ws-verify of the job by hand, both exit 0
push_verify() {
	run ws-push "$1"
	assert_status 0
	run ws-verify "$1"
	assert_status 0
}

# push_verify_out WIKI JOB: ws-push syncs the others, and ws-verify keeps
# the job for WIKI, which did not answer
push_verify_out() {
	run ws-push "$2"
	assert_status 0
	run ws-verify "$2"
	assert_status 75
	[[ "$output" == *"$1"* ]]
}

# interpose WIKI REGEX CMD...: WIKI's API in the config through
# interpose.py, which runs CMD before the first request matching REGEX
interpose() {
	local w=$1 var port
	var=WS_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_PORT
	python3 "$TOP/tests/interpose.py" "$BATS_TEST_TMPDIR/proxy" \
	    "http://127.0.0.1:${!var}" "${@:2}" 2>"$BATS_TEST_TMPDIR/proxy.err" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/proxy.pid"
	wait_for 5 test -s "$BATS_TEST_TMPDIR/proxy"
	port=$(cat "$BATS_TEST_TMPDIR/proxy")
	sed "/^\[wiki $w\]/,/^\[/ s|^api = .*|api = http://127.0.0.1:$port/api.php|" \
	    "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/proxied.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/proxied.conf
}

# unposed: the config back to the wikis themselves, the proxy gone
unposed() {
	[ ! -f "$BATS_TEST_TMPDIR/proxy.pid" ] || kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")" 2>/dev/null || :
	rm -f "$BATS_TEST_TMPDIR/proxy.pid"
	bed_setup
}

# missing WIKI TITLE: the wiki has no such page (deleted, or never made)
missing() {
	ws-testbed api "$BED" "$1" action=query prop=info titles="$2" | grep -q '"missing":true'
}

# push_interposed JOB [RAN]: ws-push of the job through the proxy that
# interpose set up, whose command (the one starting RAN, if given) must
# have run; then the proxy goes
push_interposed() {
	run ws-push "$1"
	grep -q "^# ran: ${2:-}" "$BATS_TEST_TMPDIR/proxy.log" ||
	    { cut -c1-300 "$BATS_TEST_TMPDIR/proxy.log"; return 1; }
	unposed
}

# everywhere TITLE TEXT: the three wikis hold TEXT as TITLE, no job held
everywhere() {
	local w
	for w in alpha beta gamma; do
		has_text "$w" "$1" "$2" || { echo "$w: $(bed_text "$w" "$1")"; return 1; }
	done
	[ "$(held)" -eq 0 ]
}

# file_sha1 WIKI TITLE: the SHA-1 of the file's current version there, or nothing
file_sha1() {
	ws-testbed api "$BED" "$1" action=query titles="$2" prop=imageinfo iiprop=sha1 |
	python3 -c 'import json, sys
p = json.load(sys.stdin)["query"]["pages"][0]
print(p["imageinfo"][0]["sha1"] if "imageinfo" in p else "")'
}
has_file() { [ "$(file_sha1 "$1" "$2")" = "$3" ]; }
