#!/usr/bin/env bats
# A fixed sample of the schedule explorer's enumeration (tests/explore),
# the first half of its scenarios (every other one from the first), on
# the file's own bed of three wikis: 58-explore-b runs the other half beside it.

load helper
load bed
load explore

explore_bed_hooks

@test "a fixed sample of the enumeration, first half: an editor's save, a revert, a deletion, a move or a kill before a job's request loses nothing" {
	explore_sample 0
}
