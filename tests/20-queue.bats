#!/usr/bin/env bats
# ws-queue: adding, taking, leases, backoff and hold, fields, waiting.

load helper

now() { date +%s; }

@test "add prints an id that sorts by time; ls shows the job" {
	run --separate-stderr ws-queue add alpha "Main Page" oldid=5
	assert_status 0
	[ -z "$stderr" ]
	id1=$output
	[[ "$id1" =~ ^[0-9]{10}\.[0-9]{6}\.[0-9]+\.[0-9a-f]{4}\.[0-9a-f]{8}$ ]]
	id2=$(ws-queue add beta "Other")
	[[ "$id1" < "$id2" ]]
	[ -f "$SPOOL/queue/new/$id1" ]
	run ws-queue ls
	assert_status 0
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "new	$id1	alpha	Main Page	0	"* ]]
	[[ "${lines[1]}" == "new	$id2	beta	Other	0	"* ]]
	run ws-queue get "$id1" oldid
	[ "$output" = 5 ]
}

@test "take folds in the later jobs for the same page of the same wiki, deferred ones too" {
	id1=$(ws-queue add alpha "Main Page" event=changed)
	id2=$(ws-queue add alpha "Main Page" event=changed)
	other=$(ws-queue add beta "Main Page" event=changed)
	page=$(ws-queue add alpha "Other Page" event=changed)
	kind=$(ws-queue add alpha "Main Page" event=deleted)
	id3=$(ws-queue add alpha "Main Page" event=changed)
	ws-queue defer "$id3" "later"
	run --separate-stderr ws-queue take
	assert_status 0
	[ "$output" = "$SPOOL/queue/cur/$id1" ]
	[ -z "$stderr" ]
	[ ! -e "$SPOOL/queue/new/$id2" ]
	[ ! -e "$SPOOL/queue/new/$id3" ]
	run ws-queue ls -a
	[ "$(printf '%s\n' "$output" | cut -f2 | sort | paste -sd' ')" = \
	    "$(printf '%s\n' "$id1" "$other" "$page" "$kind" | sort | paste -sd' ')" ]
}

