# hosts.bash: bats helper for tests on the multi-host bed (ws-hostbed): one network namespace per
# host, each with its wiki and its Exim, ws-peerd on host 1 (load after bed and sync).
#
# Use once per file:  setup_file() { hosts_up 3; }    teardown_file() { hosts_down; }
#                     setup() { hosts_setup; }        teardown() { hosts_teardown; }
# Nothing of the bed answers in this namespace: every command that talks to a wiki or an Exim
# runs in a host's (hrun). The bed's variables (DIR/env: WS_H1_NS, WS_BETA_HOST...) are exported;
# WIKISYNC_CONF and WIKISYNC_SPOOL are host 1's, so ws-queue here sees the syncing host's queue.
# A bed with a failed test keeps its directory (as bed.bash's do), WS_BED_KEEP=1 keeps any.

# hosts_up [N [SCRIPT]]: a bed of N hosts (default 3) in $HB, and ws-peerd on host 1; SCRIPT, if
# given, brings it up instead of `ws-hostbed up -n N`, with /tmp/hosts in it put as $HB, and must
# print a status line of each host's link as up.
hosts_up() {
	local n=${1:-3} script=${2:-} out h
	HB=$(bed_mktemp)/hb || return 1
	export HB
	[ -n "$script" ] || script="ws-hostbed up -n $n /tmp/hosts && ws-hostbed status /tmp/hosts"
	if ! out=$(bash -c "${script//\/tmp\/hosts/"$HB"}"); then
		mkdir -p "$HB" && : >"$HB/.failed"
		hosts_logs >&2
		ws-hostbed down "$HB" || :
		return 1
	fi
	for h in $(seq "$n"); do
		[[ $out == *"h$h 198.18.0.$h link up"* ]] || { echo "no link up for h$h in: $out" >&2; return 1; }
	done
	hosts_setup
	hosts_peerd_start
}

hosts_setup() {
	set -a
	# shellcheck disable=SC1091
	. "$HB/env"
	set +a
}

hosts_down() {
	local f
	[ -n "${HB:-}" ] && [ -d "$HB" ] || return 0
	if [ -e "$HB/.failed" ]; then
		for f in "$HB"/peerd*.log; do
			[ ! -s "$f" ] || { echo "==== ${f##*/}"; tail -n 30 "$f"; } | sed 's/^/# /' >&3
		done
	fi
	[ ! -e "$HB/netns" ] || ws-hostbed down "$HB" || return 1
	kept_or_removed "$HB" "${HB%/hb}" "host bed"
}

hosts_teardown() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
	[ -n "${HB:-}" ] && [ -d "$HB" ] || return 0
	: >"$HB/.failed"
	hosts_logs
}

# hosts_logs: the tail of each host's logs.
hosts_logs() {
	local h
	for h in "$HB"/h[0-9]; do
		[ -d "$h" ] || continue
		[ ! -s "$h.log" ] || { echo "==== $h.log"; tail -n 10 "$h.log"; }
		bed_logs "$h"
	done
}

# hrun HOST CMD...: CMD in the host's namespace (HOST a number or a wiki's name).
hrun() { ws-hostbed run "$HB" "$@"; }

# host WIKI: the number of the wiki's host.
host() {
	local v
	v=WS_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_HOST
	echo "${!v}"
}

# hedit WIKI TITLE TEXT [SUMMARY]: an edit by the editor, made on the wiki's host; prints the revid.
# hwatch WIKI TITLE: the sync user watches the page there.
hedit() { hrun "$1" ws-testbed edit "$HB/h$(host "$1")" "$@"; }
hwatch() { hrun "$1" ws-testbed watch "$HB/h$(host "$1")" "$@"; }

# htext WIKI TITLE: the page's text, read on the wiki's host (bed_text there).
htext() {
	# shellcheck disable=SC2016 # expanded in the host's shell
	hrun "$1" bash -c '. "$1/bed.bash" && bed_text "$2" "$3"' sh "$TOP/tests" "$1" "$2"
}
hhas_text() { [ "$(htext "$1" "$2")" = "$3" ]; }

# hhistory WIKI TITLE: "user<TAB>comment<TAB>sha1" per revision, oldest first, read on its host.
hhistory() {
	# shellcheck disable=SC2016 # expanded in the host's shell
	hrun "$1" bash -c '. "$1/sync.bash" && BED=$2 history "$3" "$4"' sh "$TOP/tests" \
		"$HB/h$(host "$1")" "$1" "$2"
}

# queued HOST: how many messages the host's Exim holds.
queued() {
	local v=WS_H$1_EXIM_CONF
	hrun "$1" "$WS_EXIM" -C "${!v}" -bpc
}
queue_empty() { [ "$(queued "$1")" -eq 0 ]; }

# hosts_peerd_start [HOST], hosts_peerd_stop [HOST]: ws-peerd on host 1, or on host 2 as the
# second syncing host (ws-hostbed up -b) with its config and spool; each leads its own process
# group and logs to $HB/peerd.log (host 1) or $HB/peerd-hI.log.
# shellcheck disable=SC2120 # the test files pass the host
hosts_peerd_start() {
	local h=${1:-1} tag='' env=()
	[ "$h" -eq 1 ] || { tag=-h$h; env=(env "WIKISYNC_CONF=$WS_B_CONF" "WIKISYNC_SPOOL=$WS_B_SPOOL"); }
	rm -f "$HB/peerd$tag.pid"
	# shellcheck disable=SC2016 # the inner shell's $$
	(setsid ws-hostbed run "$HB" "$h" "${env[@]}" sh -c \
		'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec ws-peerd' sh "$HB/peerd$tag.pid" \
		>>"$HB/peerd$tag.log" 2>&1 &)
	wait_for 5 test -s "$HB/peerd$tag.pid"
}

hosts_peerd_stop() {
	local h=${1:-1} tag='' pid pgid
	[ "$h" -eq 1 ] || tag=-h$h
	[ -f "$HB/peerd$tag.pid" ] || return 0
	pid=$(cat "$HB/peerd$tag.pid")
	pgid=$(ps -o pgid= -p "$pid" | tr -d ' ') || pgid=
	[ -z "$pgid" ] || kill -KILL -- "-$pgid"
	while [ -n "$pgid" ] && pgrep -g "$pgid" >/dev/null; do sleep 0.05; done
	rm -f "$HB/peerd$tag.pid"
}
