#!/usr/bin/env bats
# torkitd (Engine tor) bootstrapping as on the public network, played on
# tools/tornet: tornet's authorities configured with their identities but
# addresses nobody answers on, and FallbackDir lines for tornet's relays;
# the same through a fallback slowed to ~50 KB/s; with only tornet's
# authorities, not one connection outside loopback (configured
# authorities bring no built-in fallbacks); and a synthetic directory of
# 9000 relays, signed by tornet's authorities, loaded from the
# DataDirectory, with paths chosen from it.

load helpers

KF_PORT=$((TORNET_SPARE_PORT + 5))

setup() {
	T=$BATS_TEST_TMPDIR
	LOG=$T/torkitd.log
}

teardown() {
	stop_kd
	if [ -n "${proxy_pid:-}" ] && kill -0 "$proxy_pid" 2>/dev/null; then
		kill "$proxy_pid"
		wait "$proxy_pid" 2>/dev/null || true
	fi
}

# the relay NAME's ORPort and fingerprint
relay_port() { sed -nE 's/^ORPort 127\.0\.0\.1:([0-9]+).*/\1/p' "$TORNET_DIR/nodes/$1/torrc"; }
relay_fp() { awk '{ print $2 }' "$TORNET_DIR/nodes/$1/data/fingerprint"; }

# tornet's authorities: their identities, but both ports replaced by the
# port tornet keeps closed (connection refused)
dead_authorities() {
	sed -E "s/orport=[0-9]+/orport=$TORNET_CLOSED_PORT/; s/127\.0\.0\.1:[0-9]+/127.0.0.1:$TORNET_CLOSED_PORT/" \
		"$TORNET_DIRAUTHORITY_FILE"
}

# start_kd CONF [WRAPPER...]: torkitd on KF_PORT with CONF (plus the
# lines every test needs), waits for its listener
start_kd() {
	local conf=$1
	shift
	{
		cat "$conf"
		echo "Engine tor"
		echo "SocksPort 127.0.0.1:$KF_PORT"
		echo "HalfCloseLinger 2"
		echo "SafeLogging 0"
		echo "Log info file $LOG"
	} >"$T/torkitd.conf"
	"$@" "$TK_TORKITD" -f "$T/torkitd.conf" </dev/null >"$T/torkitd.out" 2>&1 3>&- &
	kd_pid=$!
	wait_port "$KF_PORT" || { cat "$T/torkitd.out" "$LOG" >&2; return 1; }
}

stop_kd() {
	local i target
	[ -n "${kd_pid:-}" ] || return 0
	# under strace, torkitd is strace's child: stop torkitd itself (a
	# signal to strace only detaches it)
	target=$kd_pid
	if [ "$(cat "/proc/$kd_pid/comm" 2>/dev/null)" = strace ]; then
		target=$(pgrep -P "$kd_pid" | head -n1)
		[ -n "$target" ] || target=$kd_pid
	fi
	if kill -0 "$target" 2>/dev/null; then
		kill "$target" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$kd_pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	wait "$kd_pid" 2>/dev/null || true
	kd_pid=
}

# an echo round trip through torkitd (3 hops)
echo_through_kd() {
	run_echo "through-$1" timeout 60 "$TK_CONNECT" -P "127.0.0.1:$KF_PORT" "$TORNET_NAME_A" "$TORNET_ECHO_PORT"
	[ "$output" = "through-$1" ]
}

@test "authorities unreachable, FallbackDir lines for tornet's relays: bootstrap from the fallbacks to 100%, then streams" {
	{
		dead_authorities
		for n in middle0 middle1 exit0 exit1; do
			echo "FallbackDir 127.0.0.1 orport=$(relay_port "$n") id=$(relay_fp "$n")"
		done
		echo "TestingTorNetwork 1"
		echo "DataDirectory $T/data"
	} >"$T/base.conf"
	start_kd "$T/base.conf"
	wait_file "$LOG" 'Bootstrapped 100%' 1200 || { cat "$LOG"; false; }
	grep -q 'Engine tor: 3 configured directory authorities, 4 fallbacks (TestingTorNetwork)' "$LOG"
	# the consensus came from a fallback; the authorities refused
	grep -qE 'fetching consensus from fallback\$[0-9A-F]{8} \(fallback\)' "$LOG"
	grep -qE 'new consensus of .* verified' "$LOG"
	grep -q "from tnauth[0-9] failed: link handshake with tnauth[0-9] failed: connection refused" "$LOG" ||
		[ -z "$(grep 'fetching consensus from tnauth' "$LOG" | grep -v '(directory guard)')" ]
	# never an authority as such for microdescriptors (once bootstrapped a
	# directory guard may be one: it is reached at its consensus address)
	[ -z "$(grep -E 'fetching microdescriptors from tnauth' "$LOG" | grep -v '(directory guard)')" ]
	echo_through_kd fallbacks
}

