#!/usr/bin/env bats
# The systemd units WikiSync ships (ws-peerd's; ws-scan's and its
# timer): systemd itself checks them, and rates how much of the system
# each service exposes (systemd-analyze security: 0 is none, 10 all; 2.0
# or less is what we hold them to).  The loop's own stop on TERM is
# tested on the bed (50-sync).

load helper

# unit [NAME]: the unit file (ws-peerd.service by default), its programs
# where this tree has them, as systemd-analyze verify wants them there
unit() {
	local u=${1:-ws-peerd.service}
	sed "s|/usr/local/sbin/ws-peerd|$TOP/scripts/ws-peerd|; s|/usr/local/bin/|$WS_BUILD/|" \
	    "$TOP/scripts/systemd/$u" >"$BATS_TEST_TMPDIR/$u"
	echo "$BATS_TEST_TMPDIR/$u"
}

# exposure UNIT: systemd-analyze security's overall level for it, 2.0 or less
exposure() {
	run systemd-analyze security --offline=true "$1"
	level=$(sed -n "s/.*Overall exposure level for ${1##*/}: \([0-9.]*\).*/\1/p" <<<"$output")
	[ -n "$level" ] || { echo "$output" | tail -3; false; }
	awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || { echo "exposure $level"; false; }
}

@test "the unit passes systemd-analyze verify" {
	run --separate-stderr systemd-analyze verify "$(unit)"
	assert_status 0
	[ -z "$stderr" ] || { echo "$stderr"; false; }
}

@test "systemd-analyze security rates the unit 2.0 or better, with the spool its only writable path" {
	exposure "$(unit)"
	[ "$(grep -c '^ReadWritePaths=' "$TOP/scripts/systemd/ws-peerd.service")" -eq 1 ]
	grep -qx 'ReadWritePaths=/var/spool/wikisync' "$TOP/scripts/systemd/ws-peerd.service"
	grep -qx 'PrivateTmp=yes' "$TOP/scripts/systemd/ws-peerd.service"
}

@test "ws-scan's unit and timer pass systemd-analyze verify; the unit is rated 2.0 or better, the spool its only writable path" {
	unit ws-scan.service >/dev/null
	run --separate-stderr systemd-analyze verify "$(unit ws-scan.timer)"
	assert_status 0
	[ -z "$stderr" ] || { echo "$stderr"; false; }
	exposure "$(unit ws-scan.service)"
	[ "$(grep -c '^ReadWritePaths=' "$TOP/scripts/systemd/ws-scan.service")" -eq 1 ]
	grep -qx 'ReadWritePaths=/var/spool/wikisync' "$TOP/scripts/systemd/ws-scan.service"
	# every hardening line of ws-peerd's unit is in the scan's
	grep -E '^(Protect|Private|Restrict|NoNew|Capability|Ambient|LockPersonality|MemoryDeny|SystemCall|RemoveIPC|DevicePolicy|IPAddress)' \
	    "$TOP/scripts/systemd/ws-peerd.service" | grep -vxF -f "$TOP/scripts/systemd/ws-scan.service" | { ! grep .; }
}
