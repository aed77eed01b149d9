#!/usr/bin/env bats
# Disk faults, injected with strace: EIO and ENOSPC on write, fsync and
# rename.  Each command fails with exit 75, leaves nothing partial under a
# final name, and a retry succeeds.

load helper

# fault SPEC CMD...: run CMD with one fault injected (strace -e inject=SPEC)
fault() {
	local spec=$1
	shift
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
	    run --separate-stderr strace -f -qq -o /dev/null -e inject="$spec" "$@"
}

files() { ls -A "$@" 2>/dev/null | grep -v ':$' | grep . | wc -l; }

@test "queue add: ENOSPC or EIO on write, fsync or rename exits 75, adds nothing" {
	q=$SPOOL/queue
	for spec in write:error=ENOSPC:when=1 write:error=EIO:when=1 \
	    fsync:error=EIO:when=1 fsync:error=EIO:when=2 \
	    renameat2:error=EIO renameat2:error=ENOSPC; do
		fault "$spec" ws-queue add alpha A
		assert_status 75
		[ -z "$output" ]
		[[ "$stderr" == "ws-queue: add: "* ]]
		[ "$(files "$q/new" "$q/tmp")" -eq 0 ] || { echo "after $spec:"; ls -lA "$q"/*; false; }
	done
	run ws-queue add alpha A
	assert_status 0
	[ -f "$q/new/$output" ]
}

@test "queue set, defer, take: a fault leaves the job whole and where it was" {
	id=$(ws-queue add alpha A)
	cp "$SPOOL/queue/new/$id" "$BATS_TEST_TMPDIR/before"
	for spec in write:error=ENOSPC:when=1 fsync:error=EIO:when=1 renameat:error=EIO; do
		fault "$spec" ws-queue set "$id" k=v
		assert_status 75
		cmp "$SPOOL/queue/new/$id" "$BATS_TEST_TMPDIR/before"
		[ "$(files "$SPOOL/queue/tmp")" -eq 0 ]
	done
	fault renameat2:error=EIO ws-queue take
	assert_status 75
	[ -f "$SPOOL/queue/new/$id" ]
	p=$(ws-queue take)
	fault write:error=ENOSPC:when=1 ws-queue defer "$id" x
	assert_status 75
	[ -f "$p" ]
	[ "$(ws-queue get "$id" attempts)" = 0 ]
	run ws-queue defer "$id" x
	assert_status 0
	[ "$(ws-queue get "$id" attempts)" = 1 ]
	[ "$(files "$SPOOL/queue/cur" "$SPOOL/queue/tmp")" -eq 0 ]
}

@test "store put: a fault exits 75 and stores nothing; a retry stores it" {
	printf 'some text' >"$BATS_TEST_TMPDIR/t"
	ws-store put </dev/null >/dev/null	# make the store
	rm -f "$SPOOL"/store/versions/*
	for spec in write:error=ENOSPC:when=1 write:error=EIO:when=1 \
	    fsync:error=EIO:when=1 renameat2:error=EIO; do
		fault "$spec" ws-store put <"$BATS_TEST_TMPDIR/t"
		assert_status 75
		[ -z "$output" ]
		[ "$(files "$SPOOL/store/versions" "$SPOOL/store/tmp")" -eq 0 ] || { echo "after $spec"; false; }
	done
	run ws-store put <"$BATS_TEST_TMPDIR/t"
	assert_status 0
	cmp "$SPOOL/store/versions/$output" "$BATS_TEST_TMPDIR/t"
}

@test "store set: a fault at any step exits 75 and leaves the old pointer and a clean log" {
	a=$(echo a | ws-store put); b=$(echo b | ws-store put)
	ws-store set alpha P "$a" 1
	for spec in pwrite64:error=ENOSPC:when=1 fsync:error=EIO:when=1 \
	    write:error=EIO:when=1 fsync:error=EIO:when=2 renameat:error=EIO; do
		fault "$spec" ws-store set alpha P "$b" 2
		assert_status 75
		[ "$(ws-store get alpha P)" = "$a 1" ] || { echo "after $spec: $(ws-store get alpha P)"; false; }
		run --separate-stderr ws-store fsck
		assert_status 0
		[ "$(stat -c %s "$SPOOL/store/log")" -eq $LOGREC ]
	done
	run ws-store set alpha P "$b" 2
	assert_status 0
	[ "$(ws-store get alpha P)" = "$b 2" ]
}
