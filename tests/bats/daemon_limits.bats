#!/usr/bin/env bats
# torkitd under hostile or heavy clients: timeouts, MaxClients, running out
# of file descriptors, garbage. Nothing may crash or hang it.

load "$TK_SRCDIR/tests/bats/helpers"
load "$TK_SRCDIR/tests/bats/daemon_helpers"

teardown() { dh_teardown; }

# until_alive: poll (bounded) until torkitd serves a greeting again.
until_alive() {
	local i
	for ((i = 0; i < 200; i++)); do
		run "$DH_RAW" -t 20 -W "$DH_PORT" 050100
		[ "${lines[0]}" = "05 00" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "a client that never finishes its handshake is closed at SocksTimeout" {
	dh_torkitd "SocksTimeout 2"
	run "$DH_RAW" -t 60 "$DH_PORT" 0501
	[ "$output" = "EOF" ]
	grep -q "did not finish its SOCKS handshake in time" "$DH_LOG"
	# after the method reply too: still no reply, just the close
	run "$DH_RAW" -t 60 "$DH_PORT" 050100 0501
	[ "${lines[0]}" = "05 00" ]
	[ "${lines[1]}" = "EOF" ]
}

@test "a request the engine cannot finish in SocksTimeout: REP 06 (TTL expired)" {
	# A DNS server that reads queries and never answers.
	silent=$(tk_free_port)
	socat -u "UDP4-RECV:$silent,bind=127.0.0.1" /dev/null &
	tk_track $!
	TK_DNS_PORT=$silent dh_torkitd "SocksTimeout 1"
	run "$DH_RAW" -t 60 "$DH_PORT" "050100 0501 0003 $(dh_hexname slow.example.test) 0050"
	[ "${lines[0]}" = "05 00 05 06 00 01 00 00 00 00 00 00" ]
	[ "${lines[1]}" = "EOF" ]
	run "$DH_RAW" -t 60 "$DH_PORT" "050100 05f0 0003 $(dh_hexname slow.example.test) 0000"
	[ "${lines[0]}" = "05 00 05 04 00 01 00 00 00 00 00 00" ]
	grep -q "timed out after SocksTimeout" "$DH_LOG"
}

@test "MaxClients: extra clients are closed at once, service resumes" {
	dh_torkitd "MaxClients 3"
	dh_hold 3
	# The held connections are accepted in order, so the next one is
	# the fourth.
	run "$DH_RAW" -t 60 "$DH_PORT" 050100
	dh_closed "$output"
	tk_wait_log "$DH_LOG" "MaxClients \(3\) reached"
	dh_release
	until_alive
}

@test "out of file descriptors (EMFILE): survived, and serving resumes" {
	DH_WRAP="prlimit --nofile=48:48" dh_torkitd
	dh_hold 80
	tk_wait_log "$DH_LOG" "Running out of file descriptors \([0-9]+ of 48 in use\)"
	kill -0 "$DH_PID"
	dh_release
	until_alive
	kill -0 "$DH_PID"
}

@test "random garbage, long names, huge credentials: no crash, no hang" {
	dh_torkitd "SocksTimeout 5"
	for i in $(seq 1 60); do
		hex=$(head -c $((RANDOM % 700 + 1)) /dev/urandom | od -An -v -tx1 | tr -d ' \n')
		run "$DH_RAW" -t 30 -W "$DH_PORT" "$hex"
		[[ "${lines[-1]}" == "EOF" || "${lines[-1]}" == "RESET" ]]
	done
	# the same after a valid SOCKS5 greeting / SOCKS4 header
	for i in $(seq 1 30); do
		hex=$(head -c $((RANDOM % 600 + 1)) /dev/urandom | od -An -v -tx1 | tr -d ' \n')
		run "$DH_RAW" -t 30 -W "$DH_PORT" "050100 05$hex"
		[[ "${lines[-1]}" == "EOF" || "${lines[-1]}" == "RESET" ]]
		run "$DH_RAW" -t 30 -W "$DH_PORT" "0401$hex"
		[[ "${lines[-1]}" == "EOF" || "${lines[-1]}" == "RESET" ]]
	done
	# 255-byte hostname, 255/255 credentials, 2000-byte SOCKS4 userid
	long=$(printf 'a%.0s' $(seq 1 255))
	run "$DH_RAW" -W "$DH_PORT" "05020002 01ff$(dh_hexstr "$long" | tr -d ' ')ff$(dh_hexstr "$long" | tr -d ' ') 05f00003ff$(dh_hexstr "$long" | tr -d ' ')0000"
	[[ "${lines[0]}" == "05 02 01 00 05 04 00 01 00 00 00 00 00 00" ]]
	run "$DH_RAW" -W "$DH_PORT" "04010050 7f000001 $(head -c 2000 /dev/zero | tr '\0' 'u' | od -An -v -tx1 | tr -d ' \n')00"
	[ "${lines[0]}" = "00 5b 00 00 00 00 00 00" ]
	dh_alive
}

@test "many clients connecting and vanishing mid-handshake" {
	dh_torkitd
	local pids=()
	for i in $(seq 1 100); do
		"$DH_RAW" -t 5 "$DH_PORT" 05 >/dev/null &
		pids+=($!)
	done
	for i in $(seq 1 100); do
		"$DH_RAW" -t 5 -W "$DH_PORT" 0502 >/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	dh_alive
}

# VmHWM of a process in kB: the most it ever had resident.
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

@test "1-byte segments to a target that does not read: memory held is what was sent" {
	# Each read once took a 64 KiB buffer of its own, and backpressure
	# counted only the bytes. In a network namespace of its own with a
	# 16 KiB TCP send buffer, so the kernel absorbs little and the bytes
	# queue in torkitd (only loopback, inside the namespace).
	command -v unshare >/dev/null || skip "no unshare"
	cat >"$BATS_TEST_TMPDIR/ns.sh" <<EOS
set -e
ip link set lo up
sysctl -qw net.ipv4.tcp_wmem="4096 16384 16384"
"$DH_ECHO" stall >"$BATS_TEST_TMPDIR/stall.port" & e=\$!
for i in \$(seq 200); do [ -s "$BATS_TEST_TMPDIR/stall.port" ] && break; sleep 0.05; done
"$TK_TORKITD" -f /dev/null --Engine direct --SocksPort 127.0.0.1:9050 --ExitPolicyRejectPrivate 0 \\
	--Log "notice file $BATS_TEST_TMPDIR/torkitd.log" --DNSServer 127.0.0.1:1 & t=\$!
for i in \$(seq 200); do grep -q "Opened Socks listener" "$BATS_TEST_TMPDIR/torkitd.log" 2>/dev/null && break; sleep 0.05; done
before=\$(awk '/^VmHWM:/ { print \$2 }' /proc/\$t/status)
"$DH_RAW" -t 2 -x 5000 -p 500 9050 "050100 0501 0001 7f000001 \$(printf %04x \$(cat "$BATS_TEST_TMPDIR/stall.port"))" | head -n 1
after=\$(awk '/^VmHWM:/ { print \$2 }' /proc/\$t/status)
kill \$t \$e
wait \$t
echo "grew \$((after - before))"
EOS
	run unshare -n bash "$BATS_TEST_TMPDIR/ns.sh"
	echo "$output"
	[ "${lines[0]}" = "05 00 05 00 00 01 00 00 00 00 00 00" ]
	grew=$(echo "$output" | sed -n 's/^grew //p')
	echo "peak RSS grew by $grew kB"
	[ -n "$grew" ] && [ "$grew" -lt 2048 ]
}

@test "MaxMemInQueues: past it the connections holding the most are closed, with a log line" {
	dh_target STALL stall
	dh_torkitd "ExitPolicyRejectPrivate 0" "MaxMemInQueues 1 MB"
	before=$(hwm_kb "$DH_PID")
	# A stalled connection holds 128 KiB when copying, one 64 KiB pipe
	# when splicing (RelaySplice): 24 of them are past 1 MB either way.
	for i in $(seq 1 24); do
		timeout 30 nc.openbsd -X 5 -x "127.0.0.1:$DH_PORT" 127.0.0.1 "$STALL" \
			</dev/zero >/dev/null 2>&1 &
		tk_track $!
	done
	tk_wait_log "$DH_LOG" "MaxMemInQueues \(1048576 bytes\) exceeded: [0-9]+ bytes queued; closed [1-9][0-9]* connections"
	after=$(hwm_kb "$DH_PID")
	echo "peak RSS grew by $((after - before)) kB"
	[ $((after - before)) -lt 16384 ]
	dh_alive
}

@test "MaxClientsPerAddress: a further connection from the same address is closed" {
	dh_torkitd "MaxClientsPerAddress 2"
	dh_hold 2
	run "$DH_RAW" -t 60 "$DH_PORT" 050100
	dh_closed "$output"
	tk_wait_log "$DH_LOG" "MaxClientsPerAddress \(2\) reached for 127\.0\.0\.1"
	dh_release
	until_alive
}

@test "IdleTimeout: a relayed connection with no traffic is closed" {
	tk_start_dnsmasq "$BATS_TEST_TMPDIR/dns"
	dh_target ECHO echo
	dh_torkitd "ExitPolicyRejectPrivate 0" "IdleTimeout 1"
	run dh_raw -t 30 "$DH_PORT" "050100 0501 0001 7f000001 $(dh_hexport "$ECHO") 6869"
	[ "${lines[0]}" = "05 00 05 00 00 01 00 00 00 00 00 00 68 69" ]
	[ "${lines[1]}" = "EOF" ]
	tk_wait_log "$DH_LOG" "idle for 1 s \(IdleTimeout\); closing it"
}

@test "MaxClients reached: the oldest lingering connection goes first, the new client is served" {
	# Lingering: the client finished sending (half-close), the target
	# neither answers nor closes. Such sessions once held their slots
	# until the target closed, and new clients were refused.
	dh_target HOLD hold
	dh_torkitd "ExitPolicyRejectPrivate 0" "MaxClients 3"
	dh_linger 3 "$HOLD"
	run "$DH_RAW" -t 20 -W "$DH_PORT" 050100
	[ "${lines[0]}" = "05 00" ]
	tk_wait_log "$DH_LOG" "MaxClients reached: closed the oldest lingering connection"
	# the first of them is the one closed: its client saw the end
	tk_wait_log "$BATS_TEST_TMPDIR/linger.1" "^05 00 05 00 00 01 00 00 00 00 00 00"
}
