#!/usr/bin/env bats
# The sync protocol on three wikis (wikisync(7), THE PROTOCOL), one
# mechanism a test: each runs ws-push and ws-verify by hand with the loop
# stopped, so the schedule is exact, then lets the loop drain the rest.

load helper
load bed
load sync

setup_file() { sync_setup_file 3; }
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() {
	bed_teardown
	# a test that stopped a wiki or the loop leaves them up for the next
	for w in $WS_WIKIS; do ws-testbed start "$BED" "$w"; done
	unposed
	[ -f "$BED/peerd.pid" ] || peerd_start
}

@test "three wikis changed at once: one job leaves all three with one text holding every change" {
	t="Three Changes"
	synced "$t" $'top\nmiddle\nbottom\n[[Category:Synced]]'
	edit alpha "$t" $'top\nfrom alpha\nmiddle\nbottom\n[[Category:Synced]]' >/dev/null
	edit beta "$t" $'top\nmiddle\nfrom beta\nbottom\n[[Category:Synced]]' >/dev/null
	edit gamma "$t" $'top\nmiddle\nbottom\nfrom gamma\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "alpha: merged; beta: merged; gamma: merged" ]
	run ws-verify "$job"
	assert_status 0
	want=$'top\nfrom alpha\nmiddle\nfrom beta\nbottom\nfrom gamma\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		has_text "$w" "$t" "$want"
	done
	# the page's base moved on all three at once: one text, one agreement
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base beta "$t" | cut -d' ' -f1,3)" ]
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base gamma "$t" | cut -d' ' -f1,3)" ]
	ws-queue done "$job"
	# the mails from beta and gamma find nothing left to do
	drained "$t"
	has_text alpha "$t" "$want"
	[ "$(history beta "$t" | wc -l)" -eq 3 ]
}

@test "a verify cut short by a wiki that is down moves no base; the next moves all three together" {
	t="Cut Short"
	synced "$t" "one [[Category:Synced]]"
	before=$(base alpha "$t")
	edit alpha "$t" "two [[Category:Synced]]" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 1 revision; gamma: 1 revision" ]
	ws-testbed stop "$BED" gamma
	run ws-verify "$job"
	assert_status 75
	for w in alpha beta gamma; do
		[ "$(base "$w" "$t" | cut -d' ' -f1)" = "${before%% *}" ]
	done
	ws-testbed start "$BED" gamma
	run ws-verify "$job"
	assert_status 0
	[ "$(base alpha "$t" | cut -d' ' -f1)" != "${before%% *}" ]
	for w in beta gamma; do
		[ "$(base "$w" "$t" | cut -d' ' -f1,3)" = "$(base alpha "$t" | cut -d' ' -f1,3)" ]
	done
	ws-queue done "$job"
	drained "$t"
}

@test "an agreement naming a wiki no longer configured verifies the others" {
	t="Gone Wiki"
	synced "$t" "first [[Category:Synced]]"
	edit alpha "$t" "second [[Category:Synced]]" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	ws-push "$job" >/dev/null
	ws-queue set "$job" "sync=$(ws-queue get "$job" sync) zeta:3"
	run --separate-stderr ws-verify "$job"
	assert_status 0
	[[ "$stderr" == *"zeta: no longer configured"* ]]
	ws-queue done "$job"
	drained "$t"
}

@test "a job that spells the title with a small first letter syncs the page the wiki names" {
	t="Small Start"
	synced "$t" "before [[Category:Synced]]"
	edit alpha "$t" "after [[Category:Synced]]" >/dev/null
	job=$(ws-queue add alpha "small Start")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 1 revision; gamma: 1 revision" ]
	[ "$(ws-queue get "$job" sync.title)" = "$t" ]
	run ws-verify "$job"
	assert_status 0
	has_text beta "$t" "after [[Category:Synced]]"
	[ "$(base beta "$t" | cut -d' ' -f1)" = "$(base alpha "$t" | cut -d' ' -f1)" ]
	[ ! -e "$WIKISYNC_SPOOL/store/cur/beta/$(printf 'small Start' | md5sum | cut -d' ' -f1)" ]
	ws-queue done "$job"
	drained "$t"
}

