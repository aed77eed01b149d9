#!/usr/bin/env bats
# A page's life on three wikis beyond its edits (wikisync(7),
# Deletions): a page deleted on one wiki goes from the others, unless a
# wiki edited it meanwhile: then the edit wins and the page is back
# everywhere, nothing saved dropped; a restore is restored; the edit that
# takes a page out of its group reaches the others, and later edits do
# not.  Mail all the way, or ws-push by hand where the order of requests
# is the test.

load helper
load bed
load sync

loop_bed_hooks

# delete_job WIKI TITLE REASON: the page deleted there; prints its job
delete_job() {
	ws-testbed delete "$BED" "$1" "$2" "$3"
	wait_for 3 has_job "$1" "$2" || return 1
	jobof "$1" "$2"
}

@test "a page deleted on alpha goes from beta and gamma, the reason naming alpha's deletion" {
	t="Doomed Page"
	watch alpha "$t"
	edit alpha "$t" "Spam, spam. [[Category:Synced]]" >/dev/null
	wait_for 3 has_text beta "$t" "Spam, spam. [[Category:Synced]]"
	wait_for 3 has_text gamma "$t" "Spam, spam. [[Category:Synced]]"
	wait_for 5 idle
	ws-testbed delete "$BED" alpha "$t" "spam"
	wait_for 3 missing beta "$t"
	wait_for 3 missing gamma "$t"
	for w in beta gamma; do
		[ "$(last_log "$w" delete "$t")" = "Peerd	deleted on alpha by Editor: spam" ]
	done
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	# every wiki's base is the deletion, with the text it had before
	for w in alpha beta gamma; do
		run base "$w" "$t"
		[[ "$output" == "$(printf 'Spam, spam. [[Category:Synced]]' | sha1sum | cut -d' ' -f1) deleted "* ]]
	done
	missing alpha "$t"
}

@test "a page restored on alpha after a synced deletion is restored on beta and gamma, each with its own history" {
	t="Doomed Page"
	ws-testbed undelete "$BED" alpha "$t" "not spam after all"
	wait_for 3 has_text beta "$t" "Spam, spam. [[Category:Synced]]"
	wait_for 3 has_text gamma "$t" "Spam, spam. [[Category:Synced]]"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in beta gamma; do
		# the revision it had, restored: no new one written
		run history "$w" "$t"
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "Peerd	from alpha r"* ]]
		run ws-testbed api "$BED" "$w" action=query list=logevents letype=delete \
		    letitle="$t" lelimit=1 leprop='type|user'
		[[ "$output" == *'"action":"restore"'*'"user":"Peerd"'* ]]
	done
}

@test "deleted on alpha while edited on beta: the edit wins, every wiki has it, and alpha's deleter is told" {
	t="Edited Away"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	edit beta "$t" $'one\ntwo\nthree, on beta\n[[Category:Synced]]' "beta's line" >/dev/null
	ws-testbed delete "$BED" alpha "$t" "not needed"
	peerd_start
	want=$'one\ntwo\nthree, on beta\n[[Category:Synced]]'
	wait_for 5 has_text alpha "$t" "$want"
	wait_for 3 has_text gamma "$t" "$want"
	wait_for 5 idle
	has_text beta "$t" "$want"
	[ "$(held)" -eq 0 ]
	run bed_text alpha "User talk:Editor"
	[[ "$output" == *"== [[$t]] is back =="*"edited meanwhile on beta"* ]]
}

@test "deleted on alpha after an edit there not yet synced, while edited on beta: alpha's page is restored, both edits everywhere" {
	t="Deleted With Edit"
	synced "$t" $'one\ntwo\n[[Category:Synced]]'
	edit alpha "$t" $'zero, on alpha\none\ntwo\n[[Category:Synced]]' "alpha's line" >/dev/null
	ws-testbed delete "$BED" alpha "$t" "not needed after all"
	edit beta "$t" $'one\ntwo\nthree, on beta\n[[Category:Synced]]' "beta's line" >/dev/null
	want=$'zero, on alpha\none\ntwo\nthree, on beta\n[[Category:Synced]]'
	drained "$t"
	everywhere "$t" "$want"
	# restored on alpha, not made again: alpha's revisions are its history
	run history alpha "$t"
	[[ "$output" == *"Editor	alpha's line	"* ]]
}

