#!/usr/bin/env bats
# ws-recv behind the test bed's real Exim, through the router and transport WikiSync ships
# (scripts/exim4/): an edit on a watched page is a job for that wiki and page, by way of
# MediaWiki, Exim and ws-recv; when the spool cannot be written Exim keeps the mail and delivers
# it once it can; a stray mail ends in spool/bad/, delivered and not bounced.

load helper
load bed

setup_file() { bed_up 2; }
teardown_file() { bed_down; }
setup() { bed_setup; }

teardown() {
	[ ! -d "$WIKISYNC_SPOOL.away" ] || mv "$WIKISYNC_SPOOL.away" "$WIKISYNC_SPOOL"
	[ ! -e "$BATS_TEST_TMPDIR/tmp.mode" ] ||
		chmod "$(cat "$BATS_TEST_TMPDIR/tmp.mode")" "$WIKISYNC_SPOOL/queue/tmp"
	bed_teardown
}

# job_for WIKI TITLE: the id of a job for WIKI and TITLE in the queue, if any.
job_for() {
	ws-queue ls -a | awk -F '\t' -v w="$1" -v t="$2" '$3 == w && $4 == t { print $2; exit }'
}

# wait_job WIKI TITLE SECONDS: waits for a job for WIKI and TITLE; sets id.
wait_job() {
	local n=$(($3 * 20))
	until id=$(job_for "$1" "$2") && [ -n "$id" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "no job for $1: $2 after $3 s" >&2; return 1; }
		sleep 0.05
	done
}

# drain: take and finish every job, as a peerd would.
drain() {
	local p
	while p=$(ws-queue take); do ws-queue done "$p"; done
}

exim_queue() { "$WS_EXIM" -C "$WS_EXIM_CONF" -bpc; }

@test "the sync address goes through the shipped router and transport to ws-recv" {
	conf=$(cat "$WS_EXIM_CONF")
	[[ $conf == *"$(cat "$TOP/scripts/exim4/router/150_wikisync")"* ]]
	[[ $conf == *"$(cat "$TOP/scripts/exim4/transport/30_wikisync")"* ]]
	[ "$WS_PIPE" = "$(cd "$WS_BUILD" && pwd)/ws-recv" ]
	run -0 "$WS_EXIM" -C "$WS_EXIM_CONF" -bt "$WS_SYNC_ADDR"
	[[ $output == *"router = wikisync, transport = wikisync_pipe"* ]]
	run -0 "$WS_EXIM" -C "$WS_EXIM_CONF" -bP transport wikisync_pipe
	for opt in "command = $WS_PIPE" "user = $WS_EXIM_USER" "temp_errors = 75:73:126:127" "timeout = 30s" \
	    timeout_defer freeze_signal no_use_shell return_fail_output "message_prefix = "; do
		printf '%s\n' "${lines[@]}" | grep -qxF -- "$opt" || { echo "no $opt"; false; }
	done
}

@test "with WIKISYNC_SENDER_HOSTS the router takes mail from those hosts and local submission only" {
	hosts=(-C "$WS_EXIM_CONF" -DWIKISYNC_SENDER_HOSTS=127.0.0.1 -bt)
	run -0 "$WS_EXIM" "${hosts[@]}" -oMa 127.0.0.1 "$WS_SYNC_ADDR"
	[[ $output == *"router = wikisync, transport = wikisync_pipe"* ]]
	run -0 "$WS_EXIM" "${hosts[@]}" "$WS_SYNC_ADDR"
	[[ $output == *"router = wikisync, transport = wikisync_pipe"* ]]
	# another host's mail is not the sync's: the bed's catch-all takes it
	run -0 "$WS_EXIM" "${hosts[@]}" -oMa 192.0.2.7 "$WS_SYNC_ADDR"
	[[ $output == *"router = other_mail"* ]]
	[[ $output != *"wikisync_pipe"* ]]
}

