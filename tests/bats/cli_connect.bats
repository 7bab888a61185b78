#!/usr/bin/env bats
# tor-connect: bytes both ways, half-close both ways, early data, files as
# stdin/stdout, SOCKS4/4a/5 on the wire, -z, -L. The scripted peer plays
# the proxy and the far end at once (its `echo` step echoes until EOF,
# then shuts its write side), so a client that never half-closes hangs
# and fails instead of passing.

load cli_helpers

teardown() {
	tk_stop_all
}

@test "stdin EOF shuts the write side; remote EOF ends the run after stdout has it all" {
	fake_start read hex:0500 read hex:05000001000000000000 echo
	run bash -c "printf 'hello\nworld\n' | timeout 30 '$TK_CONNECT' -P '$FAKE_PROXY' www.example.test 7"
	assert_exit 0
	assert_output "$(printf 'hello\nworld')"
	# What went on the wire: a SOCKS5 CONNECT with the name, port 7.
	run sed -n 3p "$FAKE_LOG"
	assert_output "05 01 00 03 10 77 77 77 2e 65 78 61 6d 70 6c 65 2e 74 65 73 74 00 07"
}

@test "a megabyte each way survives, from a file to a file" {
	fake_start read hex:0500 read hex:05000001000000000000 echo
	head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run bash -c "timeout 60 '$TK_CONNECT' -P '$FAKE_PROXY' 192.0.2.7 7 <'$BATS_TEST_TMPDIR/in' >'$BATS_TEST_TMPDIR/out'"
	assert_exit 0
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	# An IPv4 literal goes as ATYP 01.
	run sed -n 3p "$FAKE_LOG"
	assert_output "05 01 00 01 c0 00 02 07 00 07"
}

@test "the same through pipes on both sides" {
	fake_start read hex:0500 read hex:05000001000000000000 echo
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run bash -c "cat '$BATS_TEST_TMPDIR/in' | timeout 60 '$TK_CONNECT' -P '$FAKE_PROXY' '[2001:db8::7]' 7 | cat >'$BATS_TEST_TMPDIR/out'"
	assert_exit 0
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	run sed -n 3p "$FAKE_LOG"
	assert_output "05 01 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 07 00 07"
}

@test "bytes that arrive with the reply are not lost; remote EOF with stdin open" {
	# The far end talks first and closes; stdin stays open (a pipe that
	# never ends within the run): tor-connect must exit on remote EOF.
	fake_start read hex:0500 read "hex:05000001000000000000 48 49 0a" shut hang
	stdin_open_start
	run timeout 30 "$TK_CONNECT" -P "$FAKE_PROXY" www.example.test 7 <&5
	stdin_open_stop
	assert_exit 0
	assert_output "HI"
}

@test "-4a and -4 put SOCKS4a / SOCKS4 on the wire" {
	fake_start -n 2 read hex:005a000000000000 echo
	run bash -c "printf x | timeout 30 '$TK_CONNECT' -4a -P '$FAKE_PROXY' www.example.test 80"
	assert_exit 0
	assert_output "x"
	run bash -c "printf y | timeout 30 '$TK_CONNECT' -4 -P '$FAKE_PROXY' 192.0.2.7 80"
	assert_exit 0
	assert_output "y"
	run grep '^04' "$FAKE_LOG"
	assert_line --index 0 "04 01 00 50 00 00 00 01 00 77 77 77 2e 65 78 61 6d 70 6c 65 2e 74 65 73 74 00"
	assert_line --index 1 "04 01 00 50 c0 00 02 07 00"
}

@test "-z probes: open, or the failure and its exit code" {
	fake_start read hex:0500 read hex:05000001000000000000 / \
		read hex:0500 read hex:05050001000000000000
	run "$TK_CONNECT" -z -P "$FAKE_PROXY" www.example.test 22
	assert_exit 0
	assert_output "www.example.test:22 open"
	run "$TK_CONNECT" -z -P "$FAKE_PROXY" www.example.test 23
	assert_exit 1
	assert_output "tor-connect: www.example.test:23: connection refused (SOCKS5 reply 05)"
}

@test "-v reports the exchange and the half-close" {
	fake_start read hex:0500 read hex:05000001000000000000 echo
	run bash -c "printf ping | timeout 30 '$TK_CONNECT' -v -P '$FAKE_PROXY' www.example.test 7"
	assert_exit 0
	assert_line "tor-connect: > 05 01 00"
	assert_line --partial "connected through $FAKE_PROXY"
	assert_line --partial "end of stdin, write side shut down"
	assert_line --partial "closed by the remote end (4 bytes in, 4 out)"
}

@test "-L forwards each local connection through the proxy" {
	fake_start read hex:0500 read hex:05000001000000000000 echo
	# The proxy by name: the listener opens once its address is known.
	"$TK_CONNECT" -L 127.0.0.1:0 -P "localhost:$FAKE_PORT" www.example.test 7 \
		2>"$BATS_TEST_TMPDIR/fwd.err" &
	fwd=$!
	tk_track "$fwd"
	tk_wait_log "$BATS_TEST_TMPDIR/fwd.err" '^tor-connect: listening on ' 10
	port=$(sed -n 's/^tor-connect: listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$BATS_TEST_TMPDIR/fwd.err")
	[ -n "$port" ]
	run bash -c "printf 'one\n' | timeout 30 nc.openbsd -N 127.0.0.1 $port"
	assert_exit 0
	assert_output "one"
	run bash -c "printf 'two\n' | timeout 30 nc.openbsd -N 127.0.0.1 $port"
	assert_exit 0
	assert_output "two"
	run grep -c '^05 01 00 03 10 77' "$FAKE_LOG"
	assert_output 2
	# A failure is reported and the listener keeps going.
	tk_stop "$FAKE_PID"
	run bash -c "printf 'three\n' | timeout 30 nc.openbsd -N 127.0.0.1 $port"
	assert_output ""
	tk_wait_log "$BATS_TEST_TMPDIR/fwd.err" 'connection 3: www.example.test:7: cannot connect to proxy' 10
	kill -0 "$fwd"
}

@test "a reply and a 4,000-byte banner in one read: every byte arrives" {
	# One write of reply and banner: one read of ~4,010 bytes, more than
	# the reply buffer once held ("does not speak SOCKS").
	banner=$(head -c 4000 /dev/zero | tr '\0' 'b')
	fake_start read hex:0500 read "hex:05000001000000000000 $(printf '%s' "$banner" | od -An -v -tx1 | tr -d ' \n')" shut hang
	for i in 1 2 3 4 5; do
		run timeout 30 "$TK_CONNECT" -P "$FAKE_PROXY" www.example.test 7 </dev/null
		assert_exit 0
		[ "$output" = "$banner" ]
	done
}
