#!/usr/bin/env bats
# The product on the real bed, mail all the way: an edit on one wiki
# reaches the others through MediaWiki's notification, Exim, ws-recv, the
# queue and ws-peerd, with its history, in both directions.

load helper
load bed
load sync

setup_file() { sync_setup_file 2; }
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

@test "ws-peerd: one loop per spool; -h and bad options" {
	run --separate-stderr ws-peerd
	assert_status 75
	[ "$stderr" = "ws-peerd: already running for $WIKISYNC_SPOOL" ]
	run --separate-stderr ws-peerd -h
	assert_status 0
	[ "$output" = "usage: ws-peerd [-1] [-c file] [-d dir] [-l seconds]" ]
	run --separate-stderr ws-peerd -x
	assert_status 64
	[ -z "$output" ]
}

@test "an edit on alpha reaches beta, its summary naming the source (bench/sync times it)" {
	watch alpha "Sync One"
	rev=$(edit alpha "Sync One" "Hello from alpha. [[Category:Synced]]" "first words")
	wait_for 2 has_text beta "Sync One" "Hello from alpha. [[Category:Synced]]"
	run history beta "Sync One"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "Peerd	from alpha r$rev by Editor: first words	"* ]]
}

@test "a page outside the group's categories is not synced" {
	watch alpha "Private Notes"
	edit alpha "Private Notes" "Nothing to share." >/dev/null
	sleep 1
	wait_for 5 idle
	run bed_text beta "Private Notes"
	assert_status 1
	grep -q "Private Notes: not in a synced group" "$BED/peerd.log"
}

@test "beta to alpha works the same way, and later edits on each leave both identical" {
	watch beta "From Beta"
	edit beta "From Beta" "Made on beta. [[Category:Synced]]" >/dev/null
	wait_for 3 has_text alpha "From Beta" "Made on beta. [[Category:Synced]]"
	edit alpha "From Beta" "Made on beta, then alpha. [[Category:Synced]]" >/dev/null
	wait_for 3 has_text beta "From Beta" "Made on beta, then alpha. [[Category:Synced]]"
	edit beta "From Beta" "Made on beta, alpha, beta. [[Category:Synced]]" >/dev/null
	wait_for 3 has_text alpha "From Beta" "Made on beta, alpha, beta. [[Category:Synced]]"
	wait_for 5 idle
	[ "$(bed_text alpha "From Beta")" = "$(bed_text beta "From Beta")" ]
	# each wiki's history: the editor's own revisions and Peerd's copies, none twice
	run history alpha "From Beta"
	[ "${#lines[@]}" -eq 3 ]
	run history beta "From Beta"
	[ "${#lines[@]}" -eq 3 ]
}

@test "the same job run twice writes no second revision" {
	peerd_stop
	watch alpha "Twice"
	edit alpha "Twice" "Once only. [[Category:Synced]]" >/dev/null
	wait_for 3 bash -c '[ -n "$(ls "$WIKISYNC_SPOOL/queue/new")" ]'
	job=$(ws-queue take)
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 1 revision" ]
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: has it" ]
	run ws-verify "$job"
	assert_status 0
	ws-queue done "$job"
	run history beta "Twice"
	[ "${#lines[@]}" -eq 1 ]
	peerd_start
}

@test "edits to different sentences of one paragraph on both wikis merge cleanly" {
	peerd_stop
	p="Cats purr when content. Dogs bark at strangers. Birds sing at dawn. [[Category:Synced]]"
	watch alpha "Merge Me"
	edit alpha "Merge Me" "$p" >/dev/null
	peerd_start
	wait_for 3 has_text beta "Merge Me" "$p"
	wait_for 5 idle
	peerd_stop
	edit alpha "Merge Me" "${p/Cats purr/Cats often purr}" >/dev/null
	edit beta "Merge Me" "${p/Birds sing/Birds loudly sing}" >/dev/null
	peerd_start
	want="Cats often purr when content. Dogs bark at strangers. Birds loudly sing at dawn. [[Category:Synced]]"
	wait_for 5 has_text alpha "Merge Me" "$want"
	wait_for 5 has_text beta "Merge Me" "$want"
}

