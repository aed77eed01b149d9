#!/usr/bin/env bats
# The systemd unit ws-peerd ships with: systemd itself checks it, and
# rates how much of the system it exposes (systemd-analyze security:
# 0 is none, 10 all; 2.0 or less is what we hold it to).  The loop's
# own stop on TERM is tested on the bed (50-sync).

load helper

unit() {
	sed "s|/usr/local/sbin/ws-peerd|$TOP/scripts/ws-peerd|" \
	    "$TOP/scripts/systemd/ws-peerd.service" >"$BATS_TEST_TMPDIR/ws-peerd.service"
	echo "$BATS_TEST_TMPDIR/ws-peerd.service"
}

@test "the unit passes systemd-analyze verify" {
	run --separate-stderr systemd-analyze verify "$(unit)"
	assert_status 0
	[ -z "$stderr" ] || { echo "$stderr"; false; }
}

@test "systemd-analyze security rates the unit 2.0 or better, with the spool its only writable path" {
	run systemd-analyze security --offline=true "$(unit)"
	level=$(sed -n 's/.*Overall exposure level for ws-peerd.service: \([0-9.]*\).*/\1/p' <<<"$output")
	[ -n "$level" ] || { echo "$output" | tail -3; false; }
	awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || { echo "exposure $level"; false; }
	[ "$(grep -c '^ReadWritePaths=' "$TOP/scripts/systemd/ws-peerd.service")" -eq 1 ]
	grep -qx 'ReadWritePaths=/var/spool/wikisync' "$TOP/scripts/systemd/ws-peerd.service"
	grep -qx 'PrivateTmp=yes' "$TOP/scripts/systemd/ws-peerd.service"
}
