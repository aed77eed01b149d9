#!/usr/bin/env bats
# ws-recv against hostile and broken mail, and a spool in trouble: huge headers, 10 000 header
# lines, a 50 MB body in bounded memory, NUL bytes, invalid UTF-8, broken encoded-words, CR LF
# smuggled into a title, titles MediaWiki refuses, unknown hosts, a From that names another wiki.
# No crash, no job where none is due, the exit code Exim needs: 0 for a mail to keep in bad/,
# 75 when the spool or config is in trouble, and then nothing partial anywhere.

load helper

FIX=$TOP/tests/fixtures/mail
P=$(awk -F'\t' '!/^#/ && NF { print $2; exit }' "$FIX/INDEX")	# wiki w1's URL prefix

setup() {
	common_setup
	conf_with ''
}

# conf_with EXTRA: a config with wiki w1 (the fixtures' first URL prefix) and EXTRA.
conf_with() {
	printf '[wiki w1]\napi = %s\nuser = Peerd@wikisync\npassword-file = %s\n%s\n' \
	    "${P%index.php}api.php" "$BATS_TEST_TMPDIR/pw" "$1" | write_conf
}

# mkmail BODY [SUBJECT]: a mail from w1 with BODY.
mkmail() {
	printf 'From: "Alpha" <alpha@wikisync.test>\nSubject: %s\n\n%s\n' "${2:-Alpha page X has been changed by Editor}" "$1"
}

jobs_made() { ls "$SPOOL/queue/new" 2>/dev/null | wc -l; }
kept() { ls "$SPOOL/bad" 2>/dev/null | wc -l; }

# refused FILE: exit 0, no job, FILE kept whole in bad/, one line on stderr with the reason.
refused() {
	local before
	before=$(kept)
	run --separate-stderr ws-recv -v <"$1"
	assert_status 0
	[ -z "$output" ]
	[ "$(jobs_made)" -eq 0 ]
	[ "$(kept)" -eq $((before + 1)) ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "ws-recv: not queued: "*"; kept as $SPOOL/bad/"* ]]
	cmp "$SPOOL/bad/${stderr##*/}" "$1"
}

