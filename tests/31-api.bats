#!/usr/bin/env bats
# ws-api: each call of the MediaWiki client against real wikis (ws-testbed): revisions in batches
# with continuation, texts, pages and their categories, edits with their conflicts, the next
# revision, seen, watch, category members, recent changes. Exact output and exit codes.

load helper
load bed

setup_file() {
	bed_up 2 -m
	mkdir -p "$BATS_FILE_TMPDIR/spool"
}

teardown_file() { bed_down; }

setup() {
	common_setup
	bed_setup
	export WIKISYNC_SPOOL=$BATS_FILE_TMPDIR/spool
}

teardown() { bed_teardown; }

sha1() { printf '%s' "$1" | sha1sum | cut -d ' ' -f 1; }

@test "whoami: the sync user, its groups and rights" {
	run --separate-stderr ws-api whoami alpha
	assert_status 0
	[ "${lines[0]}" = "name	Peerd" ]
	[[ ${lines[1]} =~ ^id$'\t'[0-9]+$ ]]
	[[ ${lines[2]} == "groups	"*bot* ]]
	[[ ${lines[3]} == "rights	"*noratelimit* ]]
	[ "${lines[4]}" = "ratelimited	no" ]
}

@test "-v logs what the API warns of, one line each: a title not in NFC draws badutf8" {
	# "Cafe" and a combining acute: MediaWiki normalises it, and warns
	run --separate-stderr ws-api -v info alpha $'Cafe\xcc\x81 Warned'
	assert_status 0
	[[ $stderr == *"ws-api: alpha: API warning: query: badutf8: The value passed for \"titles\" contains invalid or non-normalized data."* ]]
	run --separate-stderr ws-api info alpha $'Cafe\xcc\x81 Warned'
	assert_status 0
	[[ $stderr != *"API warning"* ]]
}

