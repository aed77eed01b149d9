# explore.bash: the fixed sample of the schedule explorer's enumeration,
# split between two files (58-explore-a, 58-explore-b) so that the
# parallel runner runs the halves side by side, each on its own bed.

# explore_bed_hooks: the file's own bed of three wikis, its mail captured
# (ws-testbed up -m), as tests/explore wants it
explore_bed_hooks() {
	setup_file() { bed_up 3 -m; }
	teardown_file() { bed_down; }
	setup() { bed_setup; }
	teardown() { bed_teardown; }
}

# explore_sample K: on the file's bed, for every other scenario of
# tests/explore -l from the (K+1)-th (K is 0 or 1), a clean run and one
# sampled schedule (an editor's save, a revert, a deletion, a move or a
# kill before one of the job's requests, seed 1); none may fail
explore_sample() {
	local list
	list=$("$TOP/tests/explore" -l | awk -v k="$1" 'NR % 2 == (k + 1) % 2 { print $1 }' | paste -sd, -)
	[ -n "$list" ]
	run "$TOP/tests/explore" -b "$BED" -s "$list" -n 1 -r 1
	echo "$output"
	assert_status 0
	[[ "${lines[-1]}" =~ ^explore:\ ([0-9]+)\ schedules,\ 0\ failed ]]
	[ "${BASH_REMATCH[1]}" -eq $(( $(echo "$list" | tr ',' '\n' | wc -l) * 2 )) ]
}
