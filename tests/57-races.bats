#!/usr/bin/env bats
# Schedules that once lost saved lines (wikisync(7), THE PROTOCOL), each
# made exactly on three real wikis: the edits land between the jobs'
# readings as they did when the loss was found; the test holds the
# invariant that every line an editor saved is on every wiki, and that the
# wikis agree with nothing held.

load helper
load bed
load sync

loop_bed_hooks

# vandalized TITLE: "K M" synced on the three wikis, then a vandal on
# alpha removes K, and that is agreed everywhere; the loop is stopped after
vandalized() {
	synced "$1" $'K\nM\n[[Category:Synced]]'
	peerd_start
	edit alpha "$1" $'M\n[[Category:Synced]]' "vandal" >/dev/null
	wait_for 3 has_text beta "$1" $'M\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$1" $'M\n[[Category:Synced]]'
	wait_for 5 idle
	peerd_stop
}

@test "a revert on beta while alpha's editor adds a line: the reverted lines and the new one are everywhere" {
	t="Revert While Edited"
	vandalized "$t"
	# before any job reads them: beta's patroller reverts to K M, and
	# alpha's editor adds L to the text they see
	edit beta "$t" $'K\nM\n[[Category:Synced]]' "revert" >/dev/null
	edit alpha "$t" $'M\nL\n[[Category:Synced]]' "adds L" >/dev/null
	wait_for 3 has_job beta "$t"
	wait_for 3 has_job alpha "$t"
	drained "$t"
	everywhere "$t" $'K\nM\nL\n[[Category:Synced]]'
}

@test "beta and gamma agree on a revert while alpha, cut off, edits: alpha's line and the reverted lines are everywhere" {
	t="Revert While Cut Off"
	vandalized "$t"
	# alpha is cut off while beta's patroller reverts and gamma agrees
	ws-testbed stop "$BED" alpha
	edit beta "$t" $'K\nM\n[[Category:Synced]]' "revert" >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	# beta and gamma agree without alpha; the job stays for alpha
	push_verify_out alpha "$job"
	has_text gamma "$t" $'K\nM\n[[Category:Synced]]'
	ws-testbed start "$BED" alpha
	edit alpha "$t" $'M\nL\n[[Category:Synced]]' "adds L" >/dev/null
	wait_for 3 has_job alpha "$t"
	drained "$t"
	everywhere "$t" $'K\nM\nL\n[[Category:Synced]]'
}

@test "overlapping groups (docs: alpha, beta; shared: beta, gamma): alpha's edit reaches gamma, which beta keeps level with; beta's edit made meanwhile goes with it; gamma's reaches alpha" {
	t="Overlapping Groups"
	cats=$'[[Category:Docs]]\n[[Category:Shared]]'
	peerd_stop
	# docs: alpha and beta; shared: beta and gamma; the page is in both
	sed '/^\[group /,$d' "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/overlap.conf"
	printf '[group docs]\nwikis = alpha, beta\ncategories = Docs\n\n[group shared]\nwikis = beta, gamma\ncategories = Shared\n' \
	    >>"$BATS_TEST_TMPDIR/overlap.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/overlap.conf
	watch beta "$t"
	edit beta "$t" "one"$'\n'"$cats" >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	push_verify "$job"
	ws-queue done "$job"
	everywhere "$t" "one"$'\n'"$cats"
	# alpha alone: a sync edit on beta mails nobody, so alpha's job is
	# the only one that can bring gamma level with beta
	edit alpha "$t" $'from alpha\none\n'"$cats" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	push_verify "$job"
	ws-queue done "$job"
	[ "$(ws-queue ls -a | wc -l)" -eq 0 ]
	everywhere "$t" $'from alpha\none\n'"$cats"
	# beta, then alpha: alpha's job reads beta's edit too, and every wiki
	# its job's set reaches holds both
	edit beta "$t" $'from alpha\none\nfrom beta\n'"$cats" >/dev/null
	wait_for 3 has_job beta "$t"
	edit alpha "$t" $'from alpha\nagain from alpha\none\n'"$cats" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	push_verify "$job"
	ws-queue done "$job"
	everywhere "$t" $'from alpha\nagain from alpha\none\nfrom beta\n'"$cats"
	drained "$t"
	# gamma, in no group with alpha, reaches it through beta's groups
	edit gamma "$t" $'from alpha\nagain from alpha\none\nfrom beta\nfrom gamma\n'"$cats" >/dev/null
	wait_for 10 has_text alpha "$t" $'from alpha\nagain from alpha\none\nfrom beta\nfrom gamma\n'"$cats"
	drained "$t"
	everywhere "$t" $'from alpha\nagain from alpha\none\nfrom beta\nfrom gamma\n'"$cats"
}

