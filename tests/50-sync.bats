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

@test "ws-peerd checks the wikis' logins as it starts: none is unknown; ws-status shows it running" {
	wait_for 10 test -s "$WIKISYNC_SPOOL/state/beta"
	run ws-status -t
	[[ "$output" == *$'wiki\talpha\tup\t'* ]]
	[[ "$output" == *$'wiki\tbeta\tup\t'* ]]
	[[ "$output" != *unknown* ]]
	grep -qx "loop	running	[0-9]*	$(cat "$BED/peerd.pid")" <<<"$output"
}

@test "ws-peerd: one loop per spool; -h and bad options" {
	run --separate-stderr ws-peerd
	assert_status 75
	[ "$stderr" = "ws-peerd: already running for $WIKISYNC_SPOOL" ]
	run --separate-stderr ws-peerd -h
	assert_status 0
	[ "$output" = "usage: ws-peerd [-1] [-c file] [-d dir] [-j workers] [-l seconds]" ]
	run --separate-stderr ws-peerd -x
	assert_status 64
	[ -z "$output" ]
	for n in 0 65 x 04; do
		run --separate-stderr ws-peerd -j "$n"
		assert_status 64
		[ "$stderr" = "ws-peerd: -j $n: a number of workers from 1 to 64" ]
	done
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
	# one line, the page named once
	grep -qx "ws-peerd: alpha: Private Notes: not in a synced group ([0-9]* ms)" "$BED/peerd.log"
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
	edit alpha "While Down" "Rev 1 [[Category:Synced]]" "rev 1" >/dev/null
	# a job deferred for beta makes the loop check the logins at once
	# (not at its next five-second wake-up): ws-status knows beta is down
	wait_for 10 grep -q "While Down: deferred" "$BED/peerd.log"
	wait_for 2 wiki_is beta down
	for i in $(seq 2 20); do
		edit alpha "While Down" "Rev $i [[Category:Synced]]" "rev $i" >/dev/null
	done
	ws-testbed start "$BED" beta
	# the job was deferred while beta was down: it comes due within the backoff
	wait_for 45 has_text beta "While Down" "Rev 20 [[Category:Synced]]"
	history beta "While Down" | cut -f2 | sed -n 's/^from alpha r[0-9]* by Editor: //p' >"$BATS_TEST_TMPDIR/got"
	seq 0 20 | sed 's/^/rev /' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	grep -q "While Down: deferred (push: .*beta" "$BED/peerd.log"
	wait_for 10 wiki_is beta up
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

@test "a mail lost on beta: the next job that reads beta marks the page seen there, so beta's next edit mails" {
	watch alpha "Lost Mail"
	edit alpha "Lost Mail" "$(printf 'one\ntwo\nthree [[Category:Synced]]')" >/dev/null
	wait_for 5 has_text beta "Lost Mail" "$(printf 'one\ntwo\nthree [[Category:Synced]]')"
	wait_for 5 idle
	# beta's edit mails, and the mail is lost (the loop paused, not
	# restarted: its start-up scan would find the edit): the wiki holds
	# the sync user's watch as unseen, and mails no more edits of the page
	kill -STOP -- "-$(cat "$BED/peerd.pid")"
	edit beta "Lost Mail" "$(printf 'ONE\ntwo\nthree [[Category:Synced]]')" >/dev/null
	wait_for 5 has_job beta "Lost Mail"
	ws-queue "done" "$(ws-queue take)"
	kill -CONT -- "-$(cat "$BED/peerd.pid")"
	# an edit on alpha: its job reads beta, and takes beta's edit along
	edit alpha "Lost Mail" "$(printf 'ONE\ntwo\nTHREE [[Category:Synced]]')" >/dev/null
	wait_for 10 has_text beta "Lost Mail" "$(printf 'ONE\ntwo\nTHREE [[Category:Synced]]')"
	wait_for 5 idle
	# beta's next edit mails again
	edit beta "Lost Mail" "$(printf 'ONE\nTWO\nTHREE [[Category:Synced]]')" >/dev/null
	wait_for 10 has_text alpha "Lost Mail" "$(printf 'ONE\nTWO\nTHREE [[Category:Synced]]')"
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

# cpu PID: the process's CPU time and its reaped children's, in ticks
cpu() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }

# live_in_group PGID: a process of that group runs, not a zombie
live_in_group() {
	ps -e -o pgid=,stat=,args= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { print; n++ } END { exit !n }'
}

# running PID: not exited (a zombie has: init reaps it in its own time)
running() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ] && [ -e "/proc/$1" ]; }

