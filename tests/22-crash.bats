#!/usr/bin/env bats
# Crashes: queue and store commands killed with SIGKILL at random moments.
# Afterwards every job is in exactly one state and whole, no job that was
# acknowledged is lost, and the store is clean or repaired by fsck -r.

load helper

# kill_at CMD...: run CMD, SIGKILLed after 0.1 to 12 ms: a command takes
# 1 to 5 ms, so many die mid-way.
kill_at() {
	timeout -s KILL "$(printf '0.%06d' $((RANDOM % 2 ? RANDOM % 3000 + 100 : RANDOM % 12000 + 100)))" "$@"
}

@test "300 random SIGKILLs over add, take, done, defer, set, recover lose no job" {
	for i in $(seq 40); do ws-queue add alpha "seed $i"; done >"$BATS_TEST_TMPDIR/added"
	: >"$BATS_TEST_TMPDIR/done"
	: >"$BATS_TEST_TMPDIR/tried"
	: >"$BATS_TEST_TMPDIR/set"
	for i in $(seq 300); do
		job=$(ls "$SPOOL/queue/new" "$SPOOL/queue/cur" 2>/dev/null | grep -E '^[0-9]{10}\.' | shuf -n 1)
		case $((RANDOM % 6)) in
		0) id=$(kill_at ws-queue add alpha "page $i" n=$i) &&
		    echo "$id" >>"$BATS_TEST_TMPDIR/added" ;;
		1) kill_at ws-queue take -l 3600 >/dev/null || true ;;
		2) [ -z "$job" ] || { echo "$job" >>"$BATS_TEST_TMPDIR/tried"
		    kill_at ws-queue done "$job" &&
		    echo "$job" >>"$BATS_TEST_TMPDIR/done"; } || true ;;
		3) [ -z "$job" ] || kill_at ws-queue -q defer "$job" "crash $i" || true ;;
		4) [ -z "$job" ] || { kill_at ws-queue set "$job" mark=$i &&
		    echo "$job $i" >>"$BATS_TEST_TMPDIR/set"; } || true ;;
		5) kill_at ws-queue -q recover || true ;;
		esac
	done 2>/dev/null
	ws-queue -q recover -f
	q=$SPOOL/queue
	# nothing but whole jobs under final names
	[ -z "$(ls -A "$q/new" "$q/cur" "$q/hold" | grep -E '^\.')" ]
	ls "$q/new" "$q/cur" "$q/hold" | grep -E '^[0-9]{10}\.' | sort >"$BATS_TEST_TMPDIR/present"
	# in exactly one state
	[ -z "$(uniq -d "$BATS_TEST_TMPDIR/present")" ]
	for id in $(cat "$BATS_TEST_TMPDIR/present"); do
		ws-queue get "$id" wiki >/dev/null
		ws-queue get "$id" title >/dev/null
		ws-queue get "$id" attempts >/dev/null
	done
	# every acknowledged add is there unless a done was tried on it
	# (a done killed after its unlink removed it without saying so)
	sort -u "$BATS_TEST_TMPDIR/added" >"$BATS_TEST_TMPDIR/a"
	sort -u "$BATS_TEST_TMPDIR/done" >"$BATS_TEST_TMPDIR/d"
	sort -u "$BATS_TEST_TMPDIR/tried" >"$BATS_TEST_TMPDIR/t"
	comm -23 "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/must"
	missing=$(comm -23 "$BATS_TEST_TMPDIR/must" "$BATS_TEST_TMPDIR/present")
	[ -z "$missing" ] || { echo "lost: $missing"; false; }
	# acknowledged dones are gone
	[ -z "$(comm -12 "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/present")" ]
	# an acknowledged set is there, unless a later set on that job ran
	tac "$BATS_TEST_TMPDIR/set" | sort -u -k1,1 | while read -r job n; do
		grep -qx "$job" "$BATS_TEST_TMPDIR/present" || continue
		m=$(ws-queue get "$job" mark)
		[ "$m" -ge "$n" ] || { echo "$job: mark $m, acknowledged $n"; false; }
	done
	# and the queue still works
	id=$(ws-queue add alpha after)
	[ -f "$q/new/$id" ]
}

@test "300 random SIGKILLs over put and set leave a store fsck -r makes clean" {
	for i in $(seq 8); do printf 'text %s\n' "$i" | ws-store put; done >"$BATS_TEST_TMPDIR/sha"
	for i in $(seq 300); do
		if [ $((RANDOM % 3)) -eq 0 ]; then
			head -c $((RANDOM * 8)) /dev/urandom | kill_at ws-store put >/dev/null || true
		else
			s=$(shuf -n 1 "$BATS_TEST_TMPDIR/sha")
			kill_at ws-store set "w$((RANDOM % 2))" "Page $((RANDOM % 5))" "$s" "$i" || true
		fi
	done 2>/dev/null
	run ws-store fsck -r
	assert_status 0
	run --separate-stderr ws-store fsck
	assert_status 0
	[ -z "$output" ]
	# every pointer names the newest finished log record for its page
	st=$SPOOL/store
	[ $(( $(stat -c %s "$st/log") % $LOGREC )) -eq 0 ]
	awk '$7 == "+" { last[$2 "/" $3] = $5 } END { for (k in last) print k, last[k] }' "$st/log" |
	while read -r k sha; do
		[ "$(cut -d' ' -f1 "$st/cur/$k" | head -n 1)" = "$sha" ] ||
		    { echo "$k: pointer $(head -n 1 "$st/cur/$k"), log $sha"; false; }
	done
	find "$st/cur" -type f | while read -r p; do
		grep -q "$(basename "$(dirname "$p")") *$(basename "$p")" "$st/log"
	done
	# the store goes on working
	s=$(echo after | ws-store put)
	ws-store set w0 "Page 0" "$s" 999
	[ "$(ws-store get w0 "Page 0")" = "$s 999" ]
}
