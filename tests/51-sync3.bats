#!/usr/bin/env bats
# Three wikis in one group, mail all the way: one edit reaches both others,
# and nobody echoes it back; workers run jobs at once, each job at most
# five process starts, and a worker killed loses nothing.

load helper
load bed
load sync

loop_bed_hooks

@test "an edit on one of three wikis reaches both others, with no echo edits" {
	watch alpha "Three Ways"
	rev=$(edit alpha "Three Ways" "Shared by three. [[Category:Synced]]" "made on alpha")
	wait_for 3 has_text beta "Three Ways" "Shared by three. [[Category:Synced]]"
	wait_for 3 has_text gamma "Three Ways" "Shared by three. [[Category:Synced]]"
	sleep 1
	wait_for 5 idle
	for w in beta gamma; do
		run history "$w" "Three Ways"
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "Peerd	from alpha r$rev by Editor: made on alpha	"* ]]
	done
	run history alpha "Three Ways"
	[ "${#lines[@]}" -eq 1 ]
}

@test "then an edit on gamma reaches alpha and beta, and each history has exactly its revisions" {
	edit gamma "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]" "gamma's turn" >/dev/null
	wait_for 3 has_text alpha "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]"
	wait_for 3 has_text beta "Three Ways" "Shared by three, edited on gamma. [[Category:Synced]]"
	sleep 1
	wait_for 5 idle
	for w in alpha beta gamma; do
		run history "$w" "Three Ways"
		[ "${#lines[@]}" -eq 2 ] || { echo "$w:"; printf '%s\n' "${lines[@]}"; false; }
	done
}

# queued K: K edits on alpha, each of its own page, queued by mail while
# the loop is stopped
queued() {
	local i
	peerd_stop
	for i in $(seq "$1"); do
		watch alpha "$2 $i"
		edit alpha "$2 $i" "$2 $i. [[Category:Synced]]" >/dev/null
	done
	wait_for 5 due_is "$1"
}
due_is() { [[ "$(ws-queue stats)" == "due $1"$'\n'* ]]; }

@test "ws-peerd -j 4 runs jobs of different pages at once: their times add up to more than the drain's" {
	queued 8 Parallel
	t0=$(date +%s%N)
	ws-peerd -1 -j 4 2>"$BATS_TEST_TMPDIR/log"
	wall=$(( ($(date +%s%N) - t0) / 1000000 ))
	idle
	for i in $(seq 8); do
		has_text beta "Parallel $i" "Parallel $i. [[Category:Synced]]"
		has_text gamma "Parallel $i" "Parallel $i. [[Category:Synced]]"
	done
	# each job's line ends in its own milliseconds; one at a time, they
	# could not add up to more than the whole run's
	sum=$(sed -n 's/^ws-peerd: alpha: Parallel [0-9]*: .* (\([0-9]*\) ms)$/\1/p' \
	    "$BATS_TEST_TMPDIR/log" | awk '{ s += $1; n++ } END { if (n == 8) print s }')
	echo "sum $sum ms, wall $wall ms" >&3
	[ -n "$sum" ] && [ "$sum" -gt "$wall" ]
}

@test "a job costs at most five process starts: take, push, verify, done (counted with strace)" {
	command -v strace >/dev/null
	peerd_stop
	# LeakSanitizer cannot run under ptrace: an ASan build's applets
	# would all fail at exit under strace, so leaks are not looked for here
	count() {
		ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 strace -f -qq -z \
		    -e trace=execve -e signal=none -o "$BATS_TEST_TMPDIR/$1" \
		    ws-peerd -1 -j 4 2>"$BATS_TEST_TMPDIR/$1.err" ||
		    { cat "$BATS_TEST_TMPDIR/$1.err"; return 1; }
		grep -c ' execve(' "$BATS_TEST_TMPDIR/$1"
	}
	# the programs run, and how often (shown when the test fails)
	names() {
		sed -n 's/.* execve("[^"]*\/\([^"/]*\)".*/\1/p' "$BATS_TEST_TMPDIR/$1" |
		    sort | uniq -c | tee /dev/stderr
	}
	base=$(count none) || { echo "$base"; return 1; }
	queued 12 Counted
	all=$(count twelve) || { echo "$all"; return 1; }
	idle
	pushes=$(grep -c ' execve("[^"]*/ws-push"' "$BATS_TEST_TMPDIR/twelve")
	[ "$pushes" -eq 12 ]
	echo "# $all process starts for 12 jobs, $base for none" >&3
	[ $(( all - base )) -le $(( 5 * pushes )) ]
	# no helper runs per job (date, tail, rm, logger of old): beyond the
	# applets of a job, the same programs as with none
	[ "$(names none | grep -v ' ws-queue$')" = \
	    "$(names twelve | grep -v ' ws-\(push\|verify\|queue\)$')" ]
}

