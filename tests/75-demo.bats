#!/usr/bin/env bats
# The demo (make demo): two bed wikis syncing, and the commands it prints
# for a look inside, which must work as pasted into a new shell; then its
# stop, which says what it leaves behind.

load helper
load bed
load sync

# text_is WIKI TITLE TEXT, queued TITLE: for wait_for
text_is() { [ "$(ws-api text "$1" "$2" 2>/dev/null)" = "$3" ]; }
queued() { [ -n "$(ws-queue ls | awk -F'\t' -v t="$1" '$4 == t')" ]; }

setup_file() {
	DEMO=$(bed_mktemp)
	rmdir "$DEMO"
	export DEMO
	"$TOP/scripts/ws-demo" "$DEMO" >"$BATS_FILE_TMPDIR/demo.out" 2>&1 || {
		sed 's/^/# /' "$BATS_FILE_TMPDIR/demo.out" >&3
		return 1
	}
}

teardown_file() {
	[ ! -d "$DEMO" ] || { "$TOP/scripts/ws-demo" down "$DEMO" >/dev/null 2>&1; rm -rf "$DEMO"; }
}

@test "the demo syncs both ways and shows each history" {
	out=$BATS_FILE_TMPDIR/demo.out
	[ "$(grep -c '^   on [a-z]* after about [0-9]* ms; its history:$' "$out")" -eq 3 ]
	# history rows line up: revision numbers padded
	grep -E '^   r[0-9]+ +Peerd    from alpha r' "$out"
}

@test "the commands the demo prints for a look inside work as pasted into a new shell" {
	out=$BATS_FILE_TMPDIR/demo.out
	sed -n '/^Look inside from a shell.*, pasting:$/,/^$/p' "$out" | sed '1d;/^$/d;s/^  //' >"$BATS_TEST_TMPDIR/paste"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/paste")" -eq 4 ]
	# a shell that knows nothing of the build: only the system's PATH
	run env -i PATH=/usr/bin:/bin HOME="$HOME" sh "$BATS_TEST_TMPDIR/paste"
	assert_status 0
	[[ "$output" == *"Wikis"*"alpha"*"beta"* ]]
	[[ "$output" == *"Welcome to WikiSync"* ]]	# ws-store log
	[[ "$output" != *"not found"* ]]
}

@test "a second run reuses the demo and edits no page a person may have edited" {
	. "$DEMO/env"
	export PATH=$TOP/scripts:$PATH
	ws-testbed edit "$DEMO" alpha "Welcome to WikiSync" "Mine now. [[Category:Synced]]" >/dev/null
	# as sudo runs it: the look inside is root's to take
	run env SUDO_USER=nobody "$TOP/scripts/ws-demo" "$DEMO"
	assert_status 0
	[ "${lines[0]}" = "ws-demo: reusing the demo running in $DEMO" ]
	if [ "$(id -u)" -eq 0 ]; then
		[[ "$output" == *$'\nLook inside from a shell as root (sudo -s first), pasting:\n'* ]]
	else
		[[ "$output" == *$'\nLook inside from a shell, pasting:\n'* ]]
	fi
	[ "$(grep -c '^   on [a-z]* after about [0-9]* ms; its history:$' <<<"$output")" -eq 3 ]
	[[ "$output" == *'== edit "Welcome to WikiSync '[0-9][0-9]:[0-9][0-9]:[0-9][0-9]'" on alpha'* ]]
	[ "$(ws-api text alpha "Welcome to WikiSync")" = "Mine now. [[Category:Synced]]" ]
	# the person's edit synced as any other
	wait_for 10 text_is beta "Welcome to WikiSync" "Mine now. [[Category:Synced]]"
	# the stop command it prints names this demo
	[[ "$output" == *"  stop    make DEMO=$DEMO demo-down "* ]]
}

@test "pause stops the loop alone (ws-status says so, edits wait in the queue); resume syncs them" {
	. "$DEMO/env"
	export PATH=$TOP/scripts:$PATH
	run "$TOP/scripts/ws-demo" pause "$DEMO"
	assert_status 0
	[[ "$output" == "ws-demo: the loop is stopped; "*"make DEMO=$DEMO demo-resume starts it again" ]]
	run ws-status -t
	grep -qx "loop	stopped	0	0" <<<"$output"
	grep -q "^wiki	alpha	up	" <<<"$output"
	run -0 ws-testbed status "$DEMO"
	ws-testbed edit "$DEMO" alpha "Paused Page" "While paused. [[Category:Synced]]" >/dev/null
	wait_for 10 queued "Paused Page"
	run "$TOP/scripts/ws-demo" resume "$DEMO"
	assert_status 0
	[[ "$output" == "ws-demo: the loop runs again, pid "[0-9]* ]]
	wait_for 20 text_is beta "Paused Page" "While paused. [[Category:Synced]]"
	grep -q "^loop	running	" <<<"$(ws-status -t)"
}

@test "demo-down stops it and says what it left, and how to remove it" {
	run "$TOP/scripts/ws-demo" down "$DEMO"
	assert_status 0
	[[ "${lines[${#lines[@]}-1]}" == "ws-demo: stopped; its wikis, spool and logs stay in $DEMO ("*"): remove it with rm -rf $DEMO" ]]
	[ -d "$DEMO/spool" ]
	run ws-testbed status "$DEMO"
	[ "$status" -ne 0 ]
	# a stopped demo is never removed by the next run: it refuses
	run --separate-stderr "$TOP/scripts/ws-demo" "$DEMO"
	assert_status 73
	[ "$stderr" = "ws-demo: $DEMO holds a demo that is not running, with its wikis and spool: remove it (rm -rf $DEMO) for a new one, or name another (make DEMO=DIR demo)" ]
	[ -d "$DEMO/spool" ]
	rm -rf "$DEMO"
}

@test "the default demo is the user's own; bad verbs exit 64" {
	run make -s -n -C "$TOP" demo-down
	[[ "$output" == *"scripts/ws-demo down /var/tmp/wikisync-demo-$(id -un)"* ]]
	run --separate-stderr "$TOP/scripts/ws-demo" -x
	assert_status 64
	[ "$stderr" = "usage: ws-demo [down | pause | resume] [DIR]" ]
	run --separate-stderr "$TOP/scripts/ws-demo" pause "$BATS_TEST_TMPDIR/none"
	assert_status 66
}

@test "a demo directory someone else made, or a link, is refused: its env is never read" {
	local d
	d=$(bed_mktemp)
	printf 'touch "%s/ran"\n' "$d" >"$d/env"
	chown nobody "$d"
	run --separate-stderr "$TOP/scripts/ws-demo" "$d"
	assert_status 73
	[ "$stderr" = "ws-demo: $d: not a directory of yours: refused (remove it, or name another DIR)" ]
	[ ! -e "$d/ran" ]
	ln -s "$d" "$d.link"
	run --separate-stderr "$TOP/scripts/ws-demo" "$d.link"
	assert_status 73
	[ ! -e "$d/ran" ]
	rm -rf "$d" "$d.link"
}