@test "take claims the oldest due job once; exit 1 when none is due" {
	id1=$(ws-queue add alpha A)
	id2=$(ws-queue add alpha B)
	run --separate-stderr ws-queue take
	assert_status 0
	[ "$output" = "$SPOOL/queue/cur/$id1" ]
	grep -q '^owner=[0-9]*@' "$output"
	lease=$(ws-queue get "$id1" lease)
	[ "$lease" -ge $(( $(now) + 890 )) ]
	[ "$lease" -le $(( $(now) + 901 )) ]
	run ws-queue take
	[ "$output" = "$SPOOL/queue/cur/$id2" ]
	run --separate-stderr ws-queue take
	assert_status 1
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "done removes the job; a job named by path works too" {
	ws-queue add alpha A >/dev/null
	p=$(ws-queue take)
	run ws-queue done "$p"
	assert_status 0
	[ ! -e "$p" ]
	run --separate-stderr ws-queue done "$p"
	assert_status 65
	[[ "$stderr" == *": no such job" ]]
}

@test "defer backs off from 10 s, doubling, capped at an hour" {
	printf 'hold-after = 100\n' >"$WIKISYNC_CONF"
	id=$(ws-queue add alpha A)
	want=(10 20 40 80 160 320 640 1280 2560 3600 3600)
	for i in "${!want[@]}"; do
		touch -d @0 "$SPOOL/queue/new/$id"	# due: let take have it
		[ "$(ws-queue take)" = "$SPOOL/queue/cur/$id" ]
		t0=$(now)
		run ws-queue defer "$id" "try $i"
		t1=$(now)
		assert_status 0
		next=$(ws-queue get "$id" next)
		[ "$next" -ge $((t0 + want[i])) ] && [ "$next" -le $((t1 + want[i])) ] ||
		    { echo "attempt $((i + 1)): delay $((next - t0)), want ${want[i]}"; false; }
		[ "$(stat -c %Y "$SPOOL/queue/new/$id")" = "$next" ]
		[ "$(ws-queue get "$id" attempts)" = $((i + 1)) ]
		[ "$(ws-queue get "$id" error)" = "try $i" ]
		run ws-queue take
		assert_status 1	# not due yet
	done
}

@test "a deferred job waits, listed only with -a, counted as waiting" {
	id=$(ws-queue add alpha A)
	ws-queue take >/dev/null
	ws-queue defer "$id" "connection refused"
	run ws-queue ls
	[ -z "$output" ]
	run ws-queue ls -a
	[[ "$output" == "wait	$id	alpha	A	1	"*"	connection refused" ]]
	run ws-queue stats
	[[ "$output" == *"due 0"* && "$output" == *"waiting 1"* ]]
}

@test "after hold-after attempts a job is held, visible, until released" {
	printf 'hold-after = 3\n' >"$WIKISYNC_CONF"
	id=$(ws-queue add alpha A)
	for i in 1 2 3; do
		touch -d @0 "$SPOOL/queue/new/$id"
		ws-queue take >/dev/null
		ws-queue defer "$id" "HTTP 503"
	done
	[ -f "$SPOOL/queue/hold/$id" ]
	[ "$(ws-queue get "$id" state)" = hold ]
	[ "$(ws-queue get "$id" error)" = "held after 3 attempts: HTTP 503" ]
	run ws-queue take
	assert_status 1
	run ws-queue ls -a
	[[ "$output" == "hold	$id	alpha	A	3	-	held after 3 attempts: HTTP 503" ]]
	run ws-queue stats
	[[ "$output" == *"held 1"* ]]
	run --separate-stderr ws-queue defer "$id"
	assert_status 65
	run ws-queue release "$id"
	assert_status 0
	[ "$(ws-queue get "$id" attempts)" = 0 ]
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$id" ]
}

@test "hold sets a job aside with its reason; release of a job not held is refused" {
	id=$(ws-queue add alpha A)
	run --separate-stderr ws-queue release "$id"
	assert_status 65
	[[ "$stderr" == *"not held" ]]
	ws-queue hold "$id" "both sides changed"
	[ "$(ws-queue get "$id" state)" = hold ]
	[ "$(ws-queue get "$id" error)" = "both sides changed" ]
}

@test "set changes fields at once and keeps a waiting job's due time" {
	id=$(ws-queue add alpha A)
	ws-queue take >/dev/null
	ws-queue defer "$id" x
	due=$(stat -c %Y "$SPOOL/queue/new/$id")
	run ws-queue set "$id" peer.beta.sha1=0123 peer.beta.verified=1
	assert_status 0
	[ "$(ws-queue get "$id" peer.beta.sha1)" = 0123 ]
	[ "$(ws-queue get "$id" peer.beta.verified)" = 1 ]
	[ "$(stat -c %Y "$SPOOL/queue/new/$id")" = "$due" ]
	run ws-queue get "$id" nothing
	assert_status 1
}

@test "bad input: exact codes, one-line errors, nothing changed" {
	id=$(ws-queue add alpha A)
	run --separate-stderr ws-queue add alpha $'two\nlines'
	assert_status 65
	run --separate-stderr ws-queue add alpha ""
	assert_status 65
	run --separate-stderr ws-queue add alpha A 'bad key=1'
	assert_status 65
	run --separate-stderr ws-queue add alpha A wiki=beta
	assert_status 64
	run --separate-stderr ws-queue set "$id" $'k=v\r'
	assert_status 65
	run --separate-stderr ws-queue get ../../etc/passwd wiki
	assert_status 65
	[ "$stderr" = "ws-queue: ../../etc/passwd: not a job id" ]
	run --separate-stderr ws-queue get 1795324505.369377.1.abcd wiki
	assert_status 65
	run --separate-stderr ws-queue frob
	assert_status 64
	run --separate-stderr ws-queue add alpha
	assert_status 64
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 1 ]
}

@test "a missing spool is a temporary failure, exit 75" {
	run --separate-stderr ws-queue -d "$BATS_TEST_TMPDIR/none" add alpha A
	assert_status 75
	[[ "$stderr" == "ws-queue: spool $BATS_TEST_TMPDIR/none: no such directory (ws-setup-spool(8) makes it)" ]]
}

