#!/usr/bin/env bats
# Two users (wikisync(7), Users): ws-recv, which parses mail from anyone,
# runs as a user that can add jobs and nothing else; the sync user owns
# the spool, the password files and the sessions.  Run as root: the test
# makes the two users and a spool with ws-setup-spool, then checks, as
# the receiving user, that mail still becomes a job and that no password
# file, cookie jar, state or store can be read.

load helper
load bed

RECV=ws-test-recv
SYNC=ws-test-sync

# ws_queue_titles: the queued jobs' titles, as the sync user lists them
ws_queue_titles() { as "$SYNC" ws-queue ls | cut -f4; }

# as USER CMD...: CMD as USER, with USER's groups
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups \
	    env WIKISYNC_CONF="$D/wikisync.conf" WIKISYNC_SPOOL="$D/spool" "$@"
}

setup() {
	common_setup
	[ "$(id -u)" -eq 0 ] || { echo "needs root: it makes two users" >&2; return 1; }
	D=$(bed_mktemp)
	run "$TOP/scripts/ws-setup-spool" -r "$RECV" -s "$SYNC" "$D/spool"
	assert_status 0
	printf 'secret\n' >"$D/pw"
	chown "$SYNC:$SYNC" "$D/pw"
	chmod 600 "$D/pw"
	printf '[wiki w1]\napi = http://127.0.0.1:35678/api.php\nuser = Peerd@wikisync\npassword-file = %s\n' \
	    "$D/pw" >"$D/wikisync.conf"
	chmod 644 "$D/wikisync.conf"
	# a session, as ws-login keeps it
	as "$SYNC" sh -c 'umask 077 && mkdir -p "$WIKISYNC_SPOOL/session" &&
	    echo cookie >"$WIKISYNC_SPOOL/session/w1"'
}

teardown() { rm -rf "$D"; }

@test "ws-setup-spool: two users, the layout, idempotent; a bad call" {
	id -nG "$SYNC" | grep -qw "$RECV"
	run ! grep -qw "$SYNC" <<<"$(id -nG "$RECV")"
	[ "$(stat -c '%U:%G %a' "$D/spool")" = "$SYNC:$RECV 710" ]
	[ "$(stat -c '%U:%G %a' "$D/spool/queue/new")" = "$SYNC:$RECV 3770" ]
	[ "$(stat -c '%U:%G %a' "$D/spool/store")" = "$SYNC:$SYNC 700" ]
	run "$TOP/scripts/ws-setup-spool" -r "$RECV" -s "$SYNC" "$D/spool"
	assert_status 0
	[ "${lines[0]}" = "ws-setup-spool: $D/spool: ready for $SYNC, and $RECV adding jobs" ]
	run "$TOP/scripts/ws-setup-spool" -r x -s x "$D/spool"
	assert_status 64
}

@test "ws-setup-spool run again as root follows no link the sync user planted under the spool" {
	mkdir -m 755 "$D/target"
	as "$SYNC" sh -c 'mv "$1/bad" "$1/bad.old" && ln -s "$2" "$1/bad"' sh "$D/spool" "$D/target"
	run --separate-stderr "$TOP/scripts/ws-setup-spool" -r "$RECV" -s "$SYNC" "$D/spool"
	assert_status 65
	[ "$stderr" = "ws-setup-spool: $D/spool/bad: a symbolic link: refused (move it away, then run again)" ]
	[ "$(stat -c '%U:%G %a' "$D/target")" = "root:root 755" ]
	# nothing under the spool is made by root, even where no link is
	as "$SYNC" sh -c 'rm "$1/bad" && mv "$1/bad.old" "$1/bad" && rmdir "$1/queue/hold"' sh "$D/spool"
	run "$TOP/scripts/ws-setup-spool" -r "$RECV" -s "$SYNC" "$D/spool"
	assert_status 0
	[ "$(stat -c '%U:%G %a' "$D/spool/queue/hold")" = "$SYNC:$SYNC 700" ]
	[ "$(stat -c '%U:%G %a' "$D/spool/bad")" = "$SYNC:$RECV 3770" ]
}

