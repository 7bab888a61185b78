# shellcheck shell=bash
# tools/bench/proctree.sh, sourced by the benchmarks that sum what a
# proxy uses over its processes (dante forks a child per client).

# tree_pids PID: PID and its live descendants, one line, space-separated.
tree_pids() {
	local all=$1 front=$1 kids
	while [ -n "$front" ]; do
		kids=$(pgrep -d, -P "$front" || true)
		[ -n "$kids" ] && all="$all,$kids"
		front=$kids
	done
	echo "${all//,/ }"
}
