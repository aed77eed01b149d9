#!/usr/bin/env bats
# ws-store: texts by SHA-1, pointers, the log, and fsck's repairs.

load helper

put() { printf '%s' "$1" | ws-store put; }

@test "put prints the SHA-1 MediaWiki would report, and stores the text once" {
	run --separate-stderr put "Hello, [[world]]"
	assert_status 0
	[ -z "$stderr" ]
	[ "$output" = "$(printf '%s' 'Hello, [[world]]' | sha1sum | cut -d' ' -f1)" ]
	[ "$(cat "$SPOOL/store/versions/$output")" = "Hello, [[world]]" ]
	s1=$output
	mtime=$(stat -c %Y.%y "$SPOOL/store/versions/$s1")
	run put "Hello, [[world]]"
	[ "$output" = "$s1" ]
	[ "$(ls "$SPOOL/store/versions" | wc -l)" -eq 1 ]
	[ "$(stat -c %Y.%y "$SPOOL/store/versions/$s1")" = "$mtime" ]
}

@test "put keeps bytes exactly: NUL, CRLF, no trailing newline, empty" {
	printf 'a\0b\r\nc' >"$BATS_TEST_TMPDIR/t"
	s=$(ws-store put <"$BATS_TEST_TMPDIR/t")
	cmp "$BATS_TEST_TMPDIR/t" "$SPOOL/store/versions/$s"
	ws-store cat "$s" | cmp - "$BATS_TEST_TMPDIR/t"
	s=$(ws-store put </dev/null)
	[ "$s" = da39a3ee5e6b4b0d3255bfef95601890afd80709 ]
}

@test "set, get, cat by page; underscores are spaces" {
	s=$(put "text one")
	run ws-store set alpha "Main Page" "$s" 12
	assert_status 0
	[ -z "$output" ]
	run ws-store get alpha Main_Page
	[ "$output" = "$s 12" ]
	run ws-store cat alpha "Main Page"
	[ "$output" = "text one" ]
	key=$(printf '%s' "Main Page" | md5sum | cut -d' ' -f1)
	[ "$(head -n 1 "$SPOOL/store/cur/alpha/$key")" = "$s 12 0 0" ]
	run ws-store get beta "Main Page"
	assert_status 1
}

@test "set refuses a version not stored, a bad sha1, a bad title" {
	run --separate-stderr ws-store set alpha A 0123456789012345678901234567890123456789
	assert_status 65
	[ "$stderr" = "ws-store: 0123456789012345678901234567890123456789: no such version (put it first)" ]
	run --separate-stderr ws-store set alpha A xyz
	assert_status 65
	s=$(put x)
	run --separate-stderr ws-store set alpha $'A\nB' "$s"
	assert_status 65
	run --separate-stderr ws-store set ../etc A "$s"
	assert_status 65
	run --separate-stderr ws-store set alpha A "$s" 12x
	assert_status 65
	[ ! -s "$SPOOL/store/log" ]
}

@test "log: newest first, with titles, per wiki, -n" {
	a=$(put a); b=$(put b); c=$(put c)
	ws-store set alpha "Page One" "$a" 1
	ws-store set alpha "Page One" "$b" 2
	ws-store set beta "Page Two" "$c" 7
	ws-store set beta "Page Two" "$c" 7	# no change, no record
	[ "$(stat -c %s "$SPOOL/store/log")" -eq $((3 * $LOGREC)) ]
	run ws-store log
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == *"	beta	Page Two	-	$c	7" ]]
	[[ "${lines[1]}" == *"	alpha	Page One	$a	$b	2" ]]
	[[ "${lines[2]}" == *"	alpha	Page One	-	$a	1" ]]
	run ws-store log -n 1 alpha
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == *"	alpha	Page One	$a	$b	2" ]]
}

