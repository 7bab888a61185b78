#!/usr/bin/env bats
# Streams through the real Tor client of tools/tornet: curl (Debian) and our
# tor-connect make the same CONNECTs over SOCKS5, 4a and 4 to tornet's
# http, echo and count services, and must see the same bytes.

load helpers

setup() {
	T=$BATS_TEST_TMPDIR
	REQ=$'GET / HTTP/1.0\r\nHost: echo.test\r\n\r\n'
}

teardown() {
	local f pid
	for f in "$T"/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
	done
}

# the body of tornet's one page, as curl fetches it through the proxy
curl_body() {
	curl -sS --max-time 60 "$@"
}

# our tor-connect sends an HTTP request and keeps stdin open until the
# page is in (a half-close would end the stream at Tor); prints the body.
tk_http() {
	local out=$T/http.$RANDOM
	hold_stdin "$out" "$TORNET_HTTP_BODY" "$REQ" |
		timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" "$@" >"$out"
	local rc=$?
	sed '1,/^\r$/d' "$out"
	return $rc
}

@test "SOCKS5 with the name sent to Tor: curl --socks5-hostname and tor-connect get the same page" {
	run curl_body --socks5-hostname "$TORNET_SOCKS" "http://echo.test:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run tk_http -5 echo.test "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
}

@test "SOCKS4a: curl --socks4a and tor-connect -4a get the same page" {
	run curl_body --socks4a "$TORNET_SOCKS" "http://echo.test:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run tk_http -4a echo.test "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
}

@test "SOCKS4 with an IPv4 address: curl --socks4 and tor-connect -4" {
	run curl_body --socks4 "$TORNET_SOCKS" "http://127.0.0.1:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run tk_http -4 127.0.0.1 "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
}

@test "SOCKS5 with an IPv4 address: curl --socks5 and tor-connect" {
	run curl_body --socks5 "$TORNET_SOCKS" "http://127.0.0.1:$TORNET_HTTP_PORT/"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run tk_http 127.0.0.1 "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
}

@test "echo: a line goes out and comes back; the remote close ends tor-connect with status 0" {
	hold_stdin "$T/echo.out" '^ping$' $'ping\n' |
		timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" echo.test "$TORNET_ECHO_PORT" >"$T/echo.out"
	assert_equal "$(cat "$T/echo.out")" ping
}

@test "echo of 300 KB of random bytes both ways, byte for byte (flow control with v1 SENDMEs)" {
	head -c 300000 /dev/urandom >"$T/big.in"
	{
		cat "$T/big.in"
		wait_size "$T/big.out" 300000
	} | timeout 120 "$TK_CONNECT" -P "$TORNET_SOCKS" echo.test "$TORNET_ECHO_PORT" >"$T/big.out"
	cmp "$T/big.in" "$T/big.out"
}

@test "half-close through Tor: Tor ends the stream, tor-connect exits 0 and the reply is lost (doc/differences.md)" {
	# the count server answers only after it saw EOF; Tor has no half-close
	run timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" 127.0.0.1 "$TORNET_COUNT_PORT" <<<"hello"
	assert_success
	assert_output ""
}

@test "unknown name: curl says SOCKS5 error 4, tor-connect exit 1 host is unreachable" {
	run curl_body --socks5-hostname "$TORNET_SOCKS" "http://$TORNET_NAME_NX:$TORNET_HTTP_PORT/"
	assert_failure 97
	assert_output --partial "($((4)))"
	run timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" "$TORNET_NAME_NX" "$TORNET_HTTP_PORT" </dev/null
	assert_failure 1
	assert_output --partial "host is unreachable"
}

@test "closed port at the destination: Tor answers REP 01 to curl and tor-connect alike" {
	run curl_body --socks5-hostname "$TORNET_SOCKS" "http://127.0.0.1:$TORNET_CLOSED_PORT/"
	assert_failure 97
	assert_output --partial "(1)"
	run timeout 90 "$TK_CONNECT" -P "$TORNET_SOCKS" 127.0.0.1 "$TORNET_CLOSED_PORT" </dev/null
	assert_failure 1
	assert_output --partial "general"
}

