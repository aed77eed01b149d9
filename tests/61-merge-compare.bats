#!/usr/bin/env bats
# ws-merge beside git merge-file -p and diff3 -m on one corpus: generated
# merges and edited variants of real wikitext (the articles MediaWiki ships
# as test data).  Where they merge cleanly, ws-merge gives the same bytes,
# but for the exceptions below, each tested on its own; where only
# ws-merge merges cleanly, its merge passes the no-loss checks.
#
# Exceptions, all principled:
#  1. Changes to adjacent lines: git and diff3 call them a conflict;
#     ws-merge merges them at word level.
#  2. One line (paragraph) changed in different places by the two sides:
#     a conflict for git and diff3, a clean word-level merge here.
#  3. The same change on both sides: diff3 -m brackets it as a conflict,
#     git and ws-merge take it once.
#  4. Where a side's diff may line up repeated blank lines in more than
#     one way, ws-merge (patience anchors, then Myers) and git (Myers) can
#     put a blank line on either side of an inserted line: the merges are
#     equal once blank lines are left out (tests/merge/blank-lines).
#  5. Two insertions at one place, one a run of the other's lines: a
#     conflict for git and diff3; ws-merge takes the longer once.

load helper

REALDIR=/usr/share/mediawiki/vendor/wikimedia/utfnormal/scripts/testdata

# N cases of each corpus: 1000, or the first 400 under ASan (two runs of
# ws-merge a case, each start four times a plain one's; the plain build,
# in the other half of CI, runs all 1000).  The counts below are floors
# in proportion to N.
setup_file() {
	TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	WS_BUILD=${WS_BUILD:-$TOP/build}
	N=1000
	if sanitized; then N=400; fi
	export N
	python3 "$TOP/tests/merge/compare.py" -n "$N" -s 61 \
	    -k "$BATS_FILE_TMPDIR/failed" "$WS_BUILD/ws-merge" \
	    >"$BATS_FILE_TMPDIR/summary" 2>"$BATS_FILE_TMPDIR/errors"
	echo $? >"$BATS_FILE_TMPDIR/status"
}

setup() {
	common_setup
	mkdir "$BATS_TEST_TMPDIR/w"
	cd "$BATS_TEST_TMPDIR/w"
}

# line SOURCE TOOL: the summary line for that corpus and tool
line() {
	grep "^$1 vs $2: " "$BATS_FILE_TMPDIR/summary"
}

# count SOURCE TOOL WHAT: one number from that line
count() {
	line "$1" "$2" | sed -E "s/.* ([0-9]+) $3.*/\\1/"
}

@test "compare: the corpus is there and every case was run" {
	[ "$(ls "$REALDIR"/*.txt | wc -l)" -ge 5 ]
	sed 's/^/# /' "$BATS_FILE_TMPDIR/summary" "$BATS_FILE_TMPDIR/errors" >&3
	for src in generated real; do
		for tool in git diff3; do
			[[ "$(line $src $tool)" == "$src vs $tool: $N cases, "* ]]
		done
	done
}

@test "compare: no case fails a check, none is clean for git or diff3 but not for ws-merge" {
	cat "$BATS_FILE_TMPDIR/errors" >&2
	[ "$(cat "$BATS_FILE_TMPDIR/status")" -eq 0 ]
	grep -qx '0 cases with a failed check' "$BATS_FILE_TMPDIR/summary"
	for src in generated real; do
		[ "$(count $src git 'clean only for git')" -eq 0 ]
		[ "$(count $src diff3 'clean only for diff3')" -eq 0 ]
	done
}

@test "compare: where git merge-file is clean, ws-merge gives the same bytes (blank-line placement aside)" {
	for src in generated real; do
		[ "$(count $src git 'both clean but different')" -eq 0 ]
		[ "$(count $src git 'both clean and equal')" -gt $((N / 5)) ]
	done
	[ "$(count real git 'equal but for blank lines')" -eq 0 ]
}

