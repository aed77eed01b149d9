#!/usr/bin/env bats
# A group of two MediaWiki releases, as a farm upgraded one wiki at a time
# holds for weeks (wikisync(7), COMPATIBILITY): alpha and gamma run 1.43,
# beta 1.39.  Edits, merges, moves, deletions, restores and files cross
# between the releases both ways, mail all the way, and every wiki ends
# with the same text.

load helper
load bed
load sync

loop_bed_hooks
setup_file() { sync_setup_file 3 -V 1.43,1.39,1.43; }

@test "the bed holds the two releases: alpha and gamma 1.43, beta 1.39" {
	[[ $WS_ALPHA_MW == 1.43.* ]]
	[[ $WS_BETA_MW == 1.39.* ]]
	[[ $WS_GAMMA_MW == 1.43.* ]]
}

@test "an edit on 1.39 reaches both 1.43 wikis, and one on 1.43 reaches 1.39: one revision each, by the sync account" {
	t="Across Releases"
	watch beta "$t"
	edit beta "$t" $'made on 1.39\n[[Category:Synced]]' "on beta" >/dev/null
	wait_for 3 has_text alpha "$t" $'made on 1.39\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$t" $'made on 1.39\n[[Category:Synced]]'
	wait_for 5 idle
	edit gamma "$t" $'made on 1.39\nedited on 1.43\n[[Category:Synced]]' "on gamma" >/dev/null
	wait_for 3 has_text beta "$t" $'made on 1.39\nedited on 1.43\n[[Category:Synced]]'
	wait_for 3 has_text alpha "$t" $'made on 1.39\nedited on 1.43\n[[Category:Synced]]'
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	run history alpha "$t"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "Peerd	from beta r"*" by Editor: on beta	"* ]]
	[[ "${lines[1]}" == "Peerd	from gamma r"*" by Editor: on gamma	"* ]]
	run history beta "$t"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "Peerd	from gamma r"*" by Editor: on gamma	"* ]]
}

@test "edits of different lines on 1.39 and 1.43 at once merge: every wiki has both, one agreement" {
	t="Merged Across"
	synced "$t" $'top\nmiddle\nbottom\n[[Category:Synced]]'
	edit beta "$t" $'top\nfrom 1.39\nmiddle\nbottom\n[[Category:Synced]]' >/dev/null
	edit gamma "$t" $'top\nmiddle\nbottom\nfrom 1.43\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	job=$(jobof beta "$t")
	push_verify "$job"
	ws-queue done "$job"
	want=$'top\nfrom 1.39\nmiddle\nbottom\nfrom 1.43\n[[Category:Synced]]'
	everywhere "$t" "$want"
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base beta "$t" | cut -d' ' -f1,3)" ]
	[ "$(base beta "$t" | cut -d' ' -f1,3)" = "$(base gamma "$t" | cut -d' ' -f1,3)" ]
	drained "$t"
	everywhere "$t" "$want"
}

@test "a page moved on 1.43 moves on 1.39, and one moved on 1.39 moves on 1.43, each leaving a redirect" {
	t="Release Move" to="Release Moved" to2="Release Moved Back"
	text=$'moving between releases\n[[Category:Synced]]'
	watch gamma "$t"
	edit gamma "$t" "$text" >/dev/null
	wait_for 3 has_text beta "$t" "$text"
	wait_for 3 has_text alpha "$t" "$text"
	wait_for 5 idle
	ws-testbed move "$BED" gamma "$t" "$to" "moved on 1.43"
	wait_for 3 has_text beta "$to" "$text"
	wait_for 3 has_text alpha "$to" "$text"
	wait_for 5 idle
	has_text beta "$t" "#REDIRECT [[$to]]"
	[ "$(last_log beta move "$t")" = "Peerd	moved on gamma by Editor: moved on 1.43	$to" ]
	ws-testbed move "$BED" beta "$to" "$to2" "moved on 1.39"
	wait_for 3 has_text alpha "$to2" "$text"
	wait_for 3 has_text gamma "$to2" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in alpha gamma; do
		has_text "$w" "$to" "#REDIRECT [[$to2]]"
		[ "$(last_log "$w" move "$to")" = "Peerd	moved on beta by Editor: moved on 1.39	$to2" ]
	done
}

@test "a page deleted on 1.39 goes from the 1.43 wikis; restored on 1.43, it is restored on 1.39 with its history" {
	t="Release Doomed"
	watch beta "$t"
	edit beta "$t" $'doomed across releases\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_text alpha "$t" $'doomed across releases\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$t" $'doomed across releases\n[[Category:Synced]]'
	wait_for 5 idle
	ws-testbed delete "$BED" beta "$t" "spam"
	wait_for 3 missing alpha "$t"
	wait_for 3 missing gamma "$t"
	wait_for 5 idle
	for w in alpha gamma; do
		[ "$(last_log "$w" delete "$t")" = "Peerd	deleted on beta by Editor: spam" ]
	done
	ws-testbed undelete "$BED" alpha "$t" "not spam"
	wait_for 3 has_text beta "$t" $'doomed across releases\n[[Category:Synced]]'
	wait_for 3 has_text gamma "$t" $'doomed across releases\n[[Category:Synced]]'
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	# beta's own revision restored there, none written anew
	run history beta "$t"
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "Editor	"* ]]
}

@test "a file shown on 1.43 is uploaded to 1.39; a new version uploaded on 1.39 reaches 1.43" {
	python3 "$TOP/tests/mkpng.py" "$BATS_TEST_TMPDIR/a.png" 8 8 21
	python3 "$TOP/tests/mkpng.py" "$BATS_TEST_TMPDIR/b.png" 8 8 22
	a=$(sha1sum "$BATS_TEST_TMPDIR/a.png" | cut -d' ' -f1)
	b=$(sha1sum "$BATS_TEST_TMPDIR/b.png" | cut -d' ' -f1)
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/a.png" "Release Map.png" "A map of releases."
	watch alpha "Release Mapped"
	edit alpha "Release Mapped" $'[[File:Release Map.png]]\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_file beta "File:Release Map.png" "$a"
	wait_for 3 has_file gamma "File:Release Map.png" "$a"
	wait_for 5 idle
	has_text beta "File:Release Map.png" "A map of releases."
	ws-testbed upload "$BED" beta "$BATS_TEST_TMPDIR/b.png" "Release Map.png"
	wait_for 3 has_file alpha "File:Release Map.png" "$b"
	wait_for 3 has_file gamma "File:Release Map.png" "$b"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}
