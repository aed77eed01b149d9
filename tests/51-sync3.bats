#!/usr/bin/env bats
# Three wikis in one group, mail all the way: one edit reaches both others,
# and nobody echoes it back; workers run jobs at once.

load helper
load bed
load sync

loop_bed_hooks

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

# queued K: K edits on alpha, each of its own page, queued by mail while
# the loop is stopped
queued() {
	local i
	peerd_stop
	for i in $(seq "$1"); do
		watch alpha "$2 $i"
		edit alpha "$2 $i" "$2 $i. [[Category:Synced]]" >/dev/null
	done
	wait_for 5 due_is "$1"
}
due_is() { [[ "$(ws-queue stats)" == "due $1"$'\n'* ]]; }

@test "ws-peerd -j 4 runs jobs of different pages at once: their times add up to more than the drain's" {
	queued 8 Parallel
	t0=$(date +%s%N)
	ws-peerd -1 -j 4 2>"$BATS_TEST_TMPDIR/log"
	wall=$(( ($(date +%s%N) - t0) / 1000000 ))
	idle
	for i in $(seq 8); do
		has_text beta "Parallel $i" "Parallel $i. [[Category:Synced]]"
		has_text gamma "Parallel $i" "Parallel $i. [[Category:Synced]]"
	done
	# each job's line ends in its own milliseconds; one at a time, they
	# could not add up to more than the whole run's
	sum=$(sed -n 's/^ws-peerd: alpha: Parallel [0-9]*: .* (\([0-9]*\) ms)$/\1/p' \
	    "$BATS_TEST_TMPDIR/log" | awk '{ s += $1; n++ } END { if (n == 8) print s }')
	echo "sum $sum ms, wall $wall ms" >&3
	[ -n "$sum" ] && [ "$sum" -gt "$wall" ]
}
