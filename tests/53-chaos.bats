#!/usr/bin/env bats
# The protocol under load on three real wikis (tests/chaos.py): an editor
# on each, saving as the edit form does, ws-peerd killed at random, once
# in the middle of a verify, one wiki stopped for 20 s, pages moved
# twice meanwhile (the editors follow them) and one deleted and restored
# a moment later.  Afterwards
# every saved line is on every wiki, the wikis agree and no job is held.
# WS_CHAOS_SEED picks another schedule; a failure names the seed, and
# running with it again replays the same schedule.

load helper
load bed

setup_file() { bed_up 3; }
teardown_file() { bed_down; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

@test "three editors at once, kills, a verify cut short, an outage, moves, a deletion undone: every saved line on every wiki, one text, nothing held" {
	seed=${WS_CHAOS_SEED:-13}
	run --separate-stderr python3 "$TOP/tests/chaos.py" -s "$seed" -M 2 -D 1 \
	    -T $((30 * ${WS_WAIT_SCALE:-4})) "$BED"
	echo "# chaos: $(printf '%s' "$output" | paste -sd ' ')" >&3
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$stderr" "peerd.log:"
		tail -n 30 "$BED/peerd.log"
	fi
	assert_status 0
	[[ "$output" == *$'\nlost 0\n'* ]]
	[[ "$output" == *$'\nheld 0\n'* ]]
	[[ "$output" == *$'\nmoves 2\n'* ]]
	[[ "$output" == *$'\ndeletes 1\n'* ]]
	[[ "$output" =~ saved\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -eq 75 ]
}
