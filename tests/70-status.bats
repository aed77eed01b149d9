#!/usr/bin/env bats
# ws-status: the table and the tab-separated lines from a spool built by
# hand (state files, ws-queue), exit codes; then on the real bed: a wiki
# stopped shows down, pages in the conflict category, the table published
# to a wiki page once, and not again while nothing changed.

load helper
load bed
load sync

setup_file() { bed_up 2; }
teardown_file() { bed_down; }

teardown() { bed_teardown; }

# A config of three wikis and a group; alpha up, beta down, gamma never
# checked, unless the test writes other states.
unit_conf() {
	write_conf <<-EOF
	[wiki alpha]
	api = http://127.0.0.1:9/alpha/api.php
	user = Peerd@wikisync
	password-file = $BATS_TEST_TMPDIR/pw
	[wiki beta]
	api = http://127.0.0.1:9/beta/api.php
	user = Peerd@wikisync
	password-file = $BATS_TEST_TMPDIR/pw
	[wiki gamma]
	api = http://127.0.0.1:9/gamma/api.php
	user = Peerd@wikisync
	password-file = $BATS_TEST_TMPDIR/pw
	[group docs]
	wikis = alpha, beta
	categories = Synced
	EOF
	mkdir -p "$SPOOL/state"
	state alpha up 1700000000 1700000100 ''
}

# state WIKI up|down SINCE CHECKED ERROR: a state file as ws-login writes it
state() {
	local ok=$4
	[ "$2" = up ] || ok=1699999000
	printf 'state=%s\nsince=%s\nprevious=0\nlast_ok=%s\nlast_error=%s\ncode=%s\nchecked=%s\nreported=%s\n' \
	    "$2" "$3" "$ok" "$5" "$([ "$2" = up ] && echo 0 || echo 69)" "$4" "$3" \
	    >"$SPOOL/state/$1"
}

@test "-h prints usage on stdout; a bad option or -p without a page exits 64" {
	run --separate-stderr ws-status -h
	assert_status 0
	[ "$output" = "usage: ws-status [-qtvw] [-c file] [-d dir] [-m file] [-p wiki:page]" ]
	run --separate-stderr ws-status -x
	assert_status 64
	[ -z "$output" ]
	[[ "$stderr" == *"usage: ws-status "* ]]
	run --separate-stderr ws-status -p alpha
	assert_status 64
	[ "$stderr" = "ws-status: alpha: not wiki:page" ]
	run --separate-stderr ws-status extra
	assert_status 64
}

@test "all up and an empty queue: exit 0, a never-checked wiki is unknown" {
	unit_conf
	state beta up 1700000000 1700000100 ''
	run --separate-stderr ws-status -t
	assert_status 0
	[ -z "$stderr" ]
	[ "${lines[0]}" = "wiki	alpha	up	1700000000	1700000100	ok	-" ]
	[ "${lines[1]}" = "wiki	beta	up	1700000000	1700000100	ok	-" ]
	[ "${lines[2]}" = "wiki	gamma	unknown	0	0	unknown	-" ]
	[ "${lines[3]}" = "queue	due	0	waiting	0	running	0	held	0	oldest	0" ]
	[ "${lines[4]}" = "group	docs	0	-	-" ]
	[ "${lines[5]}" = "loop	never	0	0" ]
	[ "${#lines[@]}" -eq 6 ]
	run --separate-stderr ws-status
	assert_status 0
	[[ "$output" == *"gamma  unknown  -"* ]]
}

@test "a down wiki with its since time and error, in both forms; exit 1" {
	unit_conf
	state beta down 1700000200 1700000300 'connect: Connection refused'
	run --separate-stderr ws-status -t
	assert_status 1
	[ -z "$stderr" ]
	[ "${lines[1]}" = "wiki	beta	down	1700000200	1700000300	failed	connect: Connection refused" ]
	run --separate-stderr ws-status
	assert_status 1
	[[ "$output" == *"beta   down     2023-11-14T22:16:40Z  failed: connect: Connection refused"* ]]
	[[ "$output" == *"alpha  up       2023-11-14T22:13:20Z  ok"* ]]
}

