#!/usr/bin/env bats
# WikiSync across hosts (ws-hostbed): three hosts in network namespaces on one bridge, each with
# its wiki and its Exim; beta's and gamma's Exims relay the sync user's mail by SMTP to host 1,
# whose Exim pipes it to ws-recv and whose ws-peerd edits every wiki over the bed's network.
# The bed is what it says (addresses, no way out, cut and join), an edit on a wiki-only host
# travels by SMTP relay, and a syncing host cut off loses nothing: the mail waits in the senders'
# queues and every edit arrives once, in order, after the join; a wiki host cut off during a
# stream of edits has its jobs deferred and is seen down, then up, and gets every edit after.
# Host 2 is a second syncing host (up -b) for a second group over the same wikis: each page is
# synced by one of the two hosts alone, and the other leaves it, logged once.
# The bed comes up by the first example of ws-hostbed(1), and the last test, the second
# example, takes it down.

load helper
load bed
load sync
load hosts

# How long the syncing host stays cut off: 60 s, as a deployment should ride out (WS_HOSTS_CUT
# for another length).
CUT=${WS_HOSTS_CUT:-60}

setup_file() {
	mapfile -d '' EX < <(man_examples ws-hostbed.1)
	[ "${#EX[@]}" -eq 2 ] || { echo "ws-hostbed.1 has ${#EX[@]} examples, not 2: run the new ones here" >&2; return 1; }
	hosts_up 3 "${EX[0]}"
}
teardown_file() {
	hosts_peerd_stop
	hosts_peerd_stop 2
	hosts_down
}

setup() {
	common_setup
	hosts_setup
}

teardown() {
	hosts_teardown
	hosts_peerd_stop 2
	ws-hostbed join "$HB" 1 2>/dev/null || :
	ws-hostbed join "$HB" 3 2>/dev/null || :
}

# reaches FROM ADDR: host FROM gets an answer from the wiki at ADDR.
reaches() {
	hrun "$1" curl -sf -o /dev/null -m 3 "http://$2/api.php?action=query&meta=siteinfo&format=json"
}

# numbered N: the page text after edit N: the category line, then "Line 1" to "Line N".
numbered() {
	local k
	echo "[[Category:Synced]]"
	for k in $(seq "$1"); do echo "Line $k"; done
}

# edits WIKI: ten edits of "Cut WIKI" there, edit K making it numbered K.
edits() {
	local k
	for k in $(seq 10); do
		hedit "$1" "Cut $1" "$(numbered "$k")" "edit $k" >/dev/null || return 1
	done
}

# msgid_of LOG SUBJECT: the Exim id of the message received with SUBJECT.
msgid_of() { grep -F "T=\"$2\"" "$1" | awk '$4 == "<=" { print $3 }' | tail -n 1; }

@test "ws-hostbed -h, bad usage (64), up as non-root (77)" {
	run -0 ws-hostbed -h
	[ "${lines[0]}" = "usage: ws-hostbed up [-b] [-n HOSTS] DIR" ]
	run -64 ws-hostbed
	run -64 ws-hostbed frobnicate "$HB"
	run -64 ws-hostbed up -n 1 "$BATS_TEST_TMPDIR/new"
	run -64 ws-hostbed up -n 7 "$BATS_TEST_TMPDIR/new"
	run -64 ws-hostbed cut "$HB" 4
	run -64 ws-hostbed run "$HB" 2
	run -73 ws-hostbed up "$HB"
	run -66 ws-hostbed down "$BATS_TEST_TMPDIR"
	chmod 755 "$BATS_TEST_TMPDIR"
	run -77 setpriv --reuid=nobody --regid=nogroup --clear-groups ws-hostbed up "$BATS_TEST_TMPDIR/new"
	[ "$output" = "ws-hostbed: up: needs root (it makes network namespaces)" ]
	[ ! -e "$BATS_TEST_TMPDIR/new" ]
	# and the options of ws-testbed up that make a host's part
	for o in "-a 300.1.1.1" "-a 1.2.3" "-a 198.18.0.1/33" "-w omega" "-w beta,beta" "-n 2 -w beta" \
		"-r bad/host"; do
		# shellcheck disable=SC2086 # an option and its argument
		run -64 ws-testbed up $o "$BATS_TEST_TMPDIR/new"
	done
	[ ! -e "$BATS_TEST_TMPDIR/new" ]
}

@test "a failed up takes down the namespaces it made" {
	d=$(bed_mktemp)
	run -70 env WS_HOSTBED_TESTBED=/bin/false ws-hostbed up -n 2 "$d/hb"
	[[ ${lines[-1]} == "ws-hostbed: up: h1 h2: ws-testbed up failed (see $d/hb/h*.log)" ]]
	[ "$(wc -l <"$d/hb/netns")" -eq 3 ]
	while read -r ns; do
		if ip netns list | grep -q "^$ns\b"; then echo "left: $ns"; false; fi
	done <"$d/hb/netns"
	run -0 ws-hostbed down "$d/hb"
	rm -rf "$d"
}

