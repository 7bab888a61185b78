#!/usr/bin/env bats
# What a relay sees of torkit's links, on a tornet of this file's own
# (port base TORNET_BASE + 1000) whose relays accept TLS 1.3 only and log
# every cell they read but RELAY and RELAY_EARLY (tools/tornet
# --tls13-only --cell-log, through tests/helpers/tornet_preload.so):
# tor's own client works there, and so does torkitd (with OpenSSL; the
# mbedTLS build cannot even handshake); torkitd's idle channel to its
# guard carries PADDING, as tor's client's does, and never a CREATE_FAST.

load helpers

WIRE_BASE=$((TORNET_BASE + 1000))

setup_file() {
	tornet_own_start "$WIRE_BASE" --tls13-only --cell-log
	[ "$TORNET_TLS13_ONLY" = 1 ] && [ "$TORNET_CELL_LOG" = 1 ]
}

teardown_file() {
	stop_torkitd "$BATS_FILE_TMPDIR"
	tornet_own_stop
}

KW_PORT=$((TORNET_SPARE_PORT + 1))

wire_start_torkitd() {
	local d=$BATS_FILE_TMPDIR
	[ -f "$d/torkitd.pid" ] && return 0
	tornet_torkitd_conf "$d" "SocksPort 127.0.0.1:$KW_PORT" "SafeLogging 0" \
		"HalfCloseLinger 2"
	"$TK_TORKITD" -f "$d/torkitd.conf" </dev/null >"$d/torkitd.out" 2>&1 3>&- &
	echo $! >"$d/torkitd.pid"
	wait_port "$KW_PORT" || { cat "$d/torkitd.out" >&2; return 1; }
	wait_file "$d/torkitd.log" 'Bootstrapped 100%' 1200 ||
		{ cat "$d/torkitd.log" >&2; return 1; }
}

# the ORPort and fingerprint of the first authority
first_auth() {
	local line
	line=$(head -n 1 "$TORNET_DIRAUTHORITY_FILE")
	AUTH_ORPORT=$(sed -E 's/.* orport=([0-9]+).*/\1/' <<<"$line")
	AUTH_FP=$(awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+:[0-9]+$/) { for (j = i + 1; j <= NF; j++) s = s $j; print s } }' <<<"$line")
}

# cells NAME PORTS FROM: the commands relay NAME read from the client
# ports PORTS (space-separated) since line FROM of its cell log
cells() {
	local f=$TORNET_DIR/nodes/$1/cells.log p pat=""
	for p in $2; do pat="$pat|127\\.0\\.0\\.1:$p"; done
	[ -n "$pat" ] || return 0
	tail -n +"${3:-1}" "$f" 2>/dev/null | grep -E " (${pat#|}) " | awk '{ print $3 }'
}

# count NAME PORTS FROM COMMAND: how many COMMAND cells in cells' answer
count() {
	cells "$1" "$2" "$3" | grep -cx "$4" || true
}

@test "the relays refuse TLS 1.2 and accept TLS 1.3 (checked with openssl s_client)" {
	first_auth
	run timeout 20 openssl s_client -connect "127.0.0.1:$AUTH_ORPORT" -tls1_2 </dev/null
	echo "TLS 1.2: $output" | grep -iE 'alert|version|error' | head -n 3
	assert_failure
	run timeout 20 openssl s_client -connect "127.0.0.1:$AUTH_ORPORT" -tls1_3 </dev/null
	assert_success
	assert_output --partial "TLSv1.3"
}

@test "tor's own client works through relays that accept TLS 1.3 only" {
	run timeout 30 "$TK_RESOLVE" "$TORNET_NAME_A" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_A"
	# and it reached them: its VERSIONS are in the relays' cell logs
	cat "$TORNET_DIR"/nodes/*/cells.log | grep -q ' VERSIONS$'
}

@test "torkit's link handshake with every authority: TLS 1.3 with OpenSSL, none with mbedTLS" {
	local l op f
	while read -r l; do
		op=$(sed -E 's/.* orport=([0-9]+).*/\1/' <<<"$l")
		f=$(awk '{ s = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+:[0-9]+$/) { for (j = i + 1; j <= NF; j++) s = s $j; print s } }' <<<"$l")
		run "$TK_BUILDDIR/tools/tkonion" handshake "127.0.0.1:$op" "$f"
		if grep -q '^tls library: ' <<<"$output" || [ "$status" -eq 0 ]; then
			assert_success
			assert_line --regexp '^tls: TLSv1\.3 TLS_'
			assert_line --regexp '^tls library: OpenSSL'
			assert_line "link protocol: 5"
		else
			# configure --with-tls=mbedtls: TLS 1.2 only
			assert_failure 1
			assert_output --partial "TLS handshake"
		fi
	done <"$TORNET_DIRAUTHORITY_FILE"
}

# skip_without_tls13: this build's TLS library cannot reach these relays
skip_without_tls13() {
	first_auth
	"$TK_BUILDDIR/tools/tkonion" handshake "127.0.0.1:$AUTH_ORPORT" \
		"$AUTH_FP" 2>/dev/null | grep -q '^tls: TLSv1\.3' ||
		skip "this build's TLS library (configure --with-tls=mbedtls) cannot speak TLS 1.3"
}

