#!/usr/bin/env bats
# Lookups through the real Tor client of tools/tornet: Debian's tor-resolve
# and ours (tor-resolve, tor-ptr) ask the same questions and must print the
# same answers. The DNS records are tornet's (tools/tornet env).

load helpers

# Debian's tor-resolve, then ours, with the same arguments; both must
# exit the same way and print the same stdout.
same_as_debian() {
	run "$TOR_RESOLVE_DEB" "$@" "$TORNET_SOCKS"
	deb_status=$status deb_output=$output
	run "$TK_RESOLVE" "$@" "$TORNET_SOCKS"
	assert_equal "$status" "$deb_status"
}

@test "forward A: echo.test gives 127.0.0.1, Debian's tor-resolve and ours" {
	run "$TOR_RESOLVE_DEB" "$TORNET_NAME_A" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run "$TK_RESOLVE" "$TORNET_NAME_A" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_A"
}

@test "forward AAAA-only name: v6only.test gives 2001:db8::6 (exits with IPv6Exit ask AAAA)" {
	run "$TOR_RESOLVE_DEB" "$TORNET_NAME_AAAA_ONLY" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_AAAA_ONLY"
	run "$TK_RESOLVE" "$TORNET_NAME_AAAA_ONLY" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_AAAA_ONLY"
}

@test "forward A and AAAA: Tor answers the A record, both clients print it" {
	run "$TOR_RESOLVE_DEB" "$TORNET_NAME_DUAL" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
	run "$TK_RESOLVE" "$TORNET_NAME_DUAL" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_DUAL_A"
}

@test "forward over SOCKS4a (-4): same answer from both clients" {
	run "$TOR_RESOLVE_DEB" -4 "$TORNET_NAME_A" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run "$TK_RESOLVE" -4 "$TORNET_NAME_A" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_ADDR_A"
}

@test "our -P, -p and TOR_SOCKS_PORT reach the same Tor" {
	run "$TK_RESOLVE" -P "$TORNET_SOCKS" "$TORNET_NAME_A"
	assert_success
	assert_output "$TORNET_ADDR_A"
	run "$TK_RESOLVE" -p "$TORNET_SOCKS_PORT" "$TORNET_NAME_A"
	assert_success
	assert_output "$TORNET_ADDR_A"
	TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT=$TORNET_SOCKS_PORT run "$TK_RESOLVE" "$TORNET_NAME_A"
	assert_success
	assert_output "$TORNET_ADDR_A"
}

@test "NXDOMAIN: Tor answers REP 04 with ATYP 00; Debian's tor-resolve cannot parse it, ours names the reason" {
	run "$SOCKSRAW" "$TORNET_SOCKS" s:050100 r:2 \
		"s:05f00003$(printf '%02x' ${#TORNET_NAME_NX})$(printf '%s' "$TORNET_NAME_NX" | xxd -p)0000" e
	assert_success
	assert_output "050005040000000000000000 [closed]"
	same_as_debian "$TORNET_NAME_NX"
	assert_equal "$status" 1
	assert_equal "$(printf '%s' "$deb_output" | strip_tor_log)" "[err] Failed parsing SOCKS5 response"
	assert_output "tor-resolve: $TORNET_NAME_NX: host is unreachable (SOCKS5 reply 04)"
}

@test "NXDOMAIN over SOCKS4a: both exit 1" {
	same_as_debian -4 "$TORNET_NAME_NX"
	assert_equal "$status" 1
	assert_equal "$(printf '%s' "$deb_output" | strip_tor_log)" \
		"[warn] Got status response '91': socks request failed."
	assert_output --partial "$TORNET_NAME_NX"
	assert_output --partial "5B"
}

@test "reverse IPv4: 192.0.2.10 gives ptr.test (Debian -x, our -x and tor-ptr)" {
	run "$TOR_RESOLVE_DEB" -x "$TORNET_PTR4_ADDR" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_PTR4_NAME"
	run "$TK_RESOLVE" -x "$TORNET_PTR4_ADDR" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_PTR4_NAME"
	run "$TK_PTR" -P "$TORNET_SOCKS" "$TORNET_PTR4_ADDR"
	assert_success
	assert_output "$TORNET_PTR4_NAME"
}

