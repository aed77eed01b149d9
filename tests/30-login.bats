#!/usr/bin/env bats
# ws-login and the MediaWiki client under it: logins, the shared session, sessions that die on the
# wiki, wrong passwords, a wiki that goes down and comes back (state, log, one mail per change),
# rights warnings, and the error classes. Real wikis (ws-testbed) for all a wiki can be made to do;
# tests/mock-http.py only for what it cannot: maxlag, 503, rate limits, read-only, hangs, TLS.

load helper
load bed

setup_file() {
	bed_up 2 -m
	MOCK=$BATS_FILE_TMPDIR/mock
	mkdir -p "$MOCK"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$MOCK/key.pem" -out "$MOCK/cert.pem" \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null
	python3 "$BATS_TEST_DIRNAME/mock-http.py" "$MOCK/port" 3>&- &
	echo $! >"$MOCK/pid"
	python3 "$BATS_TEST_DIRNAME/mock-http.py" "$MOCK/tlsport" "$MOCK/cert.pem" "$MOCK/key.pem" \
		2>/dev/null 3>&- &
	echo $! >"$MOCK/tlspid"
	for _ in $(seq 100); do
		[ -s "$MOCK/port" ] && [ -s "$MOCK/tlsport" ] && break
		sleep 0.05
	done
	[ -s "$MOCK/port" ]
	[ -s "$MOCK/tlsport" ]
	export MOCK
}

teardown_file() {
	kill "$(cat "$MOCK/pid")" "$(cat "$MOCK/tlspid")" 2>/dev/null || :
	bed_down
}

# Each test: the bed's wikis, its own spool (sessions, states), a report address and a sendmail
# that appends each mail to $MAILS.
setup() {
	common_setup
	bed_setup
	export WIKISYNC_SPOOL=$SPOOL
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/wikisync.conf
	{ echo "report = ops@wikisync.test"; cat "$BED/wikisync.conf"; } >"$WIKISYNC_CONF"
	MAILS=$BATS_TEST_TMPDIR/mails
	cat >"$BATS_TEST_TMPDIR/sendmail" <<-EOF
	#!/bin/sh
	{ echo "ARGS: \$*"; cat; echo "----"; } >>"$MAILS"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/sendmail"
	export WIKISYNC_SENDMAIL=$BATS_TEST_TMPDIR/sendmail
}

teardown() { bed_teardown; }

iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

mails() { [ -e "$MAILS" ] && grep -c '^----$' "$MAILS" || echo 0; }

# mock_conf MODE...: a config of one wiki per misbehaviour of the mock, named after it.
mock_conf() {
	local m
	printf 'pw0123456789abcdefghijklmnopqrstuvw\n' >"$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	for m in "$@"; do
		printf '[wiki %s]\napi = http://127.0.0.1:%s/%s/api.php\nuser = Peerd@wikisync\n' \
			"$m" "$(cat "$MOCK/port")" "$m"
		printf 'password-file = %s\ntimeout = 1\n\n' "$BATS_TEST_TMPDIR/pw"
	done >"$WIKISYNC_CONF"
}

# wiki_conf WIKI KEY VALUE: the config with KEY of WIKI's section set to VALUE.
wiki_conf() {
	awk -v w="[wiki $1]" -v k="$2" -v v="$3" '
		/^\[/ { in_w = ($0 == w) }
		in_w && index($0, k " = ") == 1 { print k " = " v; next }
		{ print }' "$WIKISYNC_CONF" >"$WIKISYNC_CONF.new"
	mv "$WIKISYNC_CONF.new" "$WIKISYNC_CONF"
}

@test "ws-login logs in to every wiki, keeps the session private, records each wiki up" {
	run --separate-stderr ws-login
	assert_status 0
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} =~ ^alpha\ up\ $iso\ as\ Peerd,\ new\ session$ ]]
	[[ ${lines[1]} =~ ^beta\ up\ $iso\ as\ Peerd,\ new\ session$ ]]
	for w in alpha beta; do
		[ "$(stat -c %a "$SPOOL/session/$w.cookies")" = 600 ]
		grep -q '_BPsession' "$SPOOL/session/$w.cookies"
		grep -qx 'state=up' "$SPOOL/state/$w"
		grep -qx 'last_error=' "$SPOOL/state/$w"
	done
	[ "$(stat -c %a "$SPOOL/session")" = 700 ]
	[ "$(mails)" -eq 0 ]
}

