#!/usr/bin/env bats
# ws-scan on the real bed: pages mail never announced (made while nobody
# watched them, or added to the category later) reach the peer after a
# scan and are watched from then on; a scan that finds nothing costs one
# request per wiki; a scan waits for one that runs.  -f over many pages is
# 72-scan-full.bats.

load helper
load bed
load sync

setup_file() {
	sync_setup_file 2
	# ws-peerd's own first scan is over before a test edits anything
	wait_for 20 test -s "$WIKISYNC_SPOOL/scan/alpha" -a -s "$WIKISYNC_SPOOL/scan/beta"
}
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

# apicalls WIKI: requests the wiki's php -S has served so far
apicalls() { grep -c ']: \(GET\|POST\) /api.php' "$BED/$1/php.log"; }

# locked: someone holds the scan lock
locked() { ! flock -n "$WIKISYNC_SPOOL/scan/.lock" true; }

@test "ws-scan: -h, a bad option, an unknown group, a bad time" {
	run --separate-stderr ws-scan -h
	assert_status 0
	[ "$output" = "usage: ws-scan [-fqv] [-c file] [-d dir] [-s since] [group ...]" ]
	run --separate-stderr ws-scan -x
	assert_status 64
	[ -z "$output" ]
	[[ "$stderr" == *"usage: ws-scan "* ]]
	run --separate-stderr ws-scan nosuch
	assert_status 64
	[[ "$stderr" == "ws-scan: nosuch: no such group"* ]]
	run --separate-stderr ws-scan -s yesterday
	assert_status 64
	[[ "$stderr" == "ws-scan: yesterday: not a time"* ]]
}

@test "a page made in the category while nobody watched it is synced by a scan, then by mail" {
	edit alpha "Scan New" "Made unwatched. [[Category:Synced]]" >/dev/null
	sleep 1
	run bed_text beta "Scan New"
	assert_status 1
	run --separate-stderr ws-scan
	assert_status 0
	[ "$output" = "test: 1 job, 1 page watched" ]
	[ -z "$stderr" ]
	wait_for 5 has_text beta "Scan New" "Made unwatched. [[Category:Synced]]"
	wait_for 5 idle
	# watched now: the next edit reaches beta by mail alone
	edit alpha "Scan New" "Edited later. [[Category:Synced]]" >/dev/null
	wait_for 3 has_text beta "Scan New" "Edited later. [[Category:Synced]]"
	wait_for 5 idle
}

@test "a page added to the category by a later edit is synced by a scan" {
	edit alpha "Scan Later" "Not in a category yet." >/dev/null
	edit alpha "Scan Later" "Now it is. [[Category:Synced]]" >/dev/null
	run --separate-stderr ws-scan test
	assert_status 0
	# Scan New changed too since the last scan: watched again, no job
	[ "$output" = "test: 1 job, 2 pages watched" ]
	wait_for 5 has_text beta "Scan Later" "Now it is. [[Category:Synced]]"
	wait_for 5 idle
	run history beta "Scan Later"
	[ "${#lines[@]}" -eq 2 ]
}

@test "a scan with nothing new queues nothing and asks each wiki once" {
	wait_for 10 idle
	ws-scan >/dev/null
	a=$(apicalls alpha)
	b=$(apicalls beta)
	run --separate-stderr ws-scan
	assert_status 0
	[ "$output" = "test: 0 jobs, 0 pages watched" ]
	[ "$(apicalls alpha)" -eq $((a + 1)) ]
	[ "$(apicalls beta)" -eq $((b + 1)) ]
	[ -z "$(ws-queue ls)" ]
}

@test "two scans wait for the one that runs, then go one at a time: one job, not two" {
	wait_for 10 idle
	peerd_stop
	edit alpha "Scan Locked" "Made while a scan runs. [[Category:Synced]]" >/dev/null
	flock "$WIKISYNC_SPOOL/scan/.lock" sleep 2 3>&- &
	wait_for 5 locked
	t0=$(date +%s%N)
	ws-scan -v >"$BATS_TEST_TMPDIR/out1" 2>"$BATS_TEST_TMPDIR/err1" 3>&- &
	p1=$!
	ws-scan -v >"$BATS_TEST_TMPDIR/out2" 2>"$BATS_TEST_TMPDIR/err2" 3>&- &
	p2=$!
	rc1=0 rc2=0
	wait "$p1" || rc1=$?
	wait "$p2" || rc2=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	head "$BATS_TEST_TMPDIR"/out? "$BATS_TEST_TMPDIR"/err?
	echo "took $ms ms"
	[ "$rc1" -eq 0 ]
	[ "$rc2" -eq 0 ]
	[ "$ms" -ge 1500 ]
	for i in 1 2; do
		grep -qx "ws-scan: $WIKISYNC_SPOOL/scan/.lock: waiting for another ws-scan" \
		    "$BATS_TEST_TMPDIR/err$i"
	done
	# the second saw the first's job and scan time
	run sh -c 'cat "$1"/out1 "$1"/out2 | grep "^test:" | sort' sh "$BATS_TEST_TMPDIR"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "test: 0 jobs, 0 pages watched" ]
	[ "${lines[1]}" = "test: 1 job, 1 page watched" ]
	[ "$(ws-queue ls | wc -l)" -eq 1 ]
	peerd_start
	wait_for 10 has_text beta "Scan Locked" "Made while a scan runs. [[Category:Synced]]"
	wait_for 5 idle
	wait
}

@test "a wiki that is down: exit 75, the other wiki scanned, its scan time kept" {
	cp "$WIKISYNC_SPOOL/scan/beta" "$BATS_TEST_TMPDIR/before"
	ws-testbed stop "$BED" beta
	edit alpha "Scan Down" "Made while beta is down. [[Category:Synced]]" >/dev/null
	peerd_stop
	run --separate-stderr ws-scan
	ws-testbed start "$BED" beta
	assert_status 75
	[ "$output" = "test: 1 job, 1 page watched" ]
	[[ "$stderr" == "ws-scan: beta: "* ]]
	cmp "$WIKISYNC_SPOOL/scan/beta" "$BATS_TEST_TMPDIR/before"
	peerd_start
	wait_for 10 has_text beta "Scan Down" "Made while beta is down. [[Category:Synced]]"
}
