#!/usr/bin/env bats
# wikisync.conf(5) as ws-conf reads it: defaults, precedence, every kind of
# error named by file and line with exit 78, private password files.

load helper

two_wikis() {
	write_conf <<EOF
# two wikis, one group
spool = $BATS_TEST_TMPDIR/spool
report = ops@example.org
report-smtp = smtp://127.0.0.1:2525
syslog = local3

[wiki alpha]
api = http://127.0.0.1:8001/w/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw
timeout = 12

[wiki beta]
api = https://beta.example.org/api.php
url = https://beta.example.org/wiki/index.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw

[group docs]
wikis = alpha, beta
categories = Category:Docs, Manuals
history = latest
EOF
}

@test "a valid config is printed as the applets see it" {
	two_wikis
	run --separate-stderr ws-conf
	assert_status 0
	[ -z "$stderr" ]
	[[ "$output" == *"url = http://127.0.0.1:8001/w/index.php"* ]]
	[[ "$output" == *"url = https://beta.example.org/wiki/index.php"* ]]
	[[ "$output" == *"categories = Docs, Manuals"* ]]
	[[ "$output" == *"history = latest"* ]]
	[[ "$output" == *"conflict = wiki"* ]]
	[[ "$output" == *"timeout = 12"* ]]
	[[ "$output" == *"timeout = 30"* ]]
	[[ "$output" == *"hold-after = 20"* ]]
	[[ "$output" == *"login-check = 60"* ]]
	[[ "$output" == *"workers = 4"* ]]
	run ws-conf workers
	[ "$output" = 4 ]
	run --separate-stderr ws-conf worker
	assert_status 64
	[ "$stderr" = "ws-conf: worker: not a key (spool, report, report-smtp, peerd, syslog, hold-after, login-check, workers, groups-page, status-page, wikis, groups)" ]
	run ws-conf wikis
	[ "$output" = "$(printf 'alpha\nbeta')" ]
	run ws-conf groups
	[ "$output" = docs ]
	run ws-conf report
	[ "$output" = ops@example.org ]
	run ws-conf report-smtp
	[ "$output" = smtp://127.0.0.1:2525 ]
	run -0 ws-conf
	[[ "$output" == *"report-smtp = smtp://127.0.0.1:2525"* ]]
}

@test "spool: -d beats the environment beats the config beats the default" {
	two_wikis
	run ws-conf -d /x spool
	[ "$output" = /x ]
	run ws-conf spool
	[ "$output" = "$SPOOL" ]
	unset WIKISYNC_SPOOL
	run ws-conf spool
	[ "$output" = "$BATS_TEST_TMPDIR/spool" ]
	printf '# nothing\n' >"$WIKISYNC_CONF"
	run ws-conf spool
	[ "$output" = /var/spool/wikisync ]
}

@test "-c beats the environment; the default config may be absent" {
	two_wikis
	cp "$WIKISYNC_CONF" "$BATS_TEST_TMPDIR/other.conf"
	printf 'hold-after = 3\n' >"$WIKISYNC_CONF"
	run ws-conf -c "$BATS_TEST_TMPDIR/other.conf" hold-after
	[ "$output" = 20 ]
	run ws-conf hold-after
	[ "$output" = 3 ]
	# the machine running the tests has no /etc/wikisync/wikisync.conf
	[ ! -e /etc/wikisync/wikisync.conf ]
	WIKISYNC_CONF= run --separate-stderr ws-conf
	assert_status 0
	[[ "$output" == "# built-in defaults"* ]]
}

@test "a config named but missing exits 78" {
	run --separate-stderr ws-conf -c "$BATS_TEST_TMPDIR/nope.conf"
	assert_status 78
	[ "$stderr" = "ws-conf: $BATS_TEST_TMPDIR/nope.conf: No such file or directory" ]
}

conf_error() {	# line message, config on stdin
	write_conf
	run --separate-stderr ws-conf
	assert_status 78
	[ -z "$output" ]
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:$1: $2" ]
}

@test "an unknown key is named with file and line, exit 78" {
	printf 'spool = /tmp\n\nfoo = bar\n' | conf_error 3 'unknown key "foo"'
}

@test "an unknown key inside a section is named with its line" {
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\ncolour = red\n' |
	    conf_error 5 'unknown key "colour"'
}

@test "a misspelt key is named with the key meant; a key of another kind of section says where it belongs" {
	printf 'spool = /tmp\nhold-afer = 3\n' | conf_error 2 'unknown key "hold-afer" (did you mean "hold-after"?)'
	printf '[wiki a]\napi = http://h/api.php\npasword-file = /p\n' |
	    conf_error 3 'unknown key "pasword-file" (did you mean "password-file"?)'
	printf '[group g]\nwikis = a, b\ncategory = Docs\n' |
	    conf_error 3 'unknown key "category" (did you mean "categories"?)'
	printf 'api = http://h/api.php\n' | conf_error 1 'key "api" belongs in a [wiki NAME] section'
	printf '[wiki a]\nwikis = a, b\n' | conf_error 2 'key "wikis" belongs in a [group NAME] section'
	printf '[group g]\nspool = /x\n' | conf_error 2 'key "spool" belongs before the first section'
}

@test "every key wikisync.conf(5) documents is known in its section: misspelt by a letter, it is the one suggested" {
	# the keys of each of the page's sections, as .It Cm KEY lines
	keys=$(awk '/^\.Ss Global keys/ { s = "global" } /^\.Ss Wikis/ { s = "wiki" }
	    /^\.Ss Groups/ { s = "group" } /^\.Ss Two syncing/ { s = "" }
	    s != "" && /^\.It Cm [a-z-]+ No =/ { print s, $3 }' "$TOP/man/wikisync.conf.5")
	[ "$(wc -l <<<"$keys")" -ge 28 ]
	while read -r sec key; do
		case $sec in
		global) head= ;;
		wiki) head=$'[wiki a]\n' ;;
		group) head=$'[group g]\n' ;;
		esac
		n=$(( $(printf '%s' "$head" | wc -l) + 1 ))
		# the last letter doubled
		printf '%s%s%s = 1\n' "$head" "$key" "${key: -1}" |
		    conf_error "$n" "unknown key \"$key${key: -1}\" (did you mean \"$key\"?)"
	done <<<"$keys"
}

