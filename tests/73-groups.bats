#!/usr/bin/env bats
# Groups managed from a wiki, on the real bed: ws-peerd loads the groups
# page at start and again on its mail, scans what changed, keeps the old
# groups when the page goes wrong, and publishes its status to a page.

load helper
load bed
load sync

GPAGE="WikiSync groups"

setup_file() {
	bed_up 2
	edit alpha "Template:WikiSync group" "$(cat "$TOP/scripts/WikiSync_group.wiki")" >/dev/null
	edit alpha "$GPAGE" "Synced here:
{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs}}" >/dev/null
	{
		echo "groups-page = alpha:$GPAGE"
		echo "status-page = beta:WikiSync status"
		cat "$WIKISYNC_CONF"
	} >"$BED/conf.tmp"
	mv "$BED/conf.tmp" "$WIKISYNC_CONF"
	peerd_start
	wait_for 20 test -s "$WIKISYNC_SPOOL/groups.wiki"
}
teardown_file() { sync_teardown_file; }

setup() {
	common_setup
	bed_setup
}

teardown() { bed_teardown; }

# status_has TEXT: the published status page holds TEXT
status_has() { [[ "$(bed_text beta "WikiSync status")" == *"$1"* ]]; }

@test "the groups page is loaded at start, watched, and its group syncs" {
	run --separate-stderr ws-conf groups
	assert_status 0
	[ "$output" = "test
docs" ]
	run ws-status -t
	[[ "$output" == *"groups-page	alpha:$GPAGE	ok	"*"	-"* ]]
	watch alpha "Doc One"
	edit alpha "Doc One" "A doc. [[Category:Docs]]" >/dev/null
	wait_for 5 has_text beta "Doc One" "A doc. [[Category:Docs]]"
	wait_for 5 idle
	# ws-peerd published after the job: the page says which page synced
	wait_for 10 status_has "Doc One on alpha"
	status_has "in force"
	# the template shipped for operators shows each call as a table
	run ws-testbed api "$BED" alpha action=parse page="$GPAGE" prop=text
	assert_status 0
	[[ "$output" == *"wikitable"*"WikiSync group <code>docs</code>"*"alpha, beta"*"Docs"* ]]
}

@test "an edit of the groups page changes what is synced, without a restart" {
	watch alpha "Manual One"
	edit alpha "Manual One" "A manual. [[Category:Manuals]]" >/dev/null
	sleep 1
	wait_for 5 idle
	run bed_text beta "Manual One"
	assert_status 1
	edit alpha "$GPAGE" "Synced here:
{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals}}" >/dev/null
	# its mail reloads it; the changed group is scanned in full
	wait_for 20 has_text beta "Manual One" "A manual. [[Category:Manuals]]"
	grep -q "groups page: scanning docs" "$BED/peerd.log"
	run ws-conf
	[[ "$output" == *"categories = Docs, Manuals"* ]]
	wait_for 5 idle
}

@test "a broken groups page keeps the old groups and shows the error" {
	edit alpha "$GPAGE" "{{WikiSync group|name=docs|wikis=alpha, gamma|categories=Docs}}" >/dev/null
	wait_for 10 test -s "$WIKISYNC_SPOOL/groups.err"
	local why="alpha:$GPAGE:1: group docs: unknown wiki \"gamma\" (the wikis are alpha, beta)"
	[ "$(cat "$WIKISYNC_SPOOL/groups.err")" = "$why" ]
	grep -qF "ws-groups: $why: the groups stay as they were" "$BED/peerd.log"
	run ws-status -t
	assert_status 1
	[[ "$output" == *"groups-page	alpha:$GPAGE	refused	"*"	$why"* ]]
	# the page's readers learn that it was refused; the why is the
	# operator's (ws-status on the syncing host)
	wait_for 10 status_has "refused: ws-status on the syncing host says why"
	[[ "$(bed_text beta "WikiSync status")" != *"unknown wiki"* ]]
	# the old groups hold: a new manual still syncs
	watch alpha "Manual Two"
	edit alpha "Manual Two" "Another manual. [[Category:Manuals]]" >/dev/null
	wait_for 5 has_text beta "Manual Two" "Another manual. [[Category:Manuals]]"
	# mended: the error goes, from the spool and from the status page
	edit alpha "$GPAGE" "{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals}}" >/dev/null
	wait_for 10 test ! -e "$WIKISYNC_SPOOL/groups.err"
	run ws-status -t
	[[ "$output" == *"groups-page	alpha:$GPAGE	ok	"* ]]
	wait_for 10 status_has "in force"
	wait_for 5 idle
}