@test "overlapping groups, the other one another host's (whose address sorts first): alpha's edit still reaches beta, the wiki of ours that host shares" {
	t="Overlapping Hosts"
	cats=$'[[Category:Docs]]\n[[Category:Shared]]'
	peerd_stop
	# docs: alpha and beta, ours; shared: beta and gamma, another host's,
	# which owns a page both match on beta
	{
		echo "peerd = $WS_SYNC_ADDR"
		sed '/^\[group /,$d' "$WIKISYNC_CONF"
		printf '[group docs]\nwikis = alpha, beta\ncategories = Docs\n\n'
		printf '[group shared]\nwikis = beta, gamma\ncategories = Shared\npeerd = aaa@elsewhere.test\n'
	} >"$BATS_TEST_TMPDIR/hosts.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/hosts.conf
	run -0 ws-conf
	watch alpha "$t"
	edit alpha "$t" "one"$'\n'"$cats" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	push_verify "$job"
	ws-queue done "$job"
	has_text beta "$t" "one"$'\n'"$cats"
	# gamma is the other host's to sync, from beta
	[ -z "$(bed_text gamma "$t")" ]
}

@test "the loop killed between a new page's push and its verify, then each wiki edits another line: merged, no conflict box" {
	t="Killed Before Verify"
	peerd_stop
	watch alpha "$t"
	edit alpha "$t" $'one\ntwo\nthree\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# pushed everywhere; no ws-verify: the bases never moved
	run ws-push "$job"
	assert_status 0
	has_text gamma "$t" $'one\ntwo\nthree\n[[Category:Synced]]'
	edit beta "$t" $'one, from beta\ntwo\nthree\n[[Category:Synced]]' >/dev/null
	edit gamma "$t" $'one\ntwo\nthree, from gamma\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	wait_for 3 has_job gamma "$t"
	push_verify "$job"
	ws-queue done "$job"
	drained "$t"
	everywhere "$t" $'one, from beta\ntwo\nthree, from gamma\n[[Category:Synced]]'
}

# due_now JOB: the job is in new/ and due
due_now() {
	[ "$(ws-queue get "$1" state)" = new ] &&
	    [ "$(ws-queue stats | awk '$1 == "due" { print $2 }')" -ge 1 ]
}

@test "beta down longer than hold-after: the job held for it is due again once ws-login finds beta up, and syncs" {
	t="Long Outage"
	synced "$t" $'before\n[[Category:Synced]]'
	sed '1a hold-after = 2' "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/hold.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/hold.conf
	ws-testbed stop "$BED" beta
	edit alpha "$t" $'before\nduring the outage\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	push_verify_out beta "$job"
	# what ws-peerd does with that exit: deferred, then held
	ws-queue -q defer "$job" "verify: beta: connection refused"
	ws-queue -q defer "$job" "verify: beta: connection refused"
	[ "$(ws-queue get "$job" state)" = hold ]
	ws-testbed start "$BED" beta
	run ws-login -k -q
	assert_status 0
	due_now "$job"
	push_verify "$job"
	ws-queue done "$job"
	everywhere "$t" $'before\nduring the outage\n[[Category:Synced]]'
}

# back_and_woken JOB TITLE TEXT: beta and gamma started again, ws-login
# makes the job due, and it leaves TEXT on the three wikis
back_and_woken() {
	ws-testbed start "$BED" beta
	ws-testbed start "$BED" gamma
	run ws-login -k -q
	assert_status 0
	due_now "$1"
	push_verify "$1"
	ws-queue done "$1"
	everywhere "$2" "$3"
}

@test "no wiki of the last agreement but the job's answers: the job says which it waits for, and ws-login wakes it" {
	t="Waits For Chain"
	synced "$t" $'before\n[[Category:Synced]]'
	ws-testbed stop "$BED" beta
	ws-testbed stop "$BED" gamma
	edit alpha "$t" $'before\nalone\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 75
	ws-queue -q defer "$job" "push: no other wiki answers"
	w=$(ws-queue get "$job" waits)
	[[ "$w" == beta || "$w" == gamma ]]
	run ws-queue get "$job" state
	[ "$output" = new ]
	# deferred: not due for a while
	[ "$(ws-queue stats | awk '$1 == "due" { print $2 }')" -eq 0 ]
	back_and_woken "$job" "$t" $'before\nalone\n[[Category:Synced]]'
}

