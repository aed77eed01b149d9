#!/usr/bin/env bats
# The groups page without a wiki: ws-groups -f checks a text as the page
# would be checked, and the last good copy in the spool joins the config
# of every applet; a copy that no longer holds is left out, with a warning.

load helper

setup() {
	common_setup
	write_conf <<EOF
spool = $SPOOL
groups-page = alpha:wikiSync_groups
[wiki alpha]
api = http://127.0.0.1:9/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw
[wiki beta]
api = http://127.0.0.1:9/beta/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw
[group file]
wikis = alpha, beta
pages = Main Page
EOF
}

# check TEXT: ws-groups -f on TEXT
check() { printf '%s' "$1" | ws-groups -f -; }

@test "ws-groups: -h, a bad option, no groups-page" {
	run --separate-stderr ws-groups -h
	assert_status 0
	[ "$output" = "usage: ws-groups [-nqv] [-c file] [-d dir] [-f file]" ]
	run --separate-stderr ws-groups -x
	assert_status 64
	[[ "$stderr" == *"usage: ws-groups "* ]]
	: >"$WIKISYNC_CONF"
	run --separate-stderr ws-groups -f /dev/null
	assert_status 78
	[ "$stderr" = "ws-groups: $WIKISYNC_CONF: no groups-page" ]
}

@test "groups-page: the title as MediaWiki writes it; a bad value is a config error" {
	run ws-conf groups-page
	assert_status 0
	[ "$output" = "alpha:WikiSync groups" ]
	sed -i 's/^groups-page = .*/groups-page = gamma:Groups/' "$WIKISYNC_CONF"
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF: groups-page: unknown wiki \"gamma\"" ]
	sed -i 's/^groups-page = .*/groups-page = Groups/' "$WIKISYNC_CONF"
	run --separate-stderr ws-conf
	assert_status 78
	[ "$stderr" = "ws-conf: $WIKISYNC_CONF:2: groups-page: not wiki:page: Groups" ]
}

@test "a page of calls, comments, other templates and blank parameters" {
	run --separate-stderr check '== Groups ==
<!-- {{WikiSync group|name=commented|wikis=nowhere}} -->
<nowiki>{{WikiSync group|name=shown}}</nowiki>
{{Other template|x=y}}
{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs, Category:Manuals|history=latest|pages=}}
{{ template:wikiSync_group
 | name = more
 | wikis = beta, alpha
 | pages = A, B
 | talk-notes = no
 | deletions = keep
 | files = no
}}'
	assert_status 0
	[ -z "$stderr" ]
	[ "$output" = "[group docs]
wikis = alpha, beta
categories = Docs, Manuals
history = latest
conflict = wiki
talk-notes = yes
deletions = sync
files = yes

[group more]
wikis = beta, alpha
pages = A, B
history = replay
conflict = wiki
talk-notes = no
deletions = keep
files = no" ]
}

