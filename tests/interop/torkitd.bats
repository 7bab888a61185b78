#!/usr/bin/env bats
# The same requests against torkitd (direct engine: tornet's dnsmasq, the
# exits' ExitPolicy) and against the real Tor client of tools/tornet. The
# answers must be the same, except for the deliberate differences of
# doc/differences.md; tests/interop/compare prints the byte-level table.

load helpers

setup_file() {
	start_torkitd "$BATS_FILE_TMPDIR"
}

teardown_file() {
	stop_torkitd "$BATS_FILE_TMPDIR"
}

setup() {
	T=$BATS_TEST_TMPDIR
}

# run_both PROXY-PLACEHOLDER-COMMAND...: runs the command with @PROXY@
# replaced by Tor's SocksPort, then by torkitd's; sets tor_status/tor_out
# and kd_status/kd_out.
run_both() {
	local a args_tor=() args_kd=()
	for a in "$@"; do
		args_tor+=("${a//@PROXY@/$TORNET_SOCKS}")
		args_kd+=("${a//@PROXY@/$KD}")
	done
	run "${args_tor[@]}"
	tor_status=$status tor_out=$(printf '%s' "$output" | strip_tor_log)
	run "${args_kd[@]}"
	kd_status=$status kd_out=$(printf '%s' "$output" | strip_tor_log)
	echo "tor: [$tor_status] $tor_out"
	echo "torkitd: [$kd_status] $kd_out"
}

LOOKUPS=(
	"echo.test" "v6only.test" "dual.test" "127.0.0.1" "-4 echo.test"
	"-x 192.0.2.10" "-x 2001:db8::6"
	"doesnotexist.test" "-4 doesnotexist.test" "-x 192.0.2.99" "-x 127.0.0.1"
)

@test "torkitd answers our tor-resolve exactly as Tor does, successes and failures" {
	local l
	for l in "${LOOKUPS[@]}"; do
		# shellcheck disable=SC2086
		run_both "$TK_RESOLVE" $l @PROXY@
		assert_equal "$kd_status" "$tor_status"
		assert_equal "$kd_out" "$tor_out"
	done
}

@test "torkitd answers Debian's tor-resolve as Tor does, except RESOLVE errors (ATYP 01, doc/differences.md)" {
	local l
	for l in "echo.test" "v6only.test" "dual.test" "127.0.0.1" "-4 echo.test" \
		"-x 192.0.2.10" "-x 2001:db8::6" "-4 doesnotexist.test"; do
		# shellcheck disable=SC2086
		run_both "$TOR_RESOLVE_DEB" $l @PROXY@
		assert_equal "$kd_status" "$tor_status"
		assert_equal "$kd_out" "$tor_out"
	done
	for l in "doesnotexist.test" "-x 192.0.2.99" "-x 127.0.0.1"; do
		# shellcheck disable=SC2086
		run_both "$TOR_RESOLVE_DEB" $l @PROXY@
		assert_equal "$tor_status" 1
		assert_equal "$kd_status" 1
		# Tor's ATYP 00 is unparsable to tor-resolve; ours gets the reason
		assert_equal "$tor_out" "[err] Failed parsing SOCKS5 response"
		assert_equal "$kd_out" "[warn] Got SOCKS5 status response '4': host is unreachable"
	done
}

@test "tor-ptr: the same answers from torkitd and Tor" {
	run_both "$TK_PTR" -P @PROXY@ 192.0.2.10 2001:db8::6 192.0.2.99 127.0.0.1
	assert_equal "$kd_status" "$tor_status"
	assert_equal "$kd_out" "$tor_out"
}

@test "curl fetches the same page through torkitd and Tor (socks5h, socks4a, socks4, socks5)" {
	local mode host
	for mode in socks5h socks4a socks4 socks5; do
		# socks4 and socks5 make curl resolve the name itself: an address
		host=echo.test
		[ "$mode" = socks4 ] || [ "$mode" = socks5 ] && host=127.0.0.1
		run_both curl -sS --max-time 60 -x "$mode://@PROXY@" "http://$host:$TORNET_HTTP_PORT/"
		assert_equal "$tor_status" 0
		assert_equal "$kd_status" 0
		assert_equal "$kd_out" "$TORNET_HTTP_BODY"
		assert_equal "$tor_out" "$TORNET_HTTP_BODY"
	done
}

@test "tor-connect: 300 KB through torkitd's echo stream, byte for byte, as through Tor" {
	head -c 300000 /dev/urandom >"$T/big.in"
	{
		cat "$T/big.in"
		wait_size "$T/big.kd" 300000
	} | timeout 120 "$TK_CONNECT" -P "$KD" echo.test "$TORNET_ECHO_PORT" >"$T/big.kd"
	cmp "$T/big.in" "$T/big.kd"
}

@test "half-close: torkitd carries it (the count server answers 5), Tor ends the stream (doc/differences.md)" {
	run timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" 127.0.0.1 "$TORNET_COUNT_PORT" <<<"hell"
	assert_success
	assert_output ""
	run timeout 90 "$TK_CONNECT" -P "$KD" 127.0.0.1 "$TORNET_COUNT_PORT" <<<"hell"
	assert_success
	assert_output "5"
}

@test "closed port: torkitd says connection refused (REP 05), Tor general failure (REP 01) (doc/differences.md)" {
	run_both curl -sS --max-time 60 --socks5-hostname @PROXY@ "http://127.0.0.1:$TORNET_CLOSED_PORT/"
	assert_equal "$tor_status" 97
	assert_equal "$kd_status" 97
	[[ $tor_out == *"(1)"* ]]
	[[ $kd_out == *"(5)"* ]]
	run timeout 60 "$TK_CONNECT" -P "$KD" 127.0.0.1 "$TORNET_CLOSED_PORT" </dev/null
	assert_failure 1
	assert_output --partial "refused"
}

@test "exit policy: torkitd refuses blocked.test with REP 02 (Tor retries until SocksTimeout)" {
	run timeout 60 "$TK_CONNECT" -P "$KD" "$TORNET_NAME_BLOCKED" "$TORNET_ECHO_PORT" </dev/null
	assert_failure 1
	assert_output --partial "not allowed"
}

@test "the side-by-side table: every difference is one doc/differences.md lists" {
	run "$TK_SRCDIR/tests/interop/compare" --torkitd "$KD" "$TORNET_DIR"
	echo "$output"
	assert_success
	refute_output --partial UNEXPECTED
	assert_output --partial "| 19 |"
	assert_output --partial "| 31 |"
}