@test "a page leaves the category on alpha while beta and gamma are down: the job waits, and the edit reaches them once back" {
	t="Leaves While Down"
	synced "$t" $'in the group\n[[Category:Synced]]'
	ws-testbed stop "$BED" beta
	ws-testbed stop "$BED" gamma
	edit alpha "$t" $'in the group no more' "out" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 75
	ws-queue -q defer "$job" "push: waiting"
	[[ "$(ws-queue get "$job" waits)" == beta || "$(ws-queue get "$job" waits)" == gamma ]]
	back_and_woken "$job" "$t" 'in the group no more'
}

@test "a push past job-deadline stops at once with one line, the job still queued; run again, it syncs" {
	t="Past The Deadline"
	synced "$t" $'A\n[[Category:Synced]]'
	edit alpha "$t" $'A\nB\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	{ echo "job-deadline = 5"; cat "$WIKISYNC_CONF"; } >"$BATS_TEST_TMPDIR/deadline.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/deadline.conf
	# beta's API stalls before the sync's edit there, as a wiki that
	# never answers would
	interpose beta 'action=edit' 'sleep 30'
	SECONDS=0
	run --separate-stderr ws-push "$job"
	assert_status 75
	[ "$SECONDS" -lt 20 ]
	[ "$stderr" = "ws-push: past job-deadline: stopped, the job stays queued" ]
	unposed
	has_job alpha "$t"
	drained "$t"
	everywhere "$t" $'A\nB\n[[Category:Synced]]'
}

@test "a deletion agreed while beta did not answer reaches beta once back, from the same job (explore delete-down:10:beta-stop)" {
	t="Deleted While Away"
	synced "$t" $'one\n[[Category:Synced]]'
	ws-testbed stop "$BED" beta
	ws-testbed delete "$BED" alpha "$t" "gone" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	push_verify_out beta "$job"
	missing gamma "$t"
	ws-testbed start "$BED" beta
	# the job run again: alpha's own base says deleted, but beta's does
	# not, and beta has the page: the deletion goes there
	push_verify "$job"
	missing beta "$t"
	missing alpha "$t"
}

@test "deleted on alpha between two rounds of a job that wrote there, after an edit MediaWiki merged into the sync's: a deletion, not a page to make anew (chaos: 5 wikis, lifecycle, seed 2)" {
	t="Deleted Between Rounds"
	synced "$t" $'one\ntwo\nthree\n[[Category:Synced]]'
	edit alpha "$t" $'one\nfrom alpha\ntwo\nthree\n[[Category:Synced]]' >/dev/null
	edit beta "$t" $'one\ntwo\nthree\nfrom beta\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# the job merges, and writes to alpha; before that write an editor
	# saves a line there (MediaWiki merges the sync's edit with it);
	# before the job reads alpha again, the page is deleted there
	printf '%s' $'one\nfrom alpha\ntwo\nalpha again\nthree\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/again"
	interpose alpha 'action=edit' \
	    "ws-testbed edit '$BED' alpha '$t' \"\$(cat '$BATS_TEST_TMPDIR/again')\" >/dev/null" \
	    'action=query' "ws-testbed delete '$BED' alpha '$t' 'deleted as it synced' >/dev/null"
	push_interposed "$job" "ws-testbed delete"
	# alpha's deletion is a deletion: the page is not made again there
	# from the others' text without its editor's line
	drained "$t"
	missing alpha "$t"
	missing beta "$t"
	# restored on alpha, every line comes back everywhere
	ws-testbed undelete "$BED" alpha "$t" "back" >/dev/null
	wait_for 10 has_text beta "$t" $'one\nfrom alpha\ntwo\nalpha again\nthree\nfrom beta\n[[Category:Synced]]'
	wait_for 10 idle
	everywhere "$t" $'one\nfrom alpha\ntwo\nalpha again\nthree\nfrom beta\n[[Category:Synced]]'
}

@test "an editor on gamma who loaded a revision in the middle of a replay, saving after the next, is merged by MediaWiki, not over it (chaos: 3 wikis, faults, seed 2)" {
	t="Replayed Middle"
	synced "$t" $'base\n[[Category:Synced]]'
	local text=$'base\n[[Category:Synced]]' l
	for l in one two three four; do
		text=${text/$'\n[[Category:Synced]]'/$'\n'$l$'\n[[Category:Synced]]'}
		edit alpha "$t" "$text" >/dev/null
	done
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# gamma's editor loads the page as the sync's second revision there
	# is the newest, and saves a line of their own after its third
	printf '%s' $'from gamma\nbase\none\ntwo\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/mine"
	interpose gamma 'action=edit' true 'action=edit' true 'action=edit' \
	    "ws-testbed api '$BED' gamma action=query prop=revisions titles='$t' rvprop=ids | sed -n 's/.*\"revid\":\\([0-9]*\\).*/\\1/p' >'$BATS_TEST_TMPDIR/loaded'" \
	    '.' "ws-testbed edit -b \"\$(cat '$BATS_TEST_TMPDIR/loaded')\" '$BED' gamma '$t' \"\$(cat '$BATS_TEST_TMPDIR/mine')\" >/dev/null 2>&1 || :"
	push_interposed "$job" "ws-testbed edit"
	drained "$t"
	# the sync's third revision ("three") is not lost under the save
	everywhere "$t" $'from gamma\nbase\none\ntwo\nthree\nfour\n[[Category:Synced]]'
}