@test "an edit saved on beta as the sync user deletes the page there is restored, and wins" {
	t="Deleted Unseen"
	synced "$t" $'first\n[[Category:Synced]]'
	job=$(delete_job alpha "$t" "old")
	# beta's editor saves just before the sync user deletes the page there
	interpose beta "^POST .*action=delete.*title=$t" \
	    "ws-testbed edit '$BED' beta '$t' 'first
second, saved as it went
[[Category:Synced]]' 'saved as it went'"
	push_interposed "$job"
	want=$'first\nsecond, saved as it went\n[[Category:Synced]]'
	has_text beta "$t" "$want"
	drained "$t"
	everywhere "$t" "$want"
}

@test "deleted on alpha between the job's two readings of it, edited there and on beta since the last agreement: alpha's edit is kept (chaos seed 2, five wikis)" {
	t="Deleted Between Reads"
	synced "$t" $'first\n[[Category:Synced]]'
	edit alpha "$t" $'first\nalpha, then deleted\n[[Category:Synced]]' >/dev/null
	edit beta "$t" $'beta, meanwhile\nfirst\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	# alpha's editor deletes the page as the job asks for alpha's text,
	# after it saw alpha's newest revision
	interpose alpha "^GET .*titles=$t&.*rvprop=[^&]*content" \
	    "ws-testbed delete '$BED' alpha '$t' 'not wanted'"
	push_interposed "$job"
	drained "$t"
	want=$'beta, meanwhile\nfirst\nalpha, then deleted\n[[Category:Synced]]'
	everywhere "$t" "$want"
}