@test "a key given twice is an error" {
	printf '[wiki a]\napi = http://h/api.php\napi = http://i/api.php\n' |
	    conf_error 3 'duplicate key "api"'
}

@test "a line that is not key = value is an error" {
	printf 'spool /tmp\n' | conf_error 1 'expected key = value'
}

@test "an unknown section is an error" {
	printf '# x\n[farm a]\n' | conf_error 2 'unknown section "farm"'
}

@test "a wiki name that could escape a directory is refused" {
	printf '[wiki ../x]\n' | conf_error 1 'bad wiki name "../x" (letters, digits, _ . - only)'
}

@test "a wiki without api is named at its section line" {
	printf 'syslog = none\n[wiki a]\nuser = U@b\npassword-file = /p\n' |
	    conf_error 2 'wiki a: no api'
}

@test "api must be http(s) and url derivable" {
	printf '[wiki a]\napi = ftp://h/api.php\n' |
	    conf_error 2 'api: not an http(s) URL: ftp://h/api.php'
	printf '[wiki a]\napi = http://h/rest\nuser = U@b\npassword-file = /p\n' |
	    conf_error 1 'wiki a: no url, and api does not end in api.php'
}

@test "http:// to a host other than loopback is refused unless insecure-http = yes, which ws-conf and ws-status name" {
	printf '[wiki a]\napi = http://wiki.example.org/w/api.php\nuser = U@b\npassword-file = /p\n' |
	    conf_error 1 'wiki a: api: http:// to wiki.example.org would send the bot password in clear: use https://, or set insecure-http = yes'
	printf '[wiki a]\napi = http://U:x@10.0.0.1:8080/api.php\nuser = U@b\npassword-file = /p\n' |
	    conf_error 1 'wiki a: api: http:// to 10.0.0.1 would send the bot password in clear: use https://, or set insecure-http = yes'
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\ninsecure-http = maybe\n' |
	    conf_error 5 'insecure-http: not yes or no: maybe'
	: >"$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	# loopback needs no TLS: nothing leaves the host
	for h in 127.0.0.1 127.9.8.7:81 localhost '[::1]:8080' LocalHost; do
		printf 'spool = %s\n[wiki a]\napi = http://%s/api.php\nuser = U@b\npassword-file = %s\n' \
		    "$SPOOL" "$h" "$BATS_TEST_TMPDIR/pw" | write_conf
		run --separate-stderr ws-conf wikis
		assert_status 0
		[ -z "$stderr" ]
	done
	printf 'spool = %s\n[wiki a]\napi = http://wiki.example.org/api.php\ninsecure-http = yes\nuser = U@b\npassword-file = %s\n' \
	    "$SPOOL" "$BATS_TEST_TMPDIR/pw" | write_conf
	run --separate-stderr ws-conf
	assert_status 0
	[ "$stderr" = "ws-conf: wiki a: insecure-http: the bot password goes to wiki.example.org in clear" ]
	[[ "$output" == *$'timeout = 30\ninsecure-http = yes'* ]]
	mkdir -p "$SPOOL"
	run --separate-stderr ws-status -t
	[[ "$output" == *$'insecure\ta\twiki.example.org'* ]]
	run --separate-stderr ws-status
	[[ "$output" == *"Bot passwords sent in clear (insecure-http = yes)"*"a     wiki.example.org"* ]]
}