@test "ws-login WIKI checks that wiki only; a wiki not configured exits 64" {
	run --separate-stderr ws-login beta
	assert_status 0
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "beta up "* ]]
	[ ! -e "$SPOOL/state/alpha" ]
	run --separate-stderr ws-login omega
	assert_status 64
	[ -z "$output" ]
	[ "$stderr" = "ws-login: omega: no such wiki" ]
}

@test "-n checks a draft configuration: the same lines, no state, session or report written" {
	# the draft has alpha on a port nothing listens on
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sed "s|127.0.0.1:$WS_ALPHA_PORT/|127.0.0.1:$port/|" "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/draft.conf"
	grep -q "127.0.0.1:$port/" "$BATS_TEST_TMPDIR/draft.conf"
	run --separate-stderr ws-login -n -c "$BATS_TEST_TMPDIR/draft.conf"
	assert_status 75
	[[ ${lines[0]} =~ ^alpha\ down\ $iso\ connection\ refused$ ]]
	[[ ${lines[1]} =~ ^beta\ up\ $iso\ as\ Peerd,\ a\ check:\ nothing\ recorded$ ]]
	[ -z "$stderr" ]
	[ ! -e "$SPOOL/state" ]
	[ ! -e "$SPOOL/session" ]
	[ "$(mails)" -eq 0 ]
	# the installed configuration then finds alpha up at its first check:
	# nothing to report, no down time the draft made
	run --separate-stderr ws-login
	assert_status 0
	[[ ${lines[0]} =~ ^alpha\ up\ $iso\ as\ Peerd,\ new\ session$ ]]
	grep -qx 'previous=0' "$SPOOL/state/alpha"
	[ "$(mails)" -eq 0 ]
	run --separate-stderr ws-login -k -n
	assert_status 64
	[ "$stderr" = "ws-login: -k and -n: a check keeps no session" ]
}

@test "the next program uses the saved session: no second login" {
	run -0 ws-login alpha
	run --separate-stderr ws-api -v whoami alpha
	assert_status 0
	[ "${lines[0]}" = "name	Peerd" ]
	[[ $stderr == *"meta=userinfo"*"assert=user: HTTP 200"* ]]
	[[ $stderr != *"action=login"* ]]
	run --separate-stderr ws-login -k alpha
	assert_status 0
	[[ $output =~ ^alpha\ up\ $iso\ as\ Peerd$ ]]
}