@test "revs: the revisions after one, oldest first, 50 a request, each text checked" {
	r=()
	for i in $(seq 55); do
		out=$(ws-api edit -s "summary $i" alpha Many <<<"rev $i")
		[[ $out =~ ^saved$'\t'([0-9]+)$ ]]
		r+=("${BASH_REMATCH[1]}")
	done
	run --separate-stderr ws-api -v revs alpha Many
	assert_status 0
	[ "${#lines[@]}" -eq 55 ]
	[ "$(grep -c 'prop=revisions' <<<"$stderr")" -eq 2 ]
	for i in $(seq 0 54); do
		IFS=$'\t' read -r id parent ts flags size sha user comment <<<"${lines[$i]}"
		[ "$id" = "${r[$i]}" ]
		if [ "$i" -eq 0 ]; then
			[ "$parent" = 0 ]
		else
			[ "$parent" = "${r[$((i - 1))]}" ]
		fi
		[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
		[ "$flags" = - ]
		n=$((i + 1))
		[ "$size" -eq $((4 + ${#n})) ]
		[ "$sha" = "$(sha1 "rev $((i + 1))")" ]
		[ "$user" = Peerd ]
		[ "$comment" = "summary $((i + 1))" ]
	done
	run -0 ws-api revs alpha Many "${r[49]}"
	[ "$(cut -f 1 <<<"$output" | tr '\n' ' ')" = "${r[*]:50:5} " ]
	run -0 ws-api revs -n 3 alpha Many "${r[9]}"
	[ "$(cut -f 1 <<<"$output" | tr '\n' ' ')" = "${r[*]:10:3} " ]
	run -0 ws-api revs alpha Many "${r[9]}" "${r[11]}"
	[ "$(cut -f 1 <<<"$output" | tr '\n' ' ')" = "${r[*]:10:2} " ]
	run -0 ws-api revs alpha Many "${r[54]}"
	[ -z "$output" ]
	run -0 ws-api text -r "${r[6]}" alpha
	[ "$output" = "rev 7" ]
	run -0 ws-api text alpha Many
	[ "$output" = "rev 55" ]
}

@test "edit: saved, nochange, minor and bot flags, the text byte for byte" {
	printf 'Line one.\n\n\tTabbed, “quoted”, & = + %% ?\n' >"$BATS_TEST_TMPDIR/text"
	run --separate-stderr ws-api edit -s "a summary" alpha "Edit page" <"$BATS_TEST_TMPDIR/text"
	assert_status 0
	[[ $output =~ ^saved$'\t'([0-9]+)$ ]]
	r1=${BASH_REMATCH[1]}
	ws-api text alpha "Edit page" >"$BATS_TEST_TMPDIR/back"
	# MediaWiki drops the trailing newline
	[ "$(cat "$BATS_TEST_TMPDIR/back")" = "$(cat "$BATS_TEST_TMPDIR/text")" ]
	[ "$(head -c -1 "$BATS_TEST_TMPDIR/text" | sha1sum)" = "$(sha1sum <"$BATS_TEST_TMPDIR/back")" ]
	run -0 ws-api edit alpha "Edit page" <"$BATS_TEST_TMPDIR/text"
	[ "$output" = nochange ]
	run -0 ws-api edit -m alpha "Edit page" <<<"Minor."
	run -0 ws-api edit -b alpha "Edit page" <<<"Bot."
	run -0 ws-api revs alpha "Edit page" "$r1"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(cut -f 4 <<<"${lines[0]}")" = m ]
	[ "$(cut -f 4 <<<"${lines[1]}")" = - ]
	rb=$(cut -f 1 <<<"${lines[1]}")
	run -0 ws-api changes alpha 2000-01-01T00:00:00Z
	grep -qE "^[^	]+	edit	$rb	[0-9]+	b	" <<<"$output"
}

@test "edit on a base someone else changed since is a conflict (exit 1), and nothing is saved" {
	r1=$(ws-testbed edit "$BED" alpha "Conflict page" "line one")
	t1=$(ws-api revs alpha "Conflict page" | cut -f 3)
	# timestamps have whole seconds: the base must be a second older to tell
	sleep 1.1
	r2=$(ws-testbed edit "$BED" alpha "Conflict page" "line two")
	run --separate-stderr ws-api edit -r "$r1" alpha "Conflict page" <<<"line three"
	assert_status 1
	[ "$output" = "conflict	editconflict" ]
	[ -z "$stderr" ]
	run --separate-stderr ws-api edit -t "$t1" alpha "Conflict page" <<<"line three"
	assert_status 1
	[ "$output" = "conflict	editconflict" ]
	run -0 ws-api text alpha "Conflict page"
	[ "$output" = "line two" ]
	run -0 ws-api edit -r "$r2" alpha "Conflict page" <<<"line three"
	[[ $output == "saved	"* ]]
}

@test "edit -C on a page that exists and -N on one that does not are conflicts" {
	run -0 ws-api edit -C alpha "Create only" <<<"First."
	run -1 ws-api edit -C alpha "Create only" <<<"Second."
	[ "$output" = "conflict	articleexists" ]
	run -1 ws-api edit -N alpha "No such page here" <<<"Text."
	[ "$output" = "conflict	missingtitle" ]
	run -0 ws-api edit -N alpha "Create only" <<<"Second."
	run -0 ws-api text alpha "Create only"
	[ "$output" = Second. ]
}

@test "info and current: titles as the wiki names them, missing and invalid, categories" {
	run -0 ws-api edit alpha "Cat page" <<<"Text. [[Category:Synced]] [[Category:Other cat]]"
	rev=$(cut -f 2 <<<"$output")
	run --separate-stderr ws-api info alpha "cat page" "No such page" "Bad|title" "Talk:"
	assert_status 0
	[ "${#lines[@]}" -eq 4 ]
	[[ ${lines[0]} =~ ^Cat\ page$'\t'[0-9]+$'\t'$rev$'\t'[0-9T:-]+Z$'\t'[0-9]+$'\t'(Synced,Other\ cat|Other\ cat,Synced)$ ]]
	[ "${lines[1]}" = "No such page	missing" ]
	[ "${lines[2]}" = "Bad|title	invalid" ]
	[ "${lines[3]}" = "Talk:	invalid" ]
	run -0 ws-api current alpha "Cat page" "No such page"
	[[ ${lines[0]} =~ ^Cat\ page$'\t'$rev$'\t'[0-9T:-]+Z$'\t'$(sha1 "Text. [[Category:Synced]] [[Category:Other cat]]")$'\t'[0-9]+$ ]]
	[ "${lines[1]}" = "No such page	missing" ]
	# 60 titles: two requests, every title answered, in order
	mapfile -t titles < <(seq -f 'Numbered %g' 60)
	run --separate-stderr ws-api -v info alpha "${titles[@]}"
	assert_status 0
	[ "${#lines[@]}" -eq 60 ]
	[ "${lines[59]}" = "Numbered 60	missing" ]
	[ "$(grep -c 'prop=info' <<<"$stderr")" -eq 2 ]
}

@test "next: the revision after one and its page; nothing after the latest" {
	r1=$(ws-testbed edit "$BED" beta "Next page" "one")
	r2=$(ws-testbed edit "$BED" beta "Next page" "two")
	run -0 ws-api next beta "$r1"
	[ "$output" = "$r2	Next page" ]
	run -0 ws-api next beta "$r2"
	[ -z "$output" ]
	run --separate-stderr ws-api next beta 999999
	assert_status 65
	[[ $stderr == "ws-api: beta: next: nosuchrevid: "* ]]
}

@test "members: a category's pages, with or without the prefix" {
	for t in "Member one" "Member two"; do
		run -0 ws-api edit beta "$t" <<<"[[Category:Members]]"
	done
	run -0 ws-api edit beta "Not a member" <<<"Text."
	run -0 ws-api members beta Members
	[ "${#lines[@]}" -eq 2 ]
	t=$'\t'
	[[ ${lines[0]} =~ ^[0-9]+${t}0${t}Member\ one$ ]]
	[[ ${lines[1]} =~ ^[0-9]+${t}0${t}Member\ two$ ]]
	a=$output
	run -0 ws-api members beta Category:Members
	[ "$output" = "$a" ]
	run -0 ws-api members beta "No such category"
	[ -z "$output" ]
}

@test "changes: edits and new pages since a time, bot edits included; -x leaves out the sync user's" {
	since=$(date -u -d '-2 sec' +%Y-%m-%dT%H:%M:%SZ)
	re=$(ws-testbed edit "$BED" beta "Changed by editor" "Text.")
	run -0 ws-api edit -b beta "Changed by bot" <<<"Text."
	rb=$(cut -f 2 <<<"$output")
	run --separate-stderr ws-api changes beta "$since"
	assert_status 0
	grep -qE "^[0-9T:-]+Z	new	$re	0	N	$(sha1 Text.)	Editor	Changed by editor\$" <<<"$output"
	grep -qE "^[0-9T:-]+Z	new	$rb	0	Nb	$(sha1 Text.)	Peerd	Changed by bot\$" <<<"$output"
	run -0 ws-api changes -x beta "$since"
	grep -q "	Changed by editor\$" <<<"$output"
	run -1 grep -q "Peerd" <<<"$output"
}

@test "watch and seen: a watched page mails once, and again only once seen" {
	run -0 ws-api watch alpha "Watched one" "Watched two"
	run -0 ws-testbed api -u sync "$BED" alpha action=query list=watchlistraw
	[[ $output == *'"title":"Watched one"'* ]]
	[[ $output == *'"title":"Watched two"'* ]]
	n=$(bed_mails)
	run -0 ws-testbed edit "$BED" alpha "Watched one" "One."
	[ "$(bed_mails)" -eq $((n + 1)) ]
	run -0 ws-testbed edit "$BED" alpha "Watched one" "Two."
	[ "$(bed_mails)" -eq $((n + 1)) ]
	run -0 ws-api seen alpha "Watched one"
	run -0 ws-testbed edit "$BED" alpha "Watched one" "Three."
	[ "$(bed_mails)" -eq $((n + 2)) ]
}

@test "what does not exist is bad data (65); a wiki or revision id that cannot be is bad usage (64)" {
	run --separate-stderr ws-api revs alpha "Never made"
	assert_status 65
	[ "$stderr" = "ws-api: alpha: Never made: no such page" ]
	run --separate-stderr ws-api text alpha "Never made"
	assert_status 65
	run --separate-stderr ws-api text -r 999999 alpha
	assert_status 65
	run --separate-stderr ws-api revs alpha "Bad|title"
	assert_status 65
	[[ $stderr == "ws-api: alpha: Bad|title: invalid title: "* ]]
	run --separate-stderr ws-api revs alpha Many 999999
	assert_status 65
	[[ $stderr == *"badid_rvstartid"* ]]
	run --separate-stderr ws-api whoami omega
	assert_status 64
	[ "$stderr" = "ws-api: omega: no such wiki" ]
	run --separate-stderr ws-api next alpha 12x
	assert_status 64
	run --separate-stderr ws-api frobnicate alpha
	assert_status 64
	run --separate-stderr ws-api revs alpha
	assert_status 64
}
