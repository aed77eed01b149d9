#!/usr/bin/env bats
# wikisync(7) SETTING UP, followed as printed: two bed wikis get the sync
# account, the syncing host its users, spool, config, Exim and service,
# and then an edit on either wiki reaches the other by mail.  Run as root,
# in namespaces of its own (tests/setting-up.bash says what is replaced).

load helper

setup() {
	common_setup
	root_work "it follows the steps an administrator takes"
}

teardown() { root_work_teardown; }

@test "SETTING UP of wikisync(7), as printed, gets two wikis syncing both ways" {
	run unshare --mount --net --uts --pid --fork --mount-proc \
	    bash "$TOP/tests/setting-up.bash" "$W" "$(basename "$WS_BUILD")"
	echo "$output"
	assert_status 0
	[[ "$output" == *"synced both ways"* ]]
}
