#!/usr/bin/env bats
# Moves on three wikis (wikisync(7), Moves): a page moved on one wiki is
# moved on the others, leaving a redirect where the source left one, and
# its base follows it to the new title; an edit made meanwhile under the
# old title goes with the page and reaches every wiki; a move onto a title
# another page holds on a peer is never forced: the job is held with the
# reason, and nothing moves until the operator clears the way.  Mail all
# the way, or ws-push by hand where the order of requests is the test.

load helper
load bed
load sync

loop_bed_hooks

# move_job WIKI FROM TO [-n]: the page moved there; prints its job
move_job() {
	ws-testbed move ${4:+"$4"} "$BED" "$1" "$2" "$3" "tidier"
	wait_for 3 has_job "$1" "$2" || return 1
	jobof "$1" "$2"
}

sha1() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }

# both_titles A B TEXT: a page moved two ways at once ends at both titles,
# TEXT on every wiki, nothing held (wikisync(7) CAVEATS)
both_titles() {
	local w
	for w in alpha beta gamma; do
		has_text "$w" "$1" "$3" || return 1
		has_text "$w" "$2" "$3" || return 1
	done
	[ "$(held)" -eq 0 ]
}

# deferred JOB: the job waits in the queue, tried again later
deferred() { ws-queue ls -a | awk -F'\t' -v j="$1" '$1 == "wait" && $2 == j { f = 1 } END { exit !f }'; }

@test "a page moved on alpha is moved on beta and gamma, leaving a redirect as alpha did; its base follows" {
	t="Old Title" to="New Title" text=$'moving text\n[[Category:Synced]]'
	watch alpha "$t"
	edit alpha "$t" "$text" >/dev/null
	wait_for 3 has_text beta "$t" "$text"
	wait_for 3 has_text gamma "$t" "$text"
	wait_for 5 idle
	ws-testbed move "$BED" alpha "$t" "$to" "a clearer name"
	wait_for 3 has_text beta "$to" "$text"
	wait_for 3 has_text gamma "$to" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in beta gamma; do
		has_text "$w" "$t" "#REDIRECT [[$to]]"
		[ "$(last_log "$w" move "$t")" = "Peerd	moved on alpha by Editor: a clearer name	$to" ]
		# the page itself moved: its first revision is still the one synced
		run history "$w" "$to"
		[ "${#lines[@]}" -eq 2 ]
		[[ "${lines[0]}" == "Peerd	from alpha r"*" by Editor: "* ]]
	done
	# every wiki's base is under the new title; the old one's says moved
	for w in alpha beta gamma; do
		run base "$w" "$to"
		[[ "$output" == "$(sha1 "$text") "[0-9]*" "* ]]
		run base "$w" "$t"
		[[ "$output" == "$(sha1 "$text") moved "* ]]
	done
}

@test "after the move an edit on beta under the new title reaches alpha and gamma" {
	t="Moved Then Edited" to="Moved Then Edited Anew"
	watch alpha "$t"
	edit alpha "$t" $'moving text\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_text beta "$t" $'moving text\n[[Category:Synced]]'
	wait_for 5 idle
	ws-testbed move "$BED" alpha "$t" "$to" "a clearer name"
	wait_for 3 has_text beta "$to" $'moving text\n[[Category:Synced]]'
	wait_for 5 idle
	text=$'moving text\nedited after the move\n[[Category:Synced]]'
	edit beta "$to" "$text" "after" >/dev/null
	wait_for 3 has_text alpha "$to" "$text"
	wait_for 3 has_text gamma "$to" "$text"
	wait_for 5 idle
	# merged from the base under the new title: a replay, not a conflict
	run ! conflicted alpha "$to"
	has_text alpha "$t" "#REDIRECT [[$to]]"
}

