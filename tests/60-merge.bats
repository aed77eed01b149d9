#!/usr/bin/env bats
# ws-merge: clean merges, conflicts in both styles, where the result goes,
# exit codes, hostile input (no final newline, CRLF, NUL, one 20 MB line,
# 200 000 lines), and the no-loss properties over generated merges.

load helper

setup() {
	common_setup
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

# three files: base ours theirs, each from a printf format
files() {
	printf "$1" >base
	printf "$2" >ours
	printf "$3" >theirs
}

@test "merge: edits of different lines merge cleanly into OURS" {
	files 'a\nb\nc\nd\ne\n' 'A\nb\nc\nd\ne\n' 'a\nb\nc\nd\nE\n'
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(cat ours)" = "$(printf 'A\nb\nc\nd\nE')" ]
	[ "$(cat theirs)" = "$(printf 'a\nb\nc\nd\nE')" ]
}

@test "merge: -p writes the merge on stdout and leaves OURS alone" {
	files 'a\nb\nc\n' 'A\nb\nc\n' 'a\nb\nC\n'
	cp ours ours.orig
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'A\nb\nC')" ]
	cmp ours ours.orig
}

@test "merge: OURS is replaced by rename, keeps its mode, leaves no tmp file" {
	files 'a\nb\nc\n' 'A\nb\nc\n' 'a\nb\nC\n'
	chmod 640 ours
	ino=$(stat -c %i ours)
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	[ "$(stat -c %a ours)" = 640 ]
	[ "$(stat -c %i ours)" != "$ino" ]
	[ "$(ls -A | sort | tr '\n' ' ')" = "base ours theirs " ]
}

@test "merge: a symlink OURS has its target replaced" {
	files 'a\nb\nc\n' 'A\nb\nc\n' 'a\nb\nC\n'
	mv ours real
	ln -s real ours
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	[ -L ours ]
	[ "$(cat real)" = "$(printf 'A\nb\nC')" ]
}

@test "merge: a conflict exits 1 with git's markers, labels from -L" {
	files 'a\nb\nc\n' 'a\nX\nc\n' 'a\nY\nc\n'
	run --separate-stderr ws-merge -p -L mine -L old -L yours base ours theirs
	assert_status 1
	[ -z "$stderr" ]
	[ "$output" = "$(printf 'a\n<<<<<<< mine\nX\n=======\nY\n>>>>>>> yours\nc')" ]
}

@test "merge: without -L the labels are the file names; OURS gets the markers" {
	files 'a\nb\nc\n' 'a\nX\nc\n' 'a\nY\nc\n'
	run --separate-stderr ws-merge base ours theirs
	assert_status 1
	[ -z "$output" ]
	grep -qx '<<<<<<< ours' ours
	grep -qx '>>>>>>> theirs' ours
}

@test "merge: -v tells the number of conflicts on stderr, stdout stays data" {
	files 'a\nb\nc\nd\ne\n' 'X\nb\nc\nd\nX\n' 'Y\nb\nc\nd\nY\n'
	run --separate-stderr ws-merge -v -p base ours theirs
	assert_status 1
	[ "$stderr" = "ws-merge: 2 conflicts" ]
	[ "$(printf '%s\n' "$output" | grep -c '^<<<<<<< ')" -eq 2 ]
	files 'a\n' 'a\n' 'b\n'
	run --separate-stderr ws-merge -v -p base ours theirs
	assert_status 0
	[ "$stderr" = "ws-merge: 0 conflicts" ]
}

@test "merge: edits of different sentences of one paragraph merge at word level" {
	files 'The cat sat on the mat. The dog ate its food.\n' \
	    'The cat sat on the rug. The dog ate its food.\n' \
	    'The cat sat on the mat. The dog ate its dinner.\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "The cat sat on the rug. The dog ate its dinner." ]
	# git merge-file and diff3 see one line changed twice
	run git merge-file -p ours base theirs
	assert_status 1
}