@test "tor-connect -z probes: 0 for the echo server, 1 for an unknown name" {
	run timeout 90 "$TK_CONNECT" -z -P "$TORNET_SOCKS" echo.test "$TORNET_ECHO_PORT"
	assert_success
	run timeout 90 "$TK_CONNECT" -z -P "$TORNET_SOCKS" "$TORNET_NAME_NX" "$TORNET_ECHO_PORT"
	assert_failure 1
}

# circuit ids of the open streams to the echo server, from stream-status
# (Tor shows the target as the address the exit connected to)
stream_circuits() {
	awk -v p=":$TORNET_ECHO_PORT" '$2 == "SUCCEEDED" && substr($4, length($4) - length(p) + 1) == p { print $3 }'
}

# open_stream NAME tor-connect-args...: a stream to the echo server that
# stays open (its stdin is a fifo we hold open) once "ping" came back.
open_stream() {
	local name=$1 fd
	shift
	mkfifo "$T/$name.in"
	(
		# not the write ends we hold for the other streams, or their
		# tor-connect would never see EOF on stdin
		for fd in ${HELD_FDS:-}; do
			exec {fd}>&-
		done
		exec "$TK_CONNECT" -P "$TORNET_SOCKS" "$@" echo.test "$TORNET_ECHO_PORT" \
			<"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" 3>&-
	) &
	echo $! >"$T/$name.pid"
	exec {fd}>"$T/$name.in"
	HELD_FDS="${HELD_FDS:-} $fd"
	echo "$fd" >"$T/$name.fd"
	printf 'ping\n' >&"$fd"
	wait_file "$T/$name.out" '^ping$'
}

close_stream() {
	local name=$1 fd
	fd=$(cat "$T/$name.fd")
	exec {fd}>&-
	wait "$(cat "$T/$name.pid")"
	rm -f "$T/$name.pid"
}

@test "isolation: streams with different SOCKS credentials ride different circuits, each isolated to its user" {
	TOR_SOCKS_PASSWORD=one open_stream alice -u alice
	TOR_SOCKS_PASSWORD=two open_stream bob -u bob
	local ca cb
	run control "GETINFO stream-status"
	echo "$output"
	ca=$(echo "$output" | stream_circuits | sed -n 1p)
	cb=$(echo "$output" | stream_circuits | sed -n 2p)
	[ -n "$ca" ] && [ -n "$cb" ]
	assert_not_equal "$ca" "$cb"
	# each circuit carries exactly one of the two users
	run circuit_user "$ca"
	local ua=$output
	run circuit_user "$cb"
	local ub=$output
	assert_equal "$(printf '%s\n' "$ua" "$ub" | sort | paste -sd,)" "alice,bob"
	close_stream alice
	close_stream bob
}

@test "isolation: the same credentials share one circuit" {
	TOR_SOCKS_PASSWORD=three open_stream c1 -u carol
	TOR_SOCKS_PASSWORD=three open_stream c2 -u carol
	run control "GETINFO stream-status"
	echo "$output"
	local circs
	circs=$(echo "$output" | stream_circuits | sort -u)
	assert_equal "$(echo "$circs" | wc -l)" 1
	run circuit_user "$circs"
	assert_output carol
	close_stream c1
	close_stream c2
}

@test "isolation: -i gives each run fresh credentials, so a circuit of its own" {
	open_stream r1 -i
	open_stream r2 -i
	run control "GETINFO stream-status"
	echo "$output"
	local circs
	circs=$(echo "$output" | stream_circuits | sort -u)
	assert_equal "$(echo "$circs" | wc -l)" 2
	close_stream r1
	close_stream r2
}

@test "names go to Tor, never to the local resolver: curl --socks5 (local DNS) cannot reach echo.test, ours can" {
	# the machine's resolver does not know tornet's names ...
	run getent hosts echo.test
	assert_failure
	run curl_body --socks5 "$TORNET_SOCKS" "http://echo.test:$TORNET_HTTP_PORT/"
	assert_failure
	assert_output --partial "resolve host"
	# ... so these work only because the name went through the proxy
	run tk_http -5 echo.test "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
	run tk_http -4a echo.test "$TORNET_HTTP_PORT"
	assert_success
	assert_output "$TORNET_HTTP_BODY"
}