@test "fsck: a clean store is clean" {
	s=$(put a)
	ws-store set alpha A "$s" 1
	run --separate-stderr ws-store fsck
	assert_status 0
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "fsck finds a torn last record with one look and -r cuts it" {
	a=$(put a); b=$(put b)
	ws-store set alpha A "$a" 1
	printf '00000000001795' >>"$SPOOL/store/log"
	run --separate-stderr ws-store fsck
	assert_status 1
	[ "$output" = "log: torn last record (14 bytes)" ]
	run ws-store fsck -r
	assert_status 0
	[ "$output" = "log: torn last log record (14 bytes): truncated" ]
	[ "$(stat -c %s "$SPOOL/store/log")" -eq $LOGREC ]
	run ws-store fsck
	assert_status 0
	# and set repairs it by itself before writing
	printf 'xx' >>"$SPOOL/store/log"
	ws-store set alpha A "$b" 2
	[ "$(stat -c %s "$SPOOL/store/log")" -eq 364 ]
	run ws-store fsck
	assert_status 0
}

@test "an unfinished record is finished when the pointer moved, else removed" {
	a=$(put a); b=$(put b)
	ws-store set alpha A "$a" 1
	ws-store set alpha A "$b" 2
	# crash after the pointer moved, before the finished byte
	printf -- '-' | dd of="$SPOOL/store/log" bs=1 seek=$((2 * $LOGREC - 2)) conv=notrunc status=none
	run --separate-stderr ws-store fsck
	assert_status 1
	[ "$stderr" = "ws-store: 1 problem(s); ws-store fsck -r repairs them" ]
	[ "$output" = "log: unfinished last record" ]
	run ws-store fsck -r
	[ "$output" = "log: unfinished last log record, pointer moved: finished" ]
	[ "$(ws-store get alpha A)" = "$b 2" ]
	[ "$(stat -c %s "$SPOOL/store/log")" -eq 364 ]
	# crash before the pointer moved: the pointer is still old
	key=$(printf A | md5sum | cut -d' ' -f1)
	printf '%s 1\nA\n' "$a" >"$SPOOL/store/cur/alpha/$key"
	printf -- '-' | dd of="$SPOOL/store/log" bs=1 seek=$((2 * $LOGREC - 2)) conv=notrunc status=none
	run ws-store fsck -r
	[ "$output" = "log: unfinished last log record, pointer not moved: removed" ]
	[ "$(stat -c %s "$SPOOL/store/log")" -eq $LOGREC ]
	[ "$(ws-store get alpha A)" = "$a 1" ]
	run ws-store fsck
	assert_status 0
}

@test "an unfinished record with the pointer's text but another revision is removed, not finished" {
	a=$(put a)
	ws-store set alpha A "$a" 1
	ws-store set alpha A "$a" 2
	# crash before the pointer moved from r1 to r2 of the same text
	key=$(printf A | md5sum | cut -d' ' -f1)
	printf '%s 1 0\nA\n' "$a" >"$SPOOL/store/cur/alpha/$key"
	printf -- '-' | dd of="$SPOOL/store/log" bs=1 seek=$((2 * $LOGREC - 2)) conv=notrunc status=none
	run ws-store fsck -r
	[ "$output" = "log: unfinished last log record, pointer not moved: removed" ]
	[ "$(ws-store get alpha A)" = "$a 1" ]
	[ "$(stat -c %s "$SPOOL/store/log")" -eq $LOGREC ]
}

@test "fsck quarantines a text whose content does not match its name" {
	s=$(put good)
	ws-store set alpha A "$s" 1
	printf 'evil' >"$SPOOL/store/versions/$s"
	run --separate-stderr ws-store fsck
	assert_status 1
	[[ "${lines[0]}" == "versions/$s: content has sha1 "* ]]
	run ws-store fsck -r
	assert_status 0
	[ -f "$SPOOL/store/bad/$s" ]
	[[ "$output" == *"cur/alpha/"*": points to a missing version: removed (the page counts as never synced)"* ]]
	run ws-store get alpha A
	assert_status 1
	run ws-store fsck
	assert_status 0
}

@test "fsck reports stray tmp files older than ten minutes and -r removes them" {
	mkdir -p "$SPOOL/store/tmp"
	ws-store put </dev/null >/dev/null
	touch "$SPOOL/store/tmp/.tmp.fresh"
	run --separate-stderr ws-store fsck
	assert_status 0	# maybe a writer at work
	[ -z "$output" ]
	# eleven minutes later it is litter
	run --separate-stderr faketime -f +11m ws-store fsck
	assert_status 1
	[ "$output" = "tmp/.tmp.fresh: stray" ]
	run --separate-stderr faketime -f +11m ws-store fsck -r
	assert_status 0
	[ "$output" = "tmp/.tmp.fresh: stray: removed" ]
	[ ! -e "$SPOOL/store/tmp/.tmp.fresh" ]
}

@test "readers never see a half-written pointer or text" {
	big=$(head -c 300000 /dev/zero | tr '\0' a)
	printf '%s' "$big" >"$BATS_TEST_TMPDIR/big"
	s1=$(ws-store put <"$BATS_TEST_TMPDIR/big")
	s2=$(put small)
	ws-store set alpha P "$s1" 1
	( for i in $(seq 60); do
		ws-store set alpha P "$s2" 2
		ws-store set alpha P "$s1" 1
	done ) &
	bad=0
	for i in $(seq 150); do
		out=$(ws-store cat alpha P | sha1sum | cut -d' ' -f1)
		[ "$out" = "$s1" ] || [ "$out" = "$s2" ] || bad=$((bad + 1))
	done
	wait
	[ "$bad" -eq 0 ]
}
