#!/usr/bin/env bats
# The schedule explorer (tests/explore) on the file's own bed of three
# wikis: every schedule it ever found failing (tests/explore.kept),
# replayed for ever after its fix.  A fixed sample of its enumeration is
# in 58-explore-a and 58-explore-b (half the scenarios each, so that the
# parallel runner runs them side by side); bench/explore runs the whole
# enumeration.

load helper
load bed

setup_file() { bed_up 3 -m; }
teardown_file() { bed_down; }
setup() { bed_setup; }
teardown() { bed_teardown; }

@test "explore: a bad replay or scenario is refused with one line, and -l lists the scenarios" {
	run --separate-stderr "$TOP/tests/explore" -b "$BED" --replay 'edits3:x:beta+'
	assert_status 64
	[ "$stderr" = "explore: edits3:x:beta+: not SCENARIO:INDEX:ACTION[,INDEX:ACTION] of a scenario here" ]
	run --separate-stderr "$TOP/tests/explore" -s nosuch
	assert_status 64
	[ "$stderr" = "explore: nosuch: no such scenario (-l lists them)" ]
	run "$TOP/tests/explore" -l
	assert_status 0
	[ "${#lines[@]}" -ge 5 ]
	[[ "${lines[0]}" == "edits3 "* ]]
}

@test "every schedule the explorer once found failing passes now" {
	run "$TOP/tests/explore" -b "$BED" --replay-file "$TOP/tests/explore.kept"
	echo "$output"
	assert_status 0
	[[ "${lines[-1]}" =~ ^explore:\ ([0-9]+)\ schedules,\ 0\ failed ]]
	[ "${BASH_REMATCH[1]}" -eq "$(grep -c '^[a-z]' "$TOP/tests/explore.kept")" ]
}
