#!/usr/bin/env bats
# The onion engine's circuits and streams against the real tor relays of
# tools/tornet, with tools/tkstream: bootstrap, 3-hop circuits
# (guard~middle~exit), RESOLVE / RESOLVED (A, AAAA, PTR, NXDOMAIN,
# internal PTR refused by the exit), streams to tornet's echo server
# (10 MB both ways through one stream, many at once), exit-policy
# refusal, isolation keys, the persistent guard set, and a relay killed
# under a live stream.

load helpers

TKSTREAM=$TK_BUILDDIR/tools/tkstream

setup() {
	[ -x "$TKSTREAM" ] || skip "tools/tkstream not built"
	dd=$BATS_TEST_TMPDIR/dd
	mkdir -p "$dd"
}

tks() {
	"$TKSTREAM" -S -d "$dd" -f "$TORNET_DIRAUTHORITY_FILE" -t 100 "$@"
}

@test "resolve: A, AAAA-only, both families, NXDOMAIN" {
	run tks resolve "$TORNET_NAME_A" "$TORNET_NAME_AAAA_ONLY" \
		"$TORNET_NAME_DUAL" "$TORNET_NAME_NX"
	echo "$output"
	[ "$status" -eq 1 ] # one of them failed: the NXDOMAIN
	assert_line "$TORNET_NAME_A $TORNET_ADDR_A"
	assert_line "$TORNET_NAME_AAAA_ONLY $TORNET_ADDR_AAAA_ONLY"
	assert_line "$TORNET_NAME_DUAL $TORNET_ADDR_DUAL_A $TORNET_ADDR_DUAL_AAAA"
	assert_line "$TORNET_NAME_NX error RESOLVEFAILED"
}

@test "resolve: -4 leaves IPv6 answers out, -6 IPv4 ones" {
	run tks -4 resolve "$TORNET_NAME_DUAL" "$TORNET_NAME_AAAA_ONLY"
	echo "$output"
	assert_line "$TORNET_NAME_DUAL $TORNET_ADDR_DUAL_A"
	assert_line "$TORNET_NAME_AAAA_ONLY error RESOLVEFAILED"
	run tks -6 resolve "$TORNET_NAME_DUAL"
	assert_success
	assert_line "$TORNET_NAME_DUAL $TORNET_ADDR_DUAL_AAAA"
}

@test "ptr: IPv4 and IPv6 names; internal address refused by the exit; no record" {
	run tks ptr "$TORNET_PTR4_ADDR" "$TORNET_PTR6_ADDR" \
		"$TORNET_PTR_INTERNAL" "$TORNET_PTR_NX"
	echo "$output"
	[ "$status" -eq 1 ]
	assert_line "$TORNET_PTR4_ADDR $TORNET_PTR4_NAME"
	assert_line "$TORNET_PTR6_ADDR $TORNET_PTR6_NAME"
	assert_line "$TORNET_PTR_INTERNAL error RESOLVEFAILED"
	assert_line "$TORNET_PTR_NX error RESOLVEFAILED"
}

@test "connect: bytes through 3 hops to the echo server; no half-close, so the stream lingers then ends" {
	printf 'hello through three hops\n' >"$BATS_TEST_TMPDIR/in"
	run bash -c "cat '$BATS_TEST_TMPDIR/in' | '$TKSTREAM' -v -S -L 1500 \
		-d '$dd' -f '$TORNET_DIRAUTHORITY_FILE' -t 60 \
		connect '$TORNET_ECHO_NAME' '$TORNET_ECHO_PORT' 2>'$BATS_TEST_TMPDIR/log'"
	cat "$BATS_TEST_TMPDIR/log" >&2
	assert_success
	assert_line 'hello through three hops'
	# three hops: guard~middle~exit, built with CREATE2 + 2 x EXTEND2
	grep -E 'circ [0-9]+ built: [^~ ]+~[^~ ]+~[^~ ]+ in' "$BATS_TEST_TMPDIR/log"
	grep -q 'idle 1500 ms after shutdown' "$BATS_TEST_TMPDIR/log"
}

@test "connect: 10 MB each way through one stream (circuit and stream SENDMEs)" {
	run tks -T -b 10485760 echo "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	echo "$output"
	assert_success
	assert_output --partial '10485760 bytes echoed'
}

@test "connect: 50 concurrent streams, each 100 KB each way" {
	run tks -n 50 -b 100000 echo "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	echo "$output"
	assert_success
}

@test "connect: a port no exit allows: EXITPOLICY after each exit refused once" {
	run tks -v -b 10 echo "$TORNET_NAME_BLOCKED" "$TORNET_ECHO_PORT"
	echo "$output"
	assert_failure 1
	assert_line 'stream 0 error EXITPOLICY'
	# each of the two exits was asked once, then no exit was left
	[ "$(grep -c 'EXITPOLICY on circ' <<<"$output")" -eq 2 ]
	assert_output --partial 'no exit allows port'
}

