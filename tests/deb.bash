#!/bin/bash
# deb.bash WORK DEB: installs the package DEB as an administrator would
# (apt-get install ./DEB), checks what it made, reinstalls it over local
# changes, removes and purges it, and checks that nothing it made is left.
# Run only inside the namespaces tests/81-deb.bats makes: the host's /etc,
# /usr and /var are overlaid on WORK, so the host keeps its own.
# Exits non-zero naming the first thing that is not as it should be.
set -euo pipefail
work=$1 deb=$2
fail() { echo "deb: $*" >&2; exit 1; }
unset WIKISYNC_CONF WIKISYNC_SPOOL	# the tests' own: the package uses /etc's

# the host as it was: the account files, to compare after the purge
mkdir -p "$work/orig"
for f in passwd group shadow gshadow subuid subgid; do
	[ ! -e "/etc/$f" ] || cp -p "/etc/$f" "$work/orig/"
done
for d in etc usr var; do
	mkdir -p "$work/ov/$d/u" "$work/ov/$d/w"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/ov/$d/u,workdir=$work/ov/$d/w" "/$d"
done
mount -t tmpfs tmpfs /run
export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -q -y -o Dpkg::Use-Pty=0 "$@" >>"$work/apt.log" 2>&1 || fail "apt-get $*: $(tail -n 3 "$work/apt.log")"; }

# install
apt install --no-install-recommends "$deb"
dpkg-query -W -f='${Status}\n' wikisync | grep -qx 'install ok installed' || fail "not installed"
for u in wikisync wikisync-recv; do id "$u" >/dev/null 2>&1 || fail "no user $u"; done
[ "$(stat -c '%U %G %a' /var/spool/wikisync)" = "wikisync wikisync-recv 710" ] ||
	fail "spool: $(stat -c '%U %G %a' /var/spool/wikisync)"
[ "$(stat -c '%a' /etc/wikisync/wikisync.conf)" = 644 ] || fail "wikisync.conf not 644"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' wikisync)
for f in /etc/wikisync/wikisync.conf /etc/exim4/conf.d/router/150_wikisync \
    /etc/exim4/conf.d/transport/30_wikisync /etc/cron.d/wikisync; do
	[[ $conffiles == *" $f "* ]] || fail "$f: not a conffile"
done
grep -q '^WIKISYNC_COMMAND = /usr/bin/ws-recv$' /etc/exim4/conf.d/transport/30_wikisync ||
	fail "the transport does not name /usr/bin/ws-recv"
grep -q '^ExecStart=/usr/sbin/ws-peerd$' /lib/systemd/system/ws-peerd.service ||
	fail "the unit does not run /usr/sbin/ws-peerd"
grep -qx 'Environment=PATH=/usr/sbin:/usr/bin:/usr/bin:/bin' /lib/systemd/system/ws-peerd.service ||
	fail "the unit's PATH: $(grep PATH= /lib/systemd/system/ws-peerd.service)"
[ ! -e /etc/systemd/system/multi-user.target.wants/ws-peerd.service ] ||
	fail "ws-peerd enabled before it is configured"
[ -L /etc/systemd/system/timers.target.wants/ws-scan.timer ] || fail "ws-scan.timer not enabled"
grep -qx 'ExecStart=/usr/bin/ws-scan -q' /lib/systemd/system/ws-scan.service ||
	fail "the scan's unit does not run /usr/bin/ws-scan"
grep -qx 'ExecCondition=/usr/bin/ws-conf -q wikis' /lib/systemd/system/ws-scan.service ||
	fail "the scan's unit does not wait for the configuration"
man -w ws-peerd >/dev/null 2>&1 || fail "no man page for ws-peerd"

# the example configuration: refused, clearly, by every program
out=$(ws-conf 2>&1) && fail "ws-conf accepted the example: $out"
[ "$(ws-conf >/dev/null 2>&1; echo $?)" = 78 ] || fail "ws-conf: not 78"
[[ $out == "ws-conf: /etc/wikisync/wikisync.conf: not configured yet: it names no wiki; see wikisync.conf(5), and wikisync(7), SETTING UP" ]] ||
	fail "ws-conf: $out"
rc=0
runuser -u wikisync -- env WIKISYNC_CONF=/etc/wikisync/wikisync.conf ws-peerd -1 >/dev/null 2>&1 || rc=$?
[ "$rc" = 78 ] || fail "ws-peerd on the example: exit $rc, not 78"
rc=0
printf 'Subject: x\n\nhttp://a.example.org/w/index.php?title=X\n' |
	runuser -u wikisync-recv -- ws-recv >/dev/null 2>&1 || rc=$?
