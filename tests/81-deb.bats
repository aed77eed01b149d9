#!/usr/bin/env bats
# The Debian package (make deb, debian/): it builds, lintian finds no
# error, and installed as an administrator would (apt-get install ./deb)
# it makes its users and spool, refuses the example configuration until
# it names the wikis, keeps the configuration and the queue across a
# reinstall, and purged leaves nothing it made.  Run as root, installing
# into overlays in namespaces of its own (tests/deb.bash).

load helper

setup() {
	common_setup
	root_work "it installs a package"
}

teardown() { root_work_teardown; }

# the package, built once for the file
setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	DEBDIR=$(mktemp -d "${TMPDIR:-/tmp}/ws-debbuild.XXXXXX")
	chmod 755 "$DEBDIR"
	make -C "$BATS_TEST_DIRNAME/.." deb BUILD="$DEBDIR" >"$DEBDIR/build.log" 2>&1 || :
	export DEBDIR
}

teardown_file() { [ -z "${DEBDIR:-}" ] || rm -rf "$DEBDIR"; }

@test "make deb builds a package lintian passes; it installs, refuses the example, upgrades, and purges clean" {
	deb=$(echo "$DEBDIR"/deb/wikisync_*_*.deb)
	[ -f "$deb" ] || { tail -n 20 "$DEBDIR/build.log"; return 1; }
	# no error; a warning would need its explanation in debian/
	run lintian --fail-on error,warning "$deb"
	echo "$output"
	assert_status 0
	run unshare --mount --pid --fork --mount-proc bash "$TOP/tests/deb.bash" "$W" "$deb"
	echo "$output"
	assert_status 0
	[[ $output == *"purged clean"* ]]
}

@test "apt install of the package, then SETTING UP as printed: two bed wikis sync both ways" {
	deb=$(echo "$DEBDIR"/deb/wikisync_*_*.deb)
	[ -f "$deb" ]
	run unshare --mount --net --uts --pid --fork --mount-proc \
	    bash "$TOP/tests/setting-up.bash" "$W" "$(basename "$WS_BUILD")" "$deb"
	echo "$output"
	assert_status 0
	[[ $output == *"synced both ways"* ]]
}
