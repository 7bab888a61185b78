#!/usr/bin/env bats
# Option parsing of tor-resolve, tor-ptr and tor-connect: help, version,
# usage errors (exit 2, nothing sent), where the proxy address comes from.

load cli_helpers

setup() {
	unset TOR_SOCKS_HOST TOR_SOCKS_PORT
}

teardown() {
	tk_stop_all
}

@test "--help and -h print the synopsis and exit 0 (all three)" {
	for p in "$TK_RESOLVE" "$TK_PTR" "$TK_CONNECT"; do
		run "$p" --help
		assert_exit 0
		assert_output --partial "usage: $(basename "$p")"
		assert_output --partial "-P proxy"
		run "$p" -h
		assert_exit 0
	done
}

@test "--version names the program and torkit" {
	for p in "$TK_RESOLVE" "$TK_PTR" "$TK_CONNECT"; do
		run "$p" --version
		assert_exit 0
		assert_output --regexp "^$(basename "$p") \(torkit\) [0-9]"
	done
}

@test "usage errors exit 2 and say what is wrong" {
	run "$TK_RESOLVE"
	assert_exit 2
	assert_output --partial "no hostname given"
	run "$TK_RESOLVE" -Q x
	assert_exit 2
	assert_output --partial "unknown option -Q"
	run "$TK_RESOLVE" -p 0 x
	assert_exit 2
	assert_output --partial 'bad port "0" for -p'
	run "$TK_RESOLVE" -p
	assert_exit 2
	assert_output --partial "needs an argument"
	run "$TK_RESOLVE" -j 0 a b c
	assert_exit 2
	run "$TK_RESOLVE" -t abc x
	assert_exit 2
	assert_output --partial 'bad timeout "abc"'
	run "$TK_RESOLVE" -x -4 192.0.2.1
	assert_exit 2
	assert_output --partial "reverse lookups need SOCKS5"
	run "$TK_RESOLVE" -i -u a x
	assert_exit 2
	run "$TK_RESOLVE" -P '[::1' x
	assert_exit 2
	assert_output --partial "missing ']'"
	run "$TK_PTR"
	assert_exit 2
	assert_output --partial "no address given"
	run "$TK_PTR" -4 192.0.2.1
	assert_exit 2
	run "$TK_PTR" --ipv6 192.0.2.1
	assert_exit 2
	run "$TK_CONNECT" host
	assert_exit 2
	assert_output --partial "missing host and port"
	run "$TK_CONNECT" host 0
	assert_exit 2
	run "$TK_CONNECT" host http
	assert_exit 2
	assert_output --partial "service names are not looked up"
	run "$TK_CONNECT" -z -L 0 host 1
	assert_exit 2
	run "$TK_CONNECT" --json host 1
	assert_exit 2
}

@test "input is checked before any connection: tor-ptr foo, .onion, -4 name" {
	fake_start read hex:0500 read hex:05000001c000020a0000
	run "$TK_PTR" -P "$FAKE_PROXY" foo
	assert_exit 2
	assert_output "tor-ptr: not an IP address: foo"
	run "$TK_RESOLVE" -x foo "$FAKE_PROXY"
	assert_exit 2
	assert_output "tor-resolve: not an IP address: foo"
	# In a batch the good ones still go; the bad one is named.
	run --separate-stderr "$TK_PTR" -P "$FAKE_PROXY" 192.0.2.10 foo
	assert_exit 2
	assert_output "192.0.2.10	192.0.2.10"
	[ "$stderr" = "tor-ptr: not an IP address: foo" ]
	: >"$FAKE_LOG"
	run "$TK_RESOLVE" -P "$FAKE_PROXY" abcdefghijklmnop.onion
	assert_exit 2
	assert_output --partial "onion service name has no IP address"
	run "$TK_RESOLVE" -P "$FAKE_PROXY" EXAMPLE.ONION.
	assert_exit 2
	run "$TK_RESOLVE" -P "$FAKE_PROXY" "$(printf 'a%.0s' {1..255})"
	assert_exit 2
	assert_output --partial "name too long"
	run "$TK_CONNECT" -4 -P "$FAKE_PROXY" www.example.test 80
	assert_exit 2
	assert_output --partial "-4 (SOCKS4) needs an IPv4 address"
	# Not one of them reached the proxy.
	run cat "$FAKE_LOG"
	assert_output ""
}

@test "the proxy: -P, Tor's trailing sockshost, -p, TOR_SOCKS_HOST/PORT, default" {
	fake_start read hex:0500 read hex:05000001c000020a0000
	run "$TK_RESOLVE" www.example.test "$FAKE_PROXY"
	assert_exit 0
	assert_output "192.0.2.10"
	run "$TK_RESOLVE" -p "$FAKE_PORT" www.example.test 127.0.0.1
	assert_exit 0
	assert_output "192.0.2.10"
	run "$TK_RESOLVE" -p "$FAKE_PORT" www.example.test
	assert_exit 0
	run "$TK_RESOLVE" -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	run "$TK_RESOLVE" -P "$FAKE_PORT" www.example.test
	assert_exit 0
	TOR_SOCKS_HOST=127.0.0.1 TOR_SOCKS_PORT=$FAKE_PORT run "$TK_RESOLVE" www.example.test
	assert_exit 0
	assert_output "192.0.2.10"
	TOR_SOCKS_HOST=127.0.0.1:$FAKE_PORT run "$TK_PTR" 192.0.2.10
	assert_exit 0
	# -P wins over the environment.
	TOR_SOCKS_HOST=127.0.0.1:1 run "$TK_RESOLVE" -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	# Conflicting ports: Tor's warning, and the address's port wins.
	run "$TK_RESOLVE" -p 1 www.example.test "$FAKE_PROXY"
	assert_exit 0
	assert_output --partial "conflicting ports; using $FAKE_PORT, not 1"
	# The default is 127.0.0.1:9050 (shown by -v; the connect may fail).
	run "$TK_RESOLVE" -v -w 2 -t 1 www.example.test
	assert_output --partial "proxy 127.0.0.1:9050"
	TOR_SOCKS_PORT=1 run "$TK_RESOLVE" www.example.test
	assert_exit 3
	assert_output --partial "127.0.0.1:1: connection refused"
	TOR_SOCKS_PORT=x run "$TK_RESOLVE" www.example.test
	assert_exit 2
}