@test "queue counts, and a held job with its reason in both forms; exit 1" {
	unit_conf
	state beta up 1700000000 1700000100 ''
	ws-queue add alpha "Due One" >/dev/null
	ws-queue add alpha "Due Two" >/dev/null
	ws-queue take >/dev/null
	later=$(ws-queue add beta "Later")
	ws-queue defer "$later" "beta busy"
	held=$(ws-queue add beta "Stuck | Page")
	ws-queue hold "$held" "needs a person: [[Stuck]]"
	run --separate-stderr ws-status -t
	assert_status 1
	[ -z "$stderr" ]
	[[ "${lines[3]}" == "queue	due	1	waiting	1	running	1	held	1	oldest	"* ]]
	[ "${lines[4]}" = "held	$held	beta	Stuck | Page	needs a person: [[Stuck]]" ]
	run --separate-stderr ws-status
	assert_status 1
	[[ "$output" == *"Queue"*"due  waiting  running  held  oldest job"*"1    1        1        1     "*"s ago"* ]]
	[[ "$output" == *"Held jobs"*"$held  beta  Stuck | Page  needs a person: [[Stuck]]"* ]]
	ws-queue release "$held"
	run --separate-stderr ws-status -t
	assert_status 0
}

@test "the last sync of a group is the newest store log record of its wikis" {
	unit_conf
	state beta up 1700000000 1700000100 ''
	sha=$(printf 'text\n' | ws-store put)
	ws-store set gamma "Elsewhere" "$sha"
	ws-store set beta "Synced Page" "$sha" 7
	ws-store set gamma "Elsewhere Again" "$sha"
	run --separate-stderr ws-status -t
	assert_status 0
	re=$'^group\tdocs\t[0-9]+\tbeta\tSynced Page$'
	[[ "${lines[4]}" =~ $re ]]
	t=$(printf '%s' "${lines[4]}" | cut -f3)
	[ $(( $(date +%s) - t )) -lt 60 ]
}

@test "two groups over the same wikis: each is credited with its own pages' syncs only" {
	unit_conf
	printf '[group notes]\nwikis = alpha, beta\ncategories = Notes\npages = Rules\n' >>"$WIKISYNC_CONF"
	state beta up 1700000000 1700000100 ''
	docs=$(printf 'A doc [[Category:Synced|sort key]]\n' | ws-store put)
	ws-store set beta "A Doc" "$docs" 7
	run --separate-stderr ws-status -t
	assert_status 0
	[[ "$output" =~ $'\ngroup\tdocs\t'[0-9]+$'\tbeta\tA Doc\n' ]]
	[[ "$output" == *$'\ngroup\tnotes\t0\t-\t-'* ]]
	# the category as written with underscores, and a page listed by title
	note=$(printf 'A note [[category:notes]]\n' | ws-store put)
	ws-store set alpha "A Note" "$note" 8
	rules=$(printf 'No category\n' | ws-store put)
	ws-store set beta "Rules" "$rules" 9
	run --separate-stderr ws-status -t
	[[ "$output" =~ $'\ngroup\tdocs\t'[0-9]+$'\tbeta\tA Doc\n' ]]
	[[ "$output" =~ $'\ngroup\tnotes\t'[0-9]+$'\tbeta\tRules' ]]
	# gamma is in one group only: its records need no text
	printf '[group far]\nwikis = gamma, alpha\ncategories = Far\n' >>"$WIKISYNC_CONF"
	ws-store set gamma "Anything" "$rules"
	run --separate-stderr ws-status -t
	[[ "$output" =~ $'\ngroup\tfar\t'[0-9]+$'\tgamma\tAnything' ]]
}