@test "a user that is not a bot password login is refused" {
	printf '[wiki a]\napi = http://h/api.php\nuser = Peerd\n' |
	    conf_error 3 'user: not a bot password login (User@botname): Peerd'
}

@test "a group naming an unknown wiki is an error at its line" {
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\n[group g]\nwikis = a, zz\ncategories = C\n' |
	    conf_error 5 'group g: unknown wiki "zz" (the one wiki is a)'
}

@test "a category with its namespace in another language: the error says to write the name alone" {
	printf '[group g]\ncategories = Docs, Kategorie:Handbuch\n' |
	    conf_error 2 'categories: "Kategorie:Handbuch" names the category with its namespace; write the name alone, as in categories = Handbuch'
	printf '[group g]\ncategories = Категория:Справка\n' |
	    conf_error 2 'categories: "Категория:Справка" names the category with its namespace; write the name alone, as in categories = Справка'
}

@test "wikis written without commas: the error shows them with commas" {
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\n[wiki b]\napi = http://i/api.php\nuser = U@b\npassword-file = /p\n[group g]\nwikis = a b\ncategories = C\n' |
	    conf_error 9 'group g: wikis: "a b" is not one wiki: separate them with commas, as in wikis = a, b'
}

@test "a group needs two wikis and something to sync" {
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\n[group g]\nwikis = a\ncategories = C\n' |
	    conf_error 5 'group g: needs two wikis or more'
	printf '[wiki a]\napi = http://h/api.php\nuser = U@b\npassword-file = /p\n[wiki b]\napi = http://i/api.php\nuser = U@b\npassword-file = /p\n[group g]\nwikis = a, b\n' |
	    conf_error 9 'group g: no categories or pages'
}

@test "bad values: history, conflict, talk-notes, deletions, files, timeout, syslog, hold-after, login-check, workers, spool, report-smtp" {
	printf '[group g]\nhistory = all\n' | conf_error 2 'history: not replay or latest: all'
	printf '[group g]\nconflict = ours\n' | conf_error 2 'conflict: not wiki or markers: ours'
	printf '[group g]\ntalk-notes = maybe\n' | conf_error 2 'talk-notes: not yes or no: maybe'
	printf '[group g]\ndeletions = never\n' | conf_error 2 'deletions: not sync or keep: never'
	printf '[group g]\ndeletions = keep\ndeletions = sync\n' | conf_error 3 'duplicate key "deletions"'
	printf '[group g]\nfiles = some\n' | conf_error 2 'files: not yes or no: some'
	printf '[wiki a]\ntimeout = 0\n' | conf_error 2 'timeout: not a number of seconds (1-3600): 0'
	printf 'syslog = kern9\n' | conf_error 1 'syslog: unknown facility "kern9"'
	printf 'hold-after = many\n' | conf_error 1 'hold-after: not a number from 1 to 1000: many'
	printf 'login-check = 2\n' | conf_error 1 'login-check: not a number of seconds from 5 to 86400: 2'
	printf 'workers = 0\n' | conf_error 1 'workers: not a number from 1 to 64: 0'
	printf 'workers = 2\nworkers = 3\n' | conf_error 2 'duplicate key "workers"'
	printf 'spool = var/spool\n' | conf_error 1 'spool must be an absolute path'
	printf 'report-smtp = localhost:25\n' | conf_error 1 'report-smtp: not an smtp:// or smtps:// URL: localhost:25'
	printf 'report-smtp = http://localhost/\n' | conf_error 1 'report-smtp: not an smtp:// or smtps:// URL: http://localhost/'
}

