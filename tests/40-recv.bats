#!/usr/bin/env bats
# ws-recv on the mails the test bed captured from real MediaWiki (tests/fixtures/mail, INDEX): the
# right wiki, title, event and previous revision for each; the same job from CRLF, mbox, quoted-
# printable and base64 copies; encoded-word subjects; how the wiki's URL is matched; a page that
# already waits gets no second job; a mail that is no notification is kept in bad/, exit 0.

load helper

FIX=$TOP/tests/fixtures/mail

# prefixes: the wiki URL prefixes of INDEX, once each, in order: wiki N is named wN.
prefixes() { awk -F'\t' '!/^#/ && NF && !seen[$2]++ { print $2 }' "$FIX/INDEX"; }

wiki_of() { prefixes | awk -v p="$1" '$0 == p { print "w" NR }'; }

# fixtures: INDEX without its comments.
fixtures() { grep -v '^#' "$FIX/INDEX"; }

setup() {
	common_setup
	local p n=0
	while IFS= read -r p; do
		n=$((n + 1))
		printf '[wiki w%s]\napi = %s\nurl = %s\nuser = Peerd@wikisync\npassword-file = %s\n\n' \
		    "$n" "${p%index.php}api.php" "$p" "$BATS_TEST_TMPDIR/pw"
	done < <(prefixes) | write_conf
}

# job ID: the job file's lines, sorted.
job() { sort "$SPOOL/queue/new/$1"; }

# recv_ok FILE: ws-recv -v queues FILE's notification; sets id.
recv_ok() {
	run --separate-stderr ws-recv -v <"$1"
	assert_status 0
	[[ $output =~ ^[0-9]{10}\.[0-9]{6}\.[0-9]+\.[0-9a-f]{4}\.[0-9a-f]{8}$ ]]
	id=$output
}

# same_job FILE: FILE gives the job that changed.eml gives.
same_job() {
	rm -rf "$SPOOL/queue"
	recv_ok "$FIX/changed.eml"
	want=$(job "$id" | grep -v '^received=')
	rm -rf "$SPOOL/queue"
	recv_ok "$1"
	[ "$(job "$id" | grep -v '^received=')" = "$want" ]
}

@test "-h prints the usage on stdout; a bad option or an argument exits 64" {
	run --separate-stderr ws-recv -h
	assert_status 0
	[ "$output" = "usage: ws-recv [-nqv] [-c file] [-d dir]" ]
	[ -z "$stderr" ]
	run --separate-stderr ws-recv -x </dev/null
	assert_status 64
	[ -z "$output" ]
	[[ $stderr == *"usage: ws-recv [-nqv] [-c file] [-d dir]" ]]
	run --separate-stderr ws-recv extra </dev/null
	assert_status 64
	[ ! -e "$SPOOL/queue" ]
}

@test "each captured notification queues a job with its wiki, title, event and oldid" {
	[ "$(fixtures | wc -l)" -ge 12 ]
	while IFS=$'\t' read -r f prefix title event oldid minor via; do
		rm -rf "$SPOOL/queue"
		recv_ok "$FIX/$f"
		w=$(wiki_of "$prefix")
		[ "$stderr" = "ws-recv: $w: $title: queued as $id" ] || { echo "$f: $stderr"; false; }
		[ "$(ws-queue get "$id" wiki)" = "$w" ] || { echo "$f: wiki"; false; }
		[ "$(ws-queue get "$id" title)" = "$title" ] || { echo "$f: title"; false; }
		[ "$(ws-queue get "$id" event)" = "$event" ] || { echo "$f: event"; false; }
		if [ "$oldid" = - ]; then
			run ws-queue get "$id" oldid
			assert_status 1
		else
			[ "$(ws-queue get "$id" oldid)" = "$oldid" ] || { echo "$f: oldid"; false; }
		fi
		msgid=$(sed -n 's/^Message-ID: //p' "$FIX/$f")
		[ "$(ws-queue get "$id" msgid)" = "$msgid" ]
		: "$minor $via"
	done < <(fixtures)
}

