#!/usr/bin/env bats
# Files on three wikis (wikisync(7), Files): the files a synced page shows
# are uploaded to the wikis that lack them, with the same bytes and the
# description page's text; a new version reaches every wiki, whichever
# wiki it was uploaded on; a file a wiki refuses is a held job with the
# wiki's reason; a large file passes through in bounded memory.  Mail all
# the way, or ws-push by hand where memory or the config is the test.

load helper
load bed
load sync

loop_bed_hooks

# png FILE SEED [PAD]: a small valid PNG, PAD bytes larger
png() { python3 "$TOP/tests/mkpng.py" "$1" 8 8 "$2" ${3:+"$3"}; }

# versions WIKI TITLE: how many versions of the file the wiki keeps
versions() {
	ws-testbed api "$BED" "$1" action=query titles="$2" prop=imageinfo iiprop=sha1 iilimit=max |
	    grep -o '"sha1"' | wc -l
}

sha1_of() { sha1sum "$1" | cut -d' ' -f1; }

# maxrss CMD...: runs CMD; prints its peak RSS in KB, then its exit status
maxrss() {
	python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)' "$@"
}

@test "a file a synced page shows on alpha is uploaded to beta and gamma: same bytes, same description" {
	png "$BATS_TEST_TMPDIR/a.png" 1
	sum=$(sha1_of "$BATS_TEST_TMPDIR/a.png")
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/a.png" "Map One.png" "The first map."
	watch alpha "Mapped Page"
	edit alpha "Mapped Page" $'See the map.\n[[File:Map One.png|thumb]]\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_file beta "File:Map One.png" "$sum"
	wait_for 3 has_file gamma "File:Map One.png" "$sum"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
	for w in beta gamma; do
		has_text "$w" "File:Map One.png" "The first map."
		has_text "$w" "Mapped Page" $'See the map.\n[[File:Map One.png|thumb]]\n[[Category:Synced]]'
	done
}

@test "a new version uploaded on alpha reaches beta and gamma, the old one kept in their file history" {
	png "$BATS_TEST_TMPDIR/b.png" 2
	sum=$(sha1_of "$BATS_TEST_TMPDIR/b.png")
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/b.png" "Map One.png"
	wait_for 3 has_file beta "File:Map One.png" "$sum"
	wait_for 3 has_file gamma "File:Map One.png" "$sum"
	wait_for 5 idle
	[ "$(versions beta "File:Map One.png")" -eq 2 ]
	[ "$(versions gamma "File:Map One.png")" -eq 2 ]
}

@test "a version uploaded on beta reaches alpha and gamma: an upload outranks the sync account's copies" {
	png "$BATS_TEST_TMPDIR/c.png" 3
	sum=$(sha1_of "$BATS_TEST_TMPDIR/c.png")
	ws-testbed upload "$BED" beta "$BATS_TEST_TMPDIR/c.png" "Map One.png"
	wait_for 3 has_file alpha "File:Map One.png" "$sum"
	wait_for 3 has_file gamma "File:Map One.png" "$sum"
	wait_for 5 idle
	has_file beta "File:Map One.png" "$sum"
}

@test "an editor's upload on beta just before the sync's copy lands there on top of it: the editor's version, the newer, ends on every wiki" {
	png "$BATS_TEST_TMPDIR/s1.png" 11
	png "$BATS_TEST_TMPDIR/s2.png" 12
	png "$BATS_TEST_TMPDIR/s3.png" 13
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/s1.png" "Same Second.png"
	watch alpha "Same Second Page"
	edit alpha "Same Second Page" $'[[File:Same Second.png]]\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_file beta "File:Same Second.png" "$(sha1_of "$BATS_TEST_TMPDIR/s1.png")"
	wait_for 5 idle
	peerd_stop
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/s2.png" "Same Second.png"
	wait_for 3 has_job alpha "File:Same Second.png"
	job=$(jobof alpha "File:Same Second.png")
	# beta's editor uploads a version early in a second, just before the
	# sync's upload there: MediaWiki would archive both under that second
	interpose beta '(?s)^POST .*name="action"\s+upload\s' \
	    "sleep \$(python3 -c 'import time; print(1.02 - time.time() % 1)') &&
	     ws-testbed upload '$BED' beta '$BATS_TEST_TMPDIR/s3.png' 'Same Second.png'"
	push_interposed "$job" "sleep"
	assert_status 0
	echo "# sync uploads sent to beta: $(grep -cP '^POST .*name="action"\s+upload\s' "$BATS_TEST_TMPDIR/proxy.log")" >&3
	ws-queue done "$job"
	for w in alpha beta gamma; do
		has_file "$w" "File:Same Second.png" "$(sha1_of "$BATS_TEST_TMPDIR/s3.png")"
	done
	# beta keeps every version: the first, the editor's, the sync's copy
	# from alpha that landed on it, and the editor's again on top
	[ "$(versions beta "File:Same Second.png")" -eq 4 ]
}

