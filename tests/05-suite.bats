#!/usr/bin/env bats
# The suite's own guards: no test file holds an assertion that cannot fail
# (tests/lint-bats), and tests/run ends a file that hangs or leaves a
# helper running, reporting it as that file's failure, so one failed test
# never holds the whole suite.

load helper

# plant NAME: a test file in the test's own directory, from stdin, that
# loads the suite's helpers by their full path; "%test" is its "@test"
# (which bats would take as a test of this file, even in a heredoc)
plant() {
	mkdir -p "$BATS_TEST_TMPDIR/t"
	sed -e "s|@TESTS@|$TOP/tests|g" -e 's/^%test/@test/' >"$BATS_TEST_TMPDIR/t/$1"
}

# suite [VAR=VALUE...] FILE: tests/run of one file, one at a time, in a
# clean environment (not this bats's own), within two minutes
# (and a PATH without bats's own libexec, which a test's PATH has first)
suite() {
	local path
	path=$(tr : '\n' <<<"$PATH" | grep -v bats-core | paste -sd:)
	timeout 120 env -i PATH="$path" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" \
	    WS_BUILD="$WS_BUILD" PLANTED_PID="${PLANTED_PID:-}" J=1 \
	    "${@:1:$#-1}" "$TOP/tests/run" "${@: -1}"
}

# alive PATTERN: a process whose command line holds PATTERN runs
alive() { pgrep -f -- "$1" >/dev/null; }

# gone PID: no such process, or only its exit status left (a zombie:
# where PID 1 does not reap, one that lost its parent stays so)
gone() {
	local st
	st=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null) || return 0
	[[ "$st" == " Z"* ]]
}

@test "every test file passes lint-bats" {
	run "$TOP/tests/lint-bats" "$TOP"/tests/*.bats
	assert_status 0
	[ -z "$output" ]
}

@test "lint-bats refuses '! cmd' and a '&&' chain before a test's end, and takes their sound forms" {
	# the two bad lines made by printf, so that no checker of this file
	# takes them for its own
	{
		echo '%test "planted" {'
		printf '\t%s false\n' '!'
		printf '\t[ 1 -eq 1 ] %s [ 2 -eq 3 ]\n' '&&'
		printf '\t[ "a && b" = x ] || true\n'
		printf '\trun ! false\n'
		printf '\t[[ 1 -eq 1 && 2 -eq 2 ]]\n'
		printf '\t[ 1 -eq 1 ] %s [ 2 -eq 2 ]\n' '&&'
		echo '}'
	} | plant bad.bats
	run "$TOP/tests/lint-bats" "$BATS_TEST_TMPDIR/t/bad.bats"
	assert_status 1
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *"/bad.bats:2: '! cmd' never fails a test: write 'run ! cmd'" ]]
	[[ "${lines[1]}" == *"/bad.bats:3: a '&&' chain before the test's end never fails it: one check a line" ]]
	run "$TOP/tests/lint-bats"
	assert_status 64
}

@test "a test that fails while its interposing proxy runs ends its file, and the proxy is gone" {
	plant proxy.bats <<'EOF'
load @TESTS@/helper
load @TESTS@/bed
load @TESTS@/sync
%test "fails with its proxy up" {
	printf '[wiki alpha]\napi = http://127.0.0.1:9/api.php\n' >"$WIKISYNC_CONF"
	WS_ALPHA_PORT=9
	interpose alpha 'never matched' 'true'
	echo "$(cat "$BATS_TEST_TMPDIR/proxy.pid")" >"$PLANTED_PID"
	false
}
%test "the next test runs" {
	true
}
EOF
	export PLANTED_PID=$BATS_TEST_TMPDIR/pid
	run suite "$BATS_TEST_TMPDIR/t/proxy.bats"
	assert_status 1
	[[ "$output" == *"not ok 1 fails with its proxy up"* ]]
	[[ "$output" == *"ok 2 the next test runs"* ]]
	[[ "$output" == *"1 passed, 1 failed, 0 skipped"* ]]
	pid=$(cat "$PLANTED_PID")
	[ -n "$pid" ]
	gone "$pid"
}

@test "a file past its time limit fails as such, and what it left running is killed and named" {
	plant hang.bats <<'EOF'
%test "hangs" {
	setsid sleep 4242 3>&- &
	sleep 4243
}
EOF
	run suite WS_FILE_LIMIT=3 "$BATS_TEST_TMPDIR/t/hang.bats"
	assert_status 1
	[[ "$output" == *"not ok 1 hang.bats: 0 of 1 tests reported, its time limit reached"* ]]
	[[ "$output" == *"# hang.bats: no end within 3 s: stopped"* ]]
	[[ "$output" == *"# left running when hang.bats ended: "*"sleep 4242"* ]]
	[[ "$output" == *"0 passed, 1 failed, 0 skipped"* ]]
	run ! alive "sleep 424[23]"
	run suite WS_FILE_LIMIT=x "$BATS_TEST_TMPDIR/t/hang.bats"
	assert_status 64
	[ "$output" = "tests/run: WS_FILE_LIMIT=x: not a number of seconds" ]
}

@test "WS_OMIT leaves the named files out of the whole suite and says so; without it every file runs, the slow ones first" {
	# (the suite's own WS_OMIT, which CI sets, cleared)
	WS_OMIT='' run -0 "$TOP/tests/run" -l
	[ "${#lines[@]}" -eq "$(ls "$TOP"/tests/*.bats | wc -l)" ]
	[ "${lines[0]}" = tests/58-explore-a.bats ]
	[[ "$output" == *tests/58-explore-b.bats* ]]
	WS_OMIT="58-explore-b 01-conf" run -0 "$TOP/tests/run" -l
	[ "${lines[0]}" = "# left out (WS_OMIT): 58-explore-b 01-conf" ]
	# that line, and every file but the two
	[ "${#lines[@]}" -eq $(($(ls "$TOP"/tests/*.bats | wc -l) - 1)) ]
	[[ "$output" != *tests/58-explore-b.bats* ]]
	[[ "$output" != *tests/01-conf.bats* ]]
	[[ "$output" == *tests/58-explore-a.bats* ]]
	# .ci/run's halves leave out one half of the sample each, not the same
	grep -q 'WS_OMIT=58-explore-b make check SANITIZE=1' "$TOP/.ci/run"
	grep -q 'WS_OMIT=58-explore-a make check J=' "$TOP/.ci/run"
}