@test "a job that spells the title with a non-breaking space or a decomposed accent syncs the page the wiki names" {
	t=$'Caf\u00e9 Menu'
	synced "$t" "before [[Category:Synced]]"
	n=0
	for spelt in $'Caf\u00e9\u00a0Menu' $'Cafe\u0301 Menu'; do
		n=$((n + 1))
		edit alpha "$t" "after $n [[Category:Synced]]" >/dev/null
		job=$(ws-queue add alpha "$spelt")
		run --separate-stderr ws-push "$job"
		assert_status 0
		[ "$output" = "beta: 1 revision; gamma: 1 revision" ]
		[ "$(ws-queue get "$job" sync.title)" = "$t" ]
		run ws-verify "$job"
		assert_status 0
		ws-queue done "$job"
		has_text beta "$t" "after $n [[Category:Synced]]"
		has_text gamma "$t" "after $n [[Category:Synced]]"
	done
	[ "$(ls "$WIKISYNC_SPOOL/store/cur/beta" | wc -l)" -eq "$(ls "$WIKISYNC_SPOOL/store/cur/alpha" | wc -l)" ]
	for spelt in $'Caf\u00e9\u00a0Menu' $'Cafe\u0301 Menu'; do
		[ ! -e "$WIKISYNC_SPOOL/store/cur/beta/$(printf '%s' "$spelt" | md5sum | cut -d' ' -f1)" ]
	done
	drained "$t"
}