@test "merge: the same word changed two ways is a conflict of the whole paragraph" {
	files 'One two three. Four five six.\nnext\n' \
	    'One two THREE. Four five six.\nnext\n' \
	    'One two 3. Four five six.\nnext\n'
	run --separate-stderr ws-merge -p -L o -L b -L t base ours theirs
	assert_status 1
	[ "$output" = "$(printf '<<<<<<< o\nOne two THREE. Four five six.\n=======\nOne two 3. Four five six.\n>>>>>>> t\nnext')" ]
}

@test "merge: wiki style keeps both texts in a visible box, each box holding the category, so removing the boxes removes it" {
	files 'intro\npara one.\nmiddle\npara two.\nend\n' \
	    'intro\npara ONE.\nmiddle\npara TWO.\nend\n' \
	    'intro\npara 1.\nmiddle\npara 2.\nend\n'
	run --separate-stderr ws-merge -p --style wiki -L "alpha (Editor, r12)" \
	    -L base -L "beta (Other, r7)" base ours theirs
	assert_status 1
	[ "$(printf '%s\n' "$output" | grep -c '^<div class="wikisync-conflict"')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '^; alpha (Editor, r12)$')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -c '^; beta (Other, r7)$')" -eq 2 ]
	[ "$(printf '%s\n' "$output" | grep -cx 'para ONE.')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -cx 'para 1.')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -cx 'para TWO.')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -cx 'para 2.')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -cx '\[\[Category:WikiSync conflicts\]\]')" -eq 2 ]
	# an editor removes each box, from its first line to its last
	run awk '/^<div class="wikisync-conflict"/ { box = 1 }
	    !box { print } box && /^<\/div>$/ && !side { box = 0 }
	    /^<div class="wikisync-side">/ { side = 1 } side && /^<\/div>$/ { side = 0 }' <<<"$output"
	[ "$output" = "$(printf 'intro\nmiddle\nend')" ]
	# the box, exactly
	files 'a\nb\n' 'a\nX\n' 'a\nY\n'
	run --separate-stderr ws-merge -p -s wiki -L A -L B -L C base ours theirs
	assert_status 1
	expect=$(cat <<'EOF'
a
<div class="wikisync-conflict" style="border:2px solid #c00;padding:0 1em;margin:1em 0">
'''Edit conflict:''' two edits changed this part differently. Both versions are kept below: keep one, or combine them, then remove this box, down to its last line.
; A
<div class="wikisync-side">
X
</div>
; C
<div class="wikisync-side">
Y
</div>
[[Category:WikiSync conflicts]]
</div>
EOF
)
	[ "$output" = "$expect" ]
}

@test "merge: -C names the category, with or without its prefix, in the box" {
	files 'a\nb\n' 'a\nX\n' 'a\nY\n'
	run --separate-stderr ws-merge -p -s wiki -C 'Category:Sync trouble' base ours theirs
	assert_status 1
	[ "${lines[${#lines[@]} - 2]}" = "[[Category:Sync trouble]]" ]
	[ "${lines[${#lines[@]} - 1]}" = "</div>" ]
	run --separate-stderr ws-merge -p -s wiki -C 'Sync trouble' base ours theirs
	assert_status 1
	[ "$(printf '%s\n' "$output" | grep -cx '\[\[Category:Sync trouble\]\]')" -eq 1 ]
	# a clean merge gets no category
	files 'a\nb\n' 'a\nX\n' 'a\nb\n'
	run --separate-stderr ws-merge -p -s wiki base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'a\nX')" ]
}

@test "merge: a deleted side is named in the wiki box" {
	files 'a\nb\nc\n' 'a\nc\n' 'a\nB\nc\n'
	run --separate-stderr ws-merge -p -s wiki -L A -L B -L C base ours theirs
	assert_status 1
	[[ "$output" == *"; A (removed this part)"* ]]
	[[ "$output" == *$'\nB\n'* ]]
}

@test "merge: -h prints usage on stdout and exits 0" {
	run --separate-stderr ws-merge -h
	assert_status 0
	[ -z "$stderr" ]
	[ "$output" = "usage: ws-merge [-pqv] [-C category] [-L label]... [-s markers | wiki] [-c file] [-d dir] base ours theirs" ]
}