@test "no config file and no spool: the error names the missing file as well as the spool" {
	# a mount namespace in which neither is there, whatever this host has
	run --separate-stderr unshare -m --propagation private sh -c '
	    mount -t tmpfs none /var/spool &&
	    { [ ! -d /etc/wikisync ] || mount -t tmpfs none /etc/wikisync; } &&
	    exec env -u WIKISYNC_CONF -u WIKISYNC_SPOOL "$1" ls' sh "$(command -v ws-queue)"
	assert_status 75
	[ "$stderr" = "ws-queue: spool /var/spool/wikisync: no such directory, and no /etc/wikisync/wikisync.conf to name another (wikisync.conf(5); ws-setup-spool(8) makes the spool)" ]
}

@test "a lapsed lease: recover returns the job, and so does a later take" {
	id=$(ws-queue add alpha A)
	# leases count in whole seconds: 3 s stays unlapsed through a slow
	# (sanitizer) recover, whatever second boundary falls in between
	ws-queue take -l 3 >/dev/null
	run ws-queue recover
	[ "$(ws-queue get "$id" state)" = cur ]
	sleep 4
	ws-queue recover
	[ "$(ws-queue get "$id" state)" = new ]
	run ws-queue get "$id" owner
	assert_status 1
	ws-queue take -l 1 >/dev/null
	sleep 2
	run --separate-stderr ws-queue take
	assert_status 0
	[ "$stderr" = "ws-queue: $id: returned to new" ]
	[ "$output" = "$SPOOL/queue/cur/$id" ]
}

@test "take -t: path, wiki, title and the take's mark in one line; take -w: the worker's end returns its job at once" {
	id=$(ws-queue add alpha "Tab Page")
	sleep 30 3>&- &
	worker=$!
	run --separate-stderr ws-queue take -t -w "$worker"
	assert_status 0
	[ "$output" = "$SPOOL/queue/cur/$id	alpha	Tab Page	$(ws-queue get "$id" taken)" ]
	[ "$(ws-queue get "$id" worker)" = "$worker@$(hostname)" ]
	# the lease is 900 s; while the worker lives the job is its own
	ws-queue recover
	[ "$(ws-queue get "$id" state)" = cur ]
	kill "$worker"
	wait "$worker" || :
	run --separate-stderr ws-queue take -t
	assert_status 0
	[ "$stderr" = "ws-queue: $id: returned to new" ]
	[ "$output" = "$SPOOL/queue/cur/$id	alpha	Tab Page	$(ws-queue get "$id" taken)" ]
	run ws-queue get "$id" worker
	assert_status 1
	run --separate-stderr ws-queue take -w 999999999
	assert_status 64
	[ "$stderr" = "ws-queue: take -w 999999999: not a running process" ]
	run --separate-stderr ws-queue take -l 0
	assert_status 64
	[ "$stderr" = "ws-queue: take -l 0: seconds, 1 to 604800" ]
}

@test "one job per page at a time, in order: take passes over a page in hand until its job is done" {
	a1=$(ws-queue add alpha "Busy Page" event=changed)
	b1=$(ws-queue add beta "Busy_Page" event=changed)
	c1=$(ws-queue add beta "Free Page" event=changed)
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$a1" ]
	# beta's job is the same page (an underscore is a space): passed over
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$c1" ]
	run ws-queue take
	assert_status 1
	ws-queue "done" "$a1"
	[ "$(ws-queue get "$b1" state)" = new ]
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$b1" ]
	ws-queue "done" "$b1"
	ws-queue "done" "$c1"
}

@test "a move runs alone: it waits for the jobs in hand, nothing later is taken before it, nor beside it" {
	e1=$(ws-queue add alpha "Edited" event=changed)
	m1=$(ws-queue add beta "Moved Away" event=moved)
	# an edit of the new title, mailed after the move: it must not run
	# first, or it would make the title a page of its own on alpha
	e2=$(ws-queue add beta "Moved Away m1" event=changed)
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$e1" ]
	run ws-queue take
	assert_status 1
	run ws-queue wait -t 1
	assert_status 1
	ws-queue "done" "$e1"
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$m1" ]
	run ws-queue take
	assert_status 1
	ws-queue "done" "$m1"
	[ "$(ws-queue take)" = "$SPOOL/queue/cur/$e2" ]
}