# hold_lock FILE SINCE: what ws-peerd does as it starts (the lock, then
# its pid and start in the file), then sleeps holding it
hold_lock() {
	exec 9>>"$1" 3>&-
	flock -n 9 || return 1
	printf 'pid=%s\nsince=%s\n' "$BASHPID" "$2" >"$1"
	exec sleep 30
}

@test "the loop: never ran, running (its start, the pid holding the lock), stopped; refused mail counted" {
	unit_conf
	run --separate-stderr ws-status
	[[ "$output" == *$'Loop\n  ws-peerd   since  pid\n  never ran  -      -'* ]]
	[[ "$output" != *"Mail refused"* ]]
	# held as ws-peerd holds it: a flock on the file its pid and start are in
	hold_lock "$SPOOL/peerd.lock" 1700000500 &
	holder=$!
	# written once the lock is held
	wait_for 5 grep -q '^since=' "$SPOOL/peerd.lock"
	run --separate-stderr ws-status -t
	assert_status 0
	# the loop's pid, as it wrote it
	grep -qx "loop	running	1700000500	[0-9]*" <<<"$output"
	pid=$(awk -F'\t' '$1 == "loop" { print $4 }' <<<"$output")
	[ "$pid" -gt 1 ]
	[ "$pid" = "$holder" ]
	run --separate-stderr ws-status
	[[ "$output" == *"running   2023-11-14T22:21:40Z  $pid"* ]]
	kill "$holder"
	wait "$holder" || :
	run --separate-stderr ws-status -t
	grep -qx "loop	stopped	0	0" <<<"$output"
	# mail ws-recv refused, kept in SPOOL/bad/
	mkdir -p "$SPOOL/bad"
	echo one >"$SPOOL/bad/1700000600.1.x"
	echo two >"$SPOOL/bad/1700000700.1.y"
	touch -d @1700000700 "$SPOOL/bad/1700000700.1.y"
	touch -d @1700000600 "$SPOOL/bad/1700000600.1.x"
	: >"$SPOOL/bad/.tmp.partial"
	run --separate-stderr ws-status -t
	grep -qx "refused	2	1700000700" <<<"$output"
	run --separate-stderr ws-status
	[[ "$output" == *$'Mail refused, kept in the spool\'s bad directory\n  mails  newest\n  2      2023-11-14T22:25:00Z'* ]]
}