@test "the job holds wiki, title, event, oldid, msgid, received and attempts, and nothing else" {
	t0=$(date +%s)
	recv_ok "$FIX/nonascii-changed.eml"
	t1=$(date +%s)
	run job "$id"
	[ "${#lines[@]}" -eq 7 ]
	[ "${lines[0]}" = attempts=0 ]
	[ "${lines[1]}" = event=changed ]
	[ "${lines[2]}" = "msgid=<wiki.6b027ca7b0ab51.79312293@127.0.0.1>" ]
	[ "${lines[3]}" = oldid=5 ]
	[[ ${lines[4]} =~ ^received=([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -ge "$t0" ]
	[ "${BASH_REMATCH[1]}" -le "$t1" ]
	[ "${lines[5]}" = "title=Größe – Café Zürich 日本語" ]
	[ "${lines[6]}" = wiki=w1 ]
	[ "$(ls "$SPOOL/queue/new")" = "$id" ]
	[ -z "$(ls -A "$SPOOL/queue/tmp")" ]
}

@test "without -v nothing goes to stdout or stderr" {
	run --separate-stderr ws-recv <"$FIX/created.eml"
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 1 ]
}

@test "-n prints the job's fields and queues nothing" {
	run --separate-stderr ws-recv -n <"$FIX/special-changed.eml"
	assert_status 0
	[ -z "$stderr" ]
	[ "$output" = "wiki=w1
title=Fish & Chips/Recipes for two (or more)
event=changed
oldid=7
msgid=<wiki.6b027ca8268e19.90317418@127.0.0.1>" ]
	[ ! -e "$SPOOL/queue" ]
	run --separate-stderr ws-recv -n <<<"no notification"
	assert_status 65
	[ -z "$output" ]
	[ "$stderr" = "ws-recv: not queued: no page URL of a configured wiki" ]
}

@test "CRLF line endings give the same job" {
	sed 's/$/\r/' "$FIX/changed.eml" >"$BATS_TEST_TMPDIR/crlf.eml"
	grep -q $'^Subject: .*\r$' "$BATS_TEST_TMPDIR/crlf.eml"
	same_job "$BATS_TEST_TMPDIR/crlf.eml"
}

@test "a leading mbox From line, with LF or CRLF, gives the same job" {
	{ echo "From alpha@wikisync.test Sun Nov 22 05:24:54 2026"; cat "$FIX/changed.eml"; } \
	    >"$BATS_TEST_TMPDIR/mbox.eml"
	same_job "$BATS_TEST_TMPDIR/mbox.eml"
	sed 's/$/\r/' "$BATS_TEST_TMPDIR/mbox.eml" >"$BATS_TEST_TMPDIR/mbox-crlf.eml"
	same_job "$BATS_TEST_TMPDIR/mbox-crlf.eml"
}

# reencode FILE CTE MODULE FUNCTION: FILE with its body in another transfer encoding.
reencode() {
	perl -e '
		use MIME::Base64; use MIME::QuotedPrint;
		local $/; my $m = <STDIN>; my ($h, $b) = split /\n\n/, $m, 2;
		$h =~ s/^Content-transfer-encoding: .*$/Content-Transfer-Encoding: $ARGV[0]/mi;
		$b = $ARGV[0] eq "base64" ? encode_base64($b) : encode_qp($b);
		print "$h\n\n$b";' "$2" <"$1"
}

@test "quoted-printable and base64 bodies give the same job, soft breaks inside URLs too" {
	reencode "$FIX/long-created.eml" quoted-printable >"$BATS_TEST_TMPDIR/qp.eml"
	grep -q '^Content-Transfer-Encoding: quoted-printable$' "$BATS_TEST_TMPDIR/qp.eml"
	grep -q '=$' "$BATS_TEST_TMPDIR/qp.eml"
	run -0 ws-recv -n <"$BATS_TEST_TMPDIR/qp.eml"
	[[ $output == *"title=Überlange Überschrift über Größen, Maße und Gewichte – gültig für Ärzte, Öffentlichkeit und Behörden"* ]]
	for cte in quoted-printable base64; do
		reencode "$FIX/changed.eml" "$cte" >"$BATS_TEST_TMPDIR/$cte.eml"
		same_job "$BATS_TEST_TMPDIR/$cte.eml"
	done
	[ -z "$(sed '1,/^$/d' "$BATS_TEST_TMPDIR/base64.eml" | grep http)" ]
}

# mkmail SUBJECT BODY: a notification-like mail from wiki w1.
mkmail() {
	printf 'From: "Alpha" <alpha@wikisync.test>\nSubject: %s\nMessage-ID: <m@x>\n\n%s\n' "$1" "$2"
}

@test "encoded-words: Q and B, UTF-8 and ISO-8859-1, adjacent words joined, folded lines unfolded" {
	p=$(prefixes | head -n 1)
	body="Editor's summary: see $p/Other_page
see $p/Gr%C3%B6%C3%9Fe for the current revision.
$p?title=Gr%C3%B6%C3%9Fe&diff=next&oldid=9"
	# the subject names the page: it wins over the first URL, the summary's
	subj='=?ISO-8859-1?Q?Alpha_page_Gr=F6=DFe_has?=
 =?UTF-8?B?IGJlZW4gY2hhbmdlZCBieSBFZGl0b3I=?='
	run -0 ws-recv -n < <(mkmail "$subj" "$body")
	[ "${lines[0]}" = wiki=w1 ]
	[ "${lines[1]}" = "title=Größe" ]
	[ "${lines[2]}" = event=changed ]
	[ "${lines[3]}" = oldid=9 ]
	# a subject that names no page: the first page URL
	run -0 ws-recv -n < <(mkmail '=?utf-8?q?Something_else?=' "$body")
	[ "${lines[1]}" = "title=Other page" ]
	[ "${lines[2]}" = "msgid=<m@x>" ]
}

@test "the event is the subject's: created, changed, moved, deleted, restored; else none" {
	for ev in created changed moved deleted restored; do
		sed "s/^Subject: .*/Subject: Alpha page Fixture page has been $ev by Editor/" \
		    "$FIX/created.eml" >"$BATS_TEST_TMPDIR/m.eml"
		run -0 ws-recv -n <"$BATS_TEST_TMPDIR/m.eml"
		[ "${lines[2]}" = "event=$ev" ]
	done
	sed 's/^Subject: .*/Subject: Alpha: Seite Fixture page wurde von Editor angelegt/' \
	    "$FIX/created.eml" >"$BATS_TEST_TMPDIR/m.eml"
	run -0 ws-recv -n <"$BATS_TEST_TMPDIR/m.eml"
	[ "${lines[1]}" = "title=Fixture page" ]
	[[ ${lines[2]} == msgid=* ]]
}

@test "the wiki's url comes from its api when not given; scheme and host case do not count" {
	write_conf <<EOF
[wiki home]
api = https://Wiki.Example.ORG/w/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw
EOF
	run -0 ws-recv -n < <(mkmail x 'see http://wiki.example.org/w/index.php/A_page/Sub for')
	[ "${lines[0]}" = wiki=home ]
	[ "${lines[1]}" = "title=A page/Sub" ]
	# a longer path is another wiki, not this one
	run -65 ws-recv -n < <(mkmail x 'see https://wiki.example.org/w/index.php5/A_page')
	run -65 ws-recv -n < <(mkmail x 'see https://wiki.example.org:8080/w/index.php/A_page')
}

@test "a wiki with short URLs: the page comes from its index.php?title= links" {
	write_conf <<EOF
[wiki home]
api = https://wiki.example.org/w/api.php
user = Peerd@wikisync
password-file = $BATS_TEST_TMPDIR/pw
EOF
	body='see https://wiki.example.org/wiki/Main_Page for the current revision.
To delete the page from your watchlist, visit
https://wiki.example.org/w/index.php?title=Main_Page&action=unwatch'
	run -0 ws-recv -n < <(mkmail 'Home page Main Page has been created by X' "$body")
	[ "${lines[1]}" = "title=Main Page" ]
	[ "${lines[2]}" = event=created ]
	# in a query, + is a space, as PHP reads it
	run -0 ws-recv -n < <(mkmail x 'https://wiki.example.org/w/index.php?action=unwatch&title=C%2B%2B+notes')
	[ "${lines[1]}" = "title=C++ notes" ]
}

@test "a page that already waits, due, gets no second job; one deferred gets a new one" {
	recv_ok "$FIX/created.eml"
	first=$id
	recv_ok "$FIX/changed.eml"
	[ "$id" = "$first" ]
	[[ $stderr == *": already queued as $first" ]]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 1 ]
	touch -d '+1 hour' "$SPOOL/queue/new/$first"	# as defer leaves it
	recv_ok "$FIX/changed.eml"
	[ "$id" != "$first" ]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 2 ]
	[ "$(ws-queue get "$id" oldid)" = 2 ]
	# another page, or the same page on another wiki, is another job
	recv_ok "$FIX/nonascii-created.eml"
	recv_ok "$FIX/smtp-created.eml"
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 4 ]
}

