#!/usr/bin/env bats
# The demo (make demo): two bed wikis syncing, and the commands it prints
# for a look inside, which must work as pasted into a new shell; then its
# stop, which says what it leaves behind.

load helper
load bed

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
	sed -n '/^Look inside from a shell, pasting:$/,/^$/p' "$out" | sed '1d;/^$/d;s/^  //' >"$BATS_TEST_TMPDIR/paste"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/paste")" -eq 4 ]
	# a shell that knows nothing of the build: only the system's PATH
	run env -i PATH=/usr/bin:/bin HOME="$HOME" sh "$BATS_TEST_TMPDIR/paste"
	assert_status 0
	[[ "$output" == *"Wikis"*"alpha"*"beta"* ]]
	[[ "$output" == *"Welcome to WikiSync"* ]]	# ws-store log
	[[ "$output" != *"not found"* ]]
}

@test "demo-down stops it and says what it left, and how to remove it" {
	run "$TOP/scripts/ws-demo" down "$DEMO"
	assert_status 0
	[[ "${lines[${#lines[@]}-1]}" == "ws-demo: stopped; its wikis, spool and logs stay in $DEMO ("*"): remove it with rm -rf $DEMO" ]]
	[ -d "$DEMO/spool" ]
	run ws-testbed status "$DEMO"
	[ "$status" -ne 0 ]
	rm -rf "$DEMO"
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