@test "a groups page revision by a user in no group of groups-trust is refused; a trusted user's later edit does not clear it, a revert does" {
	ws-testbed edit -u visitor "$BED" alpha "$GPAGE" \
	    "{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals, Visitors}}" >/dev/null
	wait_for 10 test -s "$WIKISYNC_SPOOL/groups.err"
	why=$(cat "$WIKISYNC_SPOOL/groups.err")
	[[ "$why" == "alpha:$GPAGE: not trusted: r"[0-9]*" by Visitor, who is in no group of groups-trust" ]]
	grep -qF "ws-groups: $why: the groups stay as they were" "$BED/peerd.log"
	run ws-status -t
	assert_status 1
	[[ "$output" == *"groups-page	alpha:$GPAGE	refused	"* ]]
	# the visitor's category is not synced
	watch alpha "Visitor Page"
	edit alpha "Visitor Page" "From a visitor. [[Category:Visitors]]" >/dev/null
	wait_for 5 idle
	missing beta "Visitor Page"
	# an administrator's edit on top launders nothing: the visitor's
	# revision is still there, under it
	edit alpha "$GPAGE" "Checked.
{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals, Visitors}}" >/dev/null
	wait_for 10 grep -q "a later edit" "$WIKISYNC_SPOOL/groups.err"
	why=$(cat "$WIKISYNC_SPOOL/groups.err")
	[[ "$why" == "alpha:$GPAGE: not trusted: r"[0-9]*" by Visitor, who is in no group of groups-trust (a later edit does not make it trusted; a trusted user's revert to the groups in force does)" ]]
	run ws-conf groups
	[ "$output" = "test
docs" ]
	# an administrator's revert to the groups in force clears it; the
	# change made again on top of that is trusted
	edit alpha "$GPAGE" "$(cat "$WIKISYNC_SPOOL/groups.wiki")" >/dev/null
	wait_for 10 test ! -e "$WIKISYNC_SPOOL/groups.err"
	edit alpha "$GPAGE" "Checked.
{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals, Visitors}}" >/dev/null
	wait_for 10 sh -c 'ws-conf | grep -qx "categories = Docs, Manuals, Visitors"'
	edit alpha "Visitor Page" "From a visitor, again. [[Category:Visitors]]" >/dev/null
	wait_for 10 has_text beta "Visitor Page" "From a visitor, again. [[Category:Visitors]]"
	# groups-trust names the groups; a sysop is no one special then
	# (a spool with no groups in force: the whole history is read)
	{ echo "groups-trust = bureaucrat"; cat "$WIKISYNC_CONF"; } >"$BATS_TEST_TMPDIR/trust.conf"
	mkdir "$BATS_TEST_TMPDIR/none"
	run --separate-stderr ws-groups -c "$BATS_TEST_TMPDIR/trust.conf" -d "$BATS_TEST_TMPDIR/none" -n
	assert_status 65
	[[ "$stderr" == *"not trusted: r"[0-9]*" by Editor, who is in no group of groups-trust"* ]]
	# the groups as the next tests expect them
	edit alpha "$GPAGE" "{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals}}" >/dev/null
	wait_for 10 sh -c 'ws-conf | grep -qx "categories = Docs, Manuals"'
	wait_for 5 idle
}