@test "-v logs each request without the password or tokens" {
	run --separate-stderr ws-login -v alpha
	assert_status 0
	[[ $stderr == *"POST action=login&lgname=Peerd@wikisync&lgpassword=*&lgtoken=*: HTTP 200"* ]]
	[[ $stderr != *"$(cat "$BED/alpha/sync.pass")"* ]]
	[[ $stderr != *'+\'* ]]
}

@test "a wrong password is refused: exit 77, the reason, the wiki down" {
	printf 'wrongwrongwrongwrongwrongwrong00\n' >"$BATS_TEST_TMPDIR/wrong.pass"
	chmod 600 "$BATS_TEST_TMPDIR/wrong.pass"
	wiki_conf alpha password-file "$BATS_TEST_TMPDIR/wrong.pass"
	run --separate-stderr ws-login
	assert_status 77
	[[ ${lines[0]} =~ ^alpha\ down\ $iso\ login\ as\ Peerd@wikisync\ refused:\ Failed:\ Incorrect\ username\ or\ password ]]
	[[ ${lines[1]} == "beta up "* ]]
	[[ $stderr =~ ^ws-login:\ alpha\ down\ since\ $iso\ \(login\ as\ Peerd@wikisync\ refused:\ Failed:\ Incorrect ]]
	grep -qx 'state=down' "$SPOOL/state/alpha"
	grep -qx 'code=77' "$SPOOL/state/alpha"
	run --separate-stderr ws-api whoami alpha
	assert_status 77
	[ -z "$output" ]
	[[ $stderr == "ws-api: alpha: whoami: login as Peerd@wikisync refused: Failed: "* ]]
}

@test "a password file others may read, or none, is a config error: exit 78" {
	cp "$BED/alpha/sync.pass" "$BATS_TEST_TMPDIR/open.pass"
	chmod 644 "$BATS_TEST_TMPDIR/open.pass"
	wiki_conf alpha password-file "$BATS_TEST_TMPDIR/open.pass"
	run --separate-stderr ws-login alpha
	assert_status 78
	[[ $output == *"password-file $BATS_TEST_TMPDIR/open.pass: mode 0644 lets group or others read it"* ]]
	wiki_conf alpha password-file "$BATS_TEST_TMPDIR/none.pass"
	run --separate-stderr ws-login alpha
	assert_status 78
	[[ $output == *"none.pass: No such file or directory" ]]
}

@test "sessions ended on the wiki: the next call logs in again by itself and succeeds" {
	run -0 ws-login alpha
	run -0 ws-testbed expire "$BED" alpha
	run --separate-stderr ws-api -v whoami alpha
	assert_status 0
	[ "${lines[0]}" = "name	Peerd" ]
	[[ $stderr == *"assertuserfailed"*"action=login&"*"meta=userinfo"*"HTTP 200"* ]]
	# the new session is in the jar: the next program does not log in
	run --separate-stderr ws-api -v whoami alpha
	[[ $stderr != *"action=login"* ]]
	# an edit, which needs a token too
	run -0 ws-testbed expire "$BED" alpha
	run --separate-stderr ws-api -v edit -s "after expiry" alpha "Expired session" <<<"Saved anyway."
	assert_status 0
	[[ $output =~ ^saved$'\t'[0-9]+$ ]]
	[[ $stderr == *"assertuserfailed"*"action=login&"*"POST action=edit"* ]]
	run -0 ws-api revs alpha "Expired session"
	[ "$(cut -f 7 <<<"$output")" = Peerd ]
	# and ws-login -k makes the new session when it finds the old one gone
	run -0 ws-testbed expire "$BED" alpha
	run -0 ws-login -k alpha
	[[ $output =~ ^alpha\ up\ $iso\ as\ Peerd,\ new\ session$ ]]
}

@test "programs that find no session at once log in once" {
	for i in 1 2 3 4 5; do
		ws-api -v whoami beta >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
	done
	wait
	for i in 1 2 3 4 5; do
		[ "$(head -n 1 "$BATS_TEST_TMPDIR/out.$i")" = "name	Peerd" ]
	done
	[ "$(cat "$BATS_TEST_TMPDIR"/err.* | grep -c 'POST action=login&')" -eq 1 ]
}

@test "a stopped wiki is down with the reason and reported once; started again, up with its down time" {
	run -0 ws-login -k
	run -0 ws-testbed stop "$BED" beta
	run --separate-stderr ws-login -k
	assert_status 75
	[[ ${lines[0]} =~ ^alpha\ up\ $iso\ as\ Peerd$ ]]
	[[ ${lines[1]} =~ ^beta\ down\ $iso\ connection\ refused$ ]]
	[[ $stderr =~ ^ws-login:\ beta\ down\ since\ $iso\ \(connection\ refused\)$ ]]
	grep -qx 'state=down' "$SPOOL/state/beta"
	grep -qx 'last_error=connection refused' "$SPOOL/state/beta"
	grep -qx 'code=75' "$SPOOL/state/beta"
	[ "$(mails)" -eq 1 ]
	grep -qx 'ARGS: -t -oi' "$MAILS"
	grep -qx 'To: ops@wikisync.test' "$MAILS"
	grep -qE "^Subject: wikisync: beta down since $iso "'\(connection refused\)$' "$MAILS"
	grep -qx 'Auto-Submitted: auto-generated' "$MAILS"
	# still down: no new report, the same since
	since=$(grep '^since=' "$SPOOL/state/beta")
	run --separate-stderr ws-login -k
	assert_status 75
	[ -z "$stderr" ]
	[ "$(mails)" -eq 1 ]
	grep -qx "$since" "$SPOOL/state/beta"
	printf '#!/bin/sh\ncat >/dev/null; exit 75\n' >"$BATS_TEST_TMPDIR/badmail"
	chmod +x "$BATS_TEST_TMPDIR/badmail"
	run -0 ws-testbed start "$BED" beta
	# down for 7m37s, as far as the state says: set once beta is up, so
	# the time its start takes (seconds on a busy machine) does not count
	t=$(($(date +%s) - 457))
	sed -i "s/^since=.*/since=$t/; s/^reported=.*/reported=$t/" "$SPOOL/state/beta"
	# the mail of this change fails, and goes with the next run, down time and all
	WIKISYNC_SENDMAIL=$BATS_TEST_TMPDIR/badmail run --separate-stderr ws-login -k
	assert_status 0
	[[ ${lines[1]} =~ ^beta\ up\ $iso\ as\ Peerd$ ]]
	[[ ${stderr_lines[0]} =~ ^ws-login:\ beta\ up\ again\ at\ $iso\ after\ 7m3[7-9]s\ down$ ]]
	[ "${stderr_lines[1]}" = "ws-login: beta: cannot mail the report to ops@wikisync.test; the next run tries again" ]
	[ "$(mails)" -eq 1 ]
	run --separate-stderr ws-login -k
	assert_status 0
	[ -z "$stderr" ]
	[ "$(mails)" -eq 2 ]
	grep -qE '^Subject: wikisync: beta up again at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z after 7m3[7-9]s down$' "$MAILS"
	grep -qx 'state=up' "$SPOOL/state/beta"
	run --separate-stderr ws-login -k
	assert_status 0
	[ -z "$stderr" ]
	[ "$(mails)" -eq 2 ]
}

@test "a report sendmail refused is mailed by the next run, once" {
	mock_conf readonly
	echo "report = ops@wikisync.test" | cat - "$WIKISYNC_CONF" >"$WIKISYNC_CONF.new"
	mv "$WIKISYNC_CONF.new" "$WIKISYNC_CONF"
	printf '#!/bin/sh\ncat >/dev/null; exit 75\n' >"$BATS_TEST_TMPDIR/badmail"
	chmod +x "$BATS_TEST_TMPDIR/badmail"
	WIKISYNC_SENDMAIL=$BATS_TEST_TMPDIR/badmail run --separate-stderr ws-login -k
	assert_status 75
	[ "${stderr_lines[0]}" = "ws-login: readonly down since $(date -u +%Y-%m-%dT%H:%M:%SZ -d "@$(sed -n 's/^since=//p' "$SPOOL/state/readonly")") (readonly: The wiki is currently in read-only mode.)" ]
	[ "${stderr_lines[1]}" = "ws-login: readonly: cannot mail the report to ops@wikisync.test; the next run tries again" ]
	grep -qx 'state=down' "$SPOOL/state/readonly"
	run --separate-stderr ws-login -k
	assert_status 75
	[ -z "$stderr" ]
	[ "$(mails)" -eq 1 ]
	grep -qE "^Subject: wikisync: readonly down since $iso "'\(readonly: The wiki is currently in read-only mode\.\)$' "$MAILS"
	run --separate-stderr ws-login -k
	[ "$(mails)" -eq 1 ]
}

# smtp_conf URL: the test's config with report-smtp = URL
smtp_conf() {
	{ echo "report-smtp = $1"; grep -v '^report-smtp' "$WIKISYNC_CONF"; } >"$WIKISYNC_CONF.new"
	mv "$WIKISYNC_CONF.new" "$WIKISYNC_CONF"
}

# closed_port: a loopback port nothing listens on (bound, then let go)
closed_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# other_mails: the mails the bed's Exim delivered to addresses other than the sync user's
other_mails() { find "$WS_MAIL_OTHER/new" -type f 2>/dev/null | wc -l; }

@test "report-smtp: the report goes over SMTP to the bed's Exim, as a sandboxed service sends it (no new privileges, no sendmail); a server that refuses is named and the next run mails" {
	run -0 ws-login -k
	export WIKISYNC_SENDMAIL=$BATS_TEST_TMPDIR/no-sendmail
	# nothing listens there: the report waits, and the warning says why
	smtp_conf "smtp://127.0.0.1:$(closed_port)"
	run -0 ws-testbed stop "$BED" beta
	run --separate-stderr setpriv --no-new-privs ws-login -k
	assert_status 75
	[[ ${stderr_lines[0]} =~ ^ws-login:\ beta\ down\ since\ $iso\ \(connection\ refused\)$ ]]
	[[ ${stderr_lines[1]} == "ws-login: beta: cannot mail the report to ops@wikisync.test: "*"; the next run tries again" ]]
	[ "${#stderr_lines[@]}" -eq 2 ]
	before=$(other_mails)
	smtp_conf "smtp://127.0.0.1:$(cat "$BED/exim/port")"
	run --separate-stderr setpriv --no-new-privs ws-login -k
	assert_status 75
	[ -z "$stderr" ]
	# Exim delivers once the SMTP session is over
	for _ in $(seq 50); do
		[ "$(other_mails)" -eq "$before" ] || break
		sleep 0.2
	done
	[ "$(other_mails)" -eq $((before + 1)) ]
	m=$(grep -l '^Subject: wikisync: beta down since' "$WS_MAIL_OTHER"/new/*)
	[ "$(printf '%s\n' "$m" | wc -l)" -eq 1 ]
	grep -qx "Envelope-to: ops@wikisync.test" "$m"
	grep -qx "Return-path: <$(id -un)@$(hostname)>" "$m"
	grep -qx "From: $(id -un)@$(hostname)" "$m"
	grep -qx 'To: ops@wikisync.test' "$m"
	grep -qE '^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \+0000$' "$m"
	grep -qx 'Auto-Submitted: auto-generated' "$m"
	grep -qx 'wiki:    beta' "$m"
	# mailed once: the next run has nothing to say
	run --separate-stderr ws-login -k
	[ -z "$stderr" ]
	[ "$(other_mails)" -eq $((before + 1)) ]
	[ ! -e "$MAILS" ]
	run -0 ws-testbed start "$BED" beta
}

@test "maxlag, HTTP 503, ratelimited, readonly and a timeout are temporary: exit 75, the reason" {
	mock_conf maxlag 503 ratelimited readonly slow
	run --separate-stderr ws-login -k
	assert_status 75
	[[ ${lines[0]} =~ ^maxlag\ down\ $iso\ maxlag:\ Waiting\ for\ 10.0.0.2:\ 7\ seconds\ lagged.\ \(retry\ after\ 5\ s\)$ ]]
	[[ ${lines[1]} =~ ^503\ down\ $iso\ HTTP\ 503\ \(retry\ after\ 7\ s\)$ ]]
	[[ ${lines[2]} =~ ^ratelimited\ down\ $iso\ ratelimited:\ As\ an\ anti-abuse\ measure ]]
	[[ ${lines[3]} =~ ^readonly\ down\ $iso\ readonly:\ The\ wiki\ is\ currently\ in\ read-only\ mode.$ ]]
	[[ ${lines[4]} =~ ^slow\ down\ $iso\ timed\ out\ after\ 1\ s$ ]]
	for m in maxlag 503 ratelimited readonly; do
		grep -qx 'code=75' "$SPOOL/state/$m"
		run --separate-stderr ws-api whoami "$m"
		assert_status 75
		[[ $stderr == "ws-api: $m: whoami: "* ]]
	done
	# every request asked for maxlag=5, JSON format 2 and plaintext errors, gzip, and named us
	[ -s "$MOCK/port.log" ]
	run -1 grep -v 'format=json&formatversion=2&errorformat=plaintext&maxlag=5' "$MOCK/port.log"
	v=$(wikisync --version | cut -d ' ' -f 2)
	re=$'\t'"wikisync/$v \\(ws-[a-z]+(; ops@wikisync.test)?\\) libcurl/[0-9.]+"$'\t'".*gzip"
	run -1 grep -Ev "$re" "$MOCK/port.log"
}

@test "replies that are not the API's are permanent: exit 76, saying what came" {
	mock_conf html moved nosuchmode
	run --separate-stderr ws-login -k
	assert_status 76
	[[ ${lines[0]} =~ ^html\ down\ $iso\ not\ an\ API\ reply:\ \"\<html\>\<body\>Please\ log\ in\ to\ the\ proxy ]]
	[[ ${lines[1]} =~ ^moved\ down\ $iso\ HTTP\ 301\ to\ https://wiki.example.org/w/api.php:\ give\ that\ as\ api$ ]]
	[[ ${lines[2]} =~ ^nosuchmode\ down\ $iso\ HTTP\ 404:\ not\ the\ API\'s\ reply$ ]]
}

@test "TLS is verified: a self-signed server is refused (69) unless it is the wiki's ca-file" {
	mock_conf readonly
	wiki_conf readonly api "https://127.0.0.1:$(cat "$MOCK/tlsport")/readonly/api.php"
	run --separate-stderr ws-login -k
	assert_status 69
	[[ $output =~ ^readonly\ down\ $iso\ TLS:\ SSL\ certificate\ problem:\ self.signed\ certificate ]]
	printf 'ca-file = %s\n' "$MOCK/cert.pem" >>"$WIKISYNC_CONF"
	run --separate-stderr ws-login -k
	assert_status 75
	[[ $output =~ ^readonly\ down\ $iso\ readonly: ]]
	wiki_conf readonly ca-file "$BATS_TEST_TMPDIR/missing.pem"
	run --separate-stderr ws-login -k
	assert_status 78
	[[ $output =~ ^readonly\ down\ $iso\ ca-file: ]]
}

@test "a permanent failure outranks a temporary one in the exit status" {
	mock_conf readonly html
	run -76 ws-login -k
	mock_conf html readonly
	run -76 ws-login -k
}

@test "a sync user without the noratelimit and bot rights is warned about once per run" {
	wiki_conf alpha user Editor@test
	wiki_conf alpha password-file "$BED/alpha/editor.pass"
	run --separate-stderr ws-login
	assert_status 0
	[[ ${lines[0]} =~ ^alpha\ up\ $iso\ as\ Editor,\ new\ session$ ]]
	[ "$(grep -c 'lacks the right' <<<"$stderr")" -eq 1 ]
	grep -qxF "ws-login: alpha: Editor@test lacks the right noratelimit, bot: put Editor in the bot group and the wikisync group (wikisync(7), SETTING UP), and give its bot password the high-volume grant" <<<"$stderr"
	run --separate-stderr ws-login -k
	assert_status 0
	[ -z "$stderr" ]
	# -k warns when the wiki comes up, which it does at its first check
	rm "$SPOOL/state/alpha"
	run --separate-stderr ws-login -k alpha
	assert_status 0
	[[ $stderr == "ws-login: alpha: Editor@test lacks the right noratelimit, bot: "* ]]
}

@test "a sync user the wiki would not mail for minor edits: ws-login names the grant it needs to set that" {
	# the editor's bot password has no editmyoptions grant, and its
	# preferences are the wiki's defaults (no mail for minor edits)
	wiki_conf alpha user Editor@test
	wiki_conf alpha password-file "$BED/alpha/editor.pass"
	run --separate-stderr ws-login alpha
	assert_status 0
	grep -qx "ws-login: alpha: Editor is not mailed every change to the pages it watches, and setting that failed: .*; give its bot password the grant to edit your preferences (editmyoptions)" <<<"$stderr"
	# the sync user's are set (the bed did it): nothing said
	run --separate-stderr ws-login beta
	assert_status 0
	[ -z "$stderr" ]
	# a kept session is not checked again
	run --separate-stderr ws-login -k alpha
	[ -z "$stderr" ]
}

# Last: it lets anonymous users edit alpha for its duration.
@test "session gone and login refused: the edit fails (77) and the wiki gets no anonymous edit" {
	ls=$BED/alpha/LocalSettings.php
	cp "$ls" "$BATS_TEST_TMPDIR/LocalSettings.php"
	printf '%s\n' "\$wgGroupPermissions['*']['edit'] = true;" \
		"\$wgGroupPermissions['*']['createpage'] = true;" >>"$ls"
	# anonymous edits work now (once PHP has read the settings again): a client without
	# assert=user would make one
	for _ in $(seq 100); do
		out=$(curl -s -d action=edit -d title="Anonymous probe" -d text=x \
			--data-urlencode 'token=+\' -d format=json "$WS_ALPHA_API")
		[[ $out != *'"result":"Success"'* ]] || break
		sleep 0.05
	done
	[[ $out == *'"result":"Success"'* ]]
	run -0 ws-login alpha
	run -0 ws-testbed expire "$BED" alpha
	printf 'wrongwrongwrongwrongwrongwrong00\n' >"$BATS_TEST_TMPDIR/wrong.pass"
	chmod 600 "$BATS_TEST_TMPDIR/wrong.pass"
	wiki_conf alpha password-file "$BATS_TEST_TMPDIR/wrong.pass"
	run --separate-stderr ws-api edit alpha "Never anonymous" <<<"Must not be saved."
	cp "$BATS_TEST_TMPDIR/LocalSettings.php" "$ls"
	assert_status 77
	[ -z "$output" ]
	[[ $stderr == "ws-api: alpha: Never anonymous: login as Peerd@wikisync refused: "* ]]
	run -0 ws-testbed api "$BED" alpha action=query prop=revisions titles="Never anonymous"
	[[ $output == *'"missing":true'* ]]
	run -0 ws-testbed api "$BED" alpha action=query list=recentchanges rcshow=anon \
		'rcprop=title|user'
	[[ $output == *'"title":"Anonymous probe"'* ]]
	[[ $output != *'Never anonymous'* ]]
}

@test "a wiki that would answer without end is stopped with one line: the same continuation again, one of 40 names, a 33 MB reply" {
	mock_conf endless manykeys huge
	run --separate-stderr timeout 60 ws-api changes endless 20260101000000
	assert_status 76
	[ "$stderr" = "ws-api: endless: changes: recentchanges: the wiki answered the same continuation again: it would never end" ]
	run --separate-stderr timeout 60 ws-api members endless Category:Docs
	assert_status 76
	[ "$stderr" = "ws-api: endless: Category:Docs: categorymembers: the wiki answered the same continuation again: it would never end" ]
	run --separate-stderr timeout 60 ws-api changes manykeys 20260101000000
	assert_status 76
	[ "$stderr" = "ws-api: manykeys: changes: recentchanges: a continuation of 40 names: no wiki sends that" ]
	run --separate-stderr timeout 60 ws-api changes huge 20260101000000
	assert_status 76
	[ "$stderr" = "ws-api: huge: changes: reply larger than 32 MB" ]
}