@test "files no job can be made of are set aside once; ws-peerd does not spin on them, and syncs on" {
	q=$WIKISYNC_SPOOL/queue pid=$(cat "$BED/peerd.pid")
	wait_for 10 idle
	: >"$BED/peerd.log"
	# a stray line, a NUL byte, a symlink, a FIFO, as a job of long ago
	printf 'wiki=alpha\nno equals sign\n' >"$q/tmp/x1"
	printf 'wiki=alpha\0title=A\n' >"$q/tmp/x2"
	mv "$q/tmp/x1" "$q/new/1000000001.000001.1.a"
	mv "$q/tmp/x2" "$q/new/1000000002.000001.1.a"
	ln -s /etc/passwd "$q/new/1000000003.000001.1.a"
	mkfifo "$q/new/1000000004.000001.1.a"
	watch alpha "After Bad"
	edit alpha "After Bad" "synced all the same [[Category:Synced]]" >/dev/null
	wait_for 5 has_text beta "After Bad" "synced all the same [[Category:Synced]]"
	# then, the sync's own work done, quiet: a loop spinning on the
	# files would not be (under 5% of a core over 10 s, 100 ticks a
	# second, its applets included)
	wait_for 10 idle
	c0=$(cpu "$pid")
	sleep 10
	c1=$(cpu "$pid")
	[ $((c1 - c0)) -lt 50 ] || { echo "$((c1 - c0)) ticks"; false; }
	[ "$(grep -c 'moved to .*/queue/bad' "$BED/peerd.log")" -eq 4 ]
	[ -z "$(ls "$q/new")" ]
	run ws-status -t
	assert_status 1
	[[ "$output" == *$'\nbad\t4\n'* ]]
	rm -rf "$q/bad"
}

@test "TERM stops ws-peerd within a second, mid-push too: the job is back in the queue, and synced after" {
	pid=$(cat "$BED/peerd.pid")
	# idle, in the queue's wait
	wait_for 10 idle
	t0=$(date +%s%N)
	kill -TERM "$pid"
	while running "$pid"; do sleep 0.02; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# within a second on an idle machine: the wait scaled as wait_for scales it
	[ "$ms" -lt $((1000 * ${WS_WAIT_SCALE:-4})) ] || { echo "$ms ms"; false; }
	grep -q 'ws-peerd: stopped' "$BED/peerd.log"
	# in a push that waits on beta
	t="Stopped Mid Push"
	interpose beta "^POST .*action=edit.*title=$t" 'sleep 20'
	peerd_start
	pid=$(cat "$BED/peerd.pid")
	watch alpha "$t"
	edit alpha "$t" "after the stop [[Category:Synced]]" >/dev/null
	wait_for 10 grep -q "^POST .*action=edit.*title=$t" "$BATS_TEST_TMPDIR/proxy.log"
	[ "$(ws-queue stats | awk '$1 == "running" { print $2 }')" -eq 1 ]
	t0=$(date +%s%N)
	kill -TERM "$pid"
	while running "$pid"; do sleep 0.02; done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# within a second on an idle machine: the wait scaled as wait_for scales it
	[ "$ms" -lt $((1000 * ${WS_WAIT_SCALE:-4})) ] || { echo "$ms ms"; false; }
	# no applet of the loop left behind (a zombie has ended: where PID 1
	# does not reap, an orphan stays one)
	run ! live_in_group "$pid"
	run ws-queue stats
	[[ "$output" == *$'running 0\n'* ]]
	[[ "$output" == "due 1"* ]]
	rm -f "$BED/peerd.pid"
	unposed
	peerd_start
	wait_for 10 has_text beta "$t" "after the stop [[Category:Synced]]"
}