@test "a replay cut short resumes where the wiki is, with no revision twice" {
	t="Cut Replay"
	synced "$t" "r0 [[Category:Synced]]"
	for i in 1 2 3 4; do
		edit alpha "$t" "r$i [[Category:Synced]]" "rev $i" >/dev/null
	done
	# beta got the first two by an earlier run; gamma the first one
	for i in 1 2; do
		ws-testbed edit -u sync "$BED" beta "$t" "r$i [[Category:Synced]]" "copy $i" >/dev/null
	done
	ws-testbed edit -u sync "$BED" gamma "$t" "r1 [[Category:Synced]]" "copy 1" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 2 revisions; gamma: 3 revisions" ]
	run ws-verify "$job"
	assert_status 0
	ws-queue done "$job"
	drained "$t"
	history beta "$t" | cut -f2 | sed 's/^from alpha r[0-9]* by Editor: //' >"$BATS_TEST_TMPDIR/got"
	printf '%s\n' "Created page with \"r0 [[Category:Synced]]\"" "copy 1" "copy 2" "rev 3" "rev 4" >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

# two_on_alpha TITLE: TITLE synced on all three, then two edits on alpha
# (A1, then A2 below it) queued as a job
two_on_alpha() {
	synced "$1" $'top\nmiddle\nbottom\n[[Category:Synced]]'
	edit alpha "$1" $'top\nmiddle\nbottom\nA1\n[[Category:Synced]]' "a1" >/dev/null
	edit alpha "$1" $'top\nmiddle\nbottom\nA1\nA2\n[[Category:Synced]]' "a2" >/dev/null
	wait_for 3 has_job alpha "$1"
}

@test "a replayed revision MediaWiki merged with an edit made meanwhile ends the replay; the edit reaches every wiki" {
	t="Merged Meanwhile"
	two_on_alpha "$t"
	job=$(jobof alpha "$t")
	# gamma's editor saves just before the sync user's first edit there
	interpose gamma "^POST .*action=edit.*title=$t" \
	    "ws-testbed edit '$BED' gamma '$t' 'from gamma
top
middle
bottom
[[Category:Synced]]' 'gamma meanwhile'"
	run ws-push "$job"
	assert_status 0
	grep -q "# ran: " "$BATS_TEST_TMPDIR/proxy.log"
	run ws-verify "$job"
	assert_status 0
	unposed
	want=$'from gamma\ntop\nmiddle\nbottom\nA1\nA2\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		has_text "$w" "$t" "$want"
	done
	# no revision of the sync user on gamma after the editor's lacks it
	history gamma "$t" | awk -F'\t' '$2 == "gamma meanwhile" { on = 1; next } on' |
	    while IFS=$'\t' read -r user comment sha; do
		[ "$user" = Peerd ] || continue
		rev=$(ws-testbed api "$BED" gamma action=query prop=revisions titles="$t" \
		    rvprop='sha1|content' rvslots=main rvlimit=max |
		    python3 -c 'import json,sys
for r in json.load(sys.stdin)["query"]["pages"][0]["revisions"]:
    if r["sha1"] == sys.argv[1]: print(r["slots"]["main"]["content"])' "$sha")
		[[ "$rev" == "from gamma"* ]] || { echo "gamma: $comment drops the edit"; false; }
	done
	ws-queue done "$job"
	drained "$t"
}

@test "the last replayed revision waits for the next second: an editor who loaded the one before conflicts instead of overwriting it" {
	t="Same Second"
	two_on_alpha "$t"
	job=$(jobof alpha "$t")
	# the first replayed revision early in a second; beta's editor loads
	# it just before the second one is saved
	interpose beta "^POST .*action=edit.*title=$t" \
	    "bash -c 'sleep 0.\$(( 1000 - 10#\$(date +%N | cut -c1-3) ))'" \
	    "^POST .*action=edit.*title=$t" \
	    "curl -s -G -d action=query -d format=json -d formatversion=2 -d prop=revisions -d rvprop=ids --data-urlencode 'titles=$t' '$WS_BETA_API' >'$BATS_TEST_TMPDIR/loaded'"
	run ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 2 revisions; gamma: 2 revisions" ]
	unposed
	r1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["query"]["pages"][0]["revisions"][0]["revid"])' \
	    "$BATS_TEST_TMPDIR/loaded")
	# the last one came in a later second than the one loaded
	ts() { ws-testbed api "$BED" beta action=query prop=revisions revids="$1" rvprop='timestamp|comment' |
	    python3 -c 'import json,sys; r = json.load(sys.stdin)["query"]["pages"][0]["revisions"][0]; print(r["timestamp"], r["comment"])'; }
	read -r t1 c1 <<<"$(ts "$r1")"
	read -r t2 c2 <<<"$(ts "$((r1 + 1))")"
	[[ "$c1" == *": a1" && "$c2" == *": a2" ]]
	[[ "$t2" > "$t1" ]]
	ws-queue done "$job"
	# the editor saves from the revision loaded
	ws-testbed edit -b "$r1" "$BED" beta "$t" $'from beta\ntop\nmiddle\nbottom\nA1\n[[Category:Synced]]' >/dev/null
	drained "$t"
	want=$'from beta\ntop\nmiddle\nbottom\nA1\nA2\n[[Category:Synced]]'
	for w in alpha beta gamma; do
		has_text "$w" "$t" "$want"
	done
}

@test "while gamma is down alpha and beta sync on; the job waits for gamma, due again once ws-login finds it up" {
	t="Down Meanwhile"
	synced "$t" "zero [[Category:Synced]]"
	before=$(base gamma "$t")
	ws-testbed stop "$BED" gamma
	edit alpha "$t" "one [[Category:Synced]]" "first" >/dev/null
	edit alpha "$t" "two [[Category:Synced]]" "second" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run --separate-stderr ws-push "$job"
	assert_status 0
	[ "$output" = "beta: 2 revisions; gamma: left out (connection refused)" ]
	has_text beta "$t" "two [[Category:Synced]]"
	run --separate-stderr ws-verify "$job"
	assert_status 75
	[[ "$stderr" == *"not yet on every wiki: gamma: "* ]]
	# alpha's and beta's bases moved, gamma's did not
	[ "$(base alpha "$t" | cut -d' ' -f1,3)" = "$(base beta "$t" | cut -d' ' -f1,3)" ]
	[ "$(base alpha "$t" | cut -d' ' -f3)" != "$(echo "$before" | cut -d' ' -f3)" ]
	[ "$(base gamma "$t")" = "$before" ]
	ws-queue defer "$job" "gamma down"
	[[ "$(ws-queue stats)" == *"due 0"* ]]
	ws-testbed start "$BED" gamma
	run ws-login -k gamma
	assert_status 0
	[[ "$(ws-queue stats)" == *"due 1"* ]]
	run --separate-stderr ws-push "$job"
	assert_status 0
	[ "$output" = "beta: has it; gamma: 2 revisions" ]
	run ws-verify "$job"
	assert_status 0
	[ "$(history gamma "$t" | cut -f2 | sed 's/.* by Editor: //' | tail -n 2 | paste -sd,)" = "first,second" ]
	ws-queue done "$job"
	drained "$t"
}

@test "with every wiki of the last agreement down the job waits, writing nothing; it merges once one is back" {
	t="Chain Link"
	synced "$t" $'top\nbottom\n[[Category:Synced]]'
	# alpha and beta agree without gamma
	ws-testbed stop "$BED" gamma
	edit alpha "$t" $'top\nfrom alpha\nbottom\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	ws-push "$job" >/dev/null
	run ws-verify "$job"
	assert_status 75
	# then gamma is back, edited, and alpha and beta are down
	ws-testbed start "$BED" gamma
	ws-testbed stop "$BED" alpha
	ws-testbed stop "$BED" beta
	edit gamma "$t" $'top\nbottom\nfrom gamma\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job gamma "$t"
	job=$(jobof gamma "$t")
	rev=$(history gamma "$t" | wc -l)
	run --separate-stderr ws-push "$job"
	assert_status 75
	[[ "$stderr" == *"waiting for "*", which holds its last agreement"* ]]
	[ "$(history gamma "$t" | wc -l)" -eq "$rev" ]
	ws-testbed start "$BED" alpha
	run --separate-stderr ws-push "$job"
	assert_status 0
	[[ "$output" == *"beta: left out"* ]]
	has_text alpha "$t" $'top\nfrom alpha\nbottom\nfrom gamma\n[[Category:Synced]]'
	has_text gamma "$t" $'top\nfrom alpha\nbottom\nfrom gamma\n[[Category:Synced]]'
	run ws-verify "$job"
	assert_status 75
	# the jobs wait for beta, which gets it all when back
	ws-testbed start "$BED" beta
	drained "$t"
	has_text beta "$t" $'top\nfrom alpha\nbottom\nfrom gamma\n[[Category:Synced]]'
}

@test "a page deleted and made again on one wiki is merged as a new page: nothing the others had is lost" {
	t="Made Again"
	synced "$t" $'one\ntwo\nthree\n[[Category:Synced]]'
	printf '%s\n' "$t" >"$BATS_TEST_TMPDIR/list"
	MW_CONFIG_FILE=$BED/beta/LocalSettings.php php "$(cat "$BED/beta/mediawiki")/maintenance/deleteBatch.php" \
	    -u Admin -r spam "$BATS_TEST_TMPDIR/list" >/dev/null
	edit beta "$t" $'made again on beta\n[[Category:Synced]]' >/dev/null
	edit alpha "$t" $'one\ntwo\nthree\nfour\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run --separate-stderr ws-push "$job"
	assert_status 0
	[[ "$stderr" == *"beta: $t: page "*", not "*" as at its last agreement: merged as a new page"* ]]
	run ws-verify "$job"
	assert_status 0
	ws-queue done "$job"
	drained "$t"
	for l in one two three four "made again on beta"; do
		bed_text alpha "$t" | grep -qx "$l" || { echo "lost: $l"; false; }
	done
	[ -z "$(ws-queue ls -a | awk -F'\t' '$1 == "hold"')" ]
}

@test "jobs queued for the page are folded into the one running, but not one whose mail came after it marked the page seen" {
	t="Fold Late"
	synced "$t" "zero [[Category:Synced]]"
	edit alpha "$t" "one [[Category:Synced]]" >/dev/null
	edit beta "$t" $'zero [[Category:Synced]]\nfrom beta' >/dev/null
	wait_for 3 has_job alpha "$t"
	wait_for 3 has_job beta "$t"
	early=$(jobof beta "$t")
	# taken, as the loop takes it: a mail now makes a job of its own
	job=$(basename "$(ws-queue take)")
	[ "$(ws-queue get "$job" wiki)" = alpha ]
	# just after the page is marked seen on alpha, alpha's editor saves again
	interpose alpha "^GET .*titles=$t.*prop=info\|categories&" \
	    "ws-testbed edit '$BED' alpha '$t' 'two [[Category:Synced]]' >/dev/null"
	run --separate-stderr ws-push "$job"
	assert_status 0
	unposed
	late=$(ws-queue ls | awk -F'\t' -v j="$job" '$3 == "alpha" && $2 != j { print $2 }')
	# beta's job, queued before, was folded in; the late one was not
	[ ! -e "$WIKISYNC_SPOOL/queue/new/$early" ]
	[ -n "$late" ]
	run ws-verify "$job"
	assert_status 0
	ws-queue done "$job"
	drained "$t"
	has_text beta "$t" $'two [[Category:Synced]]\nfrom beta'
	has_text gamma "$t" $'two [[Category:Synced]]\nfrom beta'
}

@test "a page moved away on a peer while ws-push saves there: the save makes no page at the old title, and the move is followed (bench/chaos: 5 wikis, lifecycle, seed 4)" {
	t="Moved While Saved"
	synced "$t" $'one\n[[Category:Synced]]'
	edit alpha "$t" $'one\ntwo\n[[Category:Synced]]' "two" >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# beta's editor moves the page, leaving no redirect, just before the
	# sync user's edit there
	interpose beta "^POST .*action=edit.*title=$t" \
	    "ws-testbed move -n '$BED' beta '$t' '$t moved' 'moved away' >/dev/null"
	push_interposed "$job" "ws-testbed move"
	missing beta "$t"
	drained "$t moved"
	for w in alpha beta gamma; do
		missing "$w" "$t"
		has_text "$w" "$t moved" $'one\ntwo\n[[Category:Synced]]'
	done
}

@test "an edit mailed while a job that will fold in its wiki's queued job runs is a job of its own, not taken as queued already (bench/chaos: 5 wikis, lifecycle, seed 5)" {
	t="Fold Window"
	synced "$t" $'one\n[[Category:Synced]]'
	edit beta "$t" $'one\nbeta first\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job beta "$t"
	edit alpha "$t" $'alpha first\none\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	# alpha's job lists beta's to fold in and marks the page seen there;
	# after its edit on beta, beta's editor saves again, and its mail is
	# delivered before the job ends
	interpose gamma "^POST .*action=edit" \
	    "n=\$(grep -c '=> peerd' '$WS_EXIM_LOG/mainlog')
	     ws-testbed edit '$BED' beta '$t' 'alpha first
one
beta first
beta again
[[Category:Synced]]' >/dev/null
	     for i in \$(seq 300); do
	         [ \$(grep -c '=> peerd' '$WS_EXIM_LOG/mainlog') -gt \$n ] && break; sleep 0.1
	     done"
	push_interposed "$job" "n="
	assert_status 0
	# the first of beta's jobs was folded in; the edit after has its own
	# (the loop's start-up scan would find it too: not relied on here)
	has_job beta "$t"
	ws-queue done "$job"
	peerd_start
	want=$'alpha first\none\nbeta first\nbeta again\n[[Category:Synced]]'
	wait_for 10 has_text gamma "$t" "$want"
	wait_for 10 idle
	everywhere "$t" "$want"
}

@test "a title in a namespace beta declares and alpha does not: the job is held naming both, nothing written on beta or gamma" {
	t="Handbook:Rules"
	ls=$BED/beta/LocalSettings.php
	cp "$ls" "$BATS_TEST_TMPDIR/LocalSettings.php"
	# shellcheck disable=SC2016
	printf '%s\n' '$wgExtraNamespaces[3000] = "Handbook";' \
	    '$wgExtraNamespaces[3001] = "Handbook_talk";' >>"$ls"
	peerd_stop
	watch alpha "$t"
	edit alpha "$t" $'the rules of alpha\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run --separate-stderr ws-push "$job"
	cp "$BATS_TEST_TMPDIR/LocalSettings.php" "$ls"
	assert_status 65
	[[ "$stderr" == *"$t: namespace 0 on alpha, 3000 on beta: not the same kind of page on both, not synced;"* ]]
	missing beta "$t"
	missing gamma "$t"
	# the namespace gone from beta (the operator's fix), the job syncs
	push_verify "$job"
	has_text beta "$t" $'the rules of alpha\n[[Category:Synced]]'
	has_text gamma "$t" $'the rules of alpha\n[[Category:Synced]]'
}

@test "a page protected on a peer is out of the sync account's reach: beta is left out with the wiki's reason, gamma synced, the job kept" {
	t="Protected There"
	synced "$t" $'one\n[[Category:Synced]]'
	# beta's administrator protects it; the sync account is none
	run -0 ws-testbed api "$BED" beta action=protect title="$t" protections=edit=sysop
	[[ "$output" == *'"protections":[{"edit":"sysop"'* ]]
	edit alpha "$t" $'two\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "$t"
	job=$(jobof alpha "$t")
	run --separate-stderr ws-push "$job"
	assert_status 0
	[[ "$output" == "beta: left out (protectedpage: "*"); gamma: 1 revision" ]]
	[[ "$stderr" == *"beta: $t: left out: protectedpage: "* ]]
	# the job waits (ws-peerd defers it, held after hold-after tries)
	run --separate-stderr ws-verify "$job"
	assert_status 77
	[[ "$stderr" == "ws-verify: $t: not yet on every wiki: beta: protectedpage: "* ]]
	has_text beta "$t" $'one\n[[Category:Synced]]'
	has_text gamma "$t" $'two\n[[Category:Synced]]'
	[ "$(jobof alpha "$t")" = "$job" ]
	# unprotected, the job tried again brings beta in
	run -0 ws-testbed api "$BED" beta action=protect title="$t" protections=edit=all
	push_verify "$job"
	ws-queue done "$job"
	has_text beta "$t" $'two\n[[Category:Synced]]'
}
