# helper.bash: loaded by every test file.
#
# Puts the binary under test ($WS_BUILD, else build/) and scripts/ first on
# PATH, gives each test its own spool ($SPOOL) and no config unless the test
# writes one ($WIKISYNC_CONF is an empty file: the built-in defaults).
bats_require_minimum_version 1.5.0

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WS_BUILD=${WS_BUILD:-$TOP/build}
PATH="$WS_BUILD:$TOP/scripts:$PATH"
export PATH WS_BUILD TOP
# for a sanitizer build: faketime preloads itself ahead of ASan's runtime
export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}

# sanitized: the binary under test is an ASan build (make SANITIZE=1),
# where each process start costs four times a plain one's
sanitized() { grep -qa __asan_init "$WS_BUILD/wikisync"; }

# The store's log record size, the constant the code is built with.
LOGREC=$(awk '$1 == "#define" && $2 == "STORE_LOGREC" { print $3 }' "$TOP/common/wikisync.h")
export LOGREC

common_setup() {
	SPOOL=$BATS_TEST_TMPDIR/spool
	mkdir -p "$SPOOL"
	export WIKISYNC_SPOOL=$SPOOL
	export WIKISYNC_CONF=$BATS_TEST_TMPDIR/wikisync.conf
	: >"$WIKISYNC_CONF"
}

setup() {
	common_setup
}

# write_conf: the config file from stdin, with a 0600 password file ready.
write_conf() {
	printf 'botpasswordbotpasswordbotpassword0\n' >"$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	cat >"$WIKISYNC_CONF"
}

# The applets in the binary's own list.
applets() {
	wikisync --help | awk '/^applets:/ { on = 1; next } on && NF >= 2 && /^  / { print $1 }'
}

# assert_status N: the last run ended with exit status N (not a signal).
assert_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected status %s, got %s\nstdout: %s\nstderr: %s\n' \
		    "$1" "$status" "$output" "${stderr-}" >&2
		return 1
	fi
}

# root_work WHY: in setup() of a test that must run as root: W, a fresh
# directory others may search (for the users the test makes); fails
# saying WHY root is needed when not root.
root_work() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root: $1" >&2; return 1; }
	W=$(mktemp -d "${TMPDIR:-/tmp}/ws-root.XXXXXX")
	chmod 755 "$W"
}

# root_work_teardown: in teardown(): W kept when the test failed, else gone.
root_work_teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "# kept: $W" >&3
	else
		rm -rf "$W"
	fi
}

# man_examples PAGE: the EXAMPLES section of man/PAGE as mandoc renders it
# (what a reader pastes), one unit per display, NUL-terminated.  A display
# of "$ " lines gives its commands, joined into one script (they share
# variables), without the output lines between them; any other display
# (a loop, a config file, a crontab line) is one unit as printed, with
# its common indentation removed.
man_examples() {
	mandoc -Tascii "$TOP/man/$1" | col -bx | python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
try:
    a = lines.index("EXAMPLES")
except ValueError:
    sys.exit(0)
b = next((i for i in range(a + 1, len(lines)) if re.match(r"^[A-Z]", lines[i])), len(lines))
# a display: lines indented past the text (blank lines within it kept)
blocks, cur = [], []
for l in lines[a + 1:b] + ["end"]:
    if not l.strip() or len(l) - len(l.lstrip()) >= 11:
        if cur or l.strip():
            cur.append(l)
        continue
    while cur and not cur[-1].strip():
        cur.pop()
    if cur:
        blocks.append(cur)
        cur = []
for bl in blocks:
    ind = min(len(l) - len(l.lstrip()) for l in bl if l.strip())
    bl = [l[ind:] for l in bl]
    if bl[0].startswith("$ "):
        cmds, cont = [], False
        for l in bl:
            if l.startswith("$ ") or cont:
                cmds.append(l[2:] if l.startswith("$ ") and not cont else l)
                cont = l.endswith("\\")
        unit = "\n".join(cmds)
    else:
        unit = "\n".join(bl)
    sys.stdout.write(unit + "\0")
'
}
