#!/usr/bin/env bats
# Three wikis in one group, mail all the way: one edit reaches both others,
# and nobody echoes it back.

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

@test "an edit on one of three wikis reaches both others, with no echo edits" {
	watch alpha "Three Ways"
	rev=$(edit alpha "Three Ways" "Shared by three. [[Category:Synced]]" "made on alpha")
	wait_for 3 has_text beta "Three Ways" "Shared by three. [[Category:Synced]]"
	wait_for 3 has_text gamma "Three Ways" "Shared by three. [[Category:Synced]]"
	sleep 1
	wait_for 5 idle
	for w in beta gamma; do
		run history "$w" "Three Ways"
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "Peerd	from alpha r$rev by Editor: made on alpha	"* ]]
	done
	run history alpha "Three Ways"
	[ "${#lines[@]}" -eq 1 ]
}

@test "then an edit on gamma reaches alpha and beta, and each history has exactly its revisions" {
	edit gamma "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]" "gamma's turn" >/dev/null
	wait_for 3 has_text alpha "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]"
	wait_for 3 has_text beta "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]"
	sleep 1
	wait_for 5 idle
	for w in alpha beta gamma; do
		run history "$w" "Three Ways"
		[ "${#lines[@]}" -eq 2 ] || { echo "$w:"; printf '%s\n' "${lines[@]}"; false; }
	done
}