@test "compare: where diff3 -m is clean, ws-merge gives the same bytes (blank-line placement aside)" {
	for src in generated real; do
		[ "$(count $src diff3 'both clean but different')" -eq 0 ]
		[ "$(count $src diff3 'both clean and equal')" -gt $((N * 3 / 20)) ]
	done
	[ "$(count real diff3 'equal but for blank lines')" -eq 0 ]
}

@test "compare: ws-merge merges cleanly where both others conflict, and those merges pass the checks" {
	for src in generated real; do
		[ "$(count $src git 'clean only for ws-merge')" -gt $((N / 20)) ]
	done
	# the checks ran on them: a failed one would show in the summary
	grep -qx '0 cases with a failed check' "$BATS_FILE_TMPDIR/summary"
}

@test "compare: the checks catch a wrong clean merge" {
	# a "merge" that takes THEIRS whole, exit 0: loses every edit of OURS
	printf '#!/bin/sh\nwhile [ $# -gt 3 ]; do shift; done\ncat "$3"\n' >bad
	chmod +x bad
	run --separate-stderr python3 "$TOP/tests/merge/compare.py" -n 30 ./bad
	assert_status 1
	[[ "$stderr" == *"lost"* || "$stderr" == *"word "* ]]
}

@test "exception 1: adjacent line changes conflict in git and diff3, merge here" {
	printf 'a\nb\nc\n' >base
	printf 'A\nb\nc\n' >ours
	printf 'a\nB\nc\n' >theirs
	run git merge-file -p ours base theirs
	assert_status 1
	run diff3 -m ours base theirs
	assert_status 1
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'A\nB\nc')" ]
}

@test "exception 2: one paragraph edited in two places conflicts in git and diff3, merges here" {
	printf '== H ==\nAlpha beta gamma. Delta epsilon zeta.\n' >base
	printf '== H ==\nAlpha BETA gamma. Delta epsilon zeta.\n' >ours
	printf '== H ==\nAlpha beta gamma. Delta epsilon [[zeta]].\n' >theirs
	run git merge-file -p ours base theirs
	assert_status 1
	run diff3 -m ours base theirs
	assert_status 1
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf '== H ==\nAlpha BETA gamma. Delta epsilon [[zeta]].')" ]
}

@test "exception 3: the same change on both sides is a conflict for diff3 -m only" {
	printf 'a\nb\nc\n' >base
	printf 'a\nX\nc\n' >ours
	cp ours theirs
	run diff3 -m ours base theirs
	assert_status 1
	run git merge-file -p ours base theirs
	assert_status 0
	g=$output
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$g" ]
}

@test "exception 5: two insertions at one place, one within the other, conflict in git and diff3, take the longer here" {
	printf 'a\nz\n' >base
	printf 'a\nA1\nz\n' >ours
	printf 'a\nA1\nA2\nz\n' >theirs
	run diff3 -m ours base theirs
	assert_status 1
	run git merge-file -p ours base theirs
	assert_status 1
	run --separate-stderr ws-merge -p base ours theirs
	assert_status 0
	[ "$output" = "$(printf 'a\nA1\nA2\nz')" ]
}

@test "exception 4: a blank line may sit on the other side of an inserted line than git puts it" {
	d=$TOP/tests/merge/blank-lines
	run git merge-file -p "$d/ours" "$d/base" "$d/theirs"
	assert_status 0
	g=$output
	run --separate-stderr ws-merge -p "$d/base" "$d/ours" "$d/theirs"
	assert_status 0
	[ "$output" != "$g" ]
	[ "$(printf '%s\n' "$output" | grep -v '^$')" = "$(printf '%s\n' "$g" | grep -v '^$')" ]
	[ "$(printf '%s\n' "$output" | grep -c '^$')" -eq "$(printf '%s\n' "$g" | grep -c '^$')" ]
}
