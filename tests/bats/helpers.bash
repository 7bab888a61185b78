# Shared helpers for torkit's bats tests: ports, waiting, and real peers
# (dnsmasq, an echo server) started on loopback and stopped by pid.
#
#   load "$TK_SRCDIR/tests/bats/helpers"
#
# Every wait is a bounded poll on something observable (a port, a log line,
# a pid); nothing sleeps and hopes.

: "${TK_BUILDDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TK_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export TK_BUILDDIR TK_SRCDIR

TK_TORKITD="$TK_BUILDDIR/src/daemon/torkitd"
TK_RESOLVE="$TK_BUILDDIR/src/cli/tor-resolve"
TK_PTR="$TK_BUILDDIR/src/cli/tor-ptr"
TK_CONNECT="$TK_BUILDDIR/src/cli/tor-connect"

# TK_RELAY_SPLICE=0|1|auto: every torkitd a test starts gets --RelaySplice
# with it, through a wrapper (the .copy runs of the direct engine's bats
# files, tests/bats/daemon.mk, relay by copying). The wrapper execs, so
# the pid is torkitd's.
if [ -n "${TK_RELAY_SPLICE:-}" ] && [ -n "${BATS_RUN_TMPDIR:-}" ]; then
	if [ ! -x "$BATS_RUN_TMPDIR/torkitd" ]; then
		printf '#!/bin/sh\nexec %q "$@" --RelaySplice %q\n' \
			"$TK_TORKITD" "$TK_RELAY_SPLICE" >"$BATS_RUN_TMPDIR/torkitd.tmp"
		chmod +x "$BATS_RUN_TMPDIR/torkitd.tmp"
		mv "$BATS_RUN_TMPDIR/torkitd.tmp" "$BATS_RUN_TMPDIR/torkitd"
	fi
	TK_TORKITD="$BATS_RUN_TMPDIR/torkitd"
fi

# Records every pid a test starts, so teardown can stop exactly those.
TK_PIDS=()

# tk_port_in_use PORT: true if something listens on 127.0.0.1:PORT (TCP or UDP).
tk_port_in_use() {
	ss -Htaun 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$1\$"
}

# tk_free_port: print a TCP+UDP port on loopback that nothing uses now.
# Random within a range so parallel test files rarely race for one port,
# and below the kernel's ephemeral range (ip_local_port_range, 32768 up
# by default), which the tests' own outgoing connections draw from.
tk_free_port() {
	local i p lo=20000 hi=32768 eph
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
		[ "$eph" -gt $((lo + 4000)) ] && [ "$eph" -lt "$hi" ] && hi=$eph
	for ((i = 0; i < 200; i++)); do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		tk_port_in_use "$p" || { echo "$p"; return 0; }
	done
	echo "tk_free_port: no free port found" >&2
	return 1
}

# tk_poll SECONDS PID CHECK...: run CHECK every 50 ms until it succeeds
# (0); 2 at once if PID (may be empty) is gone; 1 after SECONDS. The PID
# is a server we just started: gone means it could not come up (its port
# may have been taken between tk_free_port and its bind, by a parallel
# test or an outgoing connection).
tk_poll() {
	local secs=$1 pid=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 2
		sleep 0.05
	done
	return 1
}

tk_port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
tk_log_has() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }
tk_gone() { ! kill -0 "$1" 2>/dev/null; }

# tk_wait_port HOST PORT [SECONDS [PID]]: wait until a TCP connect
# succeeds (tk_poll's statuses).
tk_wait_port() {
	local rc=0
	tk_poll "${3:-20}" "${4:-}" tk_port_open "$1" "$2" || rc=$?
	[ "$rc" -ne 1 ] ||
		echo "tk_wait_port: nothing listening on $1:$2 after ${3:-20}s" >&2
	return "$rc"
}

# tk_wait_log FILE REGEX [SECONDS [PID]]: wait until FILE has a line
# matching REGEX (tk_poll's statuses).
tk_wait_log() {
	local rc=0
	tk_poll "${3:-20}" "${4:-}" tk_log_has "$1" "$2" || rc=$?
	if [ "$rc" -eq 1 ]; then
		echo "tk_wait_log: no line matching '$2' in $1 after ${3:-20}s" >&2
		[ -f "$1" ] && tail -n 20 "$1" >&2
	fi
	return "$rc"
}

# tk_wait_exit PID [SECONDS]: wait until PID is gone.
tk_wait_exit() {
	tk_poll "${2:-20}" "" tk_gone "$1" && return 0
	echo "tk_wait_exit: pid $1 still running after ${2:-20}s" >&2
	return 1
}

# tk_stop PID [SIGNAL]: stop a process this test started, then reap it.
tk_stop() {
	local pid=$1 sig=${2:-TERM}
	[ -n "$pid" ] || return 0
	# A process that ends on its own (a scripted peer after its last
	# connection) can go between the check and the signal: that is a
	# stop, not a failure.
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -"$sig" "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	if ! tk_wait_exit "$pid" 10; then
		kill -KILL "$pid" 2>/dev/null || true
		tk_wait_exit "$pid" 5
	fi
	wait "$pid" 2>/dev/null || true
}