@test "the groups page cannot be taken over through the sync account: never synced onto, its edits never trusted, protected or not" {
	local mine="{{WikiSync group|name=mine|wikis=alpha, beta|categories=Docs}}"
	# a visitor on beta makes a page of the groups page's title in a
	# synced category, naming a group of their own
	watch beta "$GPAGE"
	ws-testbed edit -u visitor "$BED" beta "$GPAGE" "$mine [[Category:Docs]]" >/dev/null
	wait_for 10 grep -qF "beta: $GPAGE: the groups page, never synced" "$BED/peerd.log"
	wait_for 5 idle
	run ws-testbed api "$BED" alpha action=query prop=revisions titles="$GPAGE" rvprop=user
	assert_status 0
	[[ "$output" == *'"user":"Editor"'* ]]
	[ ! -e "$WIKISYNC_SPOOL/groups.err" ]
	# what the sync account writes on the groups page is never trusted
	# (as if it had been copied there before this rule; a wiki mails
	# no one their own edit, so it is loaded as a scan would)
	printf '%s\n' "$mine" | ws-api edit alpha "$GPAGE" >/dev/null
	run --separate-stderr ws-groups
	assert_status 65
	why=$(cat "$WIKISYNC_SPOOL/groups.err")
	[[ "$why" == "alpha:$GPAGE: not trusted: r"[0-9]*" by $WS_SYNC_USER, the sync account, whose edits are never trusted" ]]
	[ "$stderr" = "ws-groups: $why: the groups stay as they were" ]
	run ws-status -t
	assert_status 1
	[[ "$output" == *"groups-page	alpha:$GPAGE	refused	"* ]]
	run ws-conf groups
	[ "$output" = "test
docs" ]
	# nor protected afterwards
	run ws-testbed api "$BED" alpha action=protect title="$GPAGE" protections=edit=sysop
	assert_status 0
	[[ "$output" == *'"protections":'* ]]
	run --separate-stderr ws-groups -n
	assert_status 65
	[[ "$stderr" == *"by $WS_SYNC_USER, the sync account, whose edits are never trusted"* ]]
	# an administrator's revert to the groups in force clears it
	edit alpha "$GPAGE" "$(cat "$WIKISYNC_SPOOL/groups.wiki")" >/dev/null
	wait_for 10 test ! -e "$WIKISYNC_SPOOL/groups.err"
	run ws-testbed api "$BED" alpha action=protect title="$GPAGE" protections=edit=all
	assert_status 0
	# the visitor's page goes from beta: a scan queues no job for it
	ws-testbed delete "$BED" beta "$GPAGE" >/dev/null
	wait_for 5 idle
}

@test "ws-groups on its own: unchanged prints nothing; a missing page is refused" {
	run --separate-stderr ws-groups
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	cp "$WIKISYNC_SPOOL/groups.wiki" "$BATS_TEST_TMPDIR/before"
	sed -i "s/^groups-page = .*/groups-page = alpha:No such groups page/" "$WIKISYNC_CONF"
	run --separate-stderr ws-groups
	sed -i "s/^groups-page = .*/groups-page = alpha:$GPAGE/" "$WIKISYNC_CONF"
	assert_status 65
	[ "$stderr" = "ws-groups: alpha:No such groups page: no such page: the groups stay as they were" ]
	cmp "$WIKISYNC_SPOOL/groups.wiki" "$BATS_TEST_TMPDIR/before"
	# -n reads the page and changes nothing
	run --separate-stderr ws-groups -n
	assert_status 0
	[[ "$output" == "[group docs]"* ]]
	[ -s "$WIKISYNC_SPOOL/groups.err" ]
	run ws-groups
	assert_status 0
	[ ! -e "$WIKISYNC_SPOOL/groups.err" ]
}

@test "a groups page edited while its mail was lost is reloaded after a scan" {
	peerd_stop
	edit alpha "$GPAGE" "{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals}}
{{WikiSync group|name=notes|wikis=beta, alpha|categories=Notes}}" >/dev/null
	# the mail is gone: the job it made is dropped (its own, not only
	# whatever job an earlier test left: the mail would come after)
	wait_for 5 has_job alpha "$GPAGE"
	for j in $(ws-queue ls | cut -f2); do ws-queue done "$j"; done
	run --separate-stderr ws-scan
	assert_status 0
	[ "$(ws-queue ls | wc -l)" -eq 1 ]
	peerd_start
	wait_for 10 grep -q "groups page: scanning notes" "$BED/peerd.log"
	run ws-conf groups
	[ "$output" = "test
docs
notes" ]
	wait_for 10 idle
}

@test "a groups page job is deferred, not lost, while its wiki cannot be read" {
	peerd_stop
	ws-testbed stop "$BED" alpha
	id=$(ws-queue add alpha "$GPAGE" event=edit)
	run --separate-stderr ws-peerd -1
	ws-testbed start "$BED" alpha
	assert_status 0
	[[ "$stderr" == *"ws-peerd: alpha: $GPAGE: deferred (groups page not read)"* ]]
	# (ws-peerd's own scan may have queued the page as well: same fate)
	run ws-queue ls -a
	[[ "$output" == *"wait	$id	alpha	$GPAGE	1	"*"	groups page: its wiki could not be read"* ]]
	for j in $(ws-queue ls -a | cut -f2); do ws-queue done "$j"; done
	peerd_start
}

@test "ws-groups warns when the wiki gives the page another title than groups-page" {
	edit alpha "Project:$GPAGE" "{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Manuals}}" >/dev/null
	sed -i "s/^groups-page = .*/groups-page = alpha:Project:$GPAGE/" "$WIKISYNC_CONF"
	run --separate-stderr ws-groups -n
	sed -i "s/^groups-page = .*/groups-page = alpha:$GPAGE/" "$WIKISYNC_CONF"
	assert_status 0
	[ "$stderr" = "ws-groups: alpha: Project:$GPAGE: the wiki calls it \"Alpha:$GPAGE\": write that in groups-page, or its mail will not reload the groups" ]
}

@test "a synced page moved onto the groups page's title on another wiki is not moved there on the groups page's wiki" {
	watch beta "Doc Moved"
	edit beta "Doc Moved" "Moving. [[Category:Docs]]" >/dev/null
	wait_for 10 has_text alpha "Doc Moved" "Moving. [[Category:Docs]]"
	wait_for 5 idle
	ws-testbed move "$BED" beta "Doc Moved" "$GPAGE" >/dev/null
	wait_for 10 grep -qF "not moved to $GPAGE as on beta: that is the groups page, which the sync moves nothing onto" "$BED/peerd.log"
	run ws-queue ls -a
	[[ "$output" == *"hold	"*"	Doc Moved	"* ]]
	has_text alpha "Doc Moved" "Moving. [[Category:Docs]]"
	run ws-testbed api "$BED" alpha action=query prop=revisions titles="$GPAGE" rvprop=user
	[[ "$output" == *'"user":"Editor"'* ]]
	for j in $(ws-queue ls -a | cut -f2); do ws-queue done "$j"; done
}