@test "wait does not count a job whose page is in hand: the worker's end wakes the loop, not wait" {
	ws-queue add alpha "Held Page" >/dev/null
	ws-queue take >/dev/null
	ws-queue add beta "Held Page" >/dev/null
	run ws-queue wait -t 1
	assert_status 1
	ws-queue add beta "Another Page" >/dev/null
	run ws-queue wait -t 5
	assert_status 0
}

@test "recover -f returns every taken job; stale tmp files go" {
	ws-queue add alpha A >/dev/null
	ws-queue add alpha B >/dev/null
	ws-queue take >/dev/null
	ws-queue take >/dev/null
	touch "$SPOOL/queue/tmp/.tmp.1.2.3.4"
	ws-queue recover -f
	[ "$(ls "$SPOOL/queue/cur" | wc -l)" -eq 0 ]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 2 ]
	[ -e "$SPOOL/queue/tmp/.tmp.1.2.3.4" ]	# fresh: maybe a writer's
	faketime -f +61m ws-queue recover
	[ ! -e "$SPOOL/queue/tmp/.tmp.1.2.3.4" ]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 2 ]
}

@test "a job taken but never stamped counts from the rename" {
	id=$(ws-queue add alpha A)
	mv "$SPOOL/queue/new/$id" "$SPOOL/queue/cur/$id"
	ws-queue recover
	[ "$(ws-queue get "$id" state)" = cur ]
}

@test "stats counts each state and the oldest job's age" {
	ws-queue add alpha A >/dev/null
	ws-queue add alpha B >/dev/null
	ws-queue take >/dev/null
	run ws-queue stats
	assert_status 0
	[ "${lines[0]}" = "due 1" ]
	[ "${lines[1]}" = "waiting 0" ]
	[ "${lines[2]}" = "running 1" ]
	[ "${lines[3]}" = "held 0" ]
	[[ "${lines[4]}" =~ ^oldest\ [0-9]+$ ]]
	[ "${lines[5]}" = "bad 0" ]
}

@test "take moves a file no job can be made of to queue/bad, with why, once; wait no longer counts it" {
	q=$SPOOL/queue
	ws-queue stats >/dev/null	# makes the queue
	# a stray line, a NUL byte, a symlink, a directory, a FIFO
	printf 'wiki=alpha\nno equals sign\n' >"$q/new/1000000001.000001.1.a"
	printf 'wiki=alpha\0title=A\n' >"$q/new/1000000002.000001.1.a"
	ln -s /etc/passwd "$q/new/1000000003.000001.1.a"
	mkdir "$q/new/1000000004.000001.1.a"
	mkfifo "$q/new/1000000005.000001.1.a"
	good=$(ws-queue add alpha Good)
	run --separate-stderr timeout 10 ws-queue take
	assert_status 0
	[ "$output" = "$q/cur/$good" ]
	[ "$(grep -c 'moved to .*/queue/bad' <<<"$stderr")" -eq 5 ]
	[[ "$stderr" == *"1000000001.000001.1.a: not a job file"* ]]
	[[ "$stderr" == *"1000000003.000001.1.a: a symbolic link, not a job file"* ]]
	[[ "$stderr" == *"1000000005.000001.1.a: not a regular file"* ]]
	[ "$(ls "$q/new")" = "" ]
	[ "$(ls "$q/bad" | grep -vc '\.why$')" -eq 5 ]
	[ "$(cat "$q/bad/1000000002.000001.1.a.why")" = 'not a job file (a line without "=", or a NUL byte)' ]
	# the link itself moved, not what it names
	[ -L "$q/bad/1000000003.000001.1.a" ]
	ws-queue "done" "$good"
	run ws-queue wait -t 0
	assert_status 1
	run --separate-stderr ws-queue take
	assert_status 1
	[ -z "$stderr" ]
	run ws-queue stats
	[ "${lines[5]}" = "bad 5" ]
}