@test "each host has its address and loopback, and no route anywhere else" {
	run -0 ws-hostbed status "$HB"
	[ "${#lines[@]}" -eq 9 ]
	[[ $output == *"h1 198.18.0.1 link up
h1 alpha "*" 80 up
h1 exim "*" 25 up
h2 198.18.0.2 link up
h2 beta "*" 80 up"* ]]
	# a root-namespace service on loopback, which a host must not reach
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$BATS_TEST_TMPDIR/port" 3>&- &
	listener=$!
	wait_for 2 test -s "$BATS_TEST_TMPDIR/port"
	port=$(cat "$BATS_TEST_TMPDIR/port")
	(exec 3<>"/dev/tcp/127.0.0.1/$port")
	# (not "i": bats's run sets it)
	for h in 1 2 3; do
		ns=WS_H${h}_NS
		ns=${!ns}
		run -0 ip -n "$ns" -4 -o addr show
		[ "${#lines[@]}" -eq 2 ] || { echo "h$h: $output"; false; }
		[[ ${lines[0]} == "1: lo    inet 127.0.0.1/8 "* ]]
		[[ ${lines[1]} == *": eth0    inet 198.18.0.$h/24 "* ]]
		run -0 ip -n "$ns" -4 route show table all type unicast
		[ "$output" = "198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.$h " ]
		run -0 ip -n "$ns" -6 route show default
		[ -z "$output" ]
		run ip -n "$ns" route get 192.0.2.1
		[ "$status" -ne 0 ]
		[[ $output == *"Network is unreachable"* ]]
		run hrun "$h" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' sh "$port"
		[ "$status" -ne 0 ]
		[[ $output == *"Connection refused"* ]]
	done
	kill "$listener"
	# and the hosts reach one another
	reaches 2 198.18.0.1
	reaches 1 198.18.0.3
	reaches 3 198.18.0.2
}

@test "cut takes a host off the switch, join puts it back" {
	run -0 ws-hostbed cut "$HB" gamma
	run -1 ws-hostbed status "$HB"
	[[ $output == *"h3 198.18.0.3 link down"* ]]
	[[ $output == *"h2 198.18.0.2 link up"* ]]
	run ! reaches 1 198.18.0.3
	run ! reaches 3 198.18.0.2
	reaches 1 198.18.0.2
	# its own services still run: cut is the network's doing, not the host's
	reaches 3 198.18.0.3
	run -0 ws-hostbed join "$HB" 3
	wait_for 2 reaches 1 198.18.0.3
	reaches 3 198.18.0.2
	run -0 ws-hostbed status "$HB"
	# a host's own bed, stopped and started in its namespace, on its address
	run -0 hrun gamma ws-testbed stop "$WS_H3_BED" gamma
	run -1 ws-hostbed status "$HB"
	[[ $output == *"
h3 198.18.0.3 link up
h3 gamma "[0-9]*" 80 down
h3 exim "* ]]
	run -0 hrun gamma ws-testbed start "$WS_H3_BED" gamma
	run -0 ws-hostbed status "$HB"
	reaches 1 198.18.0.3
}

@test "an edit on a wiki-only host reaches every wiki by SMTP relay to the syncing host" {
	t="Relayed page"
	run -0 hwatch beta "$t"
	t0=$(date +%s%N)
	run -0 hedit beta "$t" "[[Category:Synced]] From beta."
	t1=$(date +%s%N)
	wait_for 2 hhas_text alpha "$t" "[[Category:Synced]] From beta."
	wait_for 2 hhas_text gamma "$t" "[[Category:Synced]] From beta."
	echo "# the edit on beta: $(((t1 - t0) / 1000000)) ms; then on alpha and gamma" \
		"after $((($(date +%s%N) - t1) / 1000000)) ms" >&3
	# beta's Exim sent it to host 1 by SMTP, through the relay router ...
	subject="Beta page $t has been created by Editor"
	id=$(msgid_of "$WS_H2_EXIM_LOG/mainlog" "$subject")
	[ -n "$id" ]
	grep -q "^.* $id => peerd@wikisync.test .*R=wikisync_relay T=remote_smtp .*H=198.18.0.1 \[198.18.0.1\]" \
		"$WS_H2_EXIM_LOG/mainlog"
	# ... host 1's received it from 198.18.0.2 and piped it to ws-recv ...
	id1=$(msgid_of "$WS_H1_EXIM_LOG/mainlog" "$subject")
	[ -n "$id1" ]
	grep -q "^.* $id1 <= beta@wikisync.test H=([^)]*) \[198.18.0.2\] P=esmtp " "$WS_H1_EXIM_LOG/mainlog"
	grep -q "^.* $id1 => peerd <peerd@wikisync.test> .*R=wikisync T=wikisync_pipe" "$WS_H1_EXIM_LOG/mainlog"
	# ... and gamma's Exim had nothing to do with it
	run -1 grep -qF "$subject" "$WS_H3_EXIM_LOG/mainlog"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "the syncing host cut off: the mail waits in the senders' queues, then every edit arrives once, in order" {
	for w in beta gamma; do
		run -0 hwatch "$w" "Cut $w"
		run -0 hedit "$w" "Cut $w" "$(numbered 0)"
	done
	for w in alpha beta gamma; do
		wait_for 3 hhas_text "$w" "Cut beta" "$(numbered 0)"
		wait_for 3 hhas_text "$w" "Cut gamma" "$(numbered 0)"
	done
	wait_for 5 idle

	run -0 ws-hostbed cut "$HB" 1
	start=$SECONDS
	# 20 edits, 10 on each wiki-only host (the two at once), each adding the next numbered line
	edits beta &
	b=$!
	edits gamma &
	g=$!
	wait "$b"
	wait "$g"
	# the notifications wait in beta's and gamma's Exims, not on host 1
	[ "$(queued 2)" -gt 0 ]
	[ "$(queued 3)" -gt 0 ]
	hhas_text alpha "Cut beta" "$(numbered 0)"
	hhas_text alpha "Cut gamma" "$(numbered 0)"
	[ $((SECONDS - start)) -lt "$CUT" ] || echo "# the edits took $((SECONDS - start)) s of a $CUT s cut" >&3
	while [ $((SECONDS - start)) -lt "$CUT" ]; do sleep 1; done
	[ "$(queued 2)" -gt 0 ]
	[ "$(queued 3)" -gt 0 ]
	hhas_text gamma "Cut beta" "$(numbered 0)"

	run -0 ws-hostbed join "$HB" 1
	t0=$(date +%s%N)
	for w in alpha beta gamma; do
		wait_for 10 hhas_text "$w" "Cut beta" "$(numbered 10)"
		wait_for 10 hhas_text "$w" "Cut gamma" "$(numbered 10)"
	done
	echo "# join to every edit everywhere: $((($(date +%s%N) - t0) / 1000000)) ms" >&3
	wait_for 5 queue_empty 2
	wait_for 5 queue_empty 3
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	# nothing twice: each page has its 11 revisions (the first and ten edits) on every wiki,
	# each edit once, in the order made
	for w in alpha beta gamma; do
		for p in beta gamma; do
			run -0 hrun "$w" ws-testbed api "$HB/h$(host "$w")" "$w" action=query prop=revisions \
				titles="Cut $p" rvlimit=max rvdir=newer rvprop=content rvslots=main
			text=$(python3 -c 'import json, sys
for r in json.load(sys.stdin)["query"]["pages"][0]["revisions"]:
    print(r["slots"]["main"]["content"].count("\n"))' <<<"$output")
			[ "$text" = "$(seq 0 10)" ] || { echo "$w: Cut $p: $text"; false; }
		done
		t=$(htext "$w" "Cut beta")
		[ "$(grep -c '^Line ' <<<"$t")" -eq 10 ]
		[ "$(grep '^Line ' <<<"$t" | sort -u | wc -l)" -eq 10 ]
	done
}

# hwiki_is WIKI up|down: as ws-status on host 1 has it
hwiki_is() { hrun 1 ws-status -t | grep -q "^wiki	$1	$2	"; }

@test "a wiki host cut off during a stream of edits: its jobs defer, ws-login has it down then up, and every edit arrives after" {
	t="Stream"
	run -0 hwatch alpha "$t"
	run -0 hedit alpha "$t" "$(numbered 0)"
	wait_for 3 hhas_text gamma "$t" "$(numbered 0)"
	wait_for 5 idle
	# a host cut off answers nothing, not even a refusal: each request
	# there waits out the wiki's timeout (30 s by default)
	sed -i --follow-symlinks '/^\[wiki /a timeout = 5' "$WIKISYNC_CONF"
	run -0 ws-hostbed cut "$HB" gamma
	for k in $(seq 10); do
		hedit alpha "$t" "$(numbered "$k")" "edit $k" >/dev/null
	done
	# beta keeps up; gamma's part waits, and the loop's login check has
	# gamma down
	wait_for 10 hhas_text beta "$t" "$(numbered 10)"
	wait_for 10 hwiki_is gamma down
	grep -q "Stream: .*deferred" "$HB/peerd.log"
	hhas_text gamma "$t" "$(numbered 0)"
	[ "$(held)" -eq 0 ]
	run -0 ws-hostbed join "$HB" gamma
	wait_for 10 hwiki_is gamma up
	wait_for 10 hhas_text gamma "$t" "$(numbered 10)"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	# every edit once, in order, on gamma as on alpha
	run -0 hrun gamma ws-testbed api "$HB/h3" gamma action=query prop=revisions \
		titles="$t" rvlimit=max rvdir=newer rvprop=content rvslots=main
	text=$(python3 -c 'import json, sys
for r in json.load(sys.stdin)["query"]["pages"][0]["revisions"]:
    print(r["slots"]["main"]["content"].count("\n"))' <<<"$output")
	[ "$text" = "$(seq 0 10)" ] || { echo "gamma: $t: $text"; false; }
}

# authors WIKI TITLE: the users of the page's revisions there, oldest first, one a line.
authors() { hhistory "$1" "$2" | cut -f1; }

@test "two syncing hosts over the same wikis: each page is synced by its owner alone, and the other leaves it, logged once" {
	# host 1 syncs group test (Synced), host 2 group shared (Shared); a
	# page in both is host 2's, whose address sorts first
	hosts_peerd_start 2
	one="Owned by one" two="Owned by two" both="Owned by both"
	declare -A cats=([$one]="[[Category:Synced]]" [$two]="[[Category:Shared]]"
		[$both]="[[Category:Synced]] [[Category:Shared]]")
	# both hosts hear of every edit on gamma
	for t in "$one" "$two" "$both"; do
		run -0 hwatch gamma "$t"
		run -0 hrun gamma ws-testbed watch -u syncb "$HB/h3" gamma "$t"
	done
	for k in 1 2; do
		for t in "$one" "$two" "$both"; do
			run -0 hedit gamma "$t" "${cats[$t]}"$'\n'"Line $k" "edit $k"
		done
		for t in "$one" "$two" "$both"; do
			for w in alpha beta; do
				wait_for 10 hhas_text "$w" "$t" "${cats[$t]}"$'\n'"Line $k"
			done
		done
	done
	wait_for 10 idle
	WIKISYNC_CONF=$WS_B_CONF WIKISYNC_SPOOL=$WS_B_SPOOL wait_for 10 idle
	# each edit arrived once, made by its owner's account alone
	for w in alpha beta; do
		[ "$(authors "$w" "$one")" = "$(printf 'Peerd\nPeerd')" ] || { hhistory "$w" "$one"; false; }
		[ "$(authors "$w" "$two")" = "$(printf 'Peerb\nPeerb')" ] || { hhistory "$w" "$two"; false; }
		[ "$(authors "$w" "$both")" = "$(printf 'Peerb\nPeerb')" ] || { hhistory "$w" "$both"; false; }
	done
	# the other host had the mail of each edit, left the page to its
	# owner, and said so once
	[ "$(grep -c "gamma: $one: left to peerd@wikisync.test" "$HB/peerd-h2.log")" -eq 1 ]
	[ "$(grep -c "gamma: $two: left to peerb@wikisync.test" "$HB/peerd.log")" -eq 1 ]
	[ "$(grep -c "gamma: $both: left to peerb@wikisync.test" "$HB/peerd.log")" -eq 1 ]
	[ "$(grep -c "left to" "$HB/peerd.log")" -eq 4 ]
	[ "$(grep -c "left to its owner" "$HB/peerd.log")" -eq 2 ]
	[ "$(grep -c "gamma: $one: left to its owner" "$HB/peerd-h2.log")" -eq 1 ]
	[ "$(grep -c "left to" "$HB/peerd-h2.log")" -eq 2 ]
	[ "$(held)" -eq 0 ]
	[ "$(WIKISYNC_CONF=$WS_B_CONF WIKISYNC_SPOOL=$WS_B_SPOOL held)" -eq 0 ]
}

@test "ws-hostbed(1)'s second example: a cut, a queued mail, a join; down deletes everything" {
	mapfile -d '' EX < <(man_examples ws-hostbed.1)
	hosts_peerd_stop
	[ "$(queued 2)" -eq 0 ]
	run --separate-stderr bash -c "${EX[1]//\/tmp\/hosts/"$HB"}"
	assert_status 0
	[[ ${lines[0]} =~ ^[0-9]+$ ]]
	[ "${lines[1]}" = 1 ]
	[ "${#lines[@]}" -eq 2 ]
	while read -r ns; do
		if ip netns list | grep -q "^$ns\b"; then echo "left: $ns"; false; fi
	done <"$HB/netns"
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-C $HB/h"; then
			echo "still running: ${p#/proc/}"
			false
		fi
	done
	run -0 ws-hostbed down "$HB"
	run -1 ws-hostbed status "$HB"
	[[ ${lines[0]} == "h1 198.18.0.1 link down" ]]
}