# tk_track PID: stop PID in tk_stop_all (call from teardown).
tk_track() { TK_PIDS+=("$1"); }

tk_stop_all() {
	local pid
	for pid in "${TK_PIDS[@]}"; do
		tk_stop "$pid"
	done
	TK_PIDS=()
}

# The fixed DNS records every test shares (dnsmasq host-record syntax).
# Documentation addresses, so PTR answers are not refused as internal.
TK_DNS_RECORDS=(
	"www.example.test,192.0.2.10,2001:db8::10"
	"v4only.example.test,192.0.2.11"
	"v6only.example.test,2001:db8::6"
	"echo.example.test,127.0.0.1"
)

# tk_start_dnsmasq DIR [extra host-record ...]: authoritative-only dnsmasq
# on 127.0.0.1 with TK_DNS_RECORDS; NXDOMAIN for everything else, no
# upstream. Sets TK_DNS_PORT, TK_DNS_PID, TK_DNS_LOG.
tk_start_dnsmasq() {
	local dir=$1; shift
	local args=() r try rc
	mkdir -p "$dir"
	TK_DNS_LOG="$dir/dnsmasq.log"
	for r in "${TK_DNS_RECORDS[@]}" "$@"; do
		args+=("--host-record=$r")
	done
	for try in 1 2 3; do
		TK_DNS_PORT=$(tk_free_port) || return 1
		dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
			--no-negcache --bind-interfaces --listen-address=127.0.0.1 \
			--port="$TK_DNS_PORT" --local=/#/ --log-queries \
			--log-facility="$TK_DNS_LOG" --pid-file="$dir/dnsmasq.pid" \
			--user=root "${args[@]}" 2>>"$dir/dnsmasq.err" &
		TK_DNS_PID=$!
		tk_track "$TK_DNS_PID"
		rc=0
		tk_wait_port 127.0.0.1 "$TK_DNS_PORT" 20 "$TK_DNS_PID" || rc=$?
		[ "$rc" -eq 2 ] && continue # could not bind: another port
		break
	done
	if [ "$rc" -ne 0 ]; then
		echo "tk_start_dnsmasq: dnsmasq is not serving (try $try):" >&2
		cat "$dir/dnsmasq.err" >&2
		return 1
	fi
	export TK_DNS_PORT TK_DNS_PID TK_DNS_LOG
}

# tk_start_echo: an echo server on 127.0.0.1. socat runs cat per
# connection and passes a client's half-close on to it as EOF, so the echo
# still arrives after the client stopped writing (ncat --exec loses it).
# Sets TK_ECHO_PORT, TK_ECHO_PID.
tk_start_echo() {
	local try rc
	for try in 1 2 3; do
		TK_ECHO_PORT=$(tk_free_port) || return 1
		socat "TCP-LISTEN:$TK_ECHO_PORT,bind=127.0.0.1,fork,reuseaddr,backlog=1024" EXEC:/bin/cat &
		TK_ECHO_PID=$!
		tk_track "$TK_ECHO_PID"
		rc=0
		tk_wait_port 127.0.0.1 "$TK_ECHO_PORT" 20 "$TK_ECHO_PID" || rc=$?
		[ "$rc" -eq 2 ] || break # 2: could not bind, another port
	done
	[ "$rc" -eq 0 ] || return 1
	export TK_ECHO_PORT TK_ECHO_PID
}

# tk_start_torkitd DIR [--Option value ...]: torkitd (direct engine: the
# default, tor, would go to the public network) on a free port, logging to
# DIR/torkitd.log; waits for its listener log line.
# Sets TK_SOCKS_PORT, TK_TORKITD_PID, TK_TORKITD_LOG.
tk_start_torkitd() {
	local dir=$1; shift
	local try rc
	mkdir -p "$dir"
	TK_TORKITD_LOG="$dir/torkitd.log"
	for try in 1 2 3; do
		TK_SOCKS_PORT=$(tk_free_port) || return 1
		"$TK_TORKITD" --Engine direct --SocksPort "127.0.0.1:$TK_SOCKS_PORT" \
			--Log "info file $TK_TORKITD_LOG" "$@" 2>>"$dir/torkitd.err" &
		TK_TORKITD_PID=$!
		tk_track "$TK_TORKITD_PID"
		rc=0
		tk_wait_port 127.0.0.1 "$TK_SOCKS_PORT" 20 "$TK_TORKITD_PID" ||
			rc=$?
		# 2: it exited; another port if that is why, else report it
		[ "$rc" -eq 2 ] && grep -q "in use" "$dir/torkitd.err" 2>/dev/null &&
			continue
		break
	done
	if [ "$rc" -ne 0 ]; then
		cat "$dir/torkitd.err" >&2
		return 1
	fi
	export TK_SOCKS_PORT TK_TORKITD_PID TK_TORKITD_LOG
}

# tk_hex FILE: the bytes of FILE as lowercase hex pairs separated by spaces.
tk_hex() { od -An -v -tx1 "$1" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# refute CMD [ARG...]: fails when CMD succeeds. A bare `! CMD` fails a
# test only as its last line: bats runs tests under errexit, which ignores
# a negated command.
refute() {
	if "$@"; then
		return 1
	fi
}
