#!/bin/bash
# setting-up.bash WORK BUILD [DEB]: follows wikisync(7) SETTING UP, as rendered,
# against two bed wikis, inside the namespaces tests/76-setting-up.bats
# makes (mount, network, UTS, PID: run it only there).  The host's /etc,
# /var and /usr/local are overlaid on WORK, so the steps write where they
# say and the host keeps its own; the network is loopback alone, the host
# name sync.example.org.
#
# Each command the section shows runs as printed, with only what a reader
# fills in replaced: the wikis' api URLs (the bed's), the bot passwords
# (those createBotPassword printed), and systemctl (no systemd here: a
# stand-in starts the Exim daemon, and ws-peerd from the unit file's User=
# and ExecStart=).  "wiki$" commands run in a directory that is the
# wiki's as MediaWiki sees it, as the user that owns the wiki's database.
# With DEB, the package is installed (apt-get install ./DEB) in place of
# make install, and the commands name /usr/share for /usr/local/share, as
# step 2 says; what the package did already is done again, harmlessly.
# Exits non-zero naming the step that did not do what the section says.
set -euo pipefail
work=$1 build=$2 deb=${3:-}
top=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "setting-up: $*" >&2; exit 1; }

# the namespace
ip link set lo up
hostname sync.example.org
tree="etc var usr/local"
[ -z "$deb" ] || tree="etc var usr"
for d in $tree; do
	mkdir -p "$work/ov/$d/u" "$work/ov/$d/w"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/ov/$d/u,workdir=$work/ov/$d/w" "/$d"
done
mount -t tmpfs tmpfs /run
echo "127.0.0.1 sync.example.org" >>/etc/hosts

# two bed wikis (their own Exim is not used here), and a page in the
# category before WikiSync is set up: the first scan must bring it over
bed=$work/bed
mkdir -m 755 "$bed"
PATH=$top/scripts:$PATH ws-testbed up -n 2 "$bed" >"$work/bed.log" 2>&1 ||
	fail "bed: $(tail -n 3 "$work/bed.log")"
# shellcheck disable=SC1091
. "$bed/env"
unset WIKISYNC_CONF WIKISYNC_SPOOL	# the bed's own: the steps make /etc's
PATH=$top/scripts:$PATH ws-testbed edit "$bed" alpha "Before" "Made before [[Category:Synced]]" "before" >/dev/null

# the section's commands, in order: TAG<TAB>command, NUL-terminated
mandoc -Tascii "$top/man/wikisync.7" | col -bx | python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
a = lines.index("SETTING UP")
b = next(i for i in range(a + 1, len(lines)) if re.match(r"^[A-Z]", lines[i]))
out, i = [], a + 1
while i < b:
    m = re.match(r"^(\s*)(wiki\$|#) (.*)$", lines[i])
    if not m:
        i += 1
        continue
    tag, cmd = "wiki" if m.group(2) == "wiki$" else "root", m.group(3)
    i += 1
    # as a reader copies it: from the command on, each line after it
    # whole, with the indentation the page gives it
    while cmd.endswith("\\"):
        cmd += "\n" + lines[i]
        i += 1
    if "<<" in cmd:
        sys.exit("setting-up: a heredoc in SETTING UP: pasted as rendered, "
                 "its indented terminator never ends it: " + cmd.split("\n")[0])
    out.append(tag + "\t" + cmd)
sys.stdout.write("\0".join(out) + "\0")
' >"$work/steps"
[ "$(tr -cd '\0' <"$work/steps" | wc -c)" -ge 20 ] || fail "fewer than 20 commands found in SETTING UP"

# systemctl, for the two calls the section makes
mkdir -p "$work/bin"
cat >"$work/bin/systemctl" <<'EOF'
#!/bin/sh
case "$*" in
"restart exim4")
	[ ! -s /run/exim4/exim.pid ] || kill "$(cat /run/exim4/exim.pid)" 2>/dev/null || :
	install -d -o Debian-exim -g Debian-exim /run/exim4
	exec /usr/sbin/exim4 -bd -q10s ;;