@test "conflicting edits keep both texts on both wikis, in the tracking category" {
	peerd_stop
	watch alpha "Clash"
	edit alpha "Clash" "The sky is blue. [[Category:Synced]]" >/dev/null
	peerd_start
	wait_for 3 has_text beta "Clash" "The sky is blue. [[Category:Synced]]"
	wait_for 5 idle
	peerd_stop
	edit alpha "Clash" "The sky is grey. [[Category:Synced]]" grey >/dev/null
	edit beta "Clash" "The sky is green. [[Category:Synced]]" green >/dev/null
	peerd_start
	wait_for 5 conflicted alpha Clash
	wait_for 5 idle
	a=$(bed_text alpha Clash)
	[ "$a" = "$(bed_text beta Clash)" ]
	[[ "$a" == *"The sky is grey."* && "$a" == *"The sky is green."* ]]
	# every original revision is still in the history of the wiki it was made on
	history alpha Clash | grep -q "	grey	"
	history beta Clash | grep -q "	green	"
	# both editors are told, each on the wiki where they edited
	[[ "$(bed_text alpha "User talk:Editor")" == *"== Edit conflict on [[Clash]] =="* ]]
	[[ "$(bed_text beta "User talk:Editor")" == *"== Edit conflict on [[Clash]] =="* ]]
}

@test "twenty revisions made on alpha while beta is down all reach beta, in order" {
	watch alpha "While Down"
	edit alpha "While Down" "Rev 0 [[Category:Synced]]" "rev 0" >/dev/null
	wait_for 3 has_text beta "While Down" "Rev 0 [[Category:Synced]]"
	wait_for 5 idle
	ws-testbed stop "$BED" beta
	for i in $(seq 1 20); do
		edit alpha "While Down" "Rev $i [[Category:Synced]]" "rev $i" >/dev/null
	done
	sleep 1
	ws-testbed start "$BED" beta
	# the job was deferred while beta was down: it comes due within the backoff
	wait_for 45 has_text beta "While Down" "Rev 20 [[Category:Synced]]"
	history beta "While Down" | cut -f2 | sed -n 's/^from alpha r[0-9]* by Editor: //p' >"$BATS_TEST_TMPDIR/got"
	seq 0 20 | sed 's/^/rev /' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	grep -q "While Down: deferred (push: .*beta" "$BED/peerd.log"
}

@test "sessions lost on beta mid-stream: the stream goes on after a new login, nothing lost" {
	watch alpha "Relogin"
	for i in $(seq 1 10); do
		edit alpha "Relogin" "Step $i [[Category:Synced]]" "step $i" >/dev/null
		[ "$i" -ne 5 ] || ws-testbed expire "$BED" beta
	done
	wait_for 10 has_text beta "Relogin" "Step 10 [[Category:Synced]]"
	wait_for 10 idle
	history beta Relogin | cut -f2 | sed -n 's/^from alpha r[0-9]* by Editor: //p' >"$BATS_TEST_TMPDIR/got"
	seq 1 10 | sed 's/^/step /' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# no anonymous edit anywhere
	[ -z "$(history beta Relogin | cut -f1 | grep -v '^Peerd$')" ]
}

@test "ws-peerd killed with SIGKILL during a stream of 50 edits: every edit arrives, none twice" {
	watch alpha "Stream"
	# a seeded schedule: the same kills every run (WS_SEED picks another)
	RANDOM=${WS_SEED:-8}
	kills=0
	for i in $(seq 1 50); do
		edit alpha "Stream" "Line $i [[Category:Synced]]" "edit $i" >/dev/null
		if [ $((RANDOM % 8)) -eq 0 ]; then
			peerd_stop
			peerd_start
			kills=$((kills + 1))
		fi
	done
	[ "$kills" -ge 3 ]
	wait_for 30 has_text beta "Stream" "Line 50 [[Category:Synced]]"
	wait_for 10 idle
	history beta Stream | cut -f2 | sed -n 's/^from alpha r[0-9]* by Editor: //p' >"$BATS_TEST_TMPDIR/got"
	seq 1 50 | sed 's/^/edit /' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}