@test "reverse IPv6: 2001:db8::6 gives v6only.test (ip6.arpa at the exit)" {
	run "$TOR_RESOLVE_DEB" -x "$TORNET_PTR6_ADDR" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_PTR6_NAME"
	run "$TK_RESOLVE" -x "$TORNET_PTR6_ADDR" "$TORNET_SOCKS"
	assert_success
	assert_output "$TORNET_PTR6_NAME"
	run "$TK_PTR" -P "$TORNET_SOCKS" "$TORNET_PTR6_ADDR"
	assert_success
	assert_output "$TORNET_PTR6_NAME"
}

@test "reverse with no PTR record: both fail" {
	same_as_debian -x "$TORNET_PTR_NX"
	assert_equal "$status" 1
	run "$TK_PTR" -P "$TORNET_SOCKS" "$TORNET_PTR_NX"
	assert_equal "$status" 1
	assert_output "tor-ptr: $TORNET_PTR_NX: host is unreachable (SOCKS5 reply 04)"
}

@test "internal-address PTR: exits refuse 127.0.0.1 before asking DNS" {
	local before after
	before=$(grep -c 'PTR\] 1.0.0.127.in-addr.arpa' "$TORNET_DIR/dnsmasq.log" || true)
	same_as_debian -x "$TORNET_PTR_INTERNAL"
	assert_equal "$status" 1
	run "$TK_PTR" -P "$TORNET_SOCKS" "$TORNET_PTR_INTERNAL"
	assert_equal "$status" 1
	assert_output "tor-ptr: $TORNET_PTR_INTERNAL: host is unreachable (SOCKS5 reply 04)"
	# dnsmasq has that PTR record, so a refusal means no query was made
	after=$(grep -c 'PTR\] 1.0.0.127.in-addr.arpa' "$TORNET_DIR/dnsmasq.log" || true)
	assert_equal "$after" "$before"
}

@test "batch: our tor-resolve resolves several names in one run, each as Debian's does alone" {
	local n expect=""
	for n in "$TORNET_NAME_A" "$TORNET_NAME_AAAA_ONLY" "$TORNET_NAME_DUAL"; do
		run "$TOR_RESOLVE_DEB" "$n" "$TORNET_SOCKS"
		assert_success
		expect+="$n"$'\t'"$output"$'\n'
	done
	run "$TK_RESOLVE" -P "$TORNET_SOCKS" "$TORNET_NAME_A" "$TORNET_NAME_AAAA_ONLY" "$TORNET_NAME_DUAL"
	assert_success
	assert_output "${expect%$'\n'}"
}

@test "batch with a failure: the good answers still come, exit 1, --json says why" {
	run "$TK_RESOLVE" --json -P "$TORNET_SOCKS" "$TORNET_NAME_A" "$TORNET_NAME_NX"
	assert_failure 1
	assert_line '{"query":"echo.test","type":"A","answer":"127.0.0.1"}'
	assert_line --partial '"query":"doesnotexist.test","error":"host is unreachable (SOCKS5 reply 04)"'
}

@test "tor-ptr batch: IPv4 and IPv6 in one run" {
	run "$TK_PTR" -P "$TORNET_SOCKS" "$TORNET_PTR4_ADDR" "$TORNET_PTR6_ADDR"
	assert_success
	assert_line "$TORNET_PTR4_ADDR"$'\t'"$TORNET_PTR4_NAME"
	assert_line "$TORNET_PTR6_ADDR"$'\t'"$TORNET_PTR6_NAME"
}

@test "an IP literal is answered by Tor itself, the same for both clients" {
	run "$TOR_RESOLVE_DEB" 127.0.0.1 "$TORNET_SOCKS"
	assert_success
	assert_output 127.0.0.1
	run "$TK_RESOLVE" 127.0.0.1 "$TORNET_SOCKS"
	assert_success
	assert_output 127.0.0.1
}