@test "-m writes the state as Prometheus metrics promtool accepts, atomically; -m - on stdout" {
	unit_conf
	state beta down 1700000200 1700000300 'connect: Connection refused'
	ws-queue add alpha "Due One" >/dev/null
	held=$(ws-queue add beta "Stuck")
	ws-queue hold "$held" "a test"
	mkdir -p "$BATS_TEST_TMPDIR/prom"
	# a person is needed (beta down, a job held), but that is in the
	# metrics: 0 says they were written
	run --separate-stderr ws-status -m "$BATS_TEST_TMPDIR/prom/wikisync.prom"
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	f=$BATS_TEST_TMPDIR/prom/wikisync.prom
	[ "$(ls -A "$BATS_TEST_TMPDIR/prom")" = wikisync.prom ]
	[ "$(stat -c %a "$f")" = 644 ]
	run promtool check metrics <"$f"
	assert_status 0
	grep -qx 'wikisync_wiki_up{wiki="alpha"} 1' "$f"
	grep -qx 'wikisync_wiki_up{wiki="beta"} 0' "$f"
	# gamma was never checked: no sample, rather than a made-up one
	[ "$(grep -c 'wiki="gamma"' "$f")" -eq 0 ]
	grep -qx 'wikisync_wiki_last_success_timestamp_seconds{wiki="alpha"} 1700000100' "$f"
	grep -qx 'wikisync_jobs{state="due"} 1' "$f"
	grep -qx 'wikisync_jobs{state="held"} 1' "$f"
	oldest=$(ws-queue ls -a | cut -f2 | cut -d. -f1 | sort -n | head -n 1)
	grep -qx "wikisync_oldest_job_timestamp_seconds $oldest" "$f"
	grep -qx 'wikisync_loop_running 0' "$f"
	grep -qx 'wikisync_refused_mails 0' "$f"
	# the counters: one held above; then one done, one deferred
	grep -qx 'wikisync_jobs_held_total 1' "$f"
	grep -qx 'wikisync_jobs_done_total 0' "$f"
	grep -qx '# TYPE wikisync_jobs_done_total counter' "$f"
	due=$(ws-queue ls | awk -F'\t' '$4 == "Due One" { print $2 }')
	ws-queue done "$due"
	ws-queue defer "$(ws-queue add alpha "Later One")" "a test"
	run --separate-stderr ws-status -m -
	grep -qx 'wikisync_jobs_done_total 1' <<<"$output"
	grep -qx 'wikisync_jobs_deferred_total 1' <<<"$output"
	grep -qx 'wikisync_jobs_held_total 1' <<<"$output"
	run promtool check metrics <<<"$output"
	assert_status 0
	run --separate-stderr ws-status -m -
	assert_status 0
	[[ "$output" == *'wikisync_jobs{state="due"} 0'* ]]
	run --separate-stderr ws-status -m "$BATS_TEST_TMPDIR/none/wikisync.prom"
	assert_status 73
	[[ "$stderr" == "ws-status: $BATS_TEST_TMPDIR/none: "* ]]
}

@test "an unreadable spool exits 75; a broken config 78" {
	unit_conf
	run --separate-stderr ws-status -d "$BATS_TEST_TMPDIR/none"
	assert_status 75
	[ -z "$output" ]
	echo '[wiki' >"$WIKISYNC_CONF"
	run --separate-stderr ws-status
	assert_status 78
	[ -z "$output" ]
}

# On the bed: its wikis, this test's own spool for states and the queue.
bed_status_setup() {
	bed_setup
	export WIKISYNC_SPOOL=$BATS_TEST_TMPDIR/spool
	mkdir -p "$WIKISYNC_SPOOL"
}

revisions() { ws-api revs alpha "$1" | wc -l; }

@test "bed: -p publishes the table to a page once; nothing new, no new revision" {
	bed_status_setup
	run --separate-stderr ws-login -k
	assert_status 0
	run --separate-stderr ws-status -p "alpha:WikiSync status"
	assert_status 0
	[[ "$output" =~ ^alpha:WikiSync\ status\ saved\ r[0-9]+$ ]]
	text=$(bed_text alpha "WikiSync status")
	[[ "$text" == '{| class="wikitable"'* ]]
	[[ "$text" == *"| alpha || up || "* ]]
	[[ "$text" == *"| beta || up || "* ]]
	[ "$(revisions "WikiSync status")" -eq 1 ]
	sleep 1
	run --separate-stderr ws-login -k
	assert_status 0
	run --separate-stderr ws-status -p "alpha:WikiSync status"
	assert_status 0
	[ "$output" = "alpha:WikiSync status unchanged" ]
	[ "$(revisions "WikiSync status")" -eq 1 ]
	# a held job changes the table: one new revision, exit 1
	ws-queue hold "$(ws-queue add beta "Odd Page")" "push: ws-push: beta: Odd Page: not moved to Even Page as on alpha: beta has another page there; tried again until one is moved or deleted"
	run --separate-stderr ws-status -p "alpha:WikiSync status"
	assert_status 1
	[[ "$output" == *" saved r"* ]]
	# the reason's kind, not its text
	[[ "$(bed_text alpha "WikiSync status")" == *"| beta || Odd Page || a move blocked by another page"* ]]
	[[ "$(bed_text alpha "WikiSync status")" != *"ws-push"* ]]
	[ "$(revisions "WikiSync status")" -eq 2 ]
	run --separate-stderr ws-status -p "nowiki:Page"
	assert_status 64
	[ "$stderr" = "ws-status: nowiki: no such wiki" ]
}