@test "as the receiving user, a notification becomes a job, which the sync user takes" {
	run --separate-stderr as "$RECV" ws-recv -v <"$TOP/tests/fixtures/mail/changed.eml"
	assert_status 0
	id=$output
	[ -f "$D/spool/queue/new/$id" ]
	run --separate-stderr as "$SYNC" ws-queue take
	assert_status 0
	[ "$output" = "$D/spool/queue/cur/$id" ]
	[ "$(as "$SYNC" ws-queue get "$id" title)" = "Fixture page" ]
	# a mail that is no notification is kept, by the same user
	run as "$RECV" ws-recv <<<"Subject: hello"
	assert_status 0
	[ "$(ls "$D/spool/bad" | wc -l)" -eq 1 ]
}

@test "the receiving user reads no password file, cookie jar, state, store or queued job list" {
	as "$SYNC" ws-store put <<<"a synced text" >/dev/null
	for f in "$D/pw" "$D/spool/session/w1"; do
		run as "$RECV" cat "$f"
		[ "$status" -ne 0 ]
		[[ "$output" == *"Permission denied"* ]]
	done
	for d in "$D/spool" "$D/spool/queue" "$D/spool/session" "$D/spool/store" "$D/spool/state"; do
		run as "$RECV" ls "$d"
		[ "$status" -ne 0 ]
	done
	# the sync user reads them all
	run as "$SYNC" cat "$D/pw" "$D/spool/session/w1"
	assert_status 0
}

@test "the receiving user can neither remove nor replace a job the sync user wrote (sticky queue/new)" {
	id=$(as "$SYNC" ws-queue add w1 "Deferred Page")
	as "$SYNC" ws-queue defer "$id" "w1 down"
	run as "$RECV" rm -f "$D/spool/queue/new/$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	# a file of its own renamed over the job: refused as well
	as "$RECV" sh -c 'printf "wiki=w1\ntitle=Forged\n" >"$1/queue/new/forged"' sh "$D/spool"
	run as "$RECV" mv "$D/spool/queue/new/forged" "$D/spool/queue/new/$id"
	[ "$status" -ne 0 ]
	[ "$(as "$SYNC" ws-queue get "$id" title)" = "Deferred Page" ]
	[ "$(as "$SYNC" ws-queue get "$id" attempts)" = 1 ]
}

@test "a job file the receiving user wrote gives the sync user only a mail's fields" {
	id=$(as "$RECV" ws-recv -v <"$TOP/tests/fixtures/mail/changed.eml")
	# the receiving user rewrites its own job with fields only the sync's
	# programs may set
	as "$RECV" sh -c 'f=$1/queue/new/$2 && cp "$f" "$f.t" &&
	    printf "attempts=99\nwaits=w1\nfolding=x\nowner=1@h\nlease=9999999999\n" >>"$f.t" &&
	    mv "$f.t" "$f"' sh "$D/spool" "$id"
	[ "$(stat -c %U "$D/spool/queue/new/$id")" = "$RECV" ]
	[ "$(as "$SYNC" ws-queue get "$id" title)" = "Fixture page" ]
	for k in attempts waits folding owner lease; do
		run as "$SYNC" ws-queue get "$id" "$k"
		assert_status 1
	done
	# one the sync user wrote itself keeps all it wrote
	as "$SYNC" ws-queue set "$id" waits=w1
	[ "$(as "$SYNC" ws-queue get "$id" waits)" = w1 ]
}

@test "root on the sync user's spool runs as that user: what it makes there is the sync user's" {
	for cmd in "ws-queue add w1 Root-Made" "ws-store put" "ws-status -t" "ws-queue ls"; do
		# shellcheck disable=SC2086 # the applet and its arguments
		run --separate-stderr env WIKISYNC_CONF="$D/wikisync.conf" WIKISYNC_SPOOL="$D/spool" $cmd <<<"a text"
		[ "$status" -le 1 ] || { echo "$cmd: $status: $stderr"; false; }
	done
	[ "$(ws_queue_titles)" = "Root-Made" ]
	# nothing under the spool is root's
	[ -z "$(find "$D/spool" -user root)" ]
	[ -n "$(find "$D/spool/store" -type f -user "$SYNC")" ]
}
