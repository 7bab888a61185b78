#!/usr/bin/env bats
# IPv6 ORPorts as tor's client uses them, on a tornet of this file's own
# (port base TORNET_BASE + 500, tools/tornet --ipv6; the main network
# ends at +353, onion_wire.bats starts at +1000): every relay has a
# second ORPort on [::1], the consensus lists it ("a [::1]:PORT") and the
# DirAuthority lines name the authorities' (ipv6=). torkitd with
# ClientUseIPv4 0, ClientUseIPv6 1 and ClientPreferIPv6ORPort 1
# bootstraps and reaches the echo server through 3 hops with every
# connection it makes itself — directory and first hop — over ::1; with
# tor's defaults it uses IPv4 only.

load helpers

V6_BASE=$((TORNET_BASE + 500))

setup_file() {
	tornet_own_start "$V6_BASE" --ipv6
	[ "$TORNET_IPV6" = 1 ]
}

teardown_file() {
	stop_torkitd "$BATS_FILE_TMPDIR"
	tornet_own_stop
}

# a test that failed half way leaves no torkitd behind for the next
teardown() {
	stop_torkitd "$BATS_FILE_TMPDIR"
}

V6_PORT=$((TORNET_SPARE_PORT + 2))

# v6_start_torkitd NAME [OPTION-LINE...]: a tor-engine torkitd on V6_PORT
# with its own DataDirectory, the options given, and the pid in NAME.pid
v6_start_torkitd() {
	local d=$BATS_FILE_TMPDIR/$1 pid i
	shift
	# the echo's half-close ends its stream in 2 s, not 30 s
	tornet_torkitd_conf "$d" "SocksPort 127.0.0.1:$V6_PORT" "SafeLogging 0" \
		"HalfCloseLinger 2" "$@"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$BATS_FILE_TMPDIR/torkitd.pid"
	# until bootstrapped, or as soon as it exits (a taken port...)
	for ((i = 0; i < 600; i++)); do
		grep -q 'Bootstrapped 100%' "$d/torkitd.log" 2>/dev/null && return 0
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	echo "torkitd did not bootstrap:" >&2
	cat "$d/torkitd.out" "$d/torkitd.log" >&2 2>/dev/null
	return 1
}

# echo_through NAME: an echo round trip through the torkitd on V6_PORT,
# the stream held open until the answer is in
echo_through() {
	local out=$BATS_FILE_TMPDIR/$1/echo.out
	hold_stdin "$out" '^ping6$' $'ping6\n' |
		timeout 60 "$TK_CONNECT" -P "127.0.0.1:$V6_PORT" echo.test \
			"$TORNET_ECHO_PORT" >"$out"
	grep -qx ping6 "$out"
}

# or_conns FAMILY: torkitd's established connections to the relays'
# ORPorts, "4" to 127.0.0.1:BASE+100..106, "6" to [::1]:BASE+130..136
or_conns() {
	local pid lo hi
	pid=$(cat "$BATS_FILE_TMPDIR/torkitd.pid")
	if [ "$1" = 6 ]; then
		lo=$TORNET_OR6_BASE
	else
		lo=$((TORNET_BASE + 100))
	fi
	hi=$((lo + 6))
	ss -Htnp state established 2>/dev/null | grep "pid=$pid," |
		awk -v lo="$lo" -v hi="$hi" -v fam="$1" '{
			peer = $4; port = peer; sub(/.*:/, "", port)
			v6 = peer ~ /^\[::1\]:/
			if (port + 0 >= lo && port + 0 <= hi &&
			    (fam == 6 ? v6 : peer ~ /^127\.0\.0\.1:/))
				print peer
		}'
}

@test "tornet --ipv6: the consensus lists an IPv6 ORPort on [::1] for every relay" {
	local f=$TORNET_DIR/nodes/client/data/cached-microdesc-consensus
	run awk '$1 == "r" { n++ } $1 == "a" && $2 ~ /^\[::1\]:[0-9]+$/ { a++ }
		END { print n, a }' "$f"
	assert_success
	assert_output "7 7"
	# consensus method 28 and later: the microdescriptors carry none
	run grep -c '^a ' "$TORNET_DIR"/nodes/client/data/cached-microdescs*
	refute_output --regexp ':[1-9]'
}

@test "ClientUseIPv4 0, ClientUseIPv6 1, ClientPreferIPv6ORPort 1: the echo server through a 3-hop circuit, every OR connection over ::1" {
	v6_start_torkitd only6 "ClientUseIPv4 0" "ClientUseIPv6 1" \
		"ClientPreferIPv6ORPort 1"
	echo_through only6
	run or_conns 6
	echo "IPv6 OR connections: $output"
	[ -n "$output" ]
	run or_conns 4
	echo "IPv4 OR connections: $output"
	assert_output ""
}

@test "tor's defaults (ClientUseIPv6 0): the same network over IPv4 only" {
	v6_start_torkitd v4
	echo_through v4
	run or_conns 4
	echo "IPv4 OR connections: $output"
	[ -n "$output" ]
	run or_conns 6
	echo "IPv6 OR connections: $output"
	assert_output ""
}

@test "ClientUseIPv4 0 with no ipv6= on any DirAuthority line: torkitd says there is nothing to bootstrap from" {
	local d=$BATS_FILE_TMPDIR/noip6 pid i
	mkdir -p "$d/data"
	{
		sed -E 's/ ipv6=\[[^]]*\]:[0-9]+//' "$TORNET_DIRAUTHORITY_FILE"
		echo "Engine tor"
		echo "SocksPort 127.0.0.1:$V6_PORT"
		echo "DataDirectory $d/data"
		echo "ClientUseIPv4 0"
		echo "Log notice file $d/torkitd.log"
	} >"$d/torkitd.conf"
	refute grep -q 'ipv6=' "$d/torkitd.conf"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$BATS_FILE_TMPDIR/torkitd.pid"
	wait_file "$d/torkitd.log" 'nothing to bootstrap from' 100
	run or_conns 4
	assert_output ""
}