@test "moved on alpha without a redirect: moved so on beta and gamma, deleted nowhere" {
	t="Bare Move" to="Bare Move Done" text=$'no redirect\n[[Category:Synced]]'
	synced "$t" "$text"
	peerd_start
	ws-testbed move -n "$BED" alpha "$t" "$to" "no trace"
	wait_for 3 has_text beta "$to" "$text"
	wait_for 3 has_text gamma "$to" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in alpha beta gamma; do
		missing "$w" "$t"
		run ws-testbed api "$BED" "$w" action=query list=logevents letype=delete letitle="$t"
		[[ "$output" != *'"logid"'* ]]
	done
}

@test "moved twice on alpha before a job ran, first with a redirect then without: beta and gamma make the same two moves (chaos seed 2)" {
	t="Twice Moved" m0="Twice Moved m0" m1="Twice Moved m1"
	text=$'moved twice\n[[Category:Synced]]'
	synced "$t" "$text"
	ws-testbed move "$BED" alpha "$t" "$m0" "first"
	ws-testbed move -n "$BED" alpha "$m0" "$m1" "second"
	peerd_start
	wait_for 3 has_text beta "$m1" "$text"
	wait_for 3 has_text gamma "$m1" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in alpha beta gamma; do
		# the redirect the first move left names where it went then
		has_text "$w" "$t" "#REDIRECT [[$m0]]"
		missing "$w" "$m0"
	done
	for w in beta gamma; do
		[ "$(last_log "$w" move "$t")" = "Peerd	moved on alpha by Editor: first	$m0" ]
		[ "$(last_log "$w" move "$m0")" = "Peerd	moved on alpha by Editor: second	$m1" ]
	done
}

@test "moved on alpha while edited on beta: the edit goes with the page, and every wiki has it under the new title" {
	t="Busy Page" to="Busy Page Renamed"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	edit beta "$t" $'one\ntwo\nthree, on beta\n[[Category:Synced]]' "beta's line" >/dev/null
	ws-testbed move "$BED" alpha "$t" "$to" "renamed"
	peerd_start
	want=$'one\ntwo\nthree, on beta\n[[Category:Synced]]'
	wait_for 5 has_text alpha "$to" "$want"
	wait_for 3 has_text gamma "$to" "$want"
	wait_for 5 idle
	has_text beta "$to" "$want"
	[ "$(held)" -eq 0 ]
	for w in alpha beta gamma; do
		has_text "$w" "$t" "#REDIRECT [[$to]]"
	done
	# beta's edit is its own revision on beta, replayed on the others:
	# made, moved, beta's line; beta's move itself is no edit on alpha
	run history alpha "$to"
	printf '%s\n' "${lines[@]}" >&2
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" == "Peerd	from beta r"*" by Editor: beta's line	"* ]]
}