@test "a 2 MB header line: kept in bad/ cut at 1 MB, no job, exit 0" {
	{ printf 'X-Big: '; head -c 2000000 /dev/zero | tr '\0' a; echo; cat "$FIX/changed.eml"; } \
	    >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(jobs_made)" -eq 0 ]
	[[ $stderr == *" (cut at 1 MB)" ]]
	f=$(ls "$SPOOL"/bad/*)
	[ "$(stat -c %s "$f")" -eq 1048576 ]
	cmp -n 1048576 "$f" "$BATS_TEST_TMPDIR/m"
}

@test "10 000 header lines and a 60 kB subject of encoded-words before a real notification: the job" {
	{
		sed -n '1,/^Subject:/p' "$FIX/changed.eml" | grep -v '^Subject:'
		printf 'Subject: '
		for i in $(seq 4000); do printf '=?UTF-8?Q?x=C3=B6?= '; done
		printf '\n'
		for i in $(seq 10000); do printf 'X-Line-%s: value %s\n' "$i" "$i"; done
		sed '1,/^Subject:/d' "$FIX/changed.eml"
	} >"$BATS_TEST_TMPDIR/m"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/m")" -gt 10000 ]
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(ws-queue get "$output" title)" = "Fixture page" ]
	[ "$(ws-queue get "$output" oldid)" = 2 ]
}

@test "a 50 MB body is read to its end in bounded memory, and the job made" {
	{ cat "$FIX/changed.eml"; head -c 50000000 /dev/zero | tr '\0' x | fold -w 76; } \
	    >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr /usr/bin/time -f 'maxrss %M' -o "$BATS_TEST_TMPDIR/rss" \
	    bash -c 'set -o pipefail; cat "$1" | ws-recv -v' sh "$BATS_TEST_TMPDIR/m"
	assert_status 0	# cat was not cut off by a reader that stopped early
	[ "$(ws-queue get "$output" title)" = "Fixture page" ]
	run /usr/bin/time -f 'maxrss %M' ws-recv -n <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	rss=$(sed -n 's/^maxrss //p' <<<"$output")
	echo "peak RSS ${rss} kB"
	[ "$rss" -lt 65536 ]
	# and a 50 MB header: cut, kept, exit 0
	{ printf 'X-Big: '; head -c 50000000 /dev/zero | tr '\0' a; } | ws-recv -q
	[ "$(kept)" -eq 1 ]
	[ "$(stat -c %s "$SPOOL"/bad/*)" -eq 1048576 ]
}

@test "NUL bytes do not hide the page; a NUL in the title refuses it" {
	{ printf 'Subject: a\0b\nX-Nul: \0\0\n\n\0\0see '; printf '%s/Nul_page\0 and more\n' "$P"; } \
	    >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(ws-queue get "$output" title)" = "Nul page" ]
	mkmail "see $P/A%00B for" >"$BATS_TEST_TMPDIR/m"
	rm -rf "$SPOOL/queue"
	refused "$BATS_TEST_TMPDIR/m"
	[[ $stderr == *"control character in title"* ]]
}

@test "invalid UTF-8: harmless in the subject and body, refused in the title" {
	{ printf 'Subject: \xff\xfe has been changed by \xc0\xaf\n\n\xff\xfe\x80 see %s/Page_one for\n' "$P"; } \
	    >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(ws-queue get "$output" title)" = "Page one" ]
	rm -rf "$SPOOL/queue"
	for t in %FF %C0%AF %ED%A0%80 %F4%90%80%80 Caf%C3; do
		mkmail "see $P/$t for" >"$BATS_TEST_TMPDIR/m"
		refused "$BATS_TEST_TMPDIR/m"
		[[ $stderr == *"title not valid UTF-8"* ]] || { echo "$t: $stderr"; false; }
	done
}

@test "broken encoded-words stay as they are; the page is still found" {
	for s in '=?UTF-8?Q?abc' '=?UTF-8?B?!!!?=' '=?UTF-8?B?YWJj?' '=?x-unknown?Q?abc?=' '=??Q?abc?=' \
	    '=?UTF-8?X?abc?=' '=?UTF-8?Q?a=ZZ?=' '=?UTF-8?Q?a b?=' '=?=?=?=?' '=?UTF-8?Q?=C3?=' \
	    "=?UTF-8?B?$(printf '\0\r\n' | base64)?="; do
		mkmail "see $P/Encoded for" "$s has been changed by Editor" >"$BATS_TEST_TMPDIR/m"
		run --separate-stderr ws-recv -n <"$BATS_TEST_TMPDIR/m"
		assert_status 0
		[ "${lines[1]}" = "title=Encoded" ] || { echo "$s: $output"; false; }
		[ "${lines[2]}" = "event=changed" ]
	done
}

@test "CR LF smuggled into a title (%0D%0A) is refused; no job, no injected field" {
	mkmail "see $P/Page%0D%0Awiki=evil%0D%0Atitle=Other for" >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	[[ $stderr == *"wiki w1: control character in title"* ]]
	mkmail "$P?title=Page%0Aoldid=1&diff=next&oldid=3" >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	mkmail "$P?title=Page%09tab" >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	mkmail "$P?title=Page%C2%85nel" >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	[ ! -e "$SPOOL/queue/new" ] || [ -z "$(ls -A "$SPOOL/queue/new")" ]
}

@test "invisible and bidirectional controls in a title are refused: it would show as another page" {
	for t in Pay%E2%80%AEpal Zero%E2%80%8Bwidth Soft%C2%ADhyphen Joiner%E2%81%A0here \
	    Isolate%E2%81%A6x%E2%81%A9 %EF%BB%BFBom Mark%E2%80%8F; do
		mkmail "see $P/$t for" >"$BATS_TEST_TMPDIR/m"
		refused "$BATS_TEST_TMPDIR/m"
		[[ $stderr == *"invisible or bidirectional control character in title"* ]]
	done
	# a plain non-breaking space or an accent is text: the wiki names it
	mkmail "see $P/Caf%C3%A9%C2%A0menu for" >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(ws-queue get "$output" title)" = $'Caf\u00e9\u00a0menu' ]
}

@test "titles MediaWiki refuses are refused: # < > [ ] | { }, %XX, ~~~, . and .., too long, empty" {
	long=$(printf 'a%.0s' $(seq 256))
	for t in %23x %3Cx%3E %5Bx%5D x%7Cy %7Bx%7D x%2541y a~~~b . .. ./x ../x a/./b a/../b a/. a/.. \
	    "$long" %20 _ :x; do
		mkmail "$P?title=$t&action=unwatch" >"$BATS_TEST_TMPDIR/m"
		refused "$BATS_TEST_TMPDIR/m"
	done
	ok=$(printf 'a%.0s' $(seq 255))
	run -0 ws-recv -n < <(mkmail "$P?title=$ok")
	[ "${lines[1]}" = "title=$ok" ]
}

@test "a title with ../ and / inside is only a job field, never a path" {
	mkmail "see $P/Notes../Part_2/Sub..%2FFinal for" >"$BATS_TEST_TMPDIR/m"
	run --separate-stderr ws-recv -v <"$BATS_TEST_TMPDIR/m"
	assert_status 0
	[ "$(ws-queue get "$output" title)" = "Notes../Part 2/Sub../Final" ]
	run -0 bash -c 'cd "$1" && find . -mindepth 1 | sort' sh "$SPOOL"
	[ "$output" = "./queue
./queue/cur
./queue/hold
./queue/lock
./queue/new
./queue/new/$(ls "$SPOOL/queue/new")
./queue/tmp" ]
}

@test "a URL on an unknown host, or no URL at all: kept in bad/, exit 0" {
	sed "s|$P|http://10.9.8.7:81/index.php|g" "$FIX/changed.eml" >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	[[ $stderr == "ws-recv: not queued: page URL on 10.9.8.7:81, no configured wiki;"* ]]
	printf 'Subject: hi\n\nhttp://example.org/ and nothing else\n' >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
	[[ $stderr == "ws-recv: not queued: no page URL of a configured wiki;"* ]]
	: >"$BATS_TEST_TMPDIR/m"
	refused "$BATS_TEST_TMPDIR/m"
}

@test "a From that names one configured wiki on a mail with another's URL is kept in bad/" {
	# wiki home is at wikisync.test, the fixtures' From domain
	conf_with $'\n[wiki home]\napi = http://wikisync.test/w/api.php\ninsecure-http = yes\nuser = Peerd@wikisync\npassword-file = /dev/null'
	refused "$FIX/changed.eml"
	[[ $stderr == *"From is wikisync.test, host of wiki home, but the page URL is wiki w1's;"* ]]
	# the same From on home's own page is fine
	sed "s|$P|http://wikisync.test/w/index.php|g" "$FIX/changed.eml" >"$BATS_TEST_TMPDIR/m"
	run -0 ws-recv -n <"$BATS_TEST_TMPDIR/m"
	[ "${lines[0]}" = wiki=home ]
	# a From no configured wiki lives at (as on the test bed) does not count
	conf_with ''
	run -0 ws-recv -n <"$FIX/changed.eml"
	[ "${lines[0]}" = wiki=w1 ]
}

@test "the spool missing: exit 75 and one line" {
	rmdir "$SPOOL"
	run --separate-stderr ws-recv <"$FIX/changed.eml"
	assert_status 75
	[ -z "$output" ]
	[ "$stderr" = "ws-recv: spool $SPOOL: no such directory (ws-setup-spool(8) makes it)" ]
	run --separate-stderr ws-recv <<<"not a notification"
	assert_status 75
}

@test "a spool the user cannot write: exit 75, nothing queued" {
	d=$(mktemp -d "${TMPDIR:-/tmp}/ws-recv.XXXXXX")
	chmod 755 "$d"
	mkdir -m 755 "$d/spool"
	cp "$WIKISYNC_CONF" "$d/conf"
	chmod 644 "$d/conf"
	as=()
	if [ "$(id -u)" -eq 0 ]; then
		as=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
	else
		chmod 555 "$d/spool"
	fi
	run --separate-stderr "${as[@]}" env WIKISYNC_CONF="$d/conf" WIKISYNC_SPOOL="$d/spool" \
	    ws-recv <"$FIX/changed.eml"
	assert_status 75
	[[ $stderr == "ws-recv: spool $d/spool: Permission denied" ]]
	[ -z "$(ls -A "$d/spool")" ]
	chmod 755 "$d/spool"
	rm -rf "$d"
}

# fault SPEC CMD...: run CMD with one fault injected (strace -e inject=SPEC)
fault() {
	local spec=$1
	shift
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 \
	    run --separate-stderr strace -f -qq -o /dev/null -e inject="$spec" "$@"
}

files() { find "$@" -type f 2>/dev/null | wc -l; }

@test "a full disk or a disk error: exit 75, nothing partial in the queue or in bad/" {
	printf 'Subject: hi\n\nno notification\n' >"$BATS_TEST_TMPDIR/junk"
	for spec in write:error=ENOSPC write:error=ENOSPC:when=1 write:error=EIO:when=1 \
	    fsync:error=EIO:when=1 fsync:error=ENOSPC:when=2 renameat2:error=ENOSPC \
	    renameat2:error=EIO; do
		for m in "$FIX/changed.eml" "$BATS_TEST_TMPDIR/junk"; do
			fault "$spec" ws-recv -v <"$m"
			assert_status 75
			[ -z "$output" ]
			# with every write failing, stderr fails too
			[[ $spec != *when* || $stderr == "ws-recv: "*": "* ]]
			[ "$(files "$SPOOL/queue/new" "$SPOOL/queue/tmp" "$SPOOL/bad")" -eq 0 ] ||
			    { echo "after $spec on $m:"; find "$SPOOL"; false; }
		done
	done
	run -0 ws-recv <"$FIX/changed.eml"
	[ "$(jobs_made)" -eq 1 ]
}

@test "config trouble is temporary: a missing or broken config, or no wiki, exits 75" {
	run --separate-stderr ws-recv -c "$BATS_TEST_TMPDIR/none" <"$FIX/changed.eml"
	assert_status 75
	[ "$stderr" = "ws-recv: $BATS_TEST_TMPDIR/none: No such file or directory" ]
	printf '[wiki w1]\nbogus = 1\n' >"$WIKISYNC_CONF"
	run --separate-stderr ws-recv <"$FIX/changed.eml"
	assert_status 75
	[ "$stderr" = "ws-recv: $WIKISYNC_CONF:2: unknown key \"bogus\"" ]
	: >"$WIKISYNC_CONF"
	run --separate-stderr ws-recv <"$FIX/changed.eml"
	assert_status 75
	[ "$stderr" = "ws-recv: $WIKISYNC_CONF: no wiki configured" ]
	[ ! -e "$SPOOL/queue" ] && [ ! -e "$SPOOL/bad" ]
}

@test "bad/ keeps the newest 100 mails" {
	mkdir "$SPOOL/bad"
	for i in $(seq 100); do
		printf 'old %s\n' "$i" >"$SPOOL/bad/$(printf '%010d.000000.1.0000' "$i")"
	done
	for i in 1 2 3; do
		printf 'Subject: %s\n\nnothing\n' "$i" | ws-recv -q
	done
	[ "$(kept)" -eq 100 ]
	[ ! -e "$SPOOL/bad/0000000001.000000.1.0000" ]
	[ ! -e "$SPOOL/bad/0000000003.000000.1.0000" ]
	[ -e "$SPOOL/bad/0000000004.000000.1.0000" ]
	[ "$(cat "$SPOOL"/bad/* | grep -c '^Subject: ')" -eq 3 ]
	[ -z "$(ls -A "$SPOOL/bad" | grep '^\.')" ]
}

@test "a flood: past queue-max jobs waiting, a new page's mail exits 75 and stays with Exim; a page already queued still folds in" {
	# a global key: before the wiki's section
	sed -i '1i queue-max = 2' "$WIKISYNC_CONF"
	ws-queue add w1 "Flood One" event=edit >/dev/null
	ws-queue add w1 "Flood Two" event=edit >/dev/null
	run --separate-stderr ws-recv -v <"$FIX/changed.eml"
	assert_status 75
	[ -z "$output" ]
	[[ "$stderr" == "ws-recv: w1: "*": 2 jobs wait already (queue-max): the mail stays with Exim" ]]
	[ "$(jobs_made)" -eq 2 ]
	[ "$(kept)" -eq 0 ]
	# room again: the same mail makes its job
	for j in $(ws-queue ls | cut -f2); do ws-queue done "$j"; done
	run --separate-stderr ws-recv -v <"$FIX/changed.eml"
	assert_status 0
	[ "$(jobs_made)" -eq 1 ]
}