@test "an edit on a watched page is a job for its wiki and page (bench/sync times the whole way)" {
	drain
	run -0 ws-testbed watch "$BED" alpha "Recv page"
	t0=$(date +%s%N)
	rev=$(ws-testbed edit "$BED" alpha "Recv page" "First text.")
	wait_job alpha "Recv page" 2
	t1=$(date +%s%N)
	echo "# edit to job: $(((t1 - t0) / 1000000)) ms" >&3
	[ "$(ws-queue get "$id" event)" = created ]
	run -1 ws-queue get "$id" oldid
	[[ $(ws-queue get "$id" msgid) =~ ^\<wiki\..*@127\.0\.0\.1\>$ ]]
	grep -q " => peerd <$WS_SYNC_ADDR> .*R=wikisync T=wikisync_pipe" "$WS_EXIM_LOG/mainlog"
	drain
	run -0 ws-testbed seen "$BED" alpha "Recv page"
	run -0 ws-testbed edit "$BED" alpha "Recv page" "Second text."
	wait_job alpha "Recv page" 2
	[ "$(ws-queue get "$id" event)" = changed ]
	[ "$(ws-queue get "$id" oldid)" = "$rev" ]
	[ "$(ws-queue get "$id" wiki)" = alpha ]
}

@test "an edit on wiki beta is beta's job; a title with odd characters arrives whole" {
	drain
	title="Größe & Maße/Teil 2 (neu)"
	run -0 ws-testbed watch "$BED" beta "$title"
	run -0 ws-testbed edit "$BED" beta "$title" "Text."
	wait_job beta "$title" 2
	[ "$(ws-queue get "$id" wiki)" = beta ]
	[ "$(ws-queue get "$id" title)" = "$title" ]
	[ -z "$(ls -A "$WIKISYNC_SPOOL/bad")" ]
}

@test "a spool Exim's user cannot write: Exim keeps the mail, then delivers it once it can" {
	drain
	stat -c %a "$WIKISYNC_SPOOL/queue/tmp" >"$BATS_TEST_TMPDIR/tmp.mode"
	chmod 555 "$WIKISYNC_SPOOL/queue/tmp"
	run -0 ws-testbed watch "$BED" alpha "Held page"
	run -0 ws-testbed edit "$BED" alpha "Held page" "Text."
	[ "$(exim_queue)" -eq 1 ]
	grep -q "T=wikisync_pipe defer .* returned 75" "$WS_EXIM_LOG/mainlog"
	[ -z "$(job_for alpha "Held page")" ]
	chmod "$(cat "$BATS_TEST_TMPDIR/tmp.mode")" "$WIKISYNC_SPOOL/queue/tmp"
	"$WS_EXIM" -C "$WS_EXIM_CONF" -qff
	wait_job alpha "Held page" 5
	[ "$(exim_queue)" -eq 0 ]
	[ "$(ws-queue get "$id" event)" = created ]
}

@test "the spool missing: Exim keeps the mail, then delivers it once the spool is back" {
	drain
	mv "$WIKISYNC_SPOOL" "$WIKISYNC_SPOOL.away"
	run -0 ws-testbed watch "$BED" beta "Away page"
	run -0 ws-testbed edit "$BED" beta "Away page" "Text."
	[ "$(exim_queue)" -eq 1 ]
	grep -qF "ws-recv: spool $WIKISYNC_SPOOL: no such directory (ws-setup-spool(8) makes it)" "$WS_EXIM_LOG/mainlog"
	mv "$WIKISYNC_SPOOL.away" "$WIKISYNC_SPOOL"
	"$WS_EXIM" -C "$WS_EXIM_CONF" -qff
	wait_job beta "Away page" 5
	[ "$(exim_queue)" -eq 0 ]
}

@test "a mail that is no notification is kept in spool/bad/, delivered, not bounced" {
	other=$(ls "$WS_MAIL_OTHER/new" 2>/dev/null | wc -l)
	printf 'To: %s\nFrom: someone@wikisync.test\nSubject: Not a notification\n\nHello.\n' \
	    "$WS_SYNC_ADDR" | "$WS_EXIM" -C "$WS_EXIM_CONF" -odi -t -i
	[ "$(exim_queue)" -eq 0 ]
	run -0 grep -l '^Subject: Not a notification$' "$WIKISYNC_SPOOL"/bad/*
	[ "${#lines[@]}" -eq 1 ]
	[ "$(ls "$WS_MAIL_OTHER/new" 2>/dev/null | wc -l)" -eq "$other" ]
	[ -z "$(job_for alpha "Not a notification")" ]
}
