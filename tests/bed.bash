# bed.bash: bats helper for tests against the real test bed (ws-testbed): real wikis, real Exim.
#
# Use once per file:  setup_file() { bed_up 2; }   teardown_file() { bed_down; }
#                     setup() { bed_setup; }        teardown() { bed_teardown; }
# Invariants: each bed has its own fresh directory under $TMPDIR (searchable by the Exim user, which
# bats's own 0700 temp directories are not) and its own free loopback ports, so beds never collide;
# bed_down always stops it; a failed test prints the bed's logs (bed_logs), and a bed with a failed
# test keeps its directory for a look (its path goes to the TAP output). WS_BED_KEEP=1 keeps any.
# The test-bed variables of DIR/env (WS_*, WIKISYNC_CONF, WIKISYNC_SPOOL) are exported to tests.
# The bed's Exim hands the sync user's mail to $WS_BUILD/ws-recv, so each notification becomes a job
# in $WIKISYNC_SPOOL; `bed_up N -m` captures the mail in $BED/mail instead (bed_mails counts it).

PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd):$PATH"
export PATH

# bed_mktemp: a fresh empty directory for a bed, searchable by everyone.
bed_mktemp() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/ws-bed.XXXXXX") || return 1
	chmod 755 "$d"
	echo "$d"
}

# bed_up [N [UP-OPTIONS...]]: starts a bed of N wikis (default 2) in a new directory $BED and
# exports its variables. On failure it prints the logs and fails.
bed_up() {
	local n=${1:-2}
	[ $# -eq 0 ] || shift
	BED=$(bed_mktemp) || return 1
	export BED
	if ! ws-testbed up -n "$n" "$@" "$BED"; then
		: >"$BED/.failed"
		bed_logs "$BED" "$BED"/*/install.log "$BED"/*/setup.log >&2
		return 1
	fi
	bed_setup
}

# bed_setup: (re)exports the bed's variables, e.g. after a helper's setup() reset WIKISYNC_*.
bed_setup() {
	set -a
	# shellcheck disable=SC1091
	. "$BED/env"
	set +a
}

# bed_down: stops the bed; removes its directory unless a test failed or WS_BED_KEEP is set.
bed_down() {
	[ -n "${BED:-}" ] && [ -d "$BED" ] || return 0
	[ ! -d "$BED/exim" ] || ws-testbed down "$BED" || return 1
	kept_or_removed "$BED" "$BED" "test bed"
}

# kept_or_removed DIR TREE WHAT: DIR stays, said on fd 3 as WHAT, when a test of it failed or
# WS_BED_KEEP is set; else TREE (DIR or a directory holding it) is removed.
kept_or_removed() {
	if [ -e "$1/.failed" ] || [ -n "${WS_BED_KEEP:-}" ]; then
		echo "# $3 kept: $1" >&3
	else
		rm -rf "$2"
	fi
}

# bed_teardown: in teardown(): when the test failed, prints the logs and marks the bed failed.
bed_teardown() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
	[ -n "${BED:-}" ] && [ -d "$BED" ] || return 0
	: >"$BED/.failed"
	bed_logs "$BED"
}

# bed_logs [DIR [FILE...]]: the tail of every log of the bed (php -S, MediaWiki, Exim) and FILEs.
bed_logs() {
	local dir=${1:-$BED} f
	[ $# -eq 0 ] || shift
	for f in "$@" "$dir"/*/php.log "$dir"/*/mw.log "$dir"/exim/start.log "$dir"/exim/log/*; do
		[ -s "$f" ] || continue
		echo "==== $f"
		tail -n 25 "$f"
	done
}

# bed_mails [DIR]: how many mails the sync user's pipe has captured so far (a bed up with -m).
bed_mails() {
	local f n=0
	for f in "${1:-$BED}"/mail/new/*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# bed_text WIKI TITLE: prints the page's current text; 1 if the page does not exist, 2 on trouble.
bed_text() {
	local v out code
	v=WS_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_URL
	out=$(curl -s -m 30 -w '\n%{http_code}' -G --data-urlencode "title=$2" -d action=raw "${!v}") ||
		return 2
	code=${out##*$'\n'}
	case $code in
	200) printf '%s\n' "${out%$'\n'*}" ;;
	404) return 1 ;;
	*) return 2 ;;
	esac
}