@test "merge: a bad option, a bad style, a fourth label, a missing file name exit 64" {
	files 'a\n' 'a\n' 'a\n'
	run --separate-stderr ws-merge -Z base ours theirs
	assert_status 64
	[ -z "$output" ]
	[[ "$stderr" == *"usage: ws-merge "* ]]
	run --separate-stderr ws-merge -s html base ours theirs
	assert_status 64
	[ "$stderr" = "ws-merge: html: style is markers or wiki" ]
	run --separate-stderr ws-merge --style=html base ours theirs
	assert_status 64
	run --separate-stderr ws-merge -L a -L b -L c -L d base ours theirs
	assert_status 64
	[ "$stderr" = "ws-merge: -L: at most three labels" ]
	run --separate-stderr ws-merge base ours
	assert_status 64
	[[ "$stderr" == "usage: ws-merge "* ]]
	run --separate-stderr ws-merge base ours theirs extra
	assert_status 64
}

@test "merge: a missing or unreadable file exits 2 with one line, OURS untouched" {
	files 'a\n' 'b\n' 'c\n'
	run --separate-stderr ws-merge base ours nosuch
	assert_status 2
	[ -z "$output" ]
	[ "$stderr" = "ws-merge: nosuch: No such file or directory" ]
	[ "$(cat ours)" = b ]
	run --separate-stderr ws-merge base . theirs
	assert_status 2
	[ "$stderr" = "ws-merge: .: is a directory" ]
}

@test "merge: a file over 256 MB exits 2" {
	files 'a\n' 'b\n' 'c\n'
	truncate -s 257M big
	run --separate-stderr ws-merge -p big ours theirs
	assert_status 2
	[ -z "$output" ]
	[ "$stderr" = "ws-merge: big: larger than 256 MB" ]
}

@test "merge: a failed write, fsync or rename exits 2 and leaves OURS as it was" {
	files 'a\nb\n' 'A\nb\n' 'a\nB\n'
	for fault in write:error=ENOSPC:when=1 fsync:error=EIO \
	    rename,renameat,renameat2:error=EXDEV; do
		ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
		    run --separate-stderr strace -f -qq -o /dev/null \
		    -e trace="${fault%%:*}" -e inject="$fault" \
		    ws-merge base ours theirs
		assert_status 2
		[[ "$stderr" == "ws-merge: ours: "* ]]
		[ "$(cat ours)" = "$(printf 'A\nb')" ]
		[ "$(ls -A | sort | tr '\n' ' ')" = "base ours theirs " ]
	done
}

@test "merge: a full stdout exits 2" {
	files 'a\n' 'b\n' 'a\n'
	run --separate-stderr sh -c 'ws-merge -p base ours theirs >/dev/full'
	assert_status 2
	[[ "$stderr" == "ws-merge: stdout: No space left on device" ]]
}

@test "merge: the same change on both sides is taken once" {
	files 'a\nb\nc\n' 'a\nB\nc\nd\n' 'a\nB\nc\nd\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'a\nB\nc\nd')" ]
}

@test "merge: a change on one side only is taken as it is" {
	files 'a\nb\nc\n' 'a\nb\nc\n' 'x\ny\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'x\ny')" ]
	run --separate-stderr ws-merge -p base theirs ours
	assert_status 0
	[ "$output" = "$(printf 'x\ny')" ]
	files 'a\nb\n' 'a\nb\n' 'a\nb\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'a\nb')" ]
}

# ws-merge -p merges base with ours and theirs, in both orders, cleanly
# into the printf format $1
merges_both_to() {
	local order

	for order in "ours theirs" "theirs ours"; do
		# shellcheck disable=SC2086
		run --separate-stderr ws-merge -p base $order
		[ "$status" -eq 0 ] || { echo "$order: exit $status: $stderr"; return 1; }
		[ "$output" = "$(printf "$1")" ] || { echo "$order: got: $output"; return 1; }
	done
}

@test "merge: two insertions at one place, one a run of the other's lines, take the longer once" {
	# both inserted A1 below a; theirs added A2 after it, then A0 before
	files 'a\nz\n' 'a\nA1\nz\n' 'a\nA1\nA2\nz\n'
	merges_both_to 'a\nA1\nA2\nz'
	files 'a\nz\n' 'a\nA1\nz\n' 'a\nA0\nA1\nA2\nz\n'
	merges_both_to 'a\nA0\nA1\nA2\nz'
	# at the end of a file without its newline too
	files 'a\n' 'a\nA1' 'a\nA1\nA2'
	merges_both_to 'a\nA1\nA2'
}