@test "connect: refused at the destination fails (the exit's reason) instead of hanging" {
	run tks -b 10 echo "$TORNET_ECHO_HOST" "$TORNET_CLOSED_PORT"
	echo "$output"
	assert_failure 1
	assert_line --regexp '^stream 0 error (MISC|CONNECTREFUSED|DONE)$'
}

@test "isolation: keys a and b get different circuits, a again shares a's" {
	run tks -b 1000 iso "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT"
	echo "$output"
	assert_success
	a1=$(sed -nE 's/^stream 0 key a: circ ([0-9]+) .*/\1/p' <<<"$output")
	b=$(sed -nE 's/^stream 1 key b: circ ([0-9]+) .*/\1/p' <<<"$output")
	a2=$(sed -nE 's/^stream 2 key a: circ ([0-9]+) .*/\1/p' <<<"$output")
	[ -n "$a1" ] && [ -n "$b" ] && [ -n "$a2" ]
	[ "$a1" != "$b" ]
	[ "$a1" = "$a2" ]
}

@test "guards: guard-spec's sample in DataDirectory/state; the first primary guard is the first hop, across runs" {
	run tks -v resolve "$TORNET_NAME_A"
	assert_success
	[ -f "$dd/state" ]
	# tor's Guard lines: every tornet guard is sampled (fewer than
	# guard-min-filtered-sample-size), and the guard of the built
	# circuit is confirmed
	ids() { sed -nE 's/^Guard in=default rsa_id=([0-9A-F]{40}) .*/\1/p' "$dd/state"; }
	ids >"$BATS_TEST_TMPDIR/ids.1"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ids.1")" -ge 3 ]
	grep -q '^Guard in=default .* confirmed_idx=0' "$dd/state"
	grep -q '^CircuitBuildTimeBin [0-9]* [0-9]*$' "$dd/state"
	run tks -v resolve "$TORNET_NAME_A"
	assert_success
	ids | cmp - "$BATS_TEST_TMPDIR/ids.1"
	# primary guards: confirmed ones in confirmed order, then the others
	# in sample order; every circuit of the second run starts at the
	# first of them that is not its exit (the exit is chosen first and
	# the guard beside it, as tor does)
	primary=$( {
		sed -nE 's/^Guard in=default .*nickname=([^ ]+) .*confirmed_idx=([0-9]+).*/\2 \1/p' "$dd/state" | sort -n | cut -d' ' -f2
		grep '^Guard in=default' "$dd/state" | grep -v confirmed_idx |
			sed -nE 's/.*nickname=([^ ]+) .*/\1/p'
	} | head -n3)
	echo "primary guards: $primary" >&2
	grep 'building' <<<"$output" >&2
	[ "$(grep -c 'building ' <<<"$output")" -ge 1 ]
	bad=$(grep -oE 'building [^ ]+' <<<"$output" | cut -d' ' -f2 |
		while IFS='~' read -r g m e; do
			want=$(grep -vxF "$e" <<<"$primary" | head -n1)
			[ "$g" = "$want" ] || echo "$g~$m~$e (wanted $want first)"
		done)
	[ -z "$bad" ] || { echo "wrong first hop: $bad" >&2; false; }
}

@test "a relay killed under a live stream: clean DESTROY, the next stream works on a new circuit" {
	out=$BATS_TEST_TMPDIR/out
	"$TKSTREAM" -v -S -d "$dd" -f "$TORNET_DIRAUTHORITY_FILE" -t 100 \
		-b 100000 survive "$TORNET_ECHO_NAME" "$TORNET_ECHO_PORT" \
		>"$out" 2>"$BATS_TEST_TMPDIR/log" 3>&- &
	pid=$!
	wait_file "$out" '^stream 0 key'
	node=$(sed -nE 's/^stream 0 key [^:]*: circ [0-9]+ [^~]+~tn([a-z]+[0-9]+)~.*/\1/p' "$out")
	first=$(sed -nE 's/^stream 0 key [^:]*: circ ([0-9]+) .*/\1/p' "$out")
	[ -n "$node" ] && [ -f "$TORNET_DIR/run/$node.pid" ]
	kill -KILL "$(cat "$TORNET_DIR/run/$node.pid")"
	wait_file "$out" '^second stream ok' 900 || true
	tornet_relaunch "$node"
	rc=0
	wait "$pid" || rc=$?
	cat "$out" "$BATS_TEST_TMPDIR/log" >&2
	[ "$rc" -eq 0 ]
	grep -q '^stream failed: DESTROY$' "$out"
	second=$(sed -nE 's/^second stream ok on circ ([0-9]+)$/\1/p' "$out")
	[ -n "$second" ] && [ "$second" != "$first" ]
}