@test "each wrong page is refused whole, with where and why, exit 65" {
	local where="ws-groups: alpha:WikiSync groups"
	run --separate-stderr check '{{WikiSync group|name=ok|wikis=alpha, beta|pages=A}}
{{WikiSync group|name=x|wikis=alpha, gamma|pages=A}}'
	assert_status 65
	[ -z "$output" ]
	[ "$stderr" = "$where:2: group x: unknown wiki \"gamma\" (the wikis are alpha, beta)" ]
	run --separate-stderr check '
{{WikiSync group|name=x|wikis=alpha, beta|bogus=A}}'
	assert_status 65
	[ "$stderr" = "$where:2: unknown key \"bogus\"" ]
	run --separate-stderr check 'blanked by a vandal'
	assert_status 65
	[ "$stderr" = "$where: no {{WikiSync group}} call" ]
	run --separate-stderr check '{{WikiSync group|name=file|wikis=alpha, beta|pages=A}}'
	assert_status 65
	[ "$stderr" = "$where:1: group \"file\" defined twice" ]
	run --separate-stderr check '{{WikiSync group|name=a|wikis=alpha, beta|categories=[[:Category:X]]}}'
	assert_status 65
	[ "$stderr" = "$where:1: a link inside {{WikiSync group}}: write categories without [[ ]]" ]
	run --separate-stderr check '{{WikiSync group|name=a|wikis=alpha, beta|pages={{PAGENAME}}}}'
	assert_status 65
	[ "$stderr" = "$where:1: a template inside {{WikiSync group}}: write plain values" ]
	run --separate-stderr check '{{WikiSync group|name=a|wikis=alpha, beta|pages=A'
	assert_status 65
	[ "$stderr" = "$where:1: {{WikiSync group: no closing }}" ]
	run --separate-stderr check '{{WikiSync group|alpha|pages=A}}'
	assert_status 65
	[ "$stderr" = "$where:1: parameter \"alpha\" has no name" ]
	run --separate-stderr check '{{WikiSync group|wikis=alpha, beta|pages=A}}'
	assert_status 65
	[ "$stderr" = "$where:1: {{WikiSync group}} without name=" ]
	run --separate-stderr check '{{WikiSync group|name=a b|wikis=alpha, beta|pages=A}}'
	assert_status 65
	[ "$stderr" = "$where:1: bad group name \"a b\" (letters, digits, _ . - only)" ]
	run --separate-stderr check '{{WikiSync group|name=a|wikis=alpha|pages=A}}'
	assert_status 65
	[ "$stderr" = "$where:1: group a: needs two wikis or more" ]
	run --separate-stderr check '{{WikiSync group|name=a|wikis=alpha, beta|history=all}}'
	assert_status 65
	[ "$stderr" = "$where:1: history: not replay or latest: all" ]
	printf 'a\0b' >"$BATS_TEST_TMPDIR/nul"
	run --separate-stderr ws-groups -f "$BATS_TEST_TMPDIR/nul"
	assert_status 65
	[ "$stderr" = "$where: NUL byte" ]
	run --separate-stderr ws-groups -f "$BATS_TEST_TMPDIR/nosuch"
	assert_status 66
	[[ "$stderr" == "ws-groups: $BATS_TEST_TMPDIR/nosuch: "* ]]
}

@test "the spool's copy joins every applet's config; one that no longer holds is left out" {
	printf '{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs}}\n' \
	    >"$SPOOL/groups.wiki"
	run --separate-stderr ws-conf groups
	assert_status 0
	[ -z "$stderr" ]
	[ "$output" = "file
docs" ]
	run ws-conf
	[[ "$output" == *"# from alpha:WikiSync groups
[group docs]
wikis = alpha, beta
categories = Docs"* ]]
	# beta leaves the config: the copy is out, the file's group stays
	sed -i 's/^wikis = alpha, beta$/wikis = alpha, alpha2/; s/^\[wiki beta\]/[wiki alpha2]/' \
	    "$WIKISYNC_CONF"
	run --separate-stderr ws-conf groups
	assert_status 0
	[ "$output" = "file" ]
	[ "$stderr" = "ws-conf: alpha:WikiSync groups:1: group docs: unknown wiki \"beta\" (the wikis are alpha, alpha2) (the copy in $SPOOL/groups.wiki): its groups are left out" ]
}

@test "ws-status: the groups page in force, or refused and why, in both forms" {
	printf '{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs}}\n' \
	    >"$SPOOL/groups.wiki"
	touch -d @1700000000 "$SPOOL/groups.wiki"
	run --separate-stderr ws-status -t
	assert_status 0
	[[ "$output" == *"groups-page	alpha:WikiSync groups	ok	1700000000	-"* ]]
	run ws-status
	[[ "$output" == *"Groups page
  page                   state     since
  alpha:WikiSync groups  in force  2023-11-14T22:13:20Z"* ]]
	echo 'alpha:WikiSync groups:3: unknown key "x"' >"$SPOOL/groups.err"
	touch -d @1700000100 "$SPOOL/groups.err"
	run --separate-stderr ws-status --tsv
	assert_status 1
	[[ "$output" == *"groups-page	alpha:WikiSync groups	refused	1700000100	alpha:WikiSync groups:3: unknown key \"x\""* ]]
	run ws-status
	assert_status 1
	[[ "$output" == *"alpha:WikiSync groups  refused: alpha:WikiSync groups:3: unknown key \"x\"  2023-11-14T22:15:00Z"* ]]
	# the groups in force are still the copy's
	[[ "$output" == *"  docs "* ]]
}
