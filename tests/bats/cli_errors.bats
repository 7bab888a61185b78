#!/usr/bin/env bats
# Exit codes 1, 3 and 4 with real causes, the same in all three clients:
# a port nobody listens on, a listener that never accepts, and the scripted
# peer answering what no correct proxy sends.

load cli_helpers

teardown() {
	tk_stop_all
}

# run_all PROXY: runs each client against PROXY; the results land in
# st_resolve/st_ptr/st_connect and out_*.
run_all() {
	run "$TK_RESOLVE" "$@" www.example.test
	st_resolve=$status out_resolve=$output
	run "$TK_PTR" "$@" 192.0.2.10
	st_ptr=$status out_ptr=$output
	run "$TK_CONNECT" "$@" www.example.test 80 </dev/null
	st_connect=$status out_connect=$output
}

# expect_all CODE TEXT: the three got exit CODE and said TEXT.
expect_all() {
	local p st out
	for p in resolve ptr connect; do
		eval "st=\$st_$p out=\$out_$p"
		if [ "$st" -ne "$1" ] || [[ $out != *"$2"* ]]; then
			echo "tor-$p: exit $st (want $1), output: $out" >&2
			echo "(wanted text: $2)" >&2
			return 1
		fi
	done
}

hex_of() { printf '%b' "$1" | od -An -v -tx1 | tr -d ' \n'; }

@test "exit 3: connection refused" {
	port=$(tk_free_port)
	run_all -P "127.0.0.1:$port"
	expect_all 3 "cannot connect to proxy 127.0.0.1:$port: connection refused"
}

@test "exit 3: no connection within -w (a listener that never accepts)" {
	fake_start -F
	run_all -w 0.3 -P "$FAKE_PROXY"
	expect_all 3 "no connection after 0.3s"
}

@test "exit 3: the proxy speaks HTTP" {
	fake_start read "hex:$(hex_of 'HTTP/1.0 501 Tor is not an HTTP Proxy\r\nContent-Type: text/html\r\n\r\n<html>')"
	run_all -P "$FAKE_PROXY"
	expect_all 3 "answered in HTTP: it is an HTTP proxy or server, not SOCKS"
}

@test "exit 3: garbage instead of a method choice, and after it" {
	fake_start read hex:4142434445
	run_all -P "$FAKE_PROXY"
	expect_all 3 "does not speak SOCKS"
	tk_stop "$FAKE_PID"
	fake_start read hex:0500 read hex:07000001
	run_all -P "$FAKE_PROXY"
	expect_all 3 "does not speak SOCKS"
}

@test "exit 3: a truncated reply" {
	fake_start read hex:0500 read hex:050000
	run_all -P "$FAKE_PROXY"
	expect_all 3 "truncated reply: it closed the connection after 5 bytes"
	tk_stop "$FAKE_PID"
	# Half a method choice.
	fake_start read hex:05
	run_all -P "$FAKE_PROXY"
	expect_all 3 "truncated reply"
}

@test "exit 3: closed without a word" {
	fake_start read close
	run_all -P "$FAKE_PROXY"
	expect_all 3 "closed the connection without answering"
}

@test "exit 4: accepts and never answers, or stops after the method choice" {
	fake_start read hang
	run_all -t 0.3 -P "$FAKE_PROXY"
	expect_all 4 "no answer from proxy $FAKE_PROXY within 0.3s"
	tk_stop "$FAKE_PID"
	fake_start read hex:0500 read hang
	run_all -t 0.3 -P "$FAKE_PROXY"
	expect_all 4 "no answer from proxy"
}

@test "exit 1: Tor's RESOLVE error with ATYP 00 gives the reason in words" {
	fake_start read hex:0500 read hex:05040000000000000000
	run "$TK_RESOLVE" nx.example.test "$FAKE_PROXY"
	assert_exit 1
	assert_output "tor-resolve: nx.example.test: host is unreachable (SOCKS5 reply 04)"
	run "$TK_PTR" -P "$FAKE_PROXY" 192.0.2.99
	assert_exit 1
	assert_output --partial "host is unreachable"
}

@test "exit 1: every SOCKS5 reply code and Tor's F0-F7, in words" {
	local codes=(01 02 03 04 05 06 07 08 f0 f1 f2 f3 f4 f5 f6 f7)
	local words=("general error" "not allowed" "network is unreachable"
		"host is unreachable" "connection refused" "ttl expired"
		"command not supported" "address type not supported"
		"onion service descriptor can not be found"
		"onion service descriptor is invalid"
		"onion service introduction failed"
		"onion service rendezvous failed"
		"onion service missing client authorization"
		"onion service wrong client authorization"
		"onion service invalid address"
		"onion service introduction timed out")
	local i
	for i in "${!codes[@]}"; do
		fake_start -n 3 read hex:0500 read "hex:05${codes[$i]}0001000000000000"
		run_all -P "$FAKE_PROXY"
		expect_all 1 "${words[$i]} (SOCKS5 reply ${codes[$i]^^})"
		tk_stop "$FAKE_PID"
	done
}