@test "a fallback slowed to ~50 KB/s: the bootstrap is slower, never given up while bytes flow" {
	local fp port
	fp=$(relay_fp exit0)
	"$TK_SRCDIR/tests/interop/slowproxy" 0 "$(relay_port exit0)" 50000 "$T/proxy.port" &
	proxy_pid=$!
	wait_file "$T/proxy.port" '^[0-9]' 100
	port=$(cat "$T/proxy.port")
	{
		dead_authorities
		echo "FallbackDir 127.0.0.1 orport=$port id=$fp"
		echo "TestingTorNetwork 1"
		echo "DataDirectory $T/data"
	} >"$T/slow.conf"
	start_kd "$T/slow.conf"
	wait_file "$LOG" 'Bootstrapped 100%' 1200 || { cat "$LOG"; false; }
	# the consensus and its certificates came through the slow path
	grep -qE "new consensus of .* verified" "$LOG"
	grep -qE "authority certificates from fallback\\\$${fp:0:8}" "$LOG"
	refute grep -q 'stalled' "$LOG"
	[ "$(cat "$T/proxy.port.bytes")" -gt 5000 ]
	echo_through_kd slow-fallback
}

@test "with tornet's authorities only: no built-in fallback, not one connection outside loopback" {
	{
		cat "$TORNET_DIRAUTHORITY_FILE"
		echo "TestingTorNetwork 1"
		echo "DataDirectory $T/data"
	} >"$T/auth.conf"
	start_kd "$T/auth.conf" strace -f -qq -e trace=connect -o "$T/strace"
	wait_file "$LOG" 'Bootstrapped 100%' 1200 || { cat "$LOG"; false; }
	echo_through_kd loopback-only
	stop_kd
	grep -q 'Engine tor: 3 configured directory authorities, 0 fallbacks' "$LOG"
	# every IP connection torkitd tried went to 127.0.0.1
	grep 'connect(' "$T/strace" | grep -E 'AF_INET6?' >"$T/inet" || true
	cat "$T/inet"
	[ -s "$T/inet" ]
	refute grep -vE 'sin_addr=inet_addr\("127\.0\.0\.1"\)' "$T/inet"
}

# the synthetic directory: NAME flags /16 of each relay, from the cache
relay_table() {
	awk '$1 == "r" { name = $2; split($6, a, "."); net = a[1] "." a[2] }
	     $1 == "s" { print name, ($0 ~ / Guard/ ? "G" : "-") ($0 ~ / Exit/ ? "E" : "-"), net }' \
		"$1/cached-microdesc-consensus"
}

@test "a synthetic directory of 9000 relays signed by tornet's authorities: loaded from the DataDirectory without a fetch, paths chosen from it" {
	local keys=() i
	[ -x "$TK_BUILDDIR/tools/tkmkdir" ] || skip "tools/tkmkdir not built"
	for i in 0 1 2; do keys+=(-k "$TORNET_DIR/nodes/auth$i/data/keys"); done
	"$TK_BUILDDIR/tools/tkmkdir" -n 9000 -r "$TK_SRCDIR/tests/data/realnet" \
		"${keys[@]}" -a "$TORNET_DIRAUTHORITY_FILE" -o "$T/data"
	{
		cat "$TORNET_DIRAUTHORITY_FILE"
		echo "DataDirectory $T/data"
	} >"$T/big.conf"
	start_kd "$T/big.conf"
	wait_file "$LOG" 'Bootstrapped 75% (enough_dirinfo)' 600 || { cat "$LOG"; false; }
	grep -qE 'cached consensus of .* verified .*: 9000 relays' "$LOG"
	grep -q 'directory usable: 9000 of 9000 microdescriptors' "$LOG"
	# nothing fetched on the way
	[ -z "$(sed '/Bootstrapped 75%/q' "$LOG" | grep 'fetching ')" ]
	# the relays refuse connections (nobody listens on 127.x.y.1):
	# circuits fail, and are launched again slowly, not in a loop; wait
	# for the third path
	wait_file "$LOG" 'circ 3: building' 600 || { cat "$LOG"; false; }
	relay_table "$T/data" >"$T/relays"
	sed -nE 's/.*circ [0-9]+: building ([^~]+)~([^~]+)~([^ ]+) .*/\1 \2 \3/p' "$LOG" >"$T/paths"
	cat "$T/paths"
	[ "$(wc -l <"$T/paths")" -ge 3 ]
	while read -r g m e; do
		read -r _ gf gn < <(grep "^$g " "$T/relays")
		read -r _ mf mn < <(grep "^$m " "$T/relays")
		read -r _ ef en < <(grep "^$e " "$T/relays")
		# a listed guard with Guard, a listed exit with Exit, three
		# relays in three /16s (EnforceDistinctSubnets 1)
		[[ "$gf" == G* ]]
		[[ "$ef" == *E ]]
		[ -n "$mf" ]
		[ "$g" != "$m" ] && [ "$m" != "$e" ] && [ "$g" != "$e" ]
		[ "$gn" != "$mn" ] && [ "$mn" != "$en" ] && [ "$gn" != "$en" ]
	done <"$T/paths"
	# a request still gets an answer (the builds fail: MISC, SOCKS 01)
	run timeout 120 "$TK_CONNECT" -P "127.0.0.1:$KF_PORT" -z -t 100 "$TORNET_NAME_A" "$TORNET_ECHO_PORT" </dev/null
	[ "$status" -eq 1 ]
	# no busy loop: a few builds a second at most
	n=$(grep -c ': building ' "$LOG")
	echo "$n circuits launched"
	[ "$n" -le 100 ]
}