@test "deleted on alpha as its revisions are read for replay: the deletion is followed, not undone, and a restore brings alpha's edit everywhere" {
	t="Deleted Mid Replay"
	synced "$t" $'first\n[[Category:Synced]]'
	edit alpha "$t" $'first\nalpha, then deleted\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	interpose alpha "^GET .*prop=revisions&titles=$t&.*rvprop=[^&]*content" \
	    "ws-testbed delete '$BED' alpha '$t' 'not wanted'"
	push_interposed "$job"
	drained "$t"
	for w in alpha beta gamma; do
		missing "$w" "$t"
	done
	[ "$(last_log beta delete "$t")" = "Peerd	deleted on alpha by Editor: not wanted" ]
	ws-testbed undelete "$BED" alpha "$t" "wanted after all"
	want=$'first\nalpha, then deleted\n[[Category:Synced]]'
	wait_for 5 has_text beta "$t" "$want"
	wait_for 5 has_text gamma "$t" "$want"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "deleted on alpha while gamma was behind, then restored: gamma's own text comes back as its base, and no line is lost (chaos seed 2, three wikis)" {
	t="Behind At Deletion"
	synced "$t" $'first\n[[Category:Synced]]'
	ws-testbed stop "$BED" gamma
	want=$'first\nwhile gamma was down\n[[Category:Synced]]'
	edit alpha "$t" "$want" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	run ws-verify "$job"
	assert_status 75		# gamma is behind: the job stays
	has_text beta "$t" "$want"
	ws-testbed start "$BED" gamma
	ws-testbed delete "$BED" alpha "$t" "not wanted"
	drained "$t"
	for w in alpha beta gamma; do
		missing "$w" "$t"
	done
	peerd_stop
	ws-testbed undelete "$BED" alpha "$t" "wanted after all"
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# gamma's editor saves on the text gamma got back, before the
	# job reads gamma again
	interpose gamma "^POST .*action=undelete.*title=$t" "true" \
	    "^GET .*titles=$t&" "ws-testbed edit '$BED' gamma '$t' 'first
gamma, once back
[[Category:Synced]]' 'once back'"
	push_interposed "$job" "ws-testbed edit"
	drained "$t"
	for w in alpha beta gamma; do
		[[ "$(bed_text "$w" "$t")" == *"while gamma was down"* ]]
		[[ "$(bed_text "$w" "$t")" == *"gamma, once back"* ]]
	done
	[ "$(held)" -eq 0 ]
}

@test "restored on alpha while the others follow its deletion: the later restore wins everywhere (chaos -D)" {
	t="Briefly Gone"
	synced "$t" $'back soon\n[[Category:Synced]]'
	job=$(delete_job alpha "$t" "oops")
	# alpha's editor restores the page after beta followed, before gamma
	interpose gamma "^POST .*action=delete.*title=$t" \
	    "ws-testbed undelete '$BED' alpha '$t' 'deleted by mistake'"
	push_interposed "$job"
	drained "$t"
	for w in alpha beta gamma; do
		has_text "$w" "$t" $'back soon\n[[Category:Synced]]'
	done
	# deleted once, by its editor, restored once: not deleted again
	[ "$(log_count alpha delete delete "$t")" -eq 1 ]
	[ "$(held)" -eq 0 ]
}

@test "the deletion's job run again writes nothing: the page stays deleted everywhere" {
	t="Gone Twice"
	synced "$t" $'short-lived\n[[Category:Synced]]'
	job=$(delete_job alpha "$t" "twice")
	push_verify "$job"
	for w in alpha beta gamma; do missing "$w" "$t"; done
	n=$(log_count beta delete delete "$t")
	push_verify "$job"
	[ "$(log_count beta delete delete "$t")" -eq "$n" ]
	for w in alpha beta gamma; do missing "$w" "$t"; done
	ws-queue done "$job"
}

@test "the edit that takes a page out of the category reaches beta and gamma; the next edit stays on alpha" {
	t="Leaving Page"
	watch alpha "$t"
	edit alpha "$t" $'in the group\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_text beta "$t" $'in the group\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$t" $'in the group\n[[Category:Synced]]'
	wait_for 5 idle
	edit alpha "$t" 'out of the group now' "leaves" >/dev/null
	wait_for 3 has_text beta "$t" 'out of the group now'
	wait_for 3 has_text gamma "$t" 'out of the group now'
	wait_for 5 idle
	edit alpha "$t" 'alpha only' "stays" >/dev/null
	sleep 1
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	has_text beta "$t" 'out of the group now'
	has_text gamma "$t" 'out of the group now'
}

@test "put back in the category, the page syncs again from where it left" {
	t="Leaving Page"
	edit alpha "$t" $'back in\n[[Category:Synced]]' "back" >/dev/null
	wait_for 3 has_text beta "$t" $'back in\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$t" $'back in\n[[Category:Synced]]'
	wait_for 5 idle
	for w in beta gamma; do
		run history "$w" "$t"
		[ "${#lines[@]}" -eq 4 ]
		[[ "${lines[1]}" == "Peerd	from alpha r"*" by Editor: leaves	"* ]]
		[[ "${lines[2]}" == "Peerd	from alpha r"*" by Editor: stays	"* ]]
		[[ "${lines[3]}" == "Peerd	from alpha r"*" by Editor: back	"* ]]
	done
}

@test "the edit taking a page out of the category, its mail lost, is caught by ws-scan: the page synced there is still synced" {
	t="Lost Leaving"
	synced "$t" $'in\n[[Category:Synced]]'
	edit alpha "$t" $'out of the category' >/dev/null
	wait_for 3 has_job alpha "$t"
	# the mail lost: its job gone before anything ran it
	ws-queue done "$(jobof alpha "$t")"
	run ws-scan
	assert_status 0
	has_job alpha "$t"
	peerd_start
	wait_for 3 has_text beta "$t" 'out of the category'
	wait_for 3 has_text gamma "$t" 'out of the category'
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "a page missing on alpha with no deletion in its log (a wiki restored from an old backup) is held, not deleted on the others" {
	t="Missing Unlogged"
	synced "$t" $'still here\n[[Category:Synced]]'
	# the page row gone, as from a backup older than the page: no log
	php -r '$d = new PDO("sqlite:" . $argv[1]);
	    $d->exec("DELETE FROM page WHERE page_namespace = 0 AND page_title = " . $d->quote($argv[2]));' \
	    "$BED/alpha/db/wiki.sqlite" "${t// /_}"
	missing alpha "$t"
	job=$(ws-queue add alpha "$t")
	run ws-push "$job"
	assert_status 65
	[[ "$output" == *"alpha: $t: missing there, but its log shows no deletion of the page synced"* ]]
	has_text beta "$t" $'still here\n[[Category:Synced]]'
	has_text gamma "$t" $'still here\n[[Category:Synced]]'
	ws-queue hold "$job" "a test"
}

@test "past deletions-per-hour, a deletion on alpha is held and its page stays on the others; set to spread and released, it goes" {
	a="Cap First" b="Cap Second"
	synced "$a" $'first\n[[Category:Synced]]'
	peerd_start
	synced "$b" $'second\n[[Category:Synced]]'
	sed '/^\[wiki alpha\]/i deletions-per-hour = 1' "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/cap.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/cap.conf
	[ "$(ws-conf | grep '^deletions-per-hour')" = "deletions-per-hour = 1" ]
	# the hour's count afresh: the file's other tests deleted on alpha
	rm -f "$WIKISYNC_SPOOL/state/alpha.deleted"
	job=$(delete_job alpha "$a" "one")
	push_verify "$job"
	ws-queue done "$job"
	missing beta "$a"
	job=$(delete_job alpha "$b" "two")
	run ws-push "$job"
	assert_status 65
	[[ "$output" == *"alpha: $b: 1 deletions from alpha spread in the last hour (deletions-per-hour): not deleted on the others"* ]]
	has_text beta "$b" $'second\n[[Category:Synced]]'
	has_text gamma "$b" $'second\n[[Category:Synced]]'
	ws-queue set "$job" deletion=spread
	push_verify "$job"
	ws-queue done "$job"
	missing beta "$b"
	missing gamma "$b"
}

@test "a deletion whose mail was lost is caught by ws-scan from the wiki's recent changes" {
	t="Lost Deletion"
	synced "$t" $'mail lost\n[[Category:Synced]]'
	job=$(delete_job alpha "$t" "quietly")
	# the mail lost: its job gone before anything ran it
	ws-queue done "$job"
	[ -z "$(jobof alpha "$t")" ]
	run ws-scan
	assert_status 0
	has_job alpha "$t"
	peerd_start
	wait_for 3 missing beta "$t"
	wait_for 3 missing gamma "$t"
	wait_for 5 idle
	# once the deletion is agreed on, a scan finds nothing more to do
	run ws-scan -v
	assert_status 0
	[ -z "$(jobof alpha "$t")" ]
}

@test "with deletions = keep a page deleted on alpha stays on beta and gamma, which sync on without alpha" {
	t="Kept Elsewhere"
	synced "$t" $'keep me\n[[Category:Synced]]'
	job=$(delete_job alpha "$t" "only here")
	sed '/^\[group /a deletions = keep' "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/keep.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/keep.conf
	push_verify "$job"
	ws-queue done "$job"
	has_text beta "$t" $'keep me\n[[Category:Synced]]'
	has_text gamma "$t" $'keep me\n[[Category:Synced]]'
	missing alpha "$t"
	# alpha's base says its deletion was kept, with the text before
	run base alpha "$t"
	[[ "$output" == "$(printf 'keep me\n[[Category:Synced]]' | sha1sum | cut -d' ' -f1) kept "* ]]
	run ws-status -t
	[[ "$output" == *$'\nkept\talpha\tKept Elsewhere\n'* ]]
	run ws-status
	[[ "$output" == *"Deleted on one wiki, kept on the others"*"alpha"*"Kept Elsewhere"* ]]
	edit beta "$t" $'keep me\nand me, on beta\n[[Category:Synced]]' "beta goes on" >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	push_verify "$job"
	ws-queue done "$job"
	has_text gamma "$t" $'keep me\nand me, on beta\n[[Category:Synced]]'
	missing alpha "$t"
	run ws-status -t
	[[ "$output" == *$'\nkept\talpha\tKept Elsewhere\n'* ]]
	bed_setup
}