@test "a password file readable by group or others is refused, exit 78" {
	two_wikis
	chmod 644 "$BATS_TEST_TMPDIR/pw"
	run --separate-stderr ws-conf -p
	assert_status 78
	[[ "$stderr" == *"ws-conf: wiki alpha: $BATS_TEST_TMPDIR/pw: mode 0644 lets group or others read it; refusing it: chmod 600 $BATS_TEST_TMPDIR/pw"* ]]
	chmod 640 "$BATS_TEST_TMPDIR/pw"
	run ws-conf -p
	assert_status 78
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	run --separate-stderr ws-conf -p spool
	assert_status 0
	[ "$output" = "$SPOOL" ]
}

@test "a missing password file is reported by ws-conf -p" {
	two_wikis
	rm "$BATS_TEST_TMPDIR/pw"
	run --separate-stderr ws-conf -p
	assert_status 78
	[[ "$stderr" == *"wiki alpha: $BATS_TEST_TMPDIR/pw: No such file or directory"* ]]
}

@test "the password never appears in ws-conf's output" {
	two_wikis
	run ws-conf -p
	assert_status 0
	[[ "$output" != *botpassword* ]]
}

two_hosts() {	# this host's peerd line, then group two's extra lines
	write_conf <<EOF
spool = $BATS_TEST_TMPDIR/spool
$1

[wiki alpha]
api = https://alpha.example.org/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw

[wiki beta]
api = https://beta.example.org/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw

[group one]
wikis = alpha, beta
categories = Docs
pages = Main Page

[group two]
wikis = beta, alpha
$2
EOF
}

@test "peerd: a group of another syncing host is described, printed, and left out of ws-scan" {
	two_hosts 'peerd = sync@a.example.org' \
	    "$(printf 'categories = Manuals\npeerd = sync@b.example.org')"
	run --separate-stderr ws-conf
	assert_status 0
	[ -z "$stderr" ]
	[[ "$output" == *$'\npeerd = sync@a.example.org\n'* ]]
	[[ "$output" == *$'files = yes\npeerd = sync@b.example.org'* ]]
	run ws-conf peerd
	[ "$output" = sync@a.example.org ]
	# ws-scan refuses it before it would touch a wiki
	run --separate-stderr ws-scan two
	assert_status 64
	[ "$stderr" = "ws-scan: group two: synced by sync@b.example.org, not here" ]
}

@test "peerd: an overlap the config shows between two syncing hosts is refused, exit 78" {
	two_hosts 'peerd = sync@a.example.org' \
	    "$(printf 'categories = Manuals, Docs\npeerd = sync@b.example.org')"
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:19: groups one and two both sync Docs on wiki alpha, but sync@a.example.org syncs one and sync@b.example.org the other: give a page one syncing host" ]
	two_hosts 'peerd = sync@a.example.org' \
	    "$(printf 'pages = Main Page\npeerd = sync@b.example.org')"
	run --separate-stderr ws-conf
	assert_status 78
	[[ "$stderr" == *"both sync Main Page on wiki alpha"* ]]
	# one owner, named the same or in another case: no overlap
	two_hosts 'peerd = sync@a.example.org' \
	    "$(printf 'categories = Docs\npeerd = SYNC@a.example.org')"
	run --separate-stderr ws-conf
	assert_status 0
}

@test "peerd: a group's owner needs this host's own address; both must be addresses" {
	two_hosts '' "$(printf 'categories = Manuals\npeerd = sync@b.example.org')"
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:19: group two: peerd names its syncing host, so this host's own must be named too (peerd = ADDRESS before the first section)" ]
	two_hosts 'peerd = sync.example.org' 'categories = Manuals'
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:2: peerd: not a mail address: sync.example.org" ]
	two_hosts 'peerd = a@b' "$(printf 'categories = Manuals\npeerd = Sync <s@b>')"
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:22: peerd: not a mail address: Sync <s@b>" ]
}
