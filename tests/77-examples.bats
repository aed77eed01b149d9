#!/usr/bin/env bats
# Every EXAMPLES command of the man pages runs here as mandoc renders it
# (man_examples in helper.bash), so an example that does not work as
# printed (a quote lost in rendering, an option renamed) fails the suite.
# Each test first checks how many examples its page has: a new example
# needs its run here.  What a reader would put in is put in (a revision
# id of theirs, a spool of theirs), never a quote or an option.  The
# examples of ws-setup-spool(8) and of wikisync(7) SETTING UP run as
# root in tests/76-setting-up.bats, those of ws-hostbed(1) on its bed in
# tests/90-hosts.bats; pages without EXAMPLES are listed in the last test.

load helper
load bed
load sync

setup_file() {
	bed_up 2
	sed 's/^\[group test\]$/[group docs]/' "$BED/wikisync.conf" >"$BED/examples.conf"
}

teardown_file() { bed_down; }

setup() {
	common_setup
	bed_setup
	export WIKISYNC_CONF=$BED/examples.conf
	cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() { bed_teardown; }

# examples PAGE COUNT: EX holds the page's examples; there are COUNT
examples() {
	mapfile -d '' EX < <(man_examples "$1")
	if [ "${#EX[@]}" -ne "$2" ]; then
		printf '%s has %s examples, not %s: run the new ones here\n' "$1" "${#EX[@]}" "$2" >&2
		return 1
	fi
}

# ex N [FROM TO]...: run example N in bash, with each FROM put as TO
ex() {
	local cmd=${EX[$1]}
	shift
	while [ $# -ge 2 ]; do
		cmd=${cmd//"$1"/"$2"}
		shift 2
	done
	run --separate-stderr bash -c "$cmd"
}

@test "wikisync.conf(5): the example files are read as they say" {
	examples wikisync.conf.5 5
	printf '%s\n' "${EX[0]}" >two.conf
	run --separate-stderr ws-conf -c two.conf
	assert_status 0
	[[ $output == *"[group handbook]"*"categories = Handbook, Procedures"*"pages = Main Page"* ]]
	[[ $output == *"timeout = 60"* ]]
	ex 1
	assert_status 0
	[[ $output == *"[group docs]"* ]]
	printf '%s\n' "${EX[2]}" | cat - two.conf >three.conf
	run --separate-stderr ws-conf -c three.conf groups-page
	assert_status 0
	[ "$output" = "alpha:Handbook:WikiSync groups" ]
	# host A's file: its address at the top, host B's group at the end
	{ printf '%s\n' "${EX[3]}"; cat two.conf; printf '\n%s\n' "${EX[4]}"; } >a.conf
	run --separate-stderr ws-conf -c a.conf peerd
	assert_status 0
	[ "$output" = wikisync@a.example.org ]
	run --separate-stderr ws-conf -c a.conf
	assert_status 0
	[[ $output == *"[group news]"*"peerd = wikisync@b.example.org"* ]]
	# B's group taking A's category too is refused
	sed -i 's/^categories = News$/categories = News, Handbook/' a.conf
	run --separate-stderr ws-conf -c a.conf
	assert_status 78
	[[ $stderr == *"groups handbook and news both sync Handbook on wiki alpha"* ]]
}

@test "ws-api(1): whoami, revs and text, edit on a base revision, changes" {
	examples ws-api.1 4
	ex 0
	assert_status 0
	[[ $output == *Peerd* ]]
	edit alpha "Main Page" "Second text" >/dev/null
	last=$(edit alpha "Main Page" "Third text")
	ex 1 1234 1
	assert_status 0
	[[ $output == *"Third text"* ]]
	printf 'Fixed text\n' >text
	ex 2 1240 "$last"
	assert_status 0
	[ "$(bed_text alpha "Main Page")" = "Fixed text" ]
	# a base someone else saved after is refused: the example's promise
	printf 'Other text\n' >text
	ex 2 1240 "$((last - 1))"
	[ "$status" -ne 0 ]
	[ "$(bed_text alpha "Main Page")" = "Fixed text" ]
	ex 3
	assert_status 0
	[[ $output == *"Main Page"* ]]
}

@test "ws-conf(1): a new file checked, the spool" {
	examples ws-conf.1 2
	cp "$WIKISYNC_CONF" wikisync.conf.new
	ex 0
	assert_status 0
	echo 'bad line' >>wikisync.conf.new
	ex 0
	assert_status 78
	ex 1
	assert_status 0
	[ "$output" = "$WIKISYNC_SPOOL" ]
}

@test "ws-groups(1): a page checked from a file, and loaded with its groups scanned" {
	examples ws-groups.1 2
	edit alpha "Template:WikiSync group" "$(cat "$TOP/scripts/WikiSync_group.wiki")" >/dev/null
	edit alpha "Example groups" "{{WikiSync group|name=handbook|wikis=alpha, beta|categories=Handbook}}" >/dev/null
	echo "groups-page = alpha:Example groups" | cat - "$WIKISYNC_CONF" >groups.conf
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/groups.conf
	echo "{{WikiSync group|name=notes|wikis=alpha, beta|categories=Notes}}" >groups.txt
	ex 0
	assert_status 0
	echo "{{WikiSync group|name=notes|wikis=alpha, nowhere|categories=Notes}}" >groups.txt
	ex 0
	[ "$status" -ne 0 ]
	[[ $stderr == *nowhere* ]]
	ex 1
	assert_status 0
	grep -q "name=handbook" "$WIKISYNC_SPOOL/groups.wiki"
	rm -f "$WIKISYNC_SPOOL/groups.wiki" "$WIKISYNC_SPOOL/groups.err"
}

@test "ws-login(1): everywhere, kept alive, and the wikis that are down" {
	examples ws-login.1 3
	ex 0
	assert_status 0
	[[ $output == *"alpha up"*"beta up"* ]]
	ex 1
	assert_status 0
	[[ $output == *"alpha up"*"beta up"* ]]
	[ -z "$stderr" ]
	ex 2
	[ -z "$output" ]
	ws-testbed stop "$BED" beta
	ex 2
	ws-testbed start "$BED" beta
	[ "$output" = beta ]
}

@test "ws-merge(1): labels, a wiki merge with its box, conflicts counted" {
	examples ws-merge.1 3
	printf 'one\ntwo\nthree\n' >page.base
	printf 'one\nTWO\nthree\n' >page.alpha
	printf 'one\ntwo\nTHREE\n' >page.beta
	ex 0
	assert_status 0
	[ "$(cat page.alpha)" = "$(printf 'one\nTWO\nTHREE')" ]
	printf 'a\nb\nc\n' >base.txt
	printf 'a\nB1\nc\n' >alpha.txt
	printf 'a\nB2\nc\n' >beta.txt
	ex 1
	[ "$status" -eq 1 ]
	grep -q "alpha (Editor, r12)" merged.txt
	grep -q "beta (Other, r7)" merged.txt
	cp base.txt base; cp alpha.txt ours; cp beta.txt theirs
	ex 2
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(cat ours)" = "$(cat alpha.txt)" ]
}

@test "ws-peerd(8) and ws-scan(1): their crontab lines' commands, and the scans" {
	examples ws-peerd.8 1
	# a crontab line: its command is what follows the time and the user
	[[ ${EX[0]} =~ ^\*\ \*\ \*\ \*\ \*\ wikisync\ (.*)$ ]]
	cron=${BASH_REMATCH[1]}
	run --separate-stderr bash -c "$cron"
	assert_status 0
	examples ws-scan.1 3
	[[ ${EX[0]} =~ ^\*/10\ \*\ \*\ \*\ \*\ wikisync\ (.*)$ ]]
	run --separate-stderr bash -c "${BASH_REMATCH[1]}"
	assert_status 0
	[ -z "$output" ]
	ex 1
	assert_status 0
	[[ $output == *docs* ]]
	ex 2
	assert_status 0
	ws-queue recover -f >/dev/null
	while job=$(ws-queue take); do ws-queue "done" "$job"; done
}

@test "ws-push(1): what ws-peerd does for each job, by hand" {
	examples ws-push.1 1
	watch alpha "By Hand"
	edit alpha "By Hand" "Pushed by hand [[Category:Synced]]" >/dev/null
	wait_for 10 has_job alpha "By Hand"
	ex 0
	assert_status 0
	[ "$(bed_text beta "By Hand")" = "Pushed by hand [[Category:Synced]]" ]
	[ -z "$(ws-queue ls)" ]
}

@test "ws-queue(1): the worker loop, and what is held" {
	examples ws-queue.1 2
	id=$(ws-queue add alpha Loop)
	# work stands for whatever handles a job: here, it notes the job
	work() { echo "$1" >>worked; }
	export -f work
	run timeout 5 bash -c "${EX[0]}"
	[ "$status" -eq 124 ]
	grep -q "$id" worked
	[ -z "$(ws-queue ls -a)" ]
	id=$(ws-queue add alpha Held)
	job=$(ws-queue take)
	ws-queue hold "$job" "for the example"
	ex 1
	assert_status 0
	[[ $output == "hold"*"$id"*"Held"* ]]
	ws-queue release "$id"
	ws-queue "done" "$(ws-queue take)"
}

@test "ws-recv(1): a mail tried by hand, the Exim macros, what was not queued" {
	examples ws-recv.1 3
	sed "s|http://127.0.0.1:35678|${WS_ALPHA_URL%/index.php}|g" \
	    "$TOP/tests/fixtures/mail/changed.eml" >notification.eml
	ex 0
	assert_status 0
	[ -z "$(ws-queue ls)" ]
	# each macro is one the shipped snippets read
	while read -r name _; do
		grep -q "ifndef $name\|ifdef $name" "$TOP"/scripts/exim4/*/*
	done <<<"${EX[1]}"
	# no journal here: its lines, from a file
	echo "ws-recv: not queued: no notification" >journal
	mkdir -p "$WIKISYNC_SPOOL/bad"
	ex 2 "journalctl -t ws-recv -g 'not queued'" "grep 'not queued' journal" \
	    /var/spool/wikisync "$WIKISYNC_SPOOL"
	assert_status 0
	[[ $output == *"not queued"* ]]
}

@test "ws-status(1): at a glance, on a page, the wikis that are down" {
	examples ws-status.1 3
	ws-login -k -q
	ex 0
	[ "$status" -le 1 ]
	[[ $output == *alpha*up* ]]
	ex 1
	[ "$status" -le 1 ]
	[[ "$(bed_text alpha "WikiSync status")" == *alpha* ]]
	ex 2
	[ -z "$output" ]
	ws-testbed stop "$BED" beta
	ws-login -k -q || :
	ex 2
	ws-testbed start "$BED" beta
	ws-login -k -q
	[ "$output" = beta ]
}

@test "ws-store(1): a text put, set as a wiki's base, logged" {
	examples ws-store.1 1
	printf 'The main page.\n' >Main_Page.txt
	ex 0
	assert_status 0
	[[ $output == *"	alpha	Main Page	"*"	1042" ]]
}

@test "ws-testbed(1): a bed that keeps the mail, and one that delivers it" {
	examples ws-testbed.1 2
	b=$(bed_mktemp)
	rmdir "$b"
	ex 0 /tmp/bed "$b"
	status0=$status out0=$output
	ws-testbed down "$b" 2>/dev/null || :
	[ "$status0" -eq 0 ] || { echo "$out0"; return 1; }
	[[ $out0 == *"Subject: "* ]]
	[[ $out0 == *"gamma "*" up"* ]]
	rm -rf "$b"
	ex 1 /tmp/bed "$b"
	status1=$status out1=$output
	ws-testbed down "$b" 2>/dev/null || :
	rm -rf "$b"
	[ "$status1" -eq 0 ] || { echo "$out1"; return 1; }
	[[ $out1 == *"	alpha	Main Page	"* ]]
}

@test "the pages without examples, and ws-setup-spool's and ws-hostbed's, which run elsewhere" {
	for p in wikisync.1 wikisync.7 ws-verify.1; do
		examples "$p" 0
	done
	examples ws-setup-spool.8 1
	[ "${EX[0]}" = ws-setup-spool ]
	# tests/76-setting-up.bats runs it, as SETTING UP shows it
	mandoc -Tascii "$TOP/man/wikisync.7" | col -bx | grep -qx ' *# ws-setup-spool'
	# tests/90-hosts.bats brings its bed up with the first and takes it down with the second
	examples ws-hostbed.1 2
	grep -qF 'man_examples ws-hostbed.1' "$TOP/tests/90-hosts.bats"
	[ "$(find "$TOP/man" -name "*.[0-9]" | wc -l)" -eq 19 ]
}