@test "defer and hold keep any reason, cut to one line of 1000 bytes at a character's start" {
	id=$(ws-queue add alpha A)
	ws-queue defer "$id" "$(printf 'two\nlines')"
	[ "$(ws-queue get "$id" error)" = "two lines" ]
	long=$(printf 'é%.0s' $(seq 6000))
	ws-queue defer "$id" "$long"
	err=$(ws-queue get "$id" error)
	[ "$(printf '%s' "$err" | wc -c)" -eq 1003 ]	# 500 é, then "..."
	[[ "$err" == "éé"*"é..." ]]
	ws-queue hold "$id" "x$long"
	err=$(ws-queue get "$id" error)
	[ "$(printf '%s' "$err" | wc -c)" -eq 1002 ]	# "x", 499 é, "..."
	[ "$(ws-queue get "$id" state)" = hold ]
}

@test "wait returns at once when a job is due, 1 on timeout" {
	run ws-queue wait -t 0
	assert_status 1
	ws-queue add alpha A >/dev/null
	run ws-queue wait -t 5
	assert_status 0
}

@test "wait is woken by an add, not by its timeout (bench/queue times it)" {
	( ws-queue wait -t 60; echo "$? $(date +%s)" >"$BATS_TEST_TMPDIR/woke" ) &
	sleep 0.5
	[ ! -e "$BATS_TEST_TMPDIR/woke" ]
	ws-queue add alpha A >/dev/null
	t=$(date +%s)
	wait
	read -r rc t1 <"$BATS_TEST_TMPDIR/woke"
	[ "$rc" -eq 0 ]
	# well before the 60 s it would wait
	[ $((t1 - t)) -lt 30 ]
}

@test "wait wakes when a deferred job comes due" {
	id=$(ws-queue add alpha A)
	ws-queue take >/dev/null
	ws-queue defer "$id"
	touch -d "@$(( $(now) + 2 ))" "$SPOOL/queue/new/$id"
	s=$(now)
	run ws-queue wait -t 10
	assert_status 0
	[ $(( $(now) - s )) -le 4 ]
}

@test "8 parallel takers over 1000 jobs: each handed out exactly once" {
	for i in $(seq 1000); do echo "alpha page$i"; done |
	    while read -r w t; do ws-queue add "$w" "$t"; done >"$BATS_TEST_TMPDIR/ids"
	[ "$(sort -u "$BATS_TEST_TMPDIR/ids" | wc -l)" -eq 1000 ]
	for k in 1 2 3 4 5 6 7 8; do
		( while p=$(ws-queue take); do
			echo "${p##*/}"
			ws-queue done "$p" || echo "DONE FAILED $p"
		done >"$BATS_TEST_TMPDIR/taken.$k" ) &
	done
	wait
	cat "$BATS_TEST_TMPDIR"/taken.* | sort >"$BATS_TEST_TMPDIR/all"
	run ! grep -q FAILED "$BATS_TEST_TMPDIR/all"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/all")" -eq 1000 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/all" | wc -l)" -eq 1000 ]
	sort "$BATS_TEST_TMPDIR/ids" | cmp - "$BATS_TEST_TMPDIR/all"
	[ -z "$(ls -A "$SPOOL/queue/new" "$SPOOL/queue/cur" | grep -v : | grep .)" ]
}

@test "done, defer and hold with a take's mark act only on the job as that take left it: a worker whose job was taken again since changes nothing" {
	id=$(ws-queue add alpha "Marked Page")
	ws-queue take -l 1 >/dev/null
	first=$(ws-queue get "$id" taken)
	sleep 2
	# the lease lapsed: another take has the job now
	IFS=$'\t' read -r path wiki title second < <(ws-queue take -t 2>/dev/null)
	[ "$path" = "$SPOOL/queue/cur/$id" ]
	[ "$second" != "$first" ]
	for args in "done" "defer why" "hold why"; do
		# shellcheck disable=SC2086 # the command and its reason
		set -- $args
		run --separate-stderr ws-queue "$1" -m "$first" "$id" "${@:2}"
		assert_status 65
		[ "$stderr" = "ws-queue: $id: no longer taken as $first (returned, or taken again since): left as it is" ]
		[ "$(ws-queue get "$id" state)" = cur ]
		[ "$(ws-queue get "$id" taken)" = "$second" ]
	done
	# its own taker's mark works, and without -m, as before, anyone's
	ws-queue defer -m "$second" "$id" "later"
	[ "$(ws-queue get "$id" state)" = new ]
	run ws-queue get "$id" taken
	assert_status 1
	ws-queue done "$id"
	run ws-queue get "$id" state
	assert_status 65
}