@test "a deletion agreed while gamma was cut off, and gamma edited: alpha and beta are restored, so the lines they agreed on since are kept with gamma's, and alpha's deleter is told" {
	t="Deleted While Edited Away"
	synced "$t" $'A\nB\nC\nD\n[[Category:Synced]]'
	ws-testbed stop "$BED" gamma
	# alpha and beta agree on a line, then on the page's deletion
	edit alpha "$t" $'A\nfrom alpha\nB\nC\nD\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	push_verify_out gamma "$(jobof alpha "$t")"
	ws-testbed delete "$BED" alpha "$t" "not needed" >/dev/null
	job=$(jobof alpha "$t")
	push_verify_out gamma "$job"
	missing beta "$t"
	# gamma, back, has an edit of its own from the text it last agreed on
	ws-testbed start "$BED" gamma
	edit gamma "$t" $'A\nB\nC\nfrom gamma\nD\n[[Category:Synced]]' >/dev/null
	drained "$t"
	everywhere "$t" $'A\nfrom alpha\nB\nC\nfrom gamma\nD\n[[Category:Synced]]'
	run bed_text alpha "User talk:Editor"
	[[ "$output" == *"== [[$t]] is back =="*"edited meanwhile on gamma"* ]]
}

@test "the only answering wiki of the last agreement has made the page anew: the job waits for the other one, whose newer lines are not overwritten" {
	t="Made Anew While Away"
	synced "$t" $'one\n[[Category:Synced]]'
	# alpha and beta agree on a line while gamma is cut off
	ws-testbed stop "$BED" gamma
	edit alpha "$t" $'one\ntwo\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	push_verify_out gamma "$(jobof alpha "$t")"
	ws-testbed start "$BED" gamma
	# then beta is cut off, and alpha deletes the page and makes it anew
	ws-testbed stop "$BED" beta
	ws-testbed delete "$BED" alpha "$t" "again" >/dev/null
	edit alpha "$t" $'anew\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	run ws-push "$(jobof alpha "$t")"
	assert_status 75
	[[ "$output" == *"waiting for beta"* ]]
	ws-testbed start "$BED" beta
	drained "$t"
	[ "$(held)" -eq 0 ]
	run bed_text beta "$t"
	[[ "$output" == *two* ]]
	[[ "$output" == *anew* ]]
}

@test "alpha's deletion followed on beta and gamma, then alpha down before the next round: the sync's deletions are not taken for stale and undone" {
	t="Deleter Down"
	synced "$t" $'one\n[[Category:Synced]]'
	ws-testbed delete "$BED" alpha "$t" "spam" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# alpha stops as the job deletes the page on beta
	interpose beta 'action=delete' "ws-testbed stop '$BED' alpha"
	push_interposed "$job" "ws-testbed stop"
	assert_status 75
	missing beta "$t"
	missing gamma "$t"
	ws-testbed start "$BED" alpha
	push_verify "$job"
	for w in alpha beta gamma; do
		missing "$w" "$t"
	done
	# no restore anywhere: only the one deletion each
	run ws-testbed api "$BED" beta action=query list=logevents letitle="$t" letype=delete
	[[ "$output" != *'"action":"restore"'* ]]
}