@test "merge: an insertion within a line of the other's, or a removal beside it, still conflicts" {
	# A1 is not a line of theirs, only part of one
	files 'a\nz\n' 'a\nA1\nz\n' 'a\nA11\nz\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 1
	# ours removed Y, theirs kept it: not an insertion, not taken as one
	files 'a\nY\nZ\nz\n' 'a\nz\n' 'a\nY\nz\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 1
	[[ "$output" == *"<<<<<<<"*"Y"* ]]
}

@test "merge: both sides deleting the same line delete it once" {
	files 'a\nb\nc\nd\n' 'a\nc\nd\n' 'a\nc\nD\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'a\nc\nD')" ]
}

@test "merge: empty files" {
	files '' '' 'new\n'
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = new ]
	files '' 'x\n' 'y\n'
	run --separate-stderr ws-merge -p -L o -L b -L t base ours theirs
	assert_status 1
	[ "$output" = "$(printf '<<<<<<< o\nx\n=======\ny\n>>>>>>> t')" ]
	files 'gone\n' '' ''
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	[ ! -s ours ]
}

@test "merge: no trailing newline is kept as it is, and framed in a conflict" {
	files 'a\nb\nc' 'A\nb\nc' 'a\nb\nC'
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	printf 'A\nb\nC' | cmp - ours
	files 'a\nb' 'a\nX' 'a\nY'
	run --separate-stderr ws-merge -L o -L b -L t base ours theirs
	assert_status 1
	printf 'a\n<<<<<<< o\nX\n=======\nY\n>>>>>>> t\n' | cmp - ours
	# adding the newline is a change like any other
	files 'a\nb' 'a\nb\n' 'a\nb'
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	printf 'a\nb\n' | cmp - ours
}

@test "merge: CRLF lines keep their CR, conflict lines use CRLF too" {
	files 'a\r\nb\r\nc\r\n' 'A\r\nb\r\nc\r\n' 'a\r\nb\r\nC\r\n'
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	printf 'A\r\nb\r\nC\r\n' | cmp - ours
	files 'a\r\nb\r\nc\r\n' 'a\r\nX\r\nc\r\n' 'a\r\nY\r\nc\r\n'
	run --separate-stderr ws-merge -L o -L b -L t base ours theirs
	assert_status 1
	printf 'a\r\n<<<<<<< o\r\nX\r\n=======\r\nY\r\n>>>>>>> t\r\nc\r\n' | cmp - ours
	# the same as git merge-file
	files 'a\r\nb\r\nc\r\n' 'a\r\nX\r\nc\r\n' 'a\r\nY\r\nc\r\n'
	run git merge-file -p -L o -L b -L t ours base theirs
	assert_status 1
	printf '%s\n' "$output" >git.out
	run ws-merge -p -L o -L b -L t base ours theirs
	assert_status 1
	printf '%s\n' "$output" >ws.out
	cmp git.out ws.out
}

@test "merge: NUL bytes are text like any other" {
	printf 'a\0b\nkeep\nc\0d\n' >base
	printf 'a\0B\nkeep\nc\0d\n' >ours
	printf 'a\0b\nkeep\nc\0D\0\n' >theirs
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	printf 'a\0B\nkeep\nc\0D\0\n' | cmp - ours
	printf 'x\0y z\n' >base
	printf 'x\0Y z\n' >ours
	printf 'x\0y Z\n' >theirs
	ws-merge -p base ours theirs >../out
	printf 'x\0Y Z\n' | cmp - ../out
}

@test "merge: one 20 MB line edited at both ends merges at word level (bench/merge measures its memory)" {
	python3 - <<-'EOF'
	import random
	r = random.Random(1)
	w = [''.join(r.choice('abcdefghij') for _ in range(r.randint(2, 8))) for _ in range(3000)]
	b = ' '.join(r.choice(w) for _ in range(3400000)).encode()[:20000000]
	open('base', 'wb').write(b)
	open('ours', 'wb').write(b'OURS ' + b[10:])
	open('theirs', 'wb').write(b[:-10] + b' THEIRS')
	open('want', 'wb').write(b'OURS ' + b[10:-10] + b' THEIRS')
	EOF
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	cmp want ours
}