"enable --now ws-peerd ws-scan.timer")
	unit=/etc/systemd/system/ws-peerd.service
	user=$(sed -n 's/^User=//p' "$unit")
	env=$(sed -n 's/^Environment=//p' "$unit")
	cmd=$(sed -n 's/^ExecStart=//p' "$unit")
	[ -n "$user" ] && [ -n "$cmd" ] || { echo "systemctl: $unit: no User= or ExecStart=" >&2; exit 1; }
	# the timer's first run, brought forward: the scan unit's condition
	# and command, as its User= with its Environment=
	scan=/etc/systemd/system/ws-scan.service
	grep -q '^OnUnitActiveSec=' /etc/systemd/system/ws-scan.timer ||
	    { echo "systemctl: no ws-scan.timer" >&2; exit 1; }
	senv=$(sed -n 's/^Environment=//p' "$scan")
	cond=$(sed -n 's/^ExecCondition=//p' "$scan")
	run=$(sed -n 's/^ExecStart=//p' "$scan")
	[ "$(sed -n 's/^User=//p' "$scan")" = "$user" ] && [ -n "$cond" ] && [ -n "$run" ] ||
	    { echo "systemctl: $scan: not the sync user's, or no ExecCondition= or ExecStart=" >&2; exit 1; }
	# shellcheck disable=SC2086
	runuser -u "$user" -- env $senv $cond >/dev/null || { echo "systemctl: ws-scan's condition failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	runuser -u "$user" -- env $senv $run || { echo "systemctl: ws-scan failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	setsid runuser -u "$user" -- env $env $cmd >>/run/ws-peerd.log 2>&1 </dev/null &
	exit 0 ;;
*) echo "systemctl: not in the test: $*" >&2; exit 1 ;;
esac
EOF
chmod 755 "$work/bin/systemctl"

# step 2's install, into the overlaid /usr/local
if [ -n "$deb" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends "$deb" \
	    >"$work/install.log" 2>&1 || fail "apt-get install: $(tail -n 3 "$work/install.log")"
else
	san=
	[ "$build" != build-san ] || san=SANITIZE=1
	make -C "$top" -s install BUILD="$build" $san >"$work/install.log" 2>&1 ||
		fail "make install: $(tail -n 3 "$work/install.log")"
fi

# wiki$ commands: in a directory that is the wiki's, as its owner
wikidir() {
	local w=$1 d=$work/wiki-$1
	mkdir -p "$d"
	ln -sfn "$(cat "$bed/$w/mediawiki")/maintenance" "$d/maintenance"
	ln -sfn "$bed/$w/LocalSettings.php" "$d/LocalSettings.php"
	chmod 755 "$d"
	echo "$d"
}
declare -A pass
mailed=
# run_wiki WIKI SCRIPT: the section's wiki$ commands, one after another in
# one shell, as a reader types them at one prompt (a variable set by one
# is there for the next); the first that fails is named
run_wiki() {
	local w=$1 script=$2 d owner out
	d=$(wikidir "$w")
	owner=$(stat -c %U "$bed/$w/db")
	# LocalSettings.php is the bed's: its owner may append to it
	chown "$owner" "$bed/$w/LocalSettings.php"
	out=$(cd "$d" && setpriv --reuid="$owner" --regid="$owner" --init-groups \
	    env MW_INSTALL_PATH="$(cat "$bed/$w/mediawiki")" MW_CONFIG_FILE="$bed/$w/LocalSettings.php" \
	    bash -c "trap 'echo \"failed: \$BASH_COMMAND\"' ERR; set -e; $script" 2>&1) ||
		fail "wiki $w: $out"
	case $out in *"password:'"*)
		pass[$w]=$(printf '%s\n' "$out" | sed -n "s/.*password:'\([^']*\)'.*/\1/p") ;;
	esac
	# the notifications are at the end of LocalSettings.php, and it parses
	php -l "$bed/$w/LocalSettings.php" >/dev/null 2>&1 ||
		fail "wiki $w: LocalSettings.php: $(php -l "$bed/$w/LocalSettings.php" 2>&1 | head -n 2)"
	grep -q "wgUsersNotifiedOnAllChanges = \[ \"WikiSync\" \]" "$bed/$w/LocalSettings.php" ||
		fail "wiki $w: LocalSettings.php: no notifications appended"
}
run_root() {
	local cmd=$1 out
	cmd=${cmd//https:\/\/a.example.org\/w\/api.php/$WS_ALPHA_API}
	cmd=${cmd//https:\/\/b.example.org\/w\/api.php/$WS_BETA_API}
	cmd=${cmd//PASSWORD-OF-A/${pass[alpha]:-}}
	cmd=${cmd//PASSWORD-OF-B/${pass[beta]:-}}
	[ -z "$deb" ] || cmd=${cmd//\/usr\/local\/share\//\/usr\/share\/}
	out=$(PATH=$work/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    bash -c "$cmd" 2>&1) || fail "root: $cmd: $out"
	# the checks the section names
	case $cmd in
	"ls -ld /var/spool/wikisync")
		[[ $out == drwx--x---*" wikisync "* ]] || fail "spool: $out" ;;
	*"ws-login")
		[[ $out == *"a up "*"as WikiSync, new session"* && $out == *"b up "*"as WikiSync, new session"* ]] ||
			fail "ws-login: $out"
		# it set the account's preferences (step 1 says it does)
		[[ $out == *"a: WikiSync is now mailed every change"* ]] || fail "ws-login: $out" ;;
	"exim4 -bt "*)
		[[ $out == *"router = wikisync, transport = wikisync_pipe"* ]] || fail "exim4 -bt: $out" ;;
	*"sendmail -odi "*)
		mailed=1 ;;
	*"ws-status")
		# after step 4's test mail: it reached the spool
		if [ -n "$mailed" ]; then
			[[ $out == *$'Mail refused, kept in the spool\'s bad directory\n  mails  newest\n  1 '* ]] ||
				fail "the test mail is not in the spool: $out"
			mailed=
		fi ;;
	esac
	printf '%s\n' "$out" >>"$work/root.log"
}