@test "an edit of the file's description page on alpha reaches beta and gamma" {
	text=$'The first map, redrawn.\n[[Category:Maps]]'
	edit alpha "File:Map One.png" "$text" "described" >/dev/null
	wait_for 3 has_text beta "File:Map One.png" "$text"
	wait_for 3 has_text gamma "File:Map One.png" "$text"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "a file gamma refuses is held with gamma's reason; the page's text still reaches every wiki; cleared, it passes" {
	png "$BATS_TEST_TMPDIR/d.png" 4
	sum=$(sha1_of "$BATS_TEST_TMPDIR/d.png")
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/d.png" "Too Large.png"
	echo '$wgMaxUploadSize = 100; # ws-test' >>"$BED/gamma/LocalSettings.php"
	watch alpha "Large Page"
	edit alpha "Large Page" $'[[File:Too Large.png]]\n[[Category:Synced]]' >/dev/null
	wait_for 5 held_one
	run ws-queue ls -a
	[[ "$output" == *"hold	"*"	alpha	Large Page	"*"gamma: File:Too Large.png: not uploaded: file-too-large"* ]]
	has_text gamma "Large Page" $'[[File:Too Large.png]]\n[[Category:Synced]]'
	has_file beta "File:Too Large.png" "$sum"
	[ -z "$(file_sha1 gamma "File:Too Large.png")" ]
	sed -i '/# ws-test$/d' "$BED/gamma/LocalSettings.php"
	ws-queue release "$(ws-queue ls -a | awk -F'\t' '$1 == "hold" { print $2 }')"
	wait_for 3 has_file gamma "File:Too Large.png" "$sum"
	wait_for 5 idle
	[ "$(held)" -eq 0 ]
}

@test "a 30 MB file passes through ws-push with its memory bounded well below the file's size" {
	png "$BATS_TEST_TMPDIR/small.png" 5
	png "$BATS_TEST_TMPDIR/huge.png" 6 31000000
	peerd_stop
	for f in small huge; do
		ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/$f.png" "Mem $f.png"
		watch alpha "Mem $f"
		edit alpha "Mem $f" "[[File:Mem $f.png]] [[Category:Synced]]" >/dev/null
		wait_for 3 has_job alpha "Mem $f"
		read -r kb rc < <(maxrss ws-push "$(jobof alpha "Mem $f")")
		[ "$rc" -eq 0 ]
		eval "rss_$f=$kb"
		has_file gamma "File:Mem $f.png" "$(sha1_of "$BATS_TEST_TMPDIR/$f.png")"
	done
	echo "# peak RSS: $rss_small KB with a small file, $rss_huge KB with 31 MB" >&3
	# what the large file adds is under half its size: it is streamed
	[ $((rss_huge - rss_small)) -lt 15000 ]
}

@test "with files = no the page syncs and its file stays on alpha" {
	png "$BATS_TEST_TMPDIR/e.png" 7
	ws-testbed upload "$BED" alpha "$BATS_TEST_TMPDIR/e.png" "Local Only.png"
	peerd_stop
	watch alpha "No Files Page"
	edit alpha "No Files Page" $'[[File:Local Only.png]]\n[[Category:Synced]]' >/dev/null
	wait_for 3 has_job alpha "No Files Page"
	sed '/^\[group /a files = no' "$WIKISYNC_CONF" >"$BATS_TEST_TMPDIR/nofiles.conf"
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/nofiles.conf
	job=$(jobof alpha "No Files Page")
	push_verify "$job"
	ws-queue done "$job"
	has_text beta "No Files Page" $'[[File:Local Only.png]]\n[[Category:Synced]]'
	[ -z "$(file_sha1 beta "File:Local Only.png")" ]
	[ -z "$(file_sha1 gamma "File:Local Only.png")" ]
}
