#!/usr/bin/env bats
# torkitd's relay: half-close both ways, bulk data through backpressure,
# early (optimistic) data, unix and IPv6 SocksPorts.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

setup() {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	dh_torkitd "ExitPolicyRejectPrivate 0"
	P=$(dh_hexport "$ECHO")
}

teardown() { tk_stop_all; }

@test "client half-close: the target sees EOF, its answer still arrives" {
	run bash -c "printf 'line one\nline two\n' | timeout 20 nc.openbsd -N -X 5 -x 127.0.0.1:$DH_PORT echo.example.test $ECHO"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'line one\nline two')" ]
}

@test "target half-close: the client sees EOF and can still send" {
	out="$BATS_TEST_TMPDIR/banner.out"
	dh_target BANNER banner "hello from target" "$out"
	exec 7<>"/dev/tcp/127.0.0.1/$DH_PORT"
	printf "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x$(printf %02x $((BANNER >> 8)))\x$(printf %02x $((BANNER & 255)))" >&7
	# Read to EOF: the target's FIN reaches us while our side stays open.
	timeout 20 cat <&7 >"$BATS_TEST_TMPDIR/got"
	[ "$(tail -c 17 "$BATS_TEST_TMPDIR/got")" = "hello from target" ]
	[ "$(head -c 12 "$BATS_TEST_TMPDIR/got" | od -An -tx1 | tr -d ' \n')" = "050005000001000000000000" ]
	printf 'sent after the target closed' >&7
	exec 7>&-
	for ((i = 0; i < 200; i++)); do
		[ "$(cat "$out" 2>/dev/null)" = "sent after the target closed" ] && break
		sleep 0.05
	done
	[ "$(cat "$out")" = "sent after the target closed" ]
}

@test "bulk: 24 MiB echoed both ways at once arrive intact (backpressure)" {
	head -c $((24 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/in"
	timeout 120 nc.openbsd -N -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$ECHO" \
		<"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "bulk download: 64 MiB from a source target" {
	dh_target SRC source $((64 * 1024 * 1024))
	timeout 120 nc.openbsd -d -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$SRC" \
		>"$BATS_TEST_TMPDIR/out"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/out")" -eq $((64 * 1024 * 1024)) ]
	# the pattern is 'a'..'z' repeating per 64 KiB block
	[ "$(head -c 26 "$BATS_TEST_TMPDIR/out")" = "abcdefghijklmnopqrstuvwxyz" ]
}

@test "data sent before the reply (optimistic data) reaches the target first" {
	big=$(head -c 1500 /dev/zero | tr '\0' 'x')
	run dh_raw -W "$DH_PORT" "050100 0501 0001 7f000001 $P $(dh_hexstr "$big" | tr -d ' ')"
	[ "${lines[1]}" = "EOF" ]
	expect="05 00 05 00 00 01 00 00 00 00 00 00 $(dh_hexstr "$big")"
	[ "${lines[0]}" = "$expect" ]
}

@test "unix: SocksPort: replies use ATYP 04, as Tor's for non-IPv4 clients" {
	sock="$BATS_TEST_TMPDIR/socks.sock"
	dh_torkitd "ExitPolicyRejectPrivate 0" "SocksPort unix:$sock"
	tk_wait_log "$DH_LOG" "Opened Socks listener connection \(ready\) on unix:$sock" 10
	[ "$(stat -c %a "$sock")" = 600 ]
	printf "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x$(printf %02x $((ECHO >> 8)))\x$(printf %02x $((ECHO & 255)))hi" |
		timeout 20 socat -t 10 - "UNIX-CONNECT:$sock" >"$BATS_TEST_TMPDIR/got"
	[ "$(od -An -v -tx1 "$BATS_TEST_TMPDIR/got" | tr -d ' \n')" = "050005000004$(printf "%036d" 0)6869" ]
}

@test "IPv6 SocksPort [::1]: CONNECT works, reply ATYP 04" {
	p6=$(tk_free_port)
	dh_torkitd "ExitPolicyRejectPrivate 0" "SocksPort [::1]:$p6"
	tk_wait_log "$DH_LOG" "Opened Socks listener connection \(ready\) on \[::1\]:$p6" 10
	printf "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x$(printf %02x $((ECHO >> 8)))\x$(printf %02x $((ECHO & 255)))hi" |
		timeout 20 socat -t 10 - "TCP6:[::1]:$p6" >"$BATS_TEST_TMPDIR/got"
	[ "$(od -An -v -tx1 "$BATS_TEST_TMPDIR/got" | tr -d ' \n')" = "050005000004$(printf "%036d" 0)6869" ]
}

@test "many concurrent streams through one daemon" {
	local pids=()
	for i in $(seq 1 40); do
		(printf 'stream %s\n' "$i" | timeout 60 nc.openbsd -N -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$ECHO" >"$BATS_TEST_TMPDIR/c$i") &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 40); do
		[ "$(cat "$BATS_TEST_TMPDIR/c$i")" = "stream $i" ]
	done
}

@test "the relay splices (the default, on Linux), or copies in the .copy run (RelaySplice 0)" {
	run bash -c "printf 'x\n' | timeout 20 nc.openbsd -N -X 5 -x 127.0.0.1:$DH_PORT 127.0.0.1 $ECHO"
	[ "$output" = x ]
	if [ "${TK_RELAY_SPLICE:-auto}" = 0 ] || [ "$(uname -s)" != Linux ]; then
		refute grep -q "with splice(2)" "$DH_LOG"
	else
		grep -q "with splice(2)" "$DH_LOG"
	fi
}