@test "a move onto a title beta holds for another page waits with the reason, nothing moved, and goes on by itself once the way is clear" {
	t="Wants Name" to="Taken Name" text=$'wants the name\n[[Category:Synced]]'
	synced "$t" "$text"
	edit beta "$to" "beta's own page, not synced" >/dev/null
	job=$(move_job alpha "$t" "$to")
	run ws-push "$job"
	assert_status 75
	[[ "$output" == *"beta: $t: not moved to $to as on alpha: beta has another page there; tried again until one is moved or deleted"* ]]
	has_text gamma "$t" "$text"
	has_text beta "$t" "$text"
	has_text beta "$to" "beta's own page, not synced"
	# the loop defers it, and the queue says why
	peerd_start
	wait_for 5 deferred "$job"
	[[ "$(ws-queue ls -a)" == *"	$t	"*"beta has another page there"* ]]
	has_text gamma "$t" "$text"
	# cleared: beta's page out of the way, the job's next attempt moves
	ws-testbed delete "$BED" beta "$to" "make way"
	wait_for 10 has_text beta "$to" "$text"
	wait_for 3 has_text gamma "$to" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "a move whose mail was lost is caught by ws-scan from the wiki's recent changes" {
	t="Quiet Move" to="Quiet Move Done" text=$'moved unseen\n[[Category:Synced]]'
	synced "$t" "$text"
	job=$(move_job alpha "$t" "$to")
	ws-queue done "$job"
	[ -z "$(jobof alpha "$t")" ]
	run ws-scan
	assert_status 0
	has_job alpha "$t"
	peerd_start
	wait_for 3 has_text beta "$to" "$text"
	wait_for 3 has_text gamma "$to" "$text"
	wait_for 5 idle
	# once every wiki followed, a scan finds nothing more to do
	run ws-scan -v
	assert_status 0
	[ -z "$(jobof alpha "$t")" ]
}

@test "the move's job run again moves nothing more, and writes nothing" {
	t="Moved Once" to="Moved Once Done" text=$'once only\n[[Category:Synced]]'
	synced "$t" "$text"
	job=$(move_job alpha "$t" "$to")
	push_verify "$job"
	has_text beta "$to" "$text"
	run history beta "$to"
	n=${#lines[@]}
	push_verify "$job"
	[ "$(log_count beta move move "$t")" -eq 1 ]
	[ "$(log_count gamma move move "$t")" -eq 1 ]
	run history beta "$to"
	[ "${#lines[@]}" -eq "$n" ]
	ws-queue done "$job"
}

@test "after a move, an edit under the new title on a wiki that followed it mails again (chaos seed 13)" {
	t="Unseen Move" to="Unseen Move Done"
	synced "$t" $'first\n[[Category:Synced]]'
	# beta's edit mails, and its job is gone: the sync user has not
	# seen the page there since, so MediaWiki mails no more for it
	edit beta "$t" $'first\nbeta, before the move\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	ws-queue done "$(jobof beta "$t")"
	job=$(move_job alpha "$t" "$to")
	push_verify "$job"
	ws-queue done "$job"
	has_text gamma "$to" $'first\nbeta, before the move\n[[Category:Synced]]'
	# the move copied beta's watch with its unseen mark to the new title
	edit beta "$to" $'first\nbeta, before the move\nbeta, after\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$to"
}

@test "a wiki down while a page moved follows the move once back, edits on both sides kept, even when a job under the new title runs first (chaos seed 1)" {
	t="Away Move" to="Away Move Done"
	synced "$t" $'one\n[[Category:Synced]]'
	ws-testbed stop "$BED" alpha
	job=$(move_job beta "$t" "$to" -n)
	run ws-push "$job"
	has_text gamma "$to" $'one\n[[Category:Synced]]'
	ws-testbed start "$BED" alpha
	# alpha's editor goes on under the old title; gamma's under the new
	edit alpha "$t" $'alpha, before it knew\none\n[[Category:Synced]]' >/dev/null
	edit gamma "$to" $'one\ngamma, after the move\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job gamma "$to"
	push_verify "$(jobof gamma "$to")"
	ws-queue done "$(jobof gamma "$to")"
	# alpha moved its page, its edit with it, instead of getting a second
	# one, and left no redirect, as beta did not
	missing alpha "$t"
	drained "$to"
	want=$'alpha, before it knew\none\ngamma, after the move\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		has_text "$w" "$to" "$want"
	done
	[ "$(held)" -eq 0 ]
}

@test "restored and moved on alpha after a deletion every wiki agreed on: beta and gamma restore theirs and move it too (chaos seed 2)" {
	t="Back And Moved" to="Back And Moved Done" text=$'came back\n[[Category:Synced]]'
	synced "$t" "$text"
	ws-testbed delete "$BED" alpha "$t" "gone"
	wait_for 3 has_job alpha "$t"
	push_verify "$(jobof alpha "$t")"
	ws-queue done "$(jobof alpha "$t")"
	missing beta "$t"
	ws-testbed undelete "$BED" alpha "$t" "wanted after all"
	ws-testbed move "$BED" alpha "$t" "$to" "and renamed"
	drained "$to"
	for w in alpha beta gamma; do
		has_text "$w" "$to" "$text"
		has_text "$w" "$t" "#REDIRECT [[$to]]"
	done
	[ "$(held)" -eq 0 ]
	# their own history came back with the page, not a copy made anew
	run history beta "$to"
	[[ "${lines[0]}" == "Peerd	from alpha r"* ]]
}

@test "a page made anew on gamma at a title the sync just moved away from is its own page: a job that followed the move does not fold its mail in (chaos: 3 wikis, lifecycle, seed 5)" {
	t="Made Again" to="Made Again Moved"
	synced "$t" $'old page\n[[Category:Synced]]'
	edit alpha "$t" $'old page\nalpha, before the move\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	ws-testbed move -n "$BED" alpha "$t" "$to" "moved away"
	# the edit's job follows the move, then goes on under the new title;
	# just as it starts there, gamma's editor makes a new page at the old
	# title, and its mail is queued
	fresh=$'made anew on gamma\n[[Category:Synced]]'
	interpose alpha "^POST .*action=setnotificationtimestamp.*titles=$to" \
	    "ws-testbed edit '$BED' gamma '$t' '$fresh' >/dev/null &&
	     for i in \$(seq 300); do
	         ws-queue ls | grep -q '	gamma	$t	' && break; sleep 0.1
	     done"
	push_interposed "$job" "ws-testbed edit"
	assert_status 0
	# gamma's job is still queued, for a page of its own
	run missing gamma "$t"
	assert_status 1
	ws-queue ls | grep -q "	gamma	$t	"
	peerd_start
	wait_for 10 idle
	for w in alpha beta gamma; do
		has_text "$w" "$to" $'old page\nalpha, before the move\n[[Category:Synced]]'
		has_text "$w" "$t" "$fresh"
	done
	[ "$(held)" -eq 0 ]
}

@test "a wiki down while a page moved twice makes both moves once back, so its redirects are the others' (chaos: 5 wikis, lifecycle, seed 9)" {
	t="Two Hops" m0="Two Hops m0" m1="Two Hops m1"
	text=$'two hops\n[[Category:Synced]]'
	synced "$t" "$text"
	ws-testbed stop "$BED" gamma
	# each move followed by beta alone, its job left queued for gamma
	job=$(move_job alpha "$t" "$m0")
	run ws-push "$job"
	has_text beta "$m0" "$text"
	job=$(move_job alpha "$m0" "$m1")
	run ws-push "$job"
	has_text beta "$m1" "$text"
	ws-testbed start "$BED" gamma
	peerd_start
	wait_for 5 has_text gamma "$m1" "$text"
	wait_for 10 idle
	[ "$(held)" -eq 0 ]
	for w in alpha beta gamma; do
		has_text "$w" "$t" "#REDIRECT [[$m0]]"
		has_text "$w" "$m0" "#REDIRECT [[$m1]]"
	done
	[ "$(last_log gamma move "$t")" = "Peerd	WikiSync: moved as on the other wikis of its group	$m0" ]
	[ "$(last_log gamma move "$m0")" = "Peerd	WikiSync: moved as on the other wikis of its group	$m1" ]
}

@test "a job under the title a page was just moved to runs before the move's job: it follows the move first, and no wiki gets the page twice (chaos: 5 wikis, lifecycle, seed 4)" {
	t="Moved Ahead" to="Moved Ahead There"
	text=$'moved ahead\n[[Category:Synced]]'
	synced "$t" "$text"
	# the move's mail, then an edit's under the new title
	move=$(move_job alpha "$t" "$to")
	watch alpha "$to"
	edit alpha "$to" $'moved ahead\nthen edited\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$to"
	# the edit's job first, as a free worker may take it
	push_verify "$(jobof alpha "$to")"
	ws-queue done "$(jobof alpha "$to")"
	for w in beta gamma; do
		has_text "$w" "$to" $'moved ahead\nthen edited\n[[Category:Synced]]'
		# moved there, not made anew: the old title is the move's redirect
		has_text "$w" "$t" "#REDIRECT [[$to]]"
		[ "$(last_log "$w" move "$t")" = "Peerd	moved on alpha by Editor: tidier	$to" ]
	done
	# then the move's job: nothing is left to do, nothing held
	push_verify "$move"
	ws-queue done "$move"
	drained "$to"
	[ "$(held)" -eq 0 ]
}

# moved_deleted FIRST: alpha moves the page while beta deletes it; the
# job of FIRST's mail runs first, by hand, then the loop drains the rest
moved_deleted() {
	local t="Moved Deleted $1" to="Moved Deleted $1 Done" text=$'kept\n[[Category:Synced]]'
	synced "$t" "$text"
	watch beta "$t"
	ws-testbed move "$BED" alpha "$t" "$to" "tidier" >/dev/null
	ws-testbed delete "$BED" beta "$t" "gone" >/dev/null
	wait_for 10 has_job alpha "$t"
	wait_for 10 has_job beta "$t"
	job=$(jobof "$1" "$t")
	run ws-push "$job"
	assert_status 0
	ws-verify "$job" >/dev/null || :
	drained "$to"
	# the move wins, as an edit would: every wiki has the page at the
	# new title, beta made anew there; beta keeps its deletion of the
	# old title, where alpha and gamma keep the move's redirect
	for w in alpha beta gamma; do
		has_text "$w" "$to" "$text"
	done
	missing beta "$t"
	[ "$(held)" -eq 0 ]
	# and later edits under the new title sync everywhere
	edit beta "$to" $'kept\nafter\n[[Category:Synced]]' >/dev/null
	wait_for 5 has_text alpha "$to" $'kept\nafter\n[[Category:Synced]]'
	wait_for 5 has_text gamma "$to" $'kept\nafter\n[[Category:Synced]]'
}

@test "moved on alpha while deleted on beta, alpha's job first: beta gets the page under the new title, not sent back to the old one" {
	moved_deleted alpha
}

@test "moved on alpha while deleted on beta, beta's job first: the move wins there too" {
	moved_deleted beta
}

@test "moved on alpha to one title while beta moved it to another: both titles on every wiki, nothing held" {
	t="Two Ways" to="Two Ways Here" r="Two Ways There" text=$'both\n[[Category:Synced]]'
	synced "$t" "$text"
	watch beta "$t"
	ws-testbed move "$BED" alpha "$t" "$to" "tidier" >/dev/null
	ws-testbed move "$BED" beta "$t" "$r" "other" >/dev/null
	wait_for 10 has_job alpha "$t"
	wait_for 10 has_job beta "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	ws-verify "$job" >/dev/null || :
	peerd_start
	wait_for 15 has_text alpha "$r" "$text"
	wait_for 10 idle
	both_titles "$to" "$r" "$text"
}

@test "a new page at a moved page's old title, its job first while gamma has not followed the move: gamma follows, then the new page is synced as a page of its own" {
	t="Anew At Old" to="Anew At Old Moved"
	synced "$t" $'old page\n[[Category:Synced]]'
	ws-testbed stop "$BED" gamma
	ws-testbed move "$BED" alpha "$t" "$to" "moved away"
	wait_for 3 has_job alpha "$t"
	push_verify_out gamma "$(jobof alpha "$t")"
	has_text beta "$to" $'old page\n[[Category:Synced]]'
	# alpha's editor makes the redirect left at the old title a page
	fresh=$'made anew on alpha\n[[Category:Synced]]'
	edit alpha "$t" "$fresh" >/dev/null
	wait_for 3 test "$(ws-queue ls | grep -c "	alpha	$t	")" -eq 2
	ws-testbed start "$BED" gamma
	# the new page's job runs first: it does not take the moved page's
	# place, but waits for gamma to follow the move
	run ws-push "$(ws-queue ls | awk -F'\t' -v t="$t" '$4 == t { id = $2 } END { print id }')"
	assert_status 75
	[[ "$output" == *"a page of its own there, while gamma has not followed the move to $to"* ]]
	peerd_start
	wait_for 10 has_text gamma "$to" $'old page\n[[Category:Synced]]'
	# then, tried again, it syncs
	wait_for 15 has_text gamma "$t" "$fresh"
	wait_for 5 idle
	for w in alpha beta gamma; do
		has_text "$w" "$to" $'old page\n[[Category:Synced]]'
		has_text "$w" "$t" "$fresh"
	done
	[ "$(held)" -eq 0 ]
}

@test "moved away and back while gamma was down: gamma keeps its page where it is, and a later page at the other title does not take it" {
	t="There And Back" to="There And Back Moved"
	synced "$t" $'round trip\n[[Category:Synced]]'
	ws-testbed stop "$BED" gamma
	ws-testbed move "$BED" alpha "$t" "$to" "away"
	wait_for 3 has_job alpha "$t"
	push_verify_out gamma "$(jobof alpha "$t")"
	ws-testbed move "$BED" alpha "$to" "$t" "back"
	wait_for 3 has_job alpha "$to"
	push_verify_out gamma "$(jobof alpha "$to")"
	has_text beta "$t" $'round trip\n[[Category:Synced]]'
	ws-testbed start "$BED" gamma
	drained "$t"
	# a new page at the title the page passed through
	edit alpha "$to" $'a page of its own\n[[Category:Synced]]' >/dev/null
	drained "$to"
	for w in alpha beta gamma; do
		has_text "$w" "$t" $'round trip\n[[Category:Synced]]'
		has_text "$w" "$to" $'a page of its own\n[[Category:Synced]]'
	done
	[ "$(held)" -eq 0 ]
}

@test "two pages swapped on alpha by three moves are swapped on beta and gamma, whichever job runs first" {
	p="Swap One" q="Swap Two" tmp="Swap Aside"
	synced "$p" $'first page\n[[Category:Synced]]'
	peerd_start
	synced "$q" $'second page\n[[Category:Synced]]'
	ws-testbed move -n "$BED" alpha "$p" "$tmp" "swap"
	ws-testbed move -n "$BED" alpha "$q" "$p" "swap"
	ws-testbed move -n "$BED" alpha "$tmp" "$q" "swap"
	wait_for 3 has_job alpha "$tmp"
	# the second move's job first: beta's page is still in its way
	run ws-push "$(jobof alpha "$q")"
	assert_status 75
	[[ "$output" == *"beta has another page there"* ]]
	ws-queue -q defer "$(jobof alpha "$q")" "in the way"
	peerd_start
	wait_for 15 has_text gamma "$p" $'second page\n[[Category:Synced]]'
	wait_for 15 has_text gamma "$q" $'first page\n[[Category:Synced]]'
	wait_for 15 idle
	for w in alpha beta gamma; do
		has_text "$w" "$p" $'second page\n[[Category:Synced]]'
		has_text "$w" "$q" $'first page\n[[Category:Synced]]'
		missing "$w" "$tmp"
	done
	[ "$(held)" -eq 0 ]
}

# chaos (5 wikis, lifecycle, seed 2, on MediaWiki 1.43) lost every line of a
# page this way: the deletion's job deleted on the others, the wiki that
# deleted restored meanwhile, and moved the page twice, the second time
# leaving no redirect, before any job ran again
@test "deleted on beta and synced, restored there before the job ended, then moved twice on beta (the second leaving no redirect): the page reaches every wiki at its last title" {
	t="Twice Moved" m0="Twice Moved Once" m1="Twice Moved Again"
	synced "$t" $'kept through it all\n[[Category:Synced]]'
	ws-testbed delete "$BED" beta "$t" "gone"
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	# the push deletes on alpha and gamma; no verify (the loop was killed)
	run ws-push "$job"
	missing alpha "$t"
	missing gamma "$t"
	ws-queue -q defer "$job" "killed"
	ws-testbed undelete "$BED" beta "$t" "not gone"
	ws-testbed move "$BED" beta "$t" "$m0" "first"
	ws-testbed move -n "$BED" beta "$m0" "$m1" "second"
	edit beta "$m1" $'kept through it all\nand edited\n[[Category:Synced]]' >/dev/null
	peerd_start
	wait_for 20 has_text alpha "$m1" $'kept through it all\nand edited\n[[Category:Synced]]'
	wait_for 20 has_text gamma "$m1" $'kept through it all\nand edited\n[[Category:Synced]]'
	wait_for 15 idle
	[ "$(held)" -eq 0 ]
	# and nowhere a second copy left at a title the page passed
	for w in alpha beta gamma; do
		has_text "$w" "$m1" $'kept through it all\nand edited\n[[Category:Synced]]'
		for o in "$t" "$m0"; do
			missing "$w" "$o" || [[ "$(bed_text "$w" "$o")" == "#REDIRECT"* ]]
		done
	done
}

@test "an edit form loaded before a move and saved after it over the redirect, before the move's job ran: that page reaches every wiki at the old title, the moved one at the new (chaos: 3 wikis, seed 13, on 1.43)" {
	t="Saved Over" to="Saved Over Moved"
	synced "$t" $'old page\n[[Category:Synced]]'
	rev=$(ws-testbed api "$BED" alpha action=query prop=info titles="$t" |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["query"]["pages"][0]["lastrevid"])')
	ws-testbed move "$BED" alpha "$t" "$to" "moved away"
	wait_for 3 has_job alpha "$t"
	# the move's mail left the title unseen: this save mails nobody,
	# and the move's job, marking it seen, is the only one to read it
	ws-testbed edit -b "$rev" "$BED" alpha "$t" \
	    $'old page\nalpha, loaded before the move\n[[Category:Synced]]' >/dev/null
	[ "$(ws-queue ls | grep -c "	alpha	$t	")" -eq 1 ]
	drained "$to"
	for w in alpha beta gamma; do
		has_text "$w" "$to" $'old page\n[[Category:Synced]]'
		has_text "$w" "$t" $'old page\nalpha, loaded before the move\n[[Category:Synced]]'
	done
	[ "$(held)" -eq 0 ]
}

@test "moved on beta to another title just as alpha's move job reads it there: the sync never moves beta's redirect, and both titles end on every wiki" {
	t="RaceMove" to="RaceMoveHere" r="RaceMoveThere" text=$'raced\n[[Category:Synced]]'
	synced "$t" "$text"
	job=$(move_job alpha "$t" "$to")
	# after the job read beta's page, before it moves it there
	interpose beta "^GET .*titles=[^&]*$to" \
	    "ws-testbed move '$BED' beta '$t' '$r' 'other' >/dev/null"
	push_interposed "$job" "ws-testbed move"
	ws-verify "$job" >/dev/null || :
	wait_for 10 has_job beta "$t"
	drained "$to"
	wait_for 10 idle
	both_titles "$to" "$r" "$text"
}

@test "a move's push killed after every wiki moved the page, before the rounds under the new title: run again, the job goes there, and beta's edit the move carried reaches every wiki" {
	t="Killed Moving" to="Killed Moving Done"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	edit beta "$t" $'one\nfrom beta\ntwo\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(move_job alpha "$t" "$to")
	# the moves made, each new title marked seen: then the kill
	interpose alpha "^POST .*action=setnotificationtimestamp.*titles=$to" \
	    "pkill -KILL -f 'ws-push $job'"
	run ws-push "$job"
	assert_status 137
	unposed
	has_text gamma "$to" $'one\ntwo\n[[Category:Synced]]'
	ws-queue -q defer "$job" killed
	peerd_start
	wait_for 10 has_text alpha "$to" $'one\nfrom beta\ntwo\n[[Category:Synced]]'
	wait_for 10 idle
	for w in alpha beta gamma; do
		has_text "$w" "$to" $'one\nfrom beta\ntwo\n[[Category:Synced]]'
	done
	[ "$(held)" -eq 0 ]
}