@test "torkitd with Engine tor: lookups and a stream through 3 hops of TLS-1.3-only relays" {
	skip_without_tls13
	wire_start_torkitd
	run timeout 60 "$TK_RESOLVE" "$TORNET_NAME_A" "127.0.0.1:$KW_PORT"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run_echo "through tls 1.3" timeout 60 "$TK_CONNECT" -P "127.0.0.1:$KW_PORT" "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	assert_success
	assert_output "through tls 1.3"
	grep -E 'CONNECT .* open on circ [0-9]+ ' "$BATS_FILE_TMPDIR/torkitd.log"
}

# the tornet node (middle0, auth1...) whose nickname is tnNODE
node_of() {
	echo "${1#tn}"
}

or_port_of_node() {
	sed -nE 's/^ORPort 127\.0\.0\.1:([0-9]+).*/\1/p' "$TORNET_DIR/nodes/$1/torrc"
}

# ports_to PID ORPORT: PID's local ports of connections to ORPORT
ports_to() {
	ss -Htnp state established "( dport = :$2 )" 2>/dev/null |
		awk -v p="pid=$1," 'index($0, p) { n = split($3, a, ":"); print a[n] }' | sort -n
}

@test "an idle channel to the guard carries PADDING, as tor's client's does, and never a CREATE_FAST" {
	local d=$BATS_FILE_TMPDIR pid guard node orport ports tport tpid
	local n i t0 ours=0 theirs=0 from fast negs
	skip_without_tls13
	wire_start_torkitd
	run timeout 60 "$TK_RESOLVE" "$TORNET_NAME_A" "127.0.0.1:$KW_PORT"
	assert_success
	pid=$(cat "$d/torkitd.pid")
	# the guard: first hop of the circuits torkitd built
	guard=$(sed -nE 's/.*circ [0-9]+ built: ([^~]+)~.*/\1/p' "$d/torkitd.log" | tail -n 1)
	node=$(node_of "$guard")
	orport=$(or_port_of_node "$node")
	[ -n "$orport" ]
	ports=$(ports_to "$pid" "$orport")
	echo "guard $guard ($node, ORPort $orport); torkitd's ports: $ports"
	[ -n "$ports" ]
	from=$(($(wc -l <"$TORNET_DIR/nodes/$node/cells.log") + 1))
	# tor's own client, on the same guard if it uses it
	tpid=$(cat "$TORNET_DIR/run/client.pid")
	# Quiet now. The old CREATE_FAST poke came after 5 and 15 s of
	# silence; wait at least 20 s and until torkitd padded twice.
	t0=$SECONDS
	for ((i = 0; i < 900; i++)); do
		ours=$(count "$node" "$ports" "$from" PADDING)
		[ "$ours" -ge 2 ] && [ $((SECONDS - t0)) -ge 20 ] && break
		sleep 0.1
	done
	# the channel torkitd kept all along for its circuits: CREATE2 went
	# over it (directory fetches use one-hop CREATE_FAST circuits on
	# channels of their own, dirfetch.c)
	ports=$(comm -12 <(tr ' ' '\n' <<<"$ports" | sort) <(ports_to "$pid" "$orport" | sort) |
		while read -r p; do
			[ "$(count "$node" "$p" 1 CREATE2)" -gt 0 ] && echo "$p"
		done)
	[ -n "$ports" ]
	echo "after $((SECONDS - t0)) s, on $ports the guard read:"
	cells "$node" "$ports" "$from" | sort | uniq -c
	ours=$(count "$node" "$ports" "$from" PADDING)
	fast=$(count "$node" "$ports" "$from" CREATE_FAST)
	negs=$(count "$node" "$ports" 1 PADDING_NEGOTIATE)
	[ "$ours" -ge 2 ]
	[ "$fast" -eq 0 ]
	# ConnectionPadding auto: nothing negotiated, as tor's clients do
	[ "$negs" -eq 0 ]
	# tor's own client pads its channels the same way (a relay read
	# PADDING from it) and negotiates nothing either. Its channels may
	# have carried traffic until just now (preemptive circuits, the
	# onion services tornet checks), and tor pads only after 1.5 to 9.5
	# s of quiet: look for up to a minute.
	for ((i = 0; i < 600; i++)); do
		theirs=0
		for n in "$TORNET_DIR"/nodes/*/; do
			n=$(basename "$n")
			[ -f "$TORNET_DIR/nodes/$n/cells.log" ] || continue
			tport=$(ports_to "$tpid" "$(or_port_of_node "$n")")
			[ -n "$tport" ] || continue
			theirs=$((theirs + $(count "$n" "$tport" 1 PADDING)))
			[ "$(count "$n" "$tport" 1 PADDING_NEGOTIATE)" -eq 0 ]
		done
		[ "$theirs" -ge 1 ] && break
		sleep 0.1
	done
	echo "tor's client: $theirs PADDING on its open channels"
	[ "$theirs" -ge 1 ]
}
