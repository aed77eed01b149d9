#!/usr/bin/env bats
# ws-testbed: real wikis and a real Exim come up; an edit mails the watching sync user through
# Exim's pipe before the edit's reply; the wikis are independent; status tells the truth; down
# leaves no process and no port behind. The bed's own tests come last: they stop it. These beds
# capture the mail (up -m) to look at it; tests/42-recv-exim.bats runs ws-recv behind the pipe.

load helper
load bed

setup_file() { bed_up 2 -m; }
teardown_file() { bed_down; }
setup() { bed_setup; }

teardown() {
	bed_teardown
	if [ -n "${BED2:-}" ]; then
		[ -n "${BATS_TEST_COMPLETED:-}" ] || bed_logs "$BED2"
		ws-testbed down "$BED2" || :
		rm -rf "$BED2"
	fi
}

# newest_mail N: waits up to 2 s for mail number N+1, the newest; sets mail to its path.
newest_mail() {
	run -0 ws-testbed mail -c $(($1 + 1)) -t 2 "$BED"
	[ "${#lines[@]}" -eq $(($1 + 1)) ]
	mail=${lines[$1]}
}

# no_more_mail N: a watched edit elsewhere mails, and it is mail number N+1: so the edits before
# it, whose mail would have come first, mailed nothing.
no_more_mail() {
	sentinel="Sentinel $BATS_TEST_NUMBER"
	run -0 ws-testbed watch "$BED" alpha "$sentinel"
	run -0 ws-testbed edit "$BED" alpha "$sentinel" "Text."
	newest_mail "$1"
	grep -qx "Subject: Alpha page $sentinel has been created by Editor" "$mail"
}

# port_closed PORT: nothing accepts connections on 127.0.0.1:PORT.
port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

@test "ws-testbed -h prints the usage and exits 0" {
	run -0 ws-testbed -h
	[[ ${lines[0]} == "usage: ws-testbed up [-ms] [-n N] [-p CMD] [-V VERSION[,VERSION ...]] DIR" ]]
	run -0 ws-testbed up -h
	[[ ${lines[0]} == "usage: ws-testbed up "* ]]
}

@test "bad usage exits 64" {
	run -64 ws-testbed
	run -64 ws-testbed frobnicate "$BED"
	run -64 ws-testbed up
	run -64 ws-testbed up -n 0 "$BED/new"
	run -64 ws-testbed up -n 11 "$BED/new"
	run -64 ws-testbed up "$BED/with space"
	[ ! -e "$BED/new" ]
	run -64 ws-testbed edit "$BED" omega Title text
	run -64 ws-testbed edit -u admin "$BED" alpha Title text
	run -64 ws-testbed watch "$BED" alpha
	run -64 ws-testbed watch -u editor "$BED" alpha Title
	# a second syncing host here names the first
	run --separate-stderr ws-testbed up -b local "$BED/new"
	assert_status 64
	[[ $stderr == "ws-testbed: up: -b local: this bed is the second syncing host: name the first with -r"* ]]
	run -64 ws-testbed up -b 'a b' "$BED/new"
	# the bed has no second account
	run --separate-stderr ws-testbed watch -u syncb "$BED" alpha Title
	assert_status 66
	[ "$stderr" = "ws-testbed: watch: alpha: no syncb account (up -b makes it)" ]
	run -64 ws-testbed api "$BED" alpha action
}

@test "up refuses a directory that is not empty (73); status and down refuse a missing one (66)" {
	run -73 ws-testbed up "$BED"
	[[ $output == "ws-testbed: $BED: not empty" ]]
	run -66 ws-testbed status "$BED/missing"
	run -66 ws-testbed down "$BED/missing"
}

@test "status lists each wiki and exim with pid and port as up, and exits 0" {
	run -0 ws-testbed status "$BED"
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} =~ ^alpha\ [0-9]+\ $WS_ALPHA_PORT\ up$ ]]
	[[ ${lines[1]} =~ ^beta\ [0-9]+\ $WS_BETA_PORT\ up$ ]]
	[[ ${lines[2]} =~ ^exim\ [0-9]+\ $WS_EXIM_PORT\ up$ ]]
	[ "$WS_WIKIS" = "alpha beta" ]
}