@test "an editor's save MediaWiki merged the sync's edit into, then another editor's over it in that second: the sync's line is not taken for removed" {
	t="Merged In The Second"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	edit alpha "$t" $'one\nfrom alpha\ntwo\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# as the sync's edit reaches beta, early in a second, beta's editor
	# saves a line (MediaWiki merges the sync's edit with it, in that
	# second); at the sync's next request another editor, who loaded
	# that line's revision, saves over the merge, unseen by MediaWiki
	printf '%s' $'one\ntwo\nfrom beta\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/e1"
	printf '%s' $'one\ntwo\nfrom beta\nbeta again\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/e2"
	interpose beta '^POST .*action=edit' \
	    "sleep \$(python3 -c 'import time; print(1.02 - time.time() % 1)') &&
	     ws-testbed edit '$BED' beta '$t' \"\$(cat '$BATS_TEST_TMPDIR/e1')\" >/dev/null &&
	     ws-testbed api '$BED' beta action=query prop=revisions titles='$t' rvprop=ids |
	     sed -n 's/.*\"revid\":\\([0-9]*\\).*/\\1/p' >'$BATS_TEST_TMPDIR/loaded'" \
	    '.' "ws-testbed edit -u visitor -b \"\$(cat '$BATS_TEST_TMPDIR/loaded')\" '$BED' beta '$t' \"\$(cat '$BATS_TEST_TMPDIR/e2')\" >/dev/null 2>&1 || :"
	push_interposed "$job" "ws-testbed edit -u visitor"
	revs beta "$t" user timestamp comment | tail -n 4 | sed "s/^/# /" >&3
	drained "$t"
	everywhere "$t" $'one\nfrom alpha\ntwo\nfrom beta\nbeta again\n[[Category:Synced]]'
}

@test "an editor's save MediaWiki merged the sync's edit into, in that second, nothing after it: the next round merges cleanly, no conflict" {
	t="Merged Same Second"
	synced "$t" $'top\nmiddle\nbottom\n[[Category:Synced]]'
	edit alpha "$t" $'top\nmiddle\nbottom\nA1\n[[Category:Synced]]' "a1" >/dev/null
	edit alpha "$t" $'top\nmiddle\nbottom\nA1\nA2\n[[Category:Synced]]' "a2" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# early in a second, beta's editor saves a line at the top; the sync's
	# first replayed revision lands at once, in that second (mostly: on a
	# slow machine a second later, which must merge as cleanly)
	printf '%s' $'from beta\ntop\nmiddle\nbottom\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/e1"
	interpose beta '^POST .*action=edit' \
	    "sleep \$(python3 -c 'import time; print(1.02 - time.time() % 1)') &&
	     ws-testbed edit '$BED' beta '$t' \"\$(cat '$BATS_TEST_TMPDIR/e1')\" >/dev/null"
	push_interposed "$job" "sleep"
	revs beta "$t" user timestamp comment | tail -n 3 | sed "s/^/# /" >&3
	drained "$t"
	everywhere "$t" $'from beta\ntop\nmiddle\nbottom\nA1\nA2\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		[[ "$(bed_text "$w" "$t")" != *"wikisync-conflict"* ]]
	done
}

@test "a page beta has of its own, in no synced category, is not overwritten by alpha's page of that title in the category: held until adopted" {
	t="Home Of Beta"
	edit beta "$t" "beta's own front page" >/dev/null
	watch alpha "$t"
	edit alpha "$t" $'taking it over\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 65
	[[ "$output" == *"beta: $t: a page of its own there, in no synced category, never synced: not overwritten"* ]]
	has_text beta "$t" "beta's own front page"
	ws-queue hold "$job" "a test"
	# an operator who wants the two merged says so
	ws-queue set "$job" adopt=yes
	ws-queue release "$job"
	wait_for 10 idle
	run bed_text beta "$t"
	[[ "$output" == *"beta's own front page"* ]]
	[[ "$output" == *"taking it over"* ]]
	[ "$(bed_text alpha "$t")" = "$output" ]
	[ "$(held)" -eq 0 ]
}

@test "an edit saved on beta as the sync deletes the page there, then the page restored and moved on alpha: beta's line is everywhere at the new title, nothing left in an archive (chaos: 5 wikis, lifecycle, seed 2, on 1.43)" {
	t="Deleted Under An Edit"
	q="Deleted Under An Edit Moved"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	ws-testbed delete "$BED" alpha "$t" "gone" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# after the job read beta, before it deletes there, beta's editor
	# saves a line; alpha's deleter has changed their mind meanwhile,
	# restoring the page and moving it on without a redirect
	printf '%s' $'one\nfrom beta\ntwo\n[[Category:Synced]]' >"$BATS_TEST_TMPDIR/beta"
	interpose beta 'action=delete' \
	    "ws-testbed edit '$BED' beta '$t' \"\$(cat '$BATS_TEST_TMPDIR/beta')\" >/dev/null &&
	     ws-testbed undelete '$BED' alpha '$t' back >/dev/null &&
	     ws-testbed move -n '$BED' alpha '$t' '$q' onward >/dev/null"
	push_interposed "$job" "ws-testbed edit"
	[[ "$output" == *"beta: $t: r"*", saved after the round read r"*"was deleted with the page: restoring it"* ]]
	drained "$q"
	everywhere "$q" $'one\nfrom beta\ntwo\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		missing "$w" "$t"
	done
}