# kill_worker TITLE TEXT: TEXT saved on alpha; the worker whose ws-push
# waits on gamma's paused wiki is killed (gamma is resumed either way)
kill_worker() {
	local gamma push worker rc=0
	gamma=$(cat "$BED/gamma/php.pid")
	kill -STOP -- "-$gamma"
	{
		edit alpha "$1" "$2" >/dev/null &&
		    wait_for 5 pgrep -f "ws-push $BED/spool/queue/cur/" &&
		    push=$(pgrep -f "ws-push $BED/spool/queue/cur/" | head -n 1) &&
		    worker=$(ps -o ppid= -p "$push" | tr -d ' ') &&
		    [ "$worker" != "$(cat "$BED/peerd.pid")" ] &&
		    kill -KILL "$worker"
	} || rc=1
	kill -CONT -- "-$gamma"
	return "$rc"
}

@test "a worker killed in the middle of a push: the loop defers its job, and the page syncs" {
	# the loop restarted by the test before: its start-up scan first
	wait_for 10 idle
	watch alpha "Killed Worker"
	edit alpha "Killed Worker" "One. [[Category:Synced]]" >/dev/null
	wait_for 5 has_text gamma "Killed Worker" "One. [[Category:Synced]]"
	# its verify done: gamma is stopped next, and only the push is to wait
	wait_for 10 idle
	kill_worker "Killed Worker" "Two. [[Category:Synced]]" || {
		p=$(cat "$BED/peerd.pid")
		ps -g "$p" -o pid,ppid,stat,wchan:20,lstart,args >&3; ws-queue ls -a >&3; false; }
	wait_for 5 grep -q "worker ended by signal 9: deferred" "$BED/peerd.log"
	touch "$WIKISYNC_SPOOL"/queue/new/* 2>/dev/null || :	# due now
	wait_for 5 has_text gamma "Killed Worker" "Two. [[Category:Synced]]"
	# replayed onto each at once, each at its own pace: not done together
	wait_for 5 has_text beta "Killed Worker" "Two. [[Category:Synced]]"
	wait_for 10 idle
}

@test "a job replays onto beta and gamma at once: each peer's first copy is older than the other's last" {
	peerd_stop
	watch alpha "Both Peers"
	for i in $(seq 6); do
		edit alpha "Both Peers" "Step $i. [[Category:Synced]]" "step $i" >/dev/null
	done
	wait_for 5 due_is 1
	peerd_start
	wait_for 10 has_text gamma "Both Peers" "Step 6. [[Category:Synced]]"
	wait_for 10 has_text beta "Both Peers" "Step 6. [[Category:Synced]]"
	wait_for 10 idle
	declare -A first last
	for w in beta gamma; do
		run revs "$w" "Both Peers" timestamp user
		[ "${#lines[@]}" -eq 6 ]
		first[$w]=${lines[0]%%	*}
		last[$w]=${lines[5]%%	*}
	done
	# one after the other, the second peer's first copy would come after
	# the first's last (which waits for the wiki's next second)
	echo "beta ${first[beta]} to ${last[beta]}, gamma ${first[gamma]} to ${last[gamma]}"
	[[ "${first[gamma]}" < "${last[beta]}" ]]
	[[ "${first[beta]}" < "${last[gamma]}" ]]
}

# last in the file: it runs the loop with a wiki more, and stops it
@test "a wiki whose host drops packets holds up no job of the others: while ws-login waits on it, an edit on alpha reaches beta and gamma" {
	python3 "$TOP/tests/blackhole.py" "$BATS_TEST_TMPDIR/hole" 3>&- &
	wait_for 5 test -s "$BATS_TEST_TMPDIR/hole"
	{ sed '/^\[wiki alpha\]/i login-check = 5' "$WIKISYNC_CONF"
	  printf '\n[wiki delta]\napi = http://127.0.0.1:%s/api.php\nuser = Peerd@wikisync\npassword-file = %s\ntimeout = 60\n' \
	      "$(cat "$BATS_TEST_TMPDIR/hole")" "$BED/alpha/sync.pass"
	} >"$BATS_TEST_TMPDIR/hole.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/hole.conf
	peerd_start
	# the loop's first look at the logins sits on delta for a minute
	wait_for 5 pgrep -g "$(cat "$BED/peerd.pid")" -f "ws-login -k"
	login=$(pgrep -g "$(cat "$BED/peerd.pid")" -f "ws-login -k")
	watch alpha "Past The Hole"
	edit alpha "Past The Hole" "Not held up. [[Category:Synced]]" >/dev/null
	wait_for 5 has_text beta "Past The Hole" "Not held up. [[Category:Synced]]"
	wait_for 5 has_text gamma "Past The Hole" "Not held up. [[Category:Synced]]"
	# that look is still going on
	kill -0 "$login"
	peerd_stop
}