@test "bed: with status-titles = no the page names no page, and a groups page refusal only by its kind" {
	bed_status_setup
	run --separate-stderr ws-login -k
	assert_status 0
	ws-queue hold "$(ws-queue add beta "Private Plans")" "push: a test"
	echo 'alpha:WikiSync groups:3: unknown key "x"' >"$WIKISYNC_SPOOL/groups.err"
	{ echo "groups-page = alpha:WikiSync groups"; echo "status-titles = no"; cat "$WIKISYNC_CONF"; } >"$BATS_TEST_TMPDIR/conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/conf
	run --separate-stderr ws-status -p "alpha:Status Without Titles"
	assert_status 1
	text=$(bed_text alpha "Status Without Titles")
	[[ "$text" == *"| beta || (a page) || "* ]]
	[[ "$text" != *"Private Plans"* ]]
	[[ "$text" == *"refused: ws-status on the syncing host says why"* ]]
	[[ "$text" != *"unknown key"* ]]
	# on the terminal, for the operator, all of it
	run --separate-stderr ws-status
	[[ "$output" == *"Private Plans"* ]]
	[[ "$output" == *'unknown key "x"'* ]]
	sed -i 's/^status-titles = no$/status-titles = maybe/' "$WIKISYNC_CONF"
	run --separate-stderr ws-status
	assert_status 78
	[[ "$stderr" == *":2: status-titles: not yes or no: maybe" ]]
}

@test "bed: -w lists the pages in the conflict category of each wiki; exit 1" {
	bed_status_setup
	run --separate-stderr ws-login -k
	assert_status 0
	run --separate-stderr ws-status -w -t
	assert_status 0
	[[ "$output" != *conflict* ]]
	edit alpha "Clash Page" "Both kept. [[Category:WikiSync conflicts]]" >/dev/null
	wait_for 10 bash -c 'ws-status -w -t | grep -qx "conflict	alpha	Clash Page"'
	run --separate-stderr ws-status -w -t
	assert_status 1
	[[ "$output" != *"conflict	beta"* ]]
	run --separate-stderr ws-status -w
	assert_status 1
	[[ "$output" == *"Pages in conflict"*"alpha  Clash Page"* ]]
	# without -w the wikis are not asked
	run --separate-stderr ws-status -t
	assert_status 0
}

@test "bed: a stopped wiki shows as down once ws-login -k saw it, on the page too" {
	bed_status_setup
	ws-login -k >/dev/null
	ws-testbed stop "$BED" beta
	run --separate-stderr ws-login -k
	[ "$status" -ne 0 ]
	run --separate-stderr ws-status -t
	assert_status 1
	re=$'^wiki\tbeta\tdown\t[0-9]+\t[0-9]+\tfailed\t.+$'
	[[ "${lines[1]}" =~ $re ]]
	since=$(printf '%s' "${lines[1]}" | cut -f4)
	[ $(( $(date +%s) - since )) -lt 30 ]
	run --separate-stderr ws-status -w -p "alpha:Status Down"
	assert_status 1
	[[ "$(bed_text alpha "Status Down")" == *"| beta || down || "* ]]
	# the page, which anyone may read, gets the kind of trouble only
	[[ "$(bed_text alpha "Status Down")" == *"|| failed: cannot connect"* ]]
	[[ "$(bed_text alpha "Status Down")" != *"Connection refused"* ]]
	run ws-status
	[[ "$output" == *"failed: "* ]] && [[ "$output" != *"failed: cannot connect"* ]] || { echo "$output"; false; }
	ws-testbed start "$BED" beta
	run --separate-stderr ws-login -k
	assert_status 0
	run --separate-stderr ws-status -t
	assert_status 0
}
