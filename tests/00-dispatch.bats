#!/usr/bin/env bats
# The multi-call binary: both spellings, the applet list, -h, bad options,
# unknown names, and stdout checked at exit.

load helper

@test "wikisync APPLET and ws-APPLET are the same call" {
	run --separate-stderr wikisync queue -h
	assert_status 0
	a=$output
	run --separate-stderr ws-queue -h
	assert_status 0
	[ "$output" = "$a" ]
	[[ "$a" == "usage: ws-queue "* ]]
}

@test "wikisync ws-APPLET also works" {
	run --separate-stderr wikisync ws-store -h
	assert_status 0
	[[ "$output" == "usage: ws-store "* ]]
}

@test "--help lists exactly the applets built from cmd/, each with a summary" {
	run --separate-stderr wikisync --help
	assert_status 0
	[ -z "$stderr" ]
	listed=$(applets | sort | tr '\n' ' ')
	files=$(ls "$TOP"/cmd/*.c | sed 's|.*/||; s|\.c$||' | grep -vx wikisync | sort | tr '\n' ' ')
	[ "$listed" = "$files" ]
	# every line has a summary
	wikisync --help | awk '/^applets:/ { on = 1; next } on && /^  / && NF < 3 { exit 1 }'
}

@test "every listed applet has its ws- link, a man page, and answers -h on stdout" {
	for a in $(applets); do
		[ -x "$WS_BUILD/ws-$a" ]
		[ -f "$TOP/man/ws-$a.1" ]
		run --separate-stderr "ws-$a" -h
		assert_status 0
		[ -z "$stderr" ]
		[[ "${lines[0]}" == "usage: ws-$a "* ]]
	done
}

@test "a bad option prints usage on stderr and exits 64" {
	for a in $(applets); do
		run --separate-stderr "ws-$a" -Z
		assert_status 64
		[ -z "$output" ]
		[[ "$stderr" == *"usage: ws-$a "* ]]
		[[ "$stderr" == *"ws-$a: invalid option"* ]]
	done
}

@test "each usage line is a line of the man page's SYNOPSIS" {
	for a in $(applets); do
		syn=$(MANWIDTH=200 mandoc -Tutf8 "$TOP/man/ws-$a.1" | col -b |
		    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		    tr -s '[:space:]' ' ')
		"ws-$a" -h | sed 's/^usage: //; s/^ *//' | while IFS= read -r line; do
			flat=$(printf '%s' "$line" | tr -s ' ' ' ')
			case "$syn" in
			*"$flat"*) ;;
			*) echo "ws-$a: usage line not in SYNOPSIS: $flat" >&2; exit 1 ;;
			esac
		done
	done
}

@test "an unknown applet exits 127 with one line" {
	run -127 --separate-stderr wikisync frobnicate
	assert_status 127
	[ -z "$output" ]
	[ "$stderr" = "wikisync: frobnicate: no such applet (wikisync --help lists them)" ]
	ln -s "$WS_BUILD/wikisync" "$BATS_TEST_TMPDIR/ws-frobnicate"
	run -127 --separate-stderr "$BATS_TEST_TMPDIR/ws-frobnicate"
	assert_status 127
}

@test "wikisync with no applet prints usage on stderr, exit 64" {
	run --separate-stderr wikisync
	assert_status 64
	[ -z "$output" ]
	[[ "$stderr" == "usage: wikisync"* ]]
}

@test "--version prints the version" {
	run --separate-stderr wikisync --version
	assert_status 0
	[[ "$output" =~ ^wikisync\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "a full disk on stdout is an error, not success" {
	[ -w /dev/full ]
	WIKISYNC_CONF= run --separate-stderr sh -c 'ws-conf >/dev/full'
	assert_status 74
	[[ "$stderr" == "ws-conf: stdout: No space left on device" ]]
	run --separate-stderr sh -c 'wikisync --help >/dev/full'
	assert_status 74
}

@test "make install gives working ws- links and man pages" {
	d=$BATS_TEST_TMPDIR/inst
	run make -s -o all -C "$TOP" install DESTDIR="$d" PREFIX=/usr BUILD="$WS_BUILD"
	assert_status 0
	for a in $(applets); do
		[ -L "$d/usr/bin/ws-$a" ]
		run "$d/usr/bin/ws-$a" -h
		assert_status 0
		[[ "${lines[0]}" == "usage: ws-$a "* ]]
		[ -f "$d/usr/share/man/man1/ws-$a.1" ]
	done
	[ -f "$d/usr/share/man/man1/wikisync.1" ]
	[ -f "$d/usr/share/man/man5/wikisync.conf.5" ]
	[ -f "$d/usr/share/man/man7/wikisync.7" ]
	for s in ws-peerd ws-setup-spool; do
		[ -x "$d/usr/sbin/$s" ]
		[ -f "$d/usr/share/man/man8/$s.8" ]
		run "$d/usr/sbin/$s" -h
		[[ "${lines[0]}" == "usage: $s "* ]]
	done
	cmp "$d/usr/share/wikisync/WikiSync_group.wiki" "$TOP/scripts/WikiSync_group.wiki"
}

@test "the man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning "$TOP"/man/*
	[ -z "$output" ]
	assert_status 0
}