@test "wikisync.conf names every wiki and the group; password files are 0600 bot passwords" {
	[ "$WIKISYNC_CONF" = "$BED/wikisync.conf" ]
	run -0 cat "$WIKISYNC_CONF"
	[ "${lines[0]}" = "spool = $BED/spool" ]
	[[ $output == *"[wiki alpha]
api = $WS_ALPHA_API
url = $WS_ALPHA_URL
user = Peerd@wikisync
password-file = $BED/alpha/sync.pass"* ]]
	[[ $output == *"[wiki beta]
api = $WS_BETA_API
url = $WS_BETA_URL
user = Peerd@wikisync
password-file = $BED/beta/sync.pass"* ]]
	[[ $output == *"[group test]
wikis = alpha, beta
categories = Synced" ]]
	for w in alpha beta; do
		[ "$(stat -c %a "$BED/$w/sync.pass")" = 600 ]
		[[ $(cat "$BED/$w/sync.pass") =~ ^[0-9a-w]{32,}$ ]]
		[[ $(cat "$BED/$w/editor.pass") =~ ^[0-9a-w]{32,}$ ]]
	done
	[ "$(cat "$BED/alpha/sync.pass")" != "$(cat "$BED/beta/sync.pass")" ]
}

@test "the sync user is a bot with a confirmed address and no rate limits, on every wiki" {
	for w in alpha beta; do
		run -0 ws-testbed api -u sync "$BED" "$w" action=query meta=userinfo \
			'uiprop=groups|email|rights|ratelimits|options'
		[[ $output == *'"name":"Peerd"'* ]]
		[[ $output == *'"groups":["bot",'* ]]
		[[ $output == *'"email":"peerd@wikisync.test","emailauthenticated":"20'* ]]
		[[ $output == *'"noratelimit"'* ]]
		[[ $output == *'"ratelimits":{}'* ]]
		[[ $output == *'"enotifwatchlistpages":1'* ]]
		[[ $output == *'"enotifminoredits":"1"'* || $output == *'"enotifminoredits":1'* ]]
	done
}

@test "anonymous edits are refused" {
	run -0 curl -s -d action=edit -d title=Anonymous -d text=x --data-urlencode 'token=+\' \
		-d format=json "$WS_ALPHA_API"
	[[ $output == *'"code":"permissiondenied"'* ]]
	run -1 bed_text alpha Anonymous
}

@test "an edit on a watched page mails the sync user through Exim's pipe" {
	n=$(bed_mails)
	run -0 ws-testbed watch "$BED" alpha "Bed mail"
	run -0 ws-testbed edit "$BED" alpha "Bed mail" "First text." "first summary"
	[[ $output =~ ^[0-9]+$ ]]
	newest_mail "$n"
	grep -qx 'Subject: Alpha page Bed mail has been created by Editor' "$mail"
	grep -qx 'To: "Peerd" <peerd@wikisync.test>' "$mail"
	grep -qx 'From: "Alpha" <alpha@wikisync.test>' "$mail"
	# 1.43 writes the URL in angle brackets
	grep -qE "(^| |<)$WS_ALPHA_URL/Bed_mail( |>|\$)" "$mail"
	grep -qF "first summary" "$mail"
	id=$(sed -n 's/^Received: .*//; s/^	id \([^ ]*\)$/\1/p' "$mail")
	grep -q "^.* $id => peerd <peerd@wikisync.test> .*R=wikisync T=wikisync_pipe" \
		"$WS_EXIM_LOG/mainlog"
}

@test "the mail has left before the edit's reply arrives" {
	run -0 ws-testbed watch "$BED" beta "Before reply"
	n=$(bed_mails)
	run -0 ws-testbed edit "$BED" beta "Before reply" "Text."
	[ "$(bed_mails)" -eq $((n + 1)) ]
}

@test "a page created without a watch mails nobody" {
	n=$(bed_mails)
	run -0 ws-testbed edit "$BED" alpha "Not watched" "Text."
	no_more_mail "$n"
}

@test "a change mails once with the previous revision id, again only after seen" {
	run -0 ws-testbed watch "$BED" alpha "Bed changes"
	r1=$(ws-testbed edit "$BED" alpha "Bed changes" "one")
	n=$(bed_mails)
	[ "$n" -ge 1 ]
	run -0 ws-testbed seen "$BED" alpha "Bed changes"
	r2=$(ws-testbed edit "$BED" alpha "Bed changes" "two")
	[ "$r2" -gt "$r1" ]
	newest_mail "$n"
	grep -qx 'Subject: Alpha page Bed changes has been changed by Editor' "$mail"
	grep -qF "$WS_ALPHA_URL?title=Bed_changes&diff=next&oldid=$r1" "$mail"
	r3=$(ws-testbed edit "$BED" alpha "Bed changes" "three")
	no_more_mail $((n + 1))
	run -0 ws-testbed seen "$BED" alpha "Bed changes"
	run -0 ws-testbed edit -m "$BED" alpha "Bed changes" "four, minor"
	newest_mail $((n + 2))
	grep -qF "$WS_ALPHA_URL?title=Bed_changes&diff=next&oldid=$r3" "$mail"
	grep -qx 'This is a minor edit' "$mail"
}

@test "the sync user's own edit mails nobody" {
	run -0 ws-testbed watch "$BED" alpha "Own edit"
	n=$(bed_mails)
	run -0 ws-testbed edit -u sync "$BED" alpha "Own edit" "By the sync user."
	run -0 ws-testbed edit -u sync "$BED" alpha "Own edit" "Again."
	no_more_mail "$n"
	run -0 ws-testbed api -u sync "$BED" alpha action=query prop=revisions titles="Own edit" \
		rvprop=user
	[[ $output == *'"user":"Peerd"'* ]]
}

@test "the wikis are independent: a page made on alpha does not exist on beta" {
	run -0 ws-testbed edit "$BED" alpha "Only on alpha" "Alpha's text."
	run -0 bed_text alpha "Only on alpha"
	[ "$output" = "Alpha's text." ]
	run -1 bed_text beta "Only on alpha"
	run -0 ws-testbed edit "$BED" beta "Only on alpha" "Beta's text."
	run -0 bed_text alpha "Only on alpha"
	[ "$output" = "Alpha's text." ]
}

@test "up -p CMD: the pipe runs CMD, and the edit's reply waits until CMD is done" {
	BED2=$(bed_mktemp)
	capture=$(command -v ws-testbed-capture)
	run -0 ws-testbed up -n 1 -p "/bin/sh -c \"sleep 1; exec $capture $BED2/mail\"" "$BED2"
	run -0 ws-testbed watch "$BED2" alpha Slow
	t0=$(date +%s%N)
	run -0 ws-testbed edit "$BED2" alpha Slow "Text."
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -ge 1000 ]
	run -0 ws-testbed mail "$BED2"
	[ "${#lines[@]}" -eq 1 ]
	grep -qx 'Subject: Alpha page Slow has been created by Editor' "${lines[0]}"
	run -0 ws-testbed down "$BED2"
}

@test "up -V: one bed runs MediaWiki 1.39 and 1.43 side by side, each wiki its release, each mailing" {
	BED2=$(bed_mktemp)
	run -0 ws-testbed up -m -n 2 -V 1.39,1.43 "$BED2"
	grep -qx "export WS_ALPHA_MW=1\.39\.[0-9]*" "$BED2/env"
	grep -qx "export WS_BETA_MW=1\.43\.[0-9]*" "$BED2/env"
	for w in alpha:1.39 beta:1.43; do
		run -0 ws-testbed api "$BED2" "${w%:*}" action=query meta=siteinfo
		[[ $output == *'"generator":"MediaWiki '"${w#*:}".* ]]
		run -0 ws-testbed watch "$BED2" "${w%:*}" "Release Mail"
		run -0 ws-testbed edit "$BED2" "${w%:*}" "Release Mail" "Text."
	done
	run -0 ws-testbed mail -c 2 -t 2 "$BED2"
	[ "${#lines[@]}" -eq 2 ]
	grep -qx 'Subject: Alpha page Release Mail has been created by Editor' "${lines[@]}"
	grep -qx 'Subject: Beta page Release Mail has been created by Editor' "${lines[@]}"
	# a restart serves the same release
	run -0 ws-testbed stop "$BED2" beta
	run -0 ws-testbed start "$BED2" beta
	run -0 ws-testbed api "$BED2" beta action=query meta=siteinfo
	[[ $output == *'"generator":"MediaWiki 1.43.'* ]]
	run -0 ws-testbed down "$BED2"
}

@test "up -V: an unknown release or a list of the wrong length is refused (64), a release not fetched too (69)" {
	run --separate-stderr ws-testbed up -V 1.40 "$BED/new"
	assert_status 64
	[[ $stderr == "ws-testbed: up: -V 1.40: not one of 1.39 1.43"* ]]
	run --separate-stderr ws-testbed up -n 3 -V 1.39,1.43 "$BED/new"
	assert_status 64
	[[ $stderr == "ws-testbed: up: -V 1.39,1.43: one version, or one for each of the 3 wikis"* ]]
	run --separate-stderr ws-testbed fetch 1.40
	assert_status 64
	mkdir "$BATS_TEST_TMPDIR/cache"
	WS_TESTBED_CACHE=$BATS_TEST_TMPDIR/cache run --separate-stderr ws-testbed up -V 1.43 "$BED/new"
	assert_status 69
	[ "$stderr" = "ws-testbed: MediaWiki 1.43: not fetched (run: ws-testbed fetch 1.43; scripts/deps does)" ]
	[ ! -e "$BED/new" ]
}

@test "up -s: the wikis mail through Exim's SMTP port" {
	BED2=$(bed_mktemp)
	run -0 ws-testbed up -m -s -n 1 "$BED2"
	grep -q "^\$wgSMTP = \[ 'host' => '127.0.0.1', 'port' => $(cat "$BED2/exim/port")," \
		"$BED2/alpha/LocalSettings.php"
	run -0 ws-testbed watch "$BED2" alpha "By SMTP"
	run -0 ws-testbed edit "$BED2" alpha "By SMTP" "Text."
	run -0 ws-testbed mail -c 1 -t 2 "$BED2"
	[ "${#lines[@]}" -eq 1 ]
	grep -qx 'Subject: Alpha page By SMTP has been created by Editor' "${lines[0]}"
	grep -q '^	by wikisync.test with esmtp ' "${lines[0]}"
	run -0 ws-testbed down "$BED2"
}

@test "an unprivileged user runs a bed" {
	BED2=$(bed_mktemp)
	as=()
	user=$(id -un)
	if [ "$user" = root ]; then
		user=nobody
		chown "$user:" "$BED2"
		as=(setpriv --reuid="$user" --regid="$(id -gn "$user")" --clear-groups env HOME="$BED2")
	fi
	run -0 "${as[@]}" ws-testbed up -m -n 1 "$BED2"
	[ "$(stat -c %U "$BED2/exim/spool")" = "$user" ]
	run -0 "${as[@]}" ws-testbed watch "$BED2" alpha Unprivileged
	run -0 "${as[@]}" ws-testbed edit "$BED2" alpha Unprivileged "Text."
	run -0 "${as[@]}" ws-testbed mail "$BED2"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(stat -c %U "${lines[0]}")" = "$user" ]
	run -0 "${as[@]}" ws-testbed status "$BED2"
	run -0 "${as[@]}" ws-testbed down "$BED2"
}

@test "status reports a stopped wiki as down and exits 1" {
	pid=$(cat "$BED/beta/php.pid")
	kill -TERM -- "-$pid"
	for _ in $(seq 100); do
		[ -d "/proc/$pid" ] || break
		sleep 0.05
	done
	run -1 ws-testbed status "$BED"
	[[ ${lines[0]} =~ ^alpha\ [0-9]+\ $WS_ALPHA_PORT\ up$ ]]
	[[ ${lines[1]} == "beta $pid $WS_BETA_PORT down" ]]
	[[ ${lines[2]} =~ ^exim\ [0-9]+\ $WS_EXIM_PORT\ up$ ]]
}

@test "down stops every process of the bed, frees its ports and keeps the logs" {
	run -0 ws-testbed down "$BED"
	[ -z "$output" ]
	for p in /proc/[0-9]*; do
		# (errexit ignores a "!" command: an if fails the test)
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-C $WS_EXIM_CONF "; then
			echo "still running: ${p#/proc/}"
			false
		fi
	done
	for port in "$WS_ALPHA_PORT" "$WS_BETA_PORT" "$WS_EXIM_PORT"; do
		port_closed "$port"
	done
	run -1 ws-testbed status "$BED"
	[ "${lines[0]}" = "alpha - $WS_ALPHA_PORT down" ]
	[ "${lines[1]}" = "beta - $WS_BETA_PORT down" ]
	[ "${lines[2]}" = "exim - $WS_EXIM_PORT down" ]
	[ -s "$BED/alpha/php.log" ]
	[ -s "$BED/alpha/mw.log" ]
	[ -s "$WS_EXIM_LOG/mainlog" ]
	run -0 ws-testbed down "$BED"
}