@test "a proxy given by name is resolved locally; -P [::1]:port works" {
	fake_start read hex:0500 read hex:05000001c000020a0000
	run "$TK_RESOLVE" -P "localhost:$FAKE_PORT" www.example.test
	assert_exit 0
	assert_output "192.0.2.10"
	run "$TK_RESOLVE" -P "[::1]:1" www.example.test
	assert_exit 3
	assert_output --partial "[::1]:1"
}

@test "a password is never taken from the command line" {
	run "$TK_RESOLVE" -u alice:secret -P 127.0.0.1:1 www.example.test
	assert_exit 2
	assert_output --partial "-u takes the user name only: put the password in TOR_SOCKS_PASSWORD or in a file given with --password-file"
	run "$TK_CONNECT" -u alice:secret -P 127.0.0.1:1 www.example.test 80
	assert_exit 2
	run "$TK_RESOLVE" --password-file /nonexistent -P 127.0.0.1:1 www.example.test
	assert_exit 2
	assert_output --partial "--password-file goes with -u"
}

@test "-u sends RFC 1929 credentials, the password from TOR_SOCKS_PASSWORD or a file; -i fresh random ones each run" {
	fake_start read hex:0502 read hex:0100 read hex:05000001c000020a0000
	TOR_SOCKS_PASSWORD=secret run "$TK_RESOLVE" -u alice -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	run sed -n 2,3p "$FAKE_LOG"
	assert_line --index 0 "05 02 00 02"
	assert_line --index 1 "01 05 61 6c 69 63 65 06 73 65 63 72 65 74"
	: >"$FAKE_LOG"
	printf 'from a file\nsecond line\n' >"$BATS_TEST_TMPDIR/pw"
	TOR_SOCKS_PASSWORD=ignored run "$TK_RESOLVE" -u bob --password-file "$BATS_TEST_TMPDIR/pw" \
		-P "$FAKE_PROXY" www.example.test
	assert_exit 0
	run sed -n 3p "$FAKE_LOG"
	assert_output "01 03 62 6f 62 0b 66 72 6f 6d 20 61 20 66 69 6c 65"
	: >"$FAKE_LOG"
	run "$TK_RESOLVE" -i -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	run "$TK_RESOLVE" -i -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	run grep -c '^01 10 ' "$FAKE_LOG"
	assert_output 2
	first=$(grep '^01 10 ' "$FAKE_LOG" | sed -n 1p)
	second=$(grep '^01 10 ' "$FAKE_LOG" | sed -n 2p)
	[ "$first" != "$second" ]
}

@test "SOCKS4a: tor-resolve -4 sends Tor's bytes and reads the 8-byte answer" {
	fake_start read hex:005a0000c000020a
	run "$TK_RESOLVE" -4 www.example.test "$FAKE_PROXY"
	assert_exit 0
	assert_output "192.0.2.10"
	run sed -n 2p "$FAKE_LOG"
	assert_output "04 f0 00 00 00 00 00 01 00 77 77 77 2e 65 78 61 6d 70 6c 65 2e 74 65 73 74 00"
}

@test "-v shows the bytes sent and received in hex" {
	fake_start read hex:0500 read hex:05000001c000020a0000
	run "$TK_RESOLVE" -v -P "$FAKE_PROXY" www.example.test
	assert_exit 0
	assert_line "tor-resolve: > 05 01 00"
	assert_line "tor-resolve: < 05 00"
	assert_line "tor-resolve: > 05 f0 00 03 10 77 77 77 2e 65 78 61 6d 70 6c 65 2e 74 65 73 74 00 00"
	assert_line "tor-resolve: < 05 00 00 01 c0 00 02 0a 00 00"
	assert_line "192.0.2.10"
}

@test "a unix: proxy works for all three" {
	fake_start -U "$BATS_TEST_TMPDIR/socks.sock" read hex:0500 read hex:05000001c000020a0000
	run "$TK_RESOLVE" -P "unix:$FAKE_PATH" www.example.test
	assert_exit 0
	assert_output "192.0.2.10"
	run "$TK_PTR" -P "unix:$FAKE_PATH" 192.0.2.10
	assert_exit 0
	run "$TK_CONNECT" -z -P "unix:$FAKE_PATH" www.example.test 80
	assert_exit 0
	assert_output "www.example.test:80 open"
	TOR_SOCKS_HOST="unix:$FAKE_PATH" run "$TK_RESOLVE" www.example.test
	assert_exit 0
	run "$TK_RESOLVE" -P "unix:$BATS_TEST_TMPDIR/nothing.sock" www.example.test
	assert_exit 3
}