[ "$rc" = 75 ] || fail "ws-recv on the example: exit $rc, not 75 (the mail must wait)"

# the example, uncommented, with its password files: accepted
sed -i 's/^#\(\[\|api \|user \|password-file \|wikis \|categories \)/\1/' /etc/wikisync/wikisync.conf
for w in a b; do
	install -m 600 -o wikisync -g wikisync /dev/null "/etc/wikisync/$w.pass"
	echo "botpasswordbotpasswordbotpassword0" >"/etc/wikisync/$w.pass"
done
runuser -u wikisync -- ws-conf -p >/dev/null 2>"$work/conf.err" || fail "ws-conf -p: $(cat "$work/conf.err")"
[ "$(ws-conf groups)" = docs ] || fail "ws-conf groups: $(ws-conf groups)"

# a reinstall (an upgrade) keeps the configuration, its mode and the queue
id=$(runuser -u wikisync -- ws-queue add a Kept)
chmod 640 /etc/wikisync/wikisync.conf
cp -p /etc/wikisync/wikisync.conf "$work/conf.before"
apt install --reinstall "$deb"
cmp -s /etc/wikisync/wikisync.conf "$work/conf.before" || fail "reinstall changed wikisync.conf"
[ "$(stat -c '%a' /etc/wikisync/wikisync.conf)" = 640 ] || fail "reinstall changed wikisync.conf's mode"
chmod 644 /etc/wikisync/wikisync.conf
runuser -u wikisync -- ws-queue ls | grep -q "$id" || fail "reinstall lost the queued job"

# remove: the programs go, the configuration and the spool stay
apt remove wikisync
if [ -e /usr/bin/wikisync ] || [ -e /usr/bin/ws-recv ]; then fail "remove left the programs"; fi
if [ ! -e /etc/wikisync/wikisync.conf ] || [ ! -d /var/spool/wikisync ]; then
	fail "remove took the configuration or spool"
fi

# purge: nothing the package made is left; a password file (the
# administrator's) stays, given to root before the users go (a user made
# later with a freed uid must not read it)
rm -f /etc/wikisync/a.pass
apt purge wikisync
[ "$(stat -c '%U:%G:%a' /etc/wikisync/b.pass)" = root:root:600 ] ||
	fail "purge left b.pass as $(stat -c '%U:%G:%a' /etc/wikisync/b.pass)"
rm -f /etc/wikisync/b.pass
rmdir /etc/wikisync
dpkg-query -W -f='${Status}\n' wikisync 2>/dev/null | grep -q 'installed' && fail "still installed"
for p in /etc/wikisync /var/spool/wikisync /etc/exim4/conf.d/router/150_wikisync \
    /etc/exim4/conf.d/transport/30_wikisync /etc/cron.d/wikisync /usr/sbin/ws-peerd \
    /lib/systemd/system/ws-peerd.service /lib/systemd/system/ws-scan.timer \
    /etc/systemd/system/timers.target.wants/ws-scan.timer /usr/share/wikisync /usr/share/doc/wikisync; do
	[ ! -e "$p" ] && [ ! -L "$p" ] || fail "purge left $p"
done
for u in wikisync wikisync-recv; do
	if getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; then
		fail "purge left user or group $u"
	fi
done
for f in passwd group subuid subgid; do
	[ -e "$work/orig/$f" ] || continue
	cmp -s "/etc/$f" "$work/orig/$f" || fail "/etc/$f differs from before: $(diff "$work/orig/$f" "/etc/$f" | head -3)"
done
# what changed under /etc, /usr and /var is only dpkg's and apt's own
# record of the install, and its logs
left=$(cd "$work/ov" || exit 1; find . -mindepth 2 \( -type f -o -type l \) |
	grep -v -e '^\./var/u/lib/dpkg/' -e '^\./var/u/log/' -e '^\./var/u/cache/' \
	    -e '^\./var/u/lib/apt/' -e '^\./etc/u/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-\?$' \
	    -e '^\./etc/u/\.pwd\.lock$' \
	    -e '^\./var/u/lib/systemd/deb-systemd-helper-' -e '^\./etc/u/ld.so.cache$' || :)
[ -z "$left" ] || fail "purge left: $left"
echo "deb: installed, refused the example, kept a reinstall's config and queue, removed, purged clean"
