#!/usr/bin/env bats
# The sync protocol on three wikis (wikisync(7), THE PROTOCOL), one
# mechanism a test: each runs ws-push and ws-verify by hand with the loop
# stopped, so the schedule is exact, then lets the loop drain the rest.

load helper
load bed
load sync

setup_file() { sync_setup_file 3; }
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

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

@test "three wikis changed at once: one job leaves all three with one text holding every change" {
	t="Three Changes"
	synced "$t" $'top\nmiddle\nbottom\n[[Category:Synced]]'
	edit alpha "$t" $'top\nfrom alpha\nmiddle\nbottom\n[[Category:Synced]]' >/dev/null
	edit beta "$t" $'top\nmiddle\nfrom beta\nbottom\n[[Category:Synced]]' >/dev/null
	edit gamma "$t" $'top\nmiddle\nbottom\nfrom gamma\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "alpha: merged; beta: merged; gamma: merged" ]
	run ws-verify "$job"
	assert_status 0
	want=$'top\nfrom alpha\nmiddle\nfrom beta\nbottom\nfrom gamma\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		has_text "$w" "$t" "$want"
	done
	# the page's base moved on all three at once: one text, one agreement
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base beta "$t" | cut -d' ' -f1,3)" ]
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base gamma "$t" | cut -d' ' -f1,3)" ]
	ws-queue done "$job"
	# the mails from beta and gamma find nothing left to do
	drained "$t"
	has_text alpha "$t" "$want"
	[ "$(history beta "$t" | wc -l)" -eq 3 ]
}

@test "a verify cut short by a wiki that is down moves no base; the next moves all three together" {
	t="Cut Short"
	synced "$t" "one [[Category:Synced]]"
	before=$(base alpha "$t")
	edit alpha "$t" "two [[Category:Synced]]" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 1 revision; gamma: 1 revision" ]
	ws-testbed stop "$BED" gamma
	run ws-verify "$job"
	assert_status 75
	for w in alpha beta gamma; do
		[ "$(base "$w" "$t" | cut -d' ' -f1)" = "${before%% *}" ]
	done
	ws-testbed start "$BED" gamma
	run ws-verify "$job"
	assert_status 0
	[ "$(base alpha "$t" | cut -d' ' -f1)" != "${before%% *}" ]
	for w in beta gamma; do
		[ "$(base "$w" "$t" | cut -d' ' -f1,3)" = "$(base alpha "$t" | cut -d' ' -f1,3)" ]
	done
	ws-queue done "$job"
	drained "$t"
}

@test "an agreement naming a wiki no longer configured verifies the others" {
	t="Gone Wiki"
	synced "$t" "first [[Category:Synced]]"
	edit alpha "$t" "second [[Category:Synced]]" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	ws-push "$job" >/dev/null
	ws-queue set "$job" "sync=$(ws-queue get "$job" sync) zeta:3"
	run --separate-stderr ws-verify "$job"
	assert_status 0
	[[ "$stderr" == *"zeta: no longer configured"* ]]
	ws-queue done "$job"
	drained "$t"
}

@test "a job that spells the title with a small first letter syncs the page the wiki names" {
	t="Small Start"
	synced "$t" "before [[Category:Synced]]"
	edit alpha "$t" "after [[Category:Synced]]" >/dev/null
	job=$(ws-queue add alpha "small Start")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 1 revision; gamma: 1 revision" ]
	[ "$(ws-queue get "$job" sync.title)" = "$t" ]
	run ws-verify "$job"
	assert_status 0
	has_text beta "$t" "after [[Category:Synced]]"
	[ "$(base beta "$t" | cut -d' ' -f1)" = "$(base alpha "$t" | cut -d' ' -f1)" ]
	[ ! -e "$WIKISYNC_SPOOL/store/cur/beta/$(printf 'small Start' | md5sum | cut -d' ' -f1)" ]
	ws-queue done "$job"
	drained "$t"
}

@test "a replay cut short resumes where the wiki is, with no revision twice" {
	t="Cut Replay"
	synced "$t" "r0 [[Category:Synced]]"
	for i in 1 2 3 4; do
		edit alpha "$t" "r$i [[Category:Synced]]" "rev $i" >/dev/null
	done
	# beta got the first two by an earlier run; gamma the first one
	for i in 1 2; do
		ws-testbed edit -u sync "$BED" beta "$t" "r$i [[Category:Synced]]" "copy $i" >/dev/null
	done
	ws-testbed edit -u sync "$BED" gamma "$t" "r1 [[Category:Synced]]" "copy 1" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 2 revisions; gamma: 3 revisions" ]
	run ws-verify "$job"
	assert_status 0
	ws-queue done "$job"
	drained "$t"
	history beta "$t" | cut -f2 | sed 's/^from alpha r[0-9]* by Editor: //' >"$BATS_TEST_TMPDIR/got"
	printf '%s\n' "Created page with \"r0 [[Category:Synced]]\"" "copy 1" "copy 2" "rev 3" "rev 4" >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}
