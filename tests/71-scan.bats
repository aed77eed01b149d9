#!/usr/bin/env bats
# ws-scan on the real bed: pages mail never announced (made while nobody
# watched them, or added to the category later) reach the peer after a
# scan and are watched from then on; -f syncs a whole group; a scan that
# finds nothing costs one request per wiki.

load helper
load bed
load sync

setup_file() {
	sync_setup_file 2
	# the editor makes more than 90 edits a minute here
	for w in alpha beta; do
		echo "\$wgRateLimits['edit'] = [ 'user' => [ 100000, 60 ], 'newbie' => [ 100000, 60 ] ];" \
		    >>"$BED/$w/LocalSettings.php"
	done
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

@test "ws-scan -f brings 60 pages made on alpha to beta with their histories" {
	peerd_stop
	for i in $(seq 1 60); do
		edit alpha "Bulk $i" "Bulk page $i. [[Category:Synced]]" "made $i" >/dev/null
	done
	for i in 1 2 3; do
		edit alpha "Bulk $i" "Bulk page $i, again. [[Category:Synced]]" "again $i" >/dev/null
	done
	# in a pipe: no progress line, one summary line
	run --separate-stderr ws-scan -f
	assert_status 0
	[[ "$output" == "test: 60 jobs, "*" pages watched" ]]
	[ -z "$stderr" ]
	[ "$(ws-queue ls | wc -l)" -eq 60 ]
	# on a terminal: the progress line; nothing queued twice
	run script -qc "ws-scan -f" /dev/null
	assert_status 0
	[[ "$output" == *"ws-scan: alpha: 62/62 pages, "*"/s, "*" s left"* ]]
	[[ "$output" == *"test: 0 jobs, "* ]]
	[ "$(ws-queue ls | wc -l)" -eq 60 ]
	peerd_start
	wait_for 60 idle
	for i in $(seq 1 60); do
		want="Bulk page $i. [[Category:Synced]]"
		[ "$i" -gt 3 ] || want="Bulk page $i, again. [[Category:Synced]]"
		has_text beta "Bulk $i" "$want"
	done
	run history beta "Bulk 2"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: made 2	"* ]]
	[[ "${lines[1]}" == "Peerd	from alpha r"*" by Editor: again 2	"* ]]
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