@test "exit 1: no acceptable method, rejected password, SOCKS4 5B" {
	fake_start read hex:05ff
	run_all -P "$FAKE_PROXY"
	expect_all 1 "accepts none of the offered authentication methods (does it need -u?)"
	tk_stop "$FAKE_PID"
	fake_start read hex:0502 read hex:0101
	TOR_SOCKS_PASSWORD=b run_all -u a -P "$FAKE_PROXY"
	expect_all 1 "rejected the username/password"
	tk_stop "$FAKE_PID"
	fake_start read hex:005b000000000000
	run "$TK_RESOLVE" -4 -P "$FAKE_PROXY" www.example.test
	assert_exit 1
	assert_output --partial "request rejected or failed (SOCKS4 reply 5B)"
	run "$TK_CONNECT" -4a -P "$FAKE_PROXY" www.example.test 80 </dev/null
	assert_exit 1
	assert_output --partial "request rejected or failed (SOCKS4 reply 5B)"
}

@test "--json carries the error, the reply code and the exit code" {
	fake_start read hex:0500 read hex:05040000000000000000
	run "$TK_RESOLVE" --json -P "$FAKE_PROXY" nx.example.test
	assert_exit 1
	assert_output '{"query":"nx.example.test","error":"host is unreachable (SOCKS5 reply 04)","reply":4,"exit":1}'
}

@test "batch: per-name errors on stderr, the worst exit code wins" {
	# One lookup per connection, in order with -j 1: success, Tor's
	# ATYP-00 failure, a silent close.
	fake_start read hex:0500 read hex:05000001c000020a0000 / \
		read hex:0500 read hex:05040000000000000000 / read close
	run --separate-stderr "$TK_RESOLVE" -j 1 -P "$FAKE_PROXY" a.test b.test c.test
	assert_exit 3
	assert_output "a.test	192.0.2.10"
	[[ $stderr == *"tor-resolve: b.test: host is unreachable (SOCKS5 reply 04)"* ]]
	[[ $stderr == *"tor-resolve: c.test: proxy $FAKE_PROXY closed the connection without answering"* ]]
	# The same three answers again, as JSON on stdout.
	run --separate-stderr "$TK_RESOLVE" -j 1 -P "$FAKE_PROXY" --json d.test e.test f.test
	assert_exit 3
	assert_line --index 0 '{"query":"d.test","type":"A","answer":"192.0.2.10"}'
	assert_line --index 1 '{"query":"e.test","error":"host is unreachable (SOCKS5 reply 04)","reply":4,"exit":1}'
	assert_line --index 2 --partial '{"query":"f.test","error":"proxy '
	assert_line --index 2 --partial '"exit":3}'
	[ -z "$stderr" ]
	# Only failures of kind 1: exit 1.
	run "$TK_RESOLVE" -j 1 -P "$FAKE_PROXY" g.test h.test
	assert_exit 1
}

@test "answers that arrive a byte at a time are put together" {
	fake_start read drip:0500 read drip:05000003107777772e6578616d706c652e746573740000 / \
		read drip:0500 read drip:050000042001 "drip:0db8 0000000000000000000000 0a 0000" / \
		read drip:0500 read drip:05f60001000000000000
	run "$TK_PTR" -P "$FAKE_PROXY" 192.0.2.10
	assert_exit 0
	assert_output "www.example.test"
	run "$TK_RESOLVE" -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	assert_output "2001:db8::a"
	run "$TK_CONNECT" -P "$FAKE_PROXY" x.onion 80 </dev/null
	assert_exit 1
	assert_output "tor-connect: x.onion:80: onion service invalid address (SOCKS5 reply F6)"
}

@test "a name with control characters from the proxy is printed escaped" {
	fake_start read hex:0500 read "hex:05000003 0b 1b5b33316d6576696c0a78 0000" / \
		read hex:0500 read "hex:05000003 0b 1b5b33316d6576696c0a78 0000"
	run "$TK_PTR" -P "$FAKE_PROXY" 192.0.2.10
	assert_exit 0
	assert_output '\x1b[31mevil\x0ax'
	run "$TK_PTR" --json -P "$FAKE_PROXY" 192.0.2.10
	assert_output '{"query":"192.0.2.10","type":"PTR","answer":"\u001b[31mevil\nx"}'
}