# wiki$ commands on each wiki, then the syncing host's, in the section's order
script=
while IFS=$'\t' read -r -d '' tag cmd; do
	[ "$tag" = wiki ] || continue
	script+=$cmd$'\n'
done <"$work/steps"
for w in alpha beta; do run_wiki "$w" "$script"; done
if [ -z "${pass[alpha]:-}" ] || [ -z "${pass[beta]:-}" ]; then
	fail "no bot password printed"
fi
while IFS=$'\t' read -r -d '' tag cmd; do
	[ "$tag" = root ] || continue
	run_root "$cmd"
done <"$work/steps"

# what the section promises at the end
text() {
	local v=WS_${1^^}_URL
	curl -sf -m 30 -G --data-urlencode "title=$2" -d action=raw "${!v}"
}
until_ok() {
	local n=$1
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.5
	done
}
is() { [ "$(text "$1" "$2")" = "$3" ]; }
until_ok 60 is beta Before "Made before [[Category:Synced]]" ||
	fail "the first scan's page did not reach beta: $(tail -n 5 /run/ws-peerd.log)"
PATH=$top/scripts:$PATH ws-testbed edit "$bed" beta "After" "Made after [[Category:Synced]]" "after" >/dev/null
until_ok 30 is alpha After "Made after [[Category:Synced]]" ||
	fail "an edit on beta did not reach alpha by mail: $(tail -n 5 /run/ws-peerd.log; tail -n 5 /var/log/exim4/mainlog)"
PATH=$top/scripts:$PATH ws-testbed edit "$bed" alpha "Before" "Changed on alpha [[Category:Synced]]" "changed" >/dev/null
until_ok 30 is beta Before "Changed on alpha [[Category:Synced]]" ||
	fail "an edit on alpha did not reach beta by mail: $(tail -n 5 /run/ws-peerd.log)"
status=$(runuser -u wikisync -- env PATH=/usr/local/bin:/usr/bin:/bin ws-status -t)
if [ -n "$deb" ] && { [ ! -x /usr/bin/ws-status ] || [ -e /usr/local/bin/ws-status ]; }; then
	fail "not the package's programs that ran"
fi
if ! grep -q '^wiki	a	up	' <<<"$status" || ! grep -q '^wiki	b	up	' <<<"$status"; then
	fail "ws-status: $status"
fi
# the account's rights are the section's (the bed's own settings come
# before the section's and are overridden by them): no rate limit
for w in ALPHA BETA; do
	v=WS_${w}_API
	rights=$(curl -sf -m 30 -G -d action=query -d list=users -d ususers=WikiSync \
	    -d usprop='groups|rights' -d format=json -d formatversion=2 "${!v}") ||
		fail "${w,,}: cannot read WikiSync's rights"
	[[ $rights == *'"wikisync"'* && $rights == *'"noratelimit"'* ]] ||
		fail "${w,,}: WikiSync is rate-limited, or not in the group wikisync: $rights"
done
# the mail went the section's way: Exim on sync.example.org, the pipe
grep -q "<wikisync@sync.example.org> R=wikisync T=wikisync_pipe" /var/log/exim4/mainlog ||
	fail "no delivery through the wikisync transport in /var/log/exim4/mainlog"
echo "setting-up: followed $(tr -cd '\0' <"$work/steps" | wc -c) commands; synced both ways"