@test "a queued move or deletion of a page takes no mail of an edit there: a new page at a moved page's old title is a job of its own" {
	sed 's/^Subject: \(.*\) has been changed by/Subject: \1 has been moved by/' "$FIX/changed.eml" >"$BATS_TEST_TMPDIR/moved.eml"
	recv_ok "$BATS_TEST_TMPDIR/moved.eml"
	moved=$id
	[ "$(ws-queue get "$moved" event)" = moved ]
	recv_ok "$FIX/created.eml"
	[ "$id" != "$moved" ]
	[ "$(ws-queue get "$id" event)" = created ]
	# and an edit's mail after it is that job's
	recv_ok "$FIX/changed.eml"
	[ "$(ws-queue get "$id" event)" = created ]
	[ "$(ls "$SPOOL/queue/new" | wc -l)" -eq 2 ]
	# a second mail of the move is the move's job
	recv_ok "$BATS_TEST_TMPDIR/moved.eml"
	[ "$id" = "$moved" ]
}

@test "a job's id ends in its page's tag; one named as before tags still counts as waiting" {
	recv_ok "$FIX/created.eml"
	first=$id
	recv_ok "$FIX/nonascii-created.eml"
	# the same wiki and title, the same tag; another page, another one
	[ "${first##*.}" != "${id##*.}" ]
	[ "$(ws-queue add "$(ws-queue get "$first" wiki)" "$(ws-queue get "$first" title)" | sed 's/.*\.//')" = "${first##*.}" ]
	rm -f "$SPOOL"/queue/new/*
	# a job of an older release: four fields, no tag
	recv_ok "$FIX/created.eml"
	old=${id%.*}
	mv "$SPOOL/queue/new/$id" "$SPOOL/queue/new/$old"
	run --separate-stderr ws-recv -v <"$FIX/changed.eml"
	assert_status 0
	[ "$output" = "$old" ]
	[ "$(ls "$SPOOL/queue/new")" = "$old" ]
}

@test "not a notification: exit 0, one log line, the mail kept in bad/, no job" {
	printf 'From: someone@example.org\nSubject: hello\n\nJust saying hello.\n' >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ -z "$output" ]
	[[ $stderr =~ ^ws-recv:\ not\ queued:\ no\ page\ URL\ of\ a\ configured\ wiki\;\ kept\ as\ $SPOOL/bad/([0-9.a-f]+)$ ]]
	cmp "$SPOOL/bad/${BASH_REMATCH[1]}" "$BATS_TEST_TMPDIR/m"
	[ -z "$(ls -A "$SPOOL/queue/new")" ]
	run --separate-stderr ws-recv -q <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(ls "$SPOOL/bad" | wc -l)" -eq 2 ]
}

@test "make install puts the Exim snippets in PREFIX/share/wikisync/exim4, naming the installed ws-recv" {
	d=$BATS_TEST_TMPDIR/inst
	# -o all: install what is built, never rebuild the binary under test
	run make -s -C "$TOP" install -o all DESTDIR="$d" PREFIX=/opt/ws BUILD="$WS_BUILD" APPLETS=recv
	assert_status 0
	cmp "$d/opt/ws/share/wikisync/exim4/router/150_wikisync" "$TOP/scripts/exim4/router/150_wikisync"
	t=$d/opt/ws/share/wikisync/exim4/transport/30_wikisync
	grep -qx 'WIKISYNC_COMMAND = /opt/ws/bin/ws-recv' "$t"
	diff "$TOP/scripts/exim4/transport/30_wikisync" "$t" | grep -c '^[<>]' | grep -qx 2
	[ -L "$d/opt/ws/bin/ws-recv" ]
	[ -f "$d/opt/ws/share/man/man1/ws-recv.1" ]
}