@test "merge: one 20 MB line edited all over keeps both sides whole in a conflict" {
	python3 - <<-'EOF'
	import random
	r = random.Random(2)
	w = [''.join(r.choice('abcdefghij') for _ in range(r.randint(2, 8))) for _ in range(3000)]
	b = bytearray(' '.join(r.choice(w) for _ in range(3400000)).encode()[:20000000])
	o, t = bytearray(b), bytearray(b)
	for i in range(0, len(b) - 600000, 1000000):
	    o[i] = ord('X')
	    t[i + 500000] = ord('Y')
	for n, v in (('base', b), ('ours', o), ('theirs', t)):
	    open(n, 'wb').write(bytes(v) + b'\n')
	EOF
	cp ours ours.orig
	run --separate-stderr ws-merge -p -L o -L b -L t base ours theirs
	assert_status 1
	[ "$stderr" = "ws-merge: 1 region too large for the word level: kept as conflicts" ]
	ws-merge -p -q -L o -L b -L t base ours theirs >out || [ $? -eq 1 ]
	{ echo '<<<<<<< o'; cat ours.orig; echo '======='; cat theirs; echo '>>>>>>> t'; } | cmp - out
	run --separate-stderr ws-merge -p -q base ours theirs
	assert_status 1
	[ -z "$stderr" ]
}

@test "merge: 200 000 lines with edits all through merge cleanly, every edit taken" {
	python3 - <<-'EOF'
	lines = ['line %d of the page\n' % i for i in range(200000)]
	o, t = list(lines), list(lines)
	for i in range(0, 200000, 100):
	    o[i] = 'ours %d\n' % i
	    t[i + 50] = 'theirs %d\n' % i
	w = list(o)
	for i in range(0, 200000, 100):
	    w[i + 50] = t[i + 50]
	for n, v in (('base', lines), ('ours', o), ('theirs', t), ('want', w)):
	    open(n, 'w').write(''.join(v))
	EOF
	run --separate-stderr ws-merge base ours theirs
	assert_status 0
	cmp want ours
}

@test "merge: the same inputs give the same bytes, a conflict's too" {
	files 'a b c\nd\ne f\n' 'a B c\nd\nE f\n' 'a b C\nd\ne F\n'
	run ws-merge -p -s wiki base ours theirs
	assert_status 0
	[ "$output" = $'a B C\nd\nE F' ]
	files 'a\nb\nc\n' 'a\nX\nc\n' 'a\nY\nc\n'
	for n in one two; do
		run ws-merge -p -s wiki base ours theirs
		assert_status 1
		printf '%s\n' "$output" >"$n"
	done
	grep -q wikisync-conflict one
	cmp one two
}

@test "merge: no-loss properties hold over 3000 generated merges (1000 under ASan), sides swapped too" {
	# two runs of ws-merge a case: under ASan the first 1000 (the plain
	# build, in the other half of CI, checks all 3000)
	local n=3000
	if sanitized; then n=1000; fi
	run --separate-stderr python3 "$TOP/tests/merge-prop.py" -n "$n" -s 60 \
	    -k "$BATS_TEST_TMPDIR/failed" "$WS_BUILD/ws-merge"
	printf '%s\n%s\n' "$output" "$stderr" | sed '/./s/^/# /' >&3
	assert_status 0
	[[ "$output" == "$n cases "*", 0 failed" ]]
}

@test "merge: the property checker catches a merge that drops text" {
	# a "merge" that keeps OURS and ignores THEIRS must fail the checks
	printf '#!/bin/sh\nwhile [ $# -gt 3 ]; do shift; done\ncat "$2"\n' >bad
	chmod +x bad
	run --separate-stderr python3 "$TOP/tests/merge-prop.py" -n 50 -s 1 ./bad
	assert_status 1
	[[ "$output" != *", 0 failed" ]]
	[[ "$stderr" == *"inserted words lost"* ]]
}
